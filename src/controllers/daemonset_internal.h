/* daemonset_internal.h — what the DaemonSet controller's files share: its state, where a
 * daemon pod may run (upstream's NodeShouldRunDaemonPod over nodeSelector, required node
 * affinity and taints, with the default DaemonSet tolerations added), the pod it creates
 * for a node, its ControllerRevisions and the sync. A revision is named DS-HASH of the
 * template; the pods' controller-revision-hash label holds the HASH. */
#ifndef K8C_CONTROLLERS_DAEMONSET_INTERNAL_H
#define K8C_CONTROLLERS_DAEMONSET_INTERNAL_H

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/controller_util.h"
#include "controllers/history.h"
#include "controllers/keyed_controller.h"
#include "controllers/pod_owner_router.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#define DS_LABEL_REVISION "controller-revision-hash"
#define DS_LABEL_TEMPLATE_GENERATION "pod-template-generation"

struct ds_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *ds_res, *pod_res;
  informer *ds_inf, *pod_inf, *node_inf, *rev_inf;
  struct history_ctx history;
  expectations *exp;
  struct pod_owner_router router;
  struct pod_owner_router rev_router; /* revision events wake their DaemonSet */
  struct event_recorder *rec;
};

/* ---------- daemonset_nodes.c ---------- */

/* What a DaemonSet's pods are checked against on every node: the template with the
 * default tolerations, parsed once. */
typedef struct ds_placement ds_placement;

/* Caller frees with ds_placement_free. */
ds_placement *ds_placement_new(const json_t *ds);
void ds_placement_free(ds_placement *p);
/* should_run: a new pod may be placed on node; should_continue: a pod already there may
 * stay (an untolerated NoSchedule taint only stops new pods; NoExecute evicts). */
void ds_node_should_run(const ds_placement *p, const json_t *node, bool *should_run,
                        bool *should_continue);
/* The pod for node at revision hash (new reference): generateName NAME-, template labels
 * plus controller-revision-hash and pod-template-generation, the default tolerations and
 * a required node affinity on metadata.name = node, controller ownerReference. */
json_t *ds_new_pod(const json_t *ds, const char *hash, const char *node);
/* The node a daemon pod is for: spec.nodeName, else its metadata.name node affinity
 * (borrowed), or NULL. */
const char *ds_pod_node(const json_t *pod);

/* ---------- daemonset_history.c ---------- */

/* upstream's constructHistory: the revision of ds's template (*cur, new reference; made
 * when missing, its number raised above every other revision's; duplicates deleted) and
 * the others (*old, oldest first: free with informer_objs_free). A hash collision bumps
 * status.collisionCount and fails (the sync retries). 0, or -1 with err. */
int ds_construct_history(struct ds_controller *c, const json_t *ds, const label_selector *sel,
                         json_t **cur, json_t ***old, size_t *nold, k8c_err *err);
/* upstream's cleanupHistory: deletes the oldest of old beyond revisionHistoryLimit whose
 * hash no pod (pods[0..npods), terminal ones included) carries. */
int ds_cleanup_history(struct ds_controller *c, const json_t *ds, json_t *const *old, size_t nold,
                       json_t *const *pods, size_t npods, k8c_err *err);

/* ---------- daemonset_sync.c ---------- */

int ds_sync(struct ds_controller *c, const char *key, k8c_err *err);

#endif
