/* deployment_status.c — a Deployment's status from its ReplicaSets (upstream's
 * calculateStatus and progress.go): replica counts, the Available condition, the
 * Progressing condition with its deadline (ReplicaSetUpdated while progressing,
 * NewReplicaSetAvailable when complete, ProgressDeadlineExceeded after
 * progressDeadlineSeconds without progress) and the paused/resumed conditions. Status
 * is written only when it changed. */
#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

#include <string.h>

/* ---------- conditions ---------- */

json_t *
dep_condition(const json_t *status, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(status, "conditions"), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t && strcmp(t, type) == 0)
      return c;
  }
  return NULL;
}

void
dep_remove_condition(json_t *status, const char *type)
{
  json_t *conds = json_object_get(status, "conditions");
  for (size_t i = json_array_size(conds); i > 0; i--) {
    const char *t = json_string_value(json_object_get(json_array_get(conds, i - 1), "type"));
    if (t && strcmp(t, type) == 0)
      json_array_remove(conds, i - 1);
  }
}

void
dep_set_condition(json_t *status, const char *type, const char *cstatus, const char *reason,
                  const char *message)
{
  json_t *cur = dep_condition(status, type);
  const char *cur_status = json_string_value(json_object_get(cur, "status"));
  const char *cur_reason = json_string_value(json_object_get(cur, "reason"));
  if (cur && cur_status && cur_reason && strcmp(cur_status, cstatus) == 0 &&
      strcmp(cur_reason, reason) == 0)
    return;
  cleanup_free char *now = meta_now_rfc3339();
  json_t *transition = NULL;
  if (cur && cur_status && strcmp(cur_status, cstatus) == 0)
    transition = json_incref(json_object_get(cur, "lastTransitionTime"));
  json_t *cond =
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", cstatus, "lastUpdateTime",
                now, "lastTransitionTime", now, "reason", reason, "message", message);
  if (transition)
    json_object_set_new(cond, "lastTransitionTime", transition);
  dep_remove_condition(status, type);
  json_t *conds = json_object_get(status, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(status, "conditions", conds);
  }
  json_array_append_new(conds, cond);
}

/* ---------- status ---------- */

bool
dep_complete(const json_t *d, const json_t *status)
{
  long long want = dep_replicas(d);
  return cu_int(status, "updatedReplicas", 0) == want && cu_int(status, "replicas", 0) == want &&
         cu_int(status, "availableReplicas", 0) == want &&
         cu_int(status, "observedGeneration", 0) >= meta_generation(d);
}

json_t *
dep_calculate_status(struct dsync *s)
{
  dep_refresh_rs_list(s);
  long long available = dep_sum(s->rs, s->nrs, "status.availableReplicas");
  long long total = dep_sum(s->rs, s->nrs, "status.replicas");
  long long unavailable = dep_replicas(s->d) - available;
  if (unavailable < 0)
    unavailable = 0;
  json_t *old = json_object_get(s->d, "status");
  json_t *status =
      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "observedGeneration",
                (json_int_t)meta_generation(s->d), "replicas", (json_int_t)total, "updatedReplicas",
                (json_int_t)rs_status_int(s->new_rs, "replicas"), "readyReplicas",
                (json_int_t)dep_sum(s->rs, s->nrs, "status.readyReplicas"), "availableReplicas",
                (json_int_t)available, "unavailableReplicas", (json_int_t)unavailable);
  json_t *cc = json_object_get(old, "collisionCount");
  if (cc)
    json_object_set(status, "collisionCount", cc);
  json_t *conds = json_object_get(old, "conditions");
  json_object_set_new(status, "conditions", conds ? json_deep_copy(conds) : json_array());
  if (available >= dep_replicas(s->d) - dep_max_unavailable(s->d))
    dep_set_condition(status, "Available", "True", "MinimumReplicasAvailable",
                      "Deployment has minimum availability.");
  else
    dep_set_condition(status, "Available", "False", "MinimumReplicasUnavailable",
                      "Deployment does not have minimum availability.");
  return status;
}

/* Zero-valued counts and an absent field are the same status (omitempty). */
static bool
status_equal(const json_t *a, const json_t *b)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)a, k, v) {
    json_t *w = json_object_get(b, k);
    if (w == NULL && json_is_integer(v) && json_integer_value(v) == 0)
      continue;
    if (w == NULL && json_is_array(v) && json_array_size(v) == 0)
      continue;
    if (!json_equal(v, w))
      return false;
  }
  json_object_foreach ((json_t *)b, k, v) {
    if (json_object_get(a, k) == NULL && !(json_is_integer(v) && json_integer_value(v) == 0) &&
        !(json_is_array(v) && json_array_size(v) == 0))
      return false;
  }
  return true;
}

int
dep_sync_status(struct dsync *s, k8c_err *err)
{
  cleanup_json json_t *status = dep_calculate_status(s);
  if (status_equal(json_object_get(s->d, "status"), status))
    return 0;
  return dep_write_status(s, status, err);
}

