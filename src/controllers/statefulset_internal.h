/* statefulset_internal.h — what the StatefulSet controller's files share: its state, the
 * identity of a stateful pod (NAME-ORDINAL, its labels, hostname/subdomain and claims)
 * and the sync. Revisions: the registry serves no ControllerRevision, so a revision is
 * NAME-HASH of the pod template (and collisionCount), recorded only in the pods'
 * controller-revision-hash label and status.currentRevision/updateRevision. */
#ifndef K8C_CONTROLLERS_STATEFULSET_INTERNAL_H
#define K8C_CONTROLLERS_STATEFULSET_INTERNAL_H

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/pod_owner_router.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#define STS_LABEL_POD_NAME "statefulset.kubernetes.io/pod-name"
#define STS_LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define STS_LABEL_REVISION "controller-revision-hash"

struct sts_controller {
  k8c_client *client;
  const struct api_resource *sts_res, *pod_res, *pvc_res;
  informer *sts_inf, *pod_inf;
  workqueue *queue;
  struct pod_owner_router router;
  struct event_recorder *rec;
  int nworkers;
  pthread_t *workers;
};

/* ---------- statefulset_pods.c ---------- */

/* The ordinal of a pod named SET-N of set (-1 when pod is not one of set's). */
long long sts_pod_ordinal(const json_t *set, const json_t *pod);
/* The revision name SET-HASH of set's template (caller frees). */
char *sts_revision_name(const json_t *set);
/* The pod of ordinal ord at revision (new reference): template labels plus identity
 * labels, hostname/subdomain, claim volumes, controller ownerReference. */
json_t *sts_new_pod(const json_t *set, long long ord, const char *revision);
/* The claims of ordinal ord (new reference: an array of PVC objects). */
json_t *sts_new_claims(const json_t *set, long long ord);
/* Creates the claims of ordinal ord that do not exist yet. 0 or -1 with err. */
int sts_create_claims(struct sts_controller *c, const json_t *set, long long ord, k8c_err *err);
/* Deletes the claims of ordinal ord (absent ones count as deleted). */
int sts_delete_claims(struct sts_controller *c, const json_t *set, long long ord, k8c_err *err);

/* ---------- statefulset_sync.c ---------- */

int sts_sync(struct sts_controller *c, const char *key, k8c_err *err);

#endif
