/* statefulset_internal.h — what the StatefulSet controller's files share: its state, the
 * identity of a stateful pod (NAME-ORDINAL, its labels, hostname/subdomain and claims)
 * and the sync. Revisions are ControllerRevisions (controllers/history.h) named
 * SET-HASH; a pod's controller-revision-hash label and status.currentRevision and
 * updateRevision hold revision names. */
#ifndef K8C_CONTROLLERS_STATEFULSET_INTERNAL_H
#define K8C_CONTROLLERS_STATEFULSET_INTERNAL_H

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/history.h"
#include "controllers/keyed_controller.h"
#include "controllers/pod_owner_router.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#define STS_LABEL_POD_NAME "statefulset.kubernetes.io/pod-name"
#define STS_LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define STS_LABEL_REVISION "controller-revision-hash"

struct sts_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *sts_res, *pod_res, *pvc_res;
  informer *sts_inf, *pod_inf, *rev_inf;
  struct history_ctx history;
  struct pod_owner_router router;
  struct event_recorder *rec;
};

/* ---------- statefulset_pods.c ---------- */

/* The ordinal of a pod named SET-N of set (-1 when pod is not one of set's). */
long long sts_pod_ordinal(const json_t *set, const json_t *pod);
/* The pod of ordinal ord at revision (new reference): template labels plus identity
 * labels, hostname/subdomain, claim volumes, controller ownerReference. */
json_t *sts_new_pod(const json_t *set, long long ord, const char *revision);
/* The claims of ordinal ord (new reference: an array of PVC objects). */
json_t *sts_new_claims(const json_t *set, long long ord);
/* Creates the claims of ordinal ord that do not exist yet. 0 or -1 with err. */
int sts_create_claims(struct sts_controller *c, const json_t *set, long long ord, k8c_err *err);
/* Deletes the claims of ordinal ord (absent ones count as deleted). */
int sts_delete_claims(struct sts_controller *c, const json_t *set, long long ord, k8c_err *err);

/* ---------- statefulset_history.c ---------- */

/* A set's two revisions for one sync, as upstream's getStatefulSetRevisions. */
struct sts_revisions {
  json_t **all; /* the set's revisions, oldest first (new references) */
  size_t n;
  json_t *current, *update;  /* revision objects (new references) */
  json_t *current_set;       /* the set with the current revision's template */
  json_t *update_set;        /* the set with the update revision's template */
  long long collision_count; /* status.collisionCount after this sync */
};

/* Lists and claims set's revisions, then finds or makes the update revision: the last
 * one if equal to the set's template, an older equal one re-used with the next number
 * (a rollback), or a new one; the current revision is status.currentRevision's (the
 * update revision when unknown). 0, or -1 with err (r then freed). */
int sts_revisions_get(struct sts_controller *c, const json_t *set, const label_selector *sel,
                      struct sts_revisions *r, k8c_err *err);
void sts_revisions_free(struct sts_revisions *r);
/* upstream's truncateHistory: deletes the oldest revisions beyond revisionHistoryLimit
 * that neither the current or update revision nor any pod (pods[0..npods)) uses. */
int sts_truncate_history(struct sts_controller *c, const json_t *set, json_t *const *pods,
                         size_t npods, const struct sts_revisions *r, k8c_err *err);

/* ---------- statefulset_sync.c ---------- */

int sts_sync(struct sts_controller *c, const char *key, k8c_err *err);

#endif