static bool
progressing(const json_t *d, const json_t *status)
{
  const json_t *old = json_object_get(d, "status");
  long long old_old = cu_int(old, "replicas", 0) - cu_int(old, "updatedReplicas", 0);
  long long new_old = cu_int(status, "replicas", 0) - cu_int(status, "updatedReplicas", 0);
  return cu_int(status, "updatedReplicas", 0) > cu_int(old, "updatedReplicas", 0) ||
         new_old < old_old ||
         cu_int(status, "readyReplicas", 0) > cu_int(old, "readyReplicas", 0) ||
         cu_int(status, "availableReplicas", 0) > cu_int(old, "availableReplicas", 0);
}

static bool
timed_out(const json_t *d, const json_t *status)
{
  if (!dep_has_progress_deadline(d))
    return false;
  json_t *cond = dep_condition(status, "Progressing");
  if (cond == NULL)
    return false;
  const char *reason = json_string_value(json_object_get(cond, "reason"));
  if (reason && strcmp(reason, "NewReplicaSetAvailable") == 0)
    return false;
  if (reason && strcmp(reason, "ProgressDeadlineExceeded") == 0)
    return true;
  time_t from = cu_parse_time(json_string_value(json_object_get(cond, "lastUpdateTime")));
  return from + cu_int(d, "spec.progressDeadlineSeconds", 600) < cu_now();
}

/* When a rollout that has not completed must be looked at again for its deadline. */
static void
requeue_stuck(struct dsync *s, const json_t *status)
{
  json_t *cond = dep_condition(status, "Progressing");
  if (!dep_has_progress_deadline(s->d) || cond == NULL)
    return;
  const char *reason = json_string_value(json_object_get(cond, "reason"));
  if (dep_complete(s->d, status) || (reason && strcmp(reason, "ProgressDeadlineExceeded") == 0))
    return;
  time_t from = cu_parse_time(json_string_value(json_object_get(cond, "lastUpdateTime")));
  long long after_s = from + cu_int(s->d, "spec.progressDeadlineSeconds", 600) - cu_now();
  s->requeue_after_ms = after_s < 1 ? 1000 : after_s * 1000 + 500;
}

int
dep_sync_rollout_status(struct dsync *s, k8c_err *err)
{
  cleanup_json json_t *status = dep_calculate_status(s);
  if (!dep_has_progress_deadline(s->d))
    dep_remove_condition(status, "Progressing");
  json_t *cur = dep_condition(status, "Progressing");
  const char *cur_reason = json_string_value(json_object_get(cur, "reason"));
  bool complete_already = cu_int(status, "replicas", 0) == cu_int(status, "updatedReplicas", 0) &&
                          cur_reason && strcmp(cur_reason, "NewReplicaSetAvailable") == 0;
  if (dep_has_progress_deadline(s->d) && !complete_already) {
    const char *rs_name = s->new_rs ? meta_name(s->new_rs) : "";
    if (dep_complete(s->d, status)) {
      cleanup_free char *msg = xasprintf("ReplicaSet \"%s\" has successfully progressed.", rs_name);
      dep_set_condition(status, "Progressing", "True", "NewReplicaSetAvailable", msg);
    } else if (progressing(s->d, status)) {
      cleanup_free char *msg = xasprintf("ReplicaSet \"%s\" is progressing.", rs_name);
      json_t *keep_transition = NULL;
      const char *cur_status = json_string_value(json_object_get(cur, "status"));
      if (cur && cur_status && strcmp(cur_status, "True") == 0)
        keep_transition = json_incref(json_object_get(cur, "lastTransitionTime"));
      dep_remove_condition(status, "Progressing");
      dep_set_condition(status, "Progressing", "True", "ReplicaSetUpdated", msg);
      if (keep_transition)
        json_object_set_new(dep_condition(status, "Progressing"), "lastTransitionTime",
                            keep_transition);
    } else if (timed_out(s->d, status)) {
      cleanup_free char *msg = xasprintf("ReplicaSet \"%s\" has timed out progressing.", rs_name);
      dep_set_condition(status, "Progressing", "False", "ProgressDeadlineExceeded", msg);
    }
  }
  if (status_equal(json_object_get(s->d, "status"), status)) {
    requeue_stuck(s, status);
    return 0;
  }
  return dep_write_status(s, status, err);
}

int
dep_check_paused_conditions(struct dsync *s, k8c_err *err)
{
  if (!dep_has_progress_deadline(s->d))
    return 0;
  json_t *old = json_object_get(s->d, "status");
  json_t *cond = dep_condition(old, "Progressing");
  const char *reason = json_string_value(json_object_get(cond, "reason"));
  if (cond && reason && strcmp(reason, "ProgressDeadlineExceeded") == 0)
    return 0;
  bool paused = json_is_true(json_object_get(json_object_get(s->d, "spec"), "paused"));
  bool paused_cond = reason && strcmp(reason, "DeploymentPaused") == 0;
  cleanup_json json_t *status = old ? json_deep_copy(old) : json_object();
  if (paused && !paused_cond)
    dep_set_condition(status, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused");
  else if (!paused && paused_cond)
    dep_set_condition(status, "Progressing", "Unknown", "DeploymentResumed",
                      "Deployment is resumed");
  else
    return 0;
  return dep_write_status(s, status, err);
}
