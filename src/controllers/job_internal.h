/* job_internal.h — what the Job controller's files share: the controller's state, the
 * per-job back-off record, and the helpers for pods, conditions and completed indexes
 * (job.c runs informers and workers, job_sync.c decides, job_pods.c writes pods,
 * job_status.c builds status). */
#ifndef K8C_CONTROLLERS_JOB_INTERNAL_H
#define K8C_CONTROLLERS_JOB_INTERNAL_H

#include "client/workqueue.h"
#include "controllers/controller_util.h"
#include "controllers/job.h"
#include "controllers/keyed_controller.h"
#include "lib/hashmap.h"

#include <pthread.h>

#define JOB_TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define JOB_INDEX_KEY "batch.kubernetes.io/job-completion-index"
#define JOB_ORPHAN_PREFIX "pod:" /* queue keys for orphan pods that still hold the finalizer */

struct job_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *job_res, *pod_res;
  informer *job_inf, *pod_inf;
  expectations *exp;
  struct event_recorder *rec;
  struct job_controller_opts opts;
  pthread_mutex_t lock;
  hashmap *backoff;            /* job key -> struct job_backoff */
  hashmap *finalizers_removed; /* pod uid -> long long * (monotonic ms of the removal) */
  hashmap *written_rv;         /* job key -> char * (resourceVersion of our last status write) */
};

/* Consecutive pod failures since the last success, for the recreation delay. */
struct job_backoff {
  int failures;
  long long last_failure_ms; /* monotonic */
};

/* ---------- job_sync.c ---------- */

int job_sync(struct job_controller *c, const char *key, k8c_err *err);
/* Removes the finalizer from the orphan pod "ns/name" (its Job is gone). */
int job_sync_orphan_pod(struct job_controller *c, const char *pod_key, k8c_err *err);

/* ---------- job_pods.c ---------- */

bool job_pod_has_finalizer(const json_t *pod);
/* The pod's completion index, or -1 if it has none or it does not parse. */
int job_pod_index(const json_t *pod);
/* Creates count pods for job (Indexed: one per entry of indexes, count ignored). Failures
 * are recorded as events and taken off the expectations; returns how many failed. */
int job_create_pods(struct job_controller *c, const json_t *job, const char *key, int count,
                    const int *indexes, k8c_err *err);
/* Takes the finalizer off pod (if it holds it) then deletes it; -1 on an error other
 * than 404. Expectations for the deletion are the caller's. */
int job_delete_pod(struct job_controller *c, const json_t *job, const json_t *pod, k8c_err *err);
/* Takes the tracking finalizer off pod (a 404 counts as success). */
int job_remove_finalizer(struct job_controller *c, const json_t *pod, k8c_err *err);

/* ---------- job_status.c ---------- */

/* The condition of type (borrowed) in status, or NULL. */
json_t *job_condition(const json_t *status, const char *type);
bool job_condition_true(const json_t *status, const char *type);
/* Sets condition type in status (replacing one of that type; lastTransitionTime moves
 * only when status changes). */
void job_set_condition(json_t *status, const char *type, const char *cond_status,
                       const char *reason, const char *message);
/* Completed indexes "1,3-5" as flags in a new array of n (caller frees). */
bool *job_indexes_parse(const char *text, int n);
/* The flags as "1,3-5" (caller frees), "" if none. */
char *job_indexes_format(const bool *done, int n);
int job_indexes_count(const bool *done, int n);
/* True when the job carries a True Complete or Failed condition. */
bool job_is_finished(const json_t *job);
/* When the job finished (Complete/Failed lastTransitionTime), or 0. */
time_t job_finish_time(const json_t *job);

#endif
