/* deployment_internal.h — what the Deployment controller's files share: the controller's
 * state, one sync's working set (the deployment being reconciled and the ReplicaSets it
 * owns, split into the new one and the old ones) and the steps upstream's controller is
 * made of (sync.go, rolling.go, recreate.go, progress.go, util). Every json_t in a dsync
 * is owned by it; steps replace an RS or the deployment with what the server returned. */
#ifndef K8C_CONTROLLERS_DEPLOYMENT_INTERNAL_H
#define K8C_CONTROLLERS_DEPLOYMENT_INTERNAL_H

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/keyed_controller.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#define DEP_ANN_REVISION "deployment.kubernetes.io/revision"
#define DEP_ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define DEP_ANN_DESIRED_REPLICAS "deployment.kubernetes.io/desired-replicas"
#define DEP_ANN_MAX_REPLICAS "deployment.kubernetes.io/max-replicas"
#define DEP_LABEL_HASH "pod-template-hash"
#define DEP_REVISION_HISTORY_MAX_CHARS 2000

struct deployment_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *dep_res;
  const struct api_resource *rs_res;
  const struct api_resource *pod_res;
  informer *dep_inf;
  informer *rs_inf;
  informer *pod_inf;
  struct event_recorder *rec;
};

struct dsync {
  struct deployment_controller *dc;
  const char *key;
  json_t *d;   /* the deployment (a private copy, replaced after each write) */
  json_t **rs; /* every ReplicaSet the deployment controls */
  size_t nrs;
  json_t *new_rs; /* after dep_get_all_rs: the RS whose template is the deployment's, or NULL */
  json_t **old;   /* ... and all the others */
  size_t nold;
  long long requeue_after_ms; /* > 0: sync again after this long */
};

/* ---------- deployment_util.c ---------- */

long long dep_replicas(const json_t *d);
long long rs_replicas(const json_t *rs);
long long rs_status_int(const json_t *rs, const char *field);
bool dep_is_rolling(const json_t *d);
bool dep_has_progress_deadline(const json_t *d);
/* maxSurge and maxUnavailable resolved against spec.replicas (surge rounds up,
 * unavailable down, both 0 → unavailable 1); 0/0 for Recreate. */
void dep_fenceposts(const json_t *d, long long *surge, long long *unavailable);
long long dep_max_surge(const json_t *d);
/* maxUnavailable capped at spec.replicas (0 for Recreate or 0 replicas). */
long long dep_max_unavailable(const json_t *d);
/* The pod-template-hash of a template: FNV-32a of its canonical JSON (and the
 * collision count, if any), rendered with upstream's safe-encode alphabet. Caller frees. */
char *dep_template_hash(const json_t *tpl, const json_t *collision_count);
/* Templates equal once pod-template-hash labels are ignored. */
bool dep_templates_equal(const json_t *a, const json_t *b);
/* A revision annotation as a number (0 if absent or malformed). */
long long dep_revision(const json_t *obj);
/* Sum of an integer at path over rss. */
long long dep_sum(json_t *const *rss, size_t n, const char *path);
/* Sorts by creationTimestamp, then name (oldest first, or newest first). */
void dep_sort_by_creation(json_t **rss, size_t n, bool newest_first);
/* Sets spec.replicas (and the desired/max-replicas annotations) of *slot to new_scale when
 * either differs; *slot is replaced by the updated RS. Records ScalingReplicaSet. */
int dep_scale_rs(struct dsync *s, json_t **slot, long long new_scale, bool *scaled, k8c_err *err);
/* Updates the deployment (metadata/spec) and replaces s->d with the result. */
int dep_update(struct dsync *s, k8c_err *err);
/* Writes status (borrowed) through the status subresource; replaces s->d. */
int dep_write_status(struct dsync *s, json_t *status, k8c_err *err);

/* ---------- deployment_history.c ---------- */

/* Splits s->rs into s->new_rs and s->old, syncing revision annotations; creates the new
 * RS when create is set and none exists. */
int dep_get_all_rs(struct dsync *s, bool create, k8c_err *err);
/* Rebuilds s->rs from s->new_rs and s->old (after steps replaced some of them). */
void dep_refresh_rs_list(struct dsync *s);
/* Deletes the oldest zero-sized old RSes beyond spec.revisionHistoryLimit. */
int dep_cleanup(struct dsync *s, k8c_err *err);

/* ---------- deployment_scale.c ---------- */

/* True when an active RS's desired-replicas annotation differs from spec.replicas. */
bool dep_is_scaling_event(struct dsync *s);
/* Scales RSes to spec.replicas, proportionally during a rollout (upstream's scale()). */
int dep_scale(struct dsync *s, k8c_err *err);
/* Scale + cleanup when paused + status: the path for paused deployments and scaling. */
int dep_sync_scale(struct dsync *s, k8c_err *err);

/* ---------- deployment_status.c ---------- */

/* The condition of this type in status.conditions (borrowed), or NULL. */
json_t *dep_condition(const json_t *status, const char *type);
/* Sets a condition as upstream's SetDeploymentCondition (no change when status and reason
 * are the same; lastTransitionTime kept when only the reason changes). */
void dep_set_condition(json_t *status, const char *type, const char *cstatus, const char *reason,
                       const char *message);
void dep_remove_condition(json_t *status, const char *type);
bool dep_complete(const json_t *d, const json_t *status);
/* The status the RSes imply (new reference). */
json_t *dep_calculate_status(struct dsync *s);
/* Writes dep_calculate_status when it differs from the current one. */
int dep_sync_status(struct dsync *s, k8c_err *err);
/* Status plus the Progressing condition; schedules a resync for the deadline. */
int dep_sync_rollout_status(struct dsync *s, k8c_err *err);
/* Sets Progressing DeploymentPaused/DeploymentResumed when paused changed. */
int dep_check_paused_conditions(struct dsync *s, k8c_err *err);

/* ---------- deployment_rolling.c / deployment_recreate.c ---------- */

int dep_rollout_rolling(struct dsync *s, k8c_err *err);
/* The replicas a new RS should have now (NewRSNewReplicas). */
long long dep_new_rs_replicas(struct dsync *s, const json_t *new_rs);
int dep_rollout_recreate(struct dsync *s, k8c_err *err);

#endif
