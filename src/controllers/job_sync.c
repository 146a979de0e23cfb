/* job_sync.c — one sync of a Job, in upstream's order: (1) record newly finished pods
 * that still hold the job-tracking finalizer in status.uncountedTerminatedPods (and
 * completedIndexes) and persist that first; (2) take their finalizers off; (3) move the
 * uids whose finalizer is gone into succeeded/failed, decide the outcome (backoffLimit,
 * activeDeadlineSeconds, completions; interim FailureTarget/SuccessCriteriaMet, then
 * Failed/Complete once no pod runs), suspend or resume, create or delete pods, and write
 * status. A pod's outcome is thus counted exactly once, even across restarts. */
#include "apimachinery/meta.h"
#include "controllers/job_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

#define JOB_MAX_CREATES_PER_SYNC 500
#define JOB_REMOVED_TTL_MS (5 * 60 * 1000LL)

/* What one sync works on. */
struct job_sync {
  struct job_controller *c;
  const char *key;
  json_t *job;   /* the latest version we know (owned) */
  json_t **pods; /* the pods the job controls (owned) */
  size_t npods;
  json_t *status; /* the status being built (owned) */
  bool indexed;
  long long completions; /* -1: unset */
  bool *done;            /* Indexed: completed indexes (owned) */
  time_t now;
  long long requeue_ms; /* > 0: sync again after this long */
};

/* ---------- helpers ---------- */

static const char *
pod_phase(const json_t *pod)
{
  const char *p = cu_str(pod, "status.phase");
  return p ? p : "";
}

static bool
pod_terminal(const json_t *pod)
{
  const char *p = pod_phase(pod);
  return strcmp(p, "Succeeded") == 0 || strcmp(p, "Failed") == 0;
}

static bool
pod_deleting(const json_t *pod)
{
  return json_object_get(meta_get((json_t *)pod), "deletionTimestamp") != NULL;
}

static bool
uid_listed(const json_t *list, const char *uid)
{
  size_t i;
  json_t *u;
  json_array_foreach (list, i, u) {
    if (json_is_string(u) && strcmp(json_string_value(u), uid) == 0)
      return true;
  }
  return false;
}

static json_t *
pod_by_uid(struct job_sync *s, const char *uid)
{
  for (size_t i = 0; i < s->npods; i++)
    if (strcmp(meta_uid(s->pods[i]), uid) == 0)
      return s->pods[i];
  return NULL;
}

/* True if we took the finalizer off this pod recently (the informer may lag). */
static bool
finalizer_recently_removed(struct job_controller *c, const char *uid)
{
  pthread_mutex_lock(&c->lock);
  long long *when = hashmap_get(c->finalizers_removed, uid);
  bool recent = when && cu_monotonic_ms() - *when < JOB_REMOVED_TTL_MS;
  pthread_mutex_unlock(&c->lock);
  return recent;
}

/* The pods job controls (new references). */
static int
owned_pods(struct job_controller *c, const json_t *job, json_t ***out, size_t *nout, k8c_err *err)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(job), &pods, &n, err) < 0)
    return -1;
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *ref = cu_controller_ref(pods[i]);
    const char *uid = ref ? json_string_value(json_object_get(ref, "uid")) : NULL;
    if (uid && strcmp(uid, meta_uid(job)) == 0)
      pods[kept++] = pods[i];
    else
      json_decref(pods[i]);
  }
  *out = pods;
  *nout = kept;
  return 0;
}

static json_t *
ensure_array(json_t *obj, const char *field)
{
  json_t *a = json_object_get(obj, field);
  if (!json_is_array(a)) {
    a = json_array();
    json_object_set_new(obj, field, a);
  }
  return a;
}

/* Writes s->status as the job's status; s->job becomes the stored object. */
static int
write_status(struct job_sync *s, k8c_err *err)
{
  json_t *st = json_deep_copy(s->status);
  json_t *unc = json_object_get(st, "uncountedTerminatedPods");
  const char *lists[] = {"succeeded", "failed"};
  for (int i = 0; i < 2; i++)
    if (json_array_size(json_object_get(unc, lists[i])) == 0)
      json_object_del(unc, lists[i]);
  const char *omit_zero[] = {"active", "succeeded", "failed"};
  for (int i = 0; i < 3; i++) {
    json_t *v = json_object_get(st, omit_zero[i]);
    if (json_is_integer(v) && json_integer_value(v) == 0)
      json_object_del(st, omit_zero[i]);
  }
  const char *ci = json_string_value(json_object_get(st, "completedIndexes"));
  if (ci && *ci == '\0')
    json_object_del(st, "completedIndexes");
  if (json_equal(st, json_object_get(s->job, "status"))) {
    json_decref(st);
    return 0;
  }
  cleanup_json json_t *copy = json_deep_copy(s->job);
  json_object_set_new(copy, "status", st);
  json_t *stored = NULL;
  if (client_update_status(s->c->client, s->c->job_res, meta_namespace(copy), meta_name(copy), copy,
                           NULL, &stored, err) < 0)
    return -1;
  json_decref(s->job);
  s->job = stored;
  pthread_mutex_lock(&s->c->lock);
  free(hashmap_put(s->c->written_rv, s->key, xstrdup(meta_resource_version(stored))));
  pthread_mutex_unlock(&s->c->lock);
  return 0;
}

/* The job to sync: the informer's copy, unless it is not the version our last status
 * write produced — then the API's (the informer may lag behind our own write, and a
 * stale status with fresh pods would undercount and create pods twice). New reference,
 * or NULL if the job is gone. */
static json_t *
current_job(struct job_controller *c, const char *key, k8c_err *err)
{
  json_t *job = informer_get(c->job_inf, key);
  if (job == NULL)
    return NULL;
  pthread_mutex_lock(&c->lock);
  const char *written = hashmap_get(c->written_rv, key);
  bool fresh = written == NULL || strcmp(written, meta_resource_version(job)) == 0;
  pthread_mutex_unlock(&c->lock);
  if (fresh)
    return job;
  json_t *got = NULL;
  k8c_err gerr = {0};
  if (client_get(c->client, c->job_res, meta_namespace(job), meta_name(job), &got, &gerr) < 0) {
    if (gerr.status != 404)
      k8c_err_move(err, &gerr);
    k8c_err_clear(&gerr);
    json_decref(job);
    return NULL;
  }
  json_decref(job); /* (if its uid changed, the job was replaced: the API's is the one) */
  return got;
}

/* ---------- step 1: newly finished pods ---------- */

static void
note_outcomes(struct job_sync *s, int succeeded, int failed)
{
  struct job_controller *c = s->c;
  pthread_mutex_lock(&c->lock);
  struct job_backoff *b = hashmap_get(c->backoff, s->key);
  if (b == NULL) {
    b = xcalloc(1, sizeof *b);
    hashmap_put(c->backoff, s->key, b);
  }
  if (failed > 0) {
    b->failures = (succeeded > 0 ? 0 : b->failures) + failed;
    b->last_failure_ms = cu_monotonic_ms();
  } else if (succeeded > 0) {
    b->failures = 0;
  }
  pthread_mutex_unlock(&c->lock);
}

static int
record_finished(struct job_sync *s, k8c_err *err)
{
  json_t *unc = json_object_get(s->status, "uncountedTerminatedPods");
  json_t *succ = ensure_array(unc, "succeeded"), *fail = ensure_array(unc, "failed");
  int new_succ = 0, new_fail = 0;
  for (size_t i = 0; i < s->npods; i++) {
    json_t *pod = s->pods[i];
    const char *uid = meta_uid(pod);
    if (!job_pod_has_finalizer(pod) || uid_listed(succ, uid) || uid_listed(fail, uid) ||
        finalizer_recently_removed(s->c, uid))
      continue;
    if (strcmp(pod_phase(pod), "Succeeded") == 0) {
      json_array_append_new(succ, json_string(uid));
      new_succ++;
      int ix = job_pod_index(pod);
      if (s->indexed && ix >= 0 && ix < s->completions)
        s->done[ix] = true;
    } else if (strcmp(pod_phase(pod), "Failed") == 0 || pod_deleting(pod)) {
      json_array_append_new(fail, json_string(uid));
      new_fail++;
    }
  }
  if (new_succ + new_fail == 0)
    return 0;
  if (s->indexed) {
    cleanup_free char *text = job_indexes_format(s->done, (int)s->completions);
    json_object_set_new(s->status, "completedIndexes", json_string(text));
  }
  note_outcomes(s, new_succ, new_fail);
  return write_status(s, err);
}

/* ---------- step 2: finalizers off, counters up ---------- */

static int
count_uncounted(struct job_sync *s, k8c_err *err)
{
  json_t *unc = json_object_get(s->status, "uncountedTerminatedPods");
  const char *lists[] = {"succeeded", "failed"};
  int rc = 0;
  for (int l = 0; l < 2; l++) {
    json_t *uids = ensure_array(unc, lists[l]);
    json_t *left = json_array();
    long long counted = 0;
    size_t i;
    json_t *u;
    json_array_foreach (uids, i, u) {
      json_t *pod = pod_by_uid(s, json_string_value(u));
      k8c_err ferr = {0};
      if (pod && job_remove_finalizer(s->c, pod, &ferr) < 0) {
        if (err->status == 0)
          k8c_err_move(err, &ferr);
        k8c_err_clear(&ferr);
        json_array_append(left, u);
        rc = -1;
        continue;
      }
      counted++;
    }
    json_object_set_new(unc, lists[l], left);
    if (l == 1 || !s->indexed)
      json_object_set_new(s->status, lists[l],
                          json_integer(cu_int(s->status, lists[l], 0) + counted));
  }
  if (s->indexed)
    json_object_set_new(s->status, "succeeded",
                        json_integer(job_indexes_count(s->done, (int)s->completions)));
  return rc;
}

/* ---------- step 3: outcome, pods, status ---------- */

/* restartPolicy OnFailure: container restarts of running pods count against the limit. */
static bool
past_backoff_on_failure(struct job_sync *s, long long limit)
{
  const char *policy = cu_str(s->job, "spec.template.spec.restartPolicy");
  if (policy == NULL || strcmp(policy, "OnFailure") != 0)
    return false;
  long long restarts = 0;
  for (size_t i = 0; i < s->npods; i++) {
    if (!pod_is_active(s->pods[i]))
      continue;
    const char *lists[] = {"containerStatuses", "initContainerStatuses"};
    for (int l = 0; l < 2; l++) {
      size_t k;
      json_t *cs;
      json_array_foreach (json_object_get(json_object_get(s->pods[i], "status"), lists[l]), k, cs)
        restarts += cu_int(cs, "restartCount", 0);
    }
  }
  return limit == 0 ? restarts > 0 : restarts >= limit;
}

/* The delay still to wait before creating pods after failures, in ms. */
static long long
backoff_remaining_ms(struct job_sync *s)
{
  struct job_controller *c = s->c;
  long long remaining = 0;
  pthread_mutex_lock(&c->lock);
  struct job_backoff *b = hashmap_get(c->backoff, s->key);
  if (b && b->failures > 0) {
    long long delay = c->opts.backoff_base_ms;
    for (int i = 1; i < b->failures && delay < c->opts.backoff_max_ms; i++)
      delay *= 2;
    if (delay > c->opts.backoff_max_ms)
      delay = c->opts.backoff_max_ms;
    remaining = b->last_failure_ms + delay - cu_monotonic_ms();
  }
  pthread_mutex_unlock(&c->lock);
  return remaining > 0 ? remaining : 0;
}

static void
requeue_after(struct job_sync *s, long long ms)
{
  if (ms <= 0)
    ms = 1;
  if (s->requeue_ms == 0 || ms < s->requeue_ms)
    s->requeue_ms = ms;
}

/* Deletes pods (new references in a borrowed array); counts what it deleted. */
static int
delete_pods(struct job_sync *s, json_t **pods, size_t n, int *deleted, k8c_err *err)
{
  if (n == 0)
    return 0;
  char **keys = xcalloc(n, sizeof *keys);
  for (size_t i = 0; i < n; i++)
    keys[i] = cu_key(pods[i]);
  expectations_expect_deletions(s->c->exp, s->key, keys, n);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    k8c_err derr = {0};
    if (job_delete_pod(s->c, s->job, pods[i], &derr) < 0) {
      expectations_deletion_observed(s->c->exp, s->key, keys[i]);
      if (err->status == 0)
        k8c_err_move(err, &derr);
      k8c_err_clear(&derr);
      rc = -1;
    } else {
      (*deleted)++;
    }
    free(keys[i]);
  }
  free(keys);
  return rc;
}

static int
create_pods(struct job_sync *s, int count, const int *indexes, int *created, k8c_err *err)
{
  if (count <= 0)
    return 0;
  long long wait = backoff_remaining_ms(s);
  if (wait > 0) {
    requeue_after(s, wait);
    return 0;
  }
  if (count > JOB_MAX_CREATES_PER_SYNC)
    count = JOB_MAX_CREATES_PER_SYNC;
  expectations_expect_creations(s->c->exp, s->key, count);
  int failed = job_create_pods(s->c, s->job, s->key, count, indexes, err);
  *created += count - failed;
  return failed > 0 ? -1 : 0;
}

/* Creates or deletes pods so that the right number runs (upstream's manageJob). */
static int
manage_pods(struct job_sync *s, json_t **active, size_t nactive, long long succeeded_total,
            int *created, int *deleted, k8c_err *err)
{
  long long parallelism = cu_int(s->job, "spec.parallelism", 1);
  cu_sort_pods_for_deletion(active, nactive, s->now);
  if (!s->indexed) {
    long long want = parallelism;
    if (s->completions >= 0) {
      want = s->completions - succeeded_total;
      if (want > parallelism)
        want = parallelism;
    } else if (succeeded_total > 0) {
      want = (long long)nactive;
    }
    if (want < 0)
      want = 0;
    long long diff = (long long)nactive - want;
    if (diff > 0)
      return delete_pods(s, active, (size_t)diff, deleted, err);
    return create_pods(s, (int)-diff, NULL, created, err);
  }
  /* Indexed: one active pod per pending index; extra or stray pods go. */
  int n = (int)s->completions;
  bool *running = xcalloc(n > 0 ? (size_t)n : 1, sizeof *running);
  json_t **extra = xcalloc(nactive ? nactive : 1, sizeof *extra);
  size_t nextra = 0, nvalid = 0;
  for (size_t i = nactive; i > 0; i--) { /* the most valuable pods come last */
    int ix = job_pod_index(active[i - 1]);
    if (ix < 0 || ix >= n || s->done[ix] || running[ix])
      extra[nextra++] = active[i - 1];
    else {
      running[ix] = true;
      nvalid++;
    }
  }
  int rc = delete_pods(s, extra, nextra, deleted, err);
  int *pending = xcalloc(n > 0 ? (size_t)n : 1, sizeof *pending);
  int npending = 0;
  for (int i = 0; i < n; i++)
    if (!s->done[i] && !running[i])
      pending[npending++] = i;
  long long room = parallelism - (long long)nvalid;
  if (room > npending)
    room = npending;
  if (room > 0 && create_pods(s, (int)room, pending, created, err) < 0)
    rc = -1;
  free(pending);
  free(extra);
  free(running);
  return rc;
}

static void
set_final(struct job_sync *s, const char *fail_reason, const char *fail_msg)
{
  cleanup_free char *now = meta_now_rfc3339();
  if (fail_reason) {
    job_set_condition(s->status, "Failed", "True", fail_reason, fail_msg);
    return;
  }
  job_set_condition(s->status, "Complete", "True", "CompletionsReached",
                    "Reached expected number of succeeded pods");
  json_object_set_new(s->status, "completionTime", json_string(now));
  event_record(s->c->rec, s->job, "Normal", "Completed", "Job completed");
}

static int
decide_and_manage(struct job_sync *s, bool may_manage, k8c_err *err)
{
  const json_t *spec = json_object_get(s->job, "spec");
  bool suspended = json_is_true(json_object_get(spec, "suspend"));
  json_t **active = xcalloc(s->npods ? s->npods : 1, sizeof *active);
  size_t nactive = 0;
  long long ready = 0, terminating = 0;
  for (size_t i = 0; i < s->npods; i++) {
    if (pod_is_active(s->pods[i])) {
      active[nactive++] = s->pods[i];
      ready += pod_is_ready(s->pods[i]);
    } else if (pod_deleting(s->pods[i]) && !pod_terminal(s->pods[i])) {
      terminating++;
    }
  }
  json_t *unc = json_object_get(s->status, "uncountedTerminatedPods");
  size_t unc_succ = json_array_size(json_object_get(unc, "succeeded"));
  size_t unc_fail = json_array_size(json_object_get(unc, "failed"));
  long long succeeded_total =
      cu_int(s->status, "succeeded", 0) + (s->indexed ? 0 : (long long)unc_succ);
  long long failed_total = cu_int(s->status, "failed", 0) + (long long)unc_fail;

  /* The outcome: kept once decided (interim conditions), else worked out now. */
  const char *fail_reason = NULL, *fail_msg = NULL;
  bool success = false;
  json_t *target = job_condition(s->status, "FailureTarget");
  if (job_condition_true(s->status, "FailureTarget")) {
    fail_reason = json_string_value(json_object_get(target, "reason"));
    fail_msg = json_string_value(json_object_get(target, "message"));
    if (fail_reason == NULL)
      fail_reason = "BackoffLimitExceeded";
    if (fail_msg == NULL)
      fail_msg = "";
  } else if (job_condition_true(s->status, "SuccessCriteriaMet")) {
    success = true;
  } else if (!suspended) {
    long long limit = cu_int(s->job, "spec.backoffLimit", 6);
    time_t start = cu_parse_time(cu_str(s->status, "startTime"));
    long long deadline = cu_int(s->job, "spec.activeDeadlineSeconds", -1);
    if (failed_total > limit || past_backoff_on_failure(s, limit)) {
      fail_reason = "BackoffLimitExceeded";
      fail_msg = "Job has reached the specified backoff limit";
    } else if (deadline > 0 && start > 0 && s->now - start >= deadline) {
      fail_reason = "DeadlineExceeded";
      fail_msg = "Job was active longer than specified deadline";
    } else if (s->indexed) {
      success = job_indexes_count(s->done, (int)s->completions) >= s->completions;
    } else if (s->completions >= 0) {
      success = succeeded_total >= s->completions;
    } else {
      success = succeeded_total > 0 && nactive == 0;
    }
    if (fail_reason) {
      job_set_condition(s->status, "FailureTarget", "True", fail_reason, fail_msg);
      event_record(s->c->rec, s->job, "Warning", fail_reason, "%s", fail_msg);
    } else if (success) {
      job_set_condition(s->status, "SuccessCriteriaMet", "True", "CompletionsReached",
                        "Reached expected number of succeeded pods");
    } else if (deadline > 0 && start > 0) {
      requeue_after(s, (start + deadline - s->now) * 1000);
    }
  }

  int created = 0, deleted = 0, rc = 0;
  if (fail_reason || success) {
    rc = delete_pods(s, active, nactive, &deleted, err);
    if (nactive == 0 && terminating == 0 && unc_succ + unc_fail == 0)
      set_final(s, fail_reason, fail_msg);
  } else if (suspended) {
    if (!job_condition_true(s->status, "Suspended")) {
      job_set_condition(s->status, "Suspended", "True", "JobSuspended", "Job suspended");
      event_record(s->c->rec, s->job, "Normal", "Suspended", "Job suspended");
    }
    rc = delete_pods(s, active, nactive, &deleted, err);
  } else {
    cleanup_free char *now = meta_now_rfc3339();
    if (job_condition_true(s->status, "Suspended")) {
      job_set_condition(s->status, "Suspended", "False", "JobResumed", "Job resumed");
      event_record(s->c->rec, s->job, "Normal", "Resumed", "Job resumed");
      json_object_set_new(s->status, "startTime", json_string(now));
    }
    if (json_object_get(s->status, "startTime") == NULL) {
      json_object_set_new(s->status, "startTime", json_string(now));
      long long deadline = cu_int(s->job, "spec.activeDeadlineSeconds", -1);
      if (deadline > 0)
        requeue_after(s, deadline * 1000);
    }
    if (may_manage)
      rc = manage_pods(s, active, nactive, succeeded_total, &created, &deleted, err);
  }
  json_object_set_new(s->status, "active", json_integer((json_int_t)nactive + created - deleted));
  json_object_set_new(s->status, "ready", json_integer(ready));
  json_object_set_new(s->status, "terminating", json_integer(terminating + deleted));
  free(active);
  return rc;
}

/* ---------- finished and deleted jobs ---------- */

static int
release_all(struct job_sync *s, k8c_err *err)
{
  int rc = 0;
  for (size_t i = 0; i < s->npods; i++) {
    k8c_err ferr = {0};
    if (job_remove_finalizer(s->c, s->pods[i], &ferr) < 0) {
      if (err->status == 0)
        k8c_err_move(err, &ferr);
      k8c_err_clear(&ferr);
      rc = -1;
    }
  }
  return rc;
}

/* ttlSecondsAfterFinished: deletes the job (its pods follow through the garbage
 * collector) once that long has passed since it finished. */
static int
expire_finished(struct job_sync *s, k8c_err *err)
{
  json_t *ttl = json_object_get(json_object_get(s->job, "spec"), "ttlSecondsAfterFinished");
  time_t finished = job_finish_time(s->job);
  if (!json_is_integer(ttl) || finished == 0)
    return 0;
  time_t expire = finished + (time_t)json_integer_value(ttl);
  if (s->now < expire) {
    requeue_after(s, (long long)(expire - s->now) * 1000);
    return 0;
  }
  cleanup_json json_t *opts =
      json_pack("{s:s, s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                "propagationPolicy", "Background", "preconditions", "uid", meta_uid(s->job));
  k8c_err derr = {0};
  if (client_delete(s->c->client, s->c->job_res, meta_namespace(s->job), meta_name(s->job), opts,
                    NULL, NULL, &derr) < 0) {
    if (derr.status == 404 || derr.status == 409) {
      k8c_err_clear(&derr);
      return 0;
    }
    k8c_err_move(err, &derr);
    return -1;
  }
  log_debug("job %s: deleted %lld s after it finished", s->key, (long long)json_integer_value(ttl));
  return 0;
}

/* ---------- the sync ---------- */

static int
sync_active_job(struct job_sync *s, k8c_err *err)
{
  bool may_manage = expectations_satisfied(s->c->exp, s->key);
  json_t *old = json_object_get(s->job, "status");
  s->status = json_is_object(old) ? json_deep_copy(old) : json_object();
  json_t *unc = json_object_get(s->status, "uncountedTerminatedPods");
  if (!json_is_object(unc))
    json_object_set_new(s->status, "uncountedTerminatedPods", json_object());
  if (s->indexed)
    s->done = job_indexes_parse(cu_str(s->status, "completedIndexes"), (int)s->completions);
  if (record_finished(s, err) < 0)
    return -1;
  k8c_err step_err = {0};
  int rc = count_uncounted(s, &step_err);
  if (decide_and_manage(s, may_manage, &step_err) < 0)
    rc = -1;
  if (write_status(s, err) < 0) {
    k8c_err_clear(&step_err);
    return -1;
  }
  if (rc < 0) {
    k8c_err_move(err, &step_err);
    return -1;
  }
  if (job_is_finished(s->job))
    return expire_finished(s, err);
  return 0;
}

int
job_sync(struct job_controller *c, const char *key, k8c_err *err)
{
  if (strncmp(key, JOB_ORPHAN_PREFIX, strlen(JOB_ORPHAN_PREFIX)) == 0)
    return job_sync_orphan_pod(c, key + strlen(JOB_ORPHAN_PREFIX), err);
  json_t *job = current_job(c, key, err);
  if (job == NULL) {
    if (err->status != 0)
      return -1;
    expectations_delete(c->exp, key);
    pthread_mutex_lock(&c->lock);
    free(hashmap_remove(c->backoff, key));
    free(hashmap_remove(c->written_rv, key));
    pthread_mutex_unlock(&c->lock);
    return 0;
  }
  struct job_sync s = {.c = c, .key = key, .job = job, .now = cu_now(), .completions = -1};
  const json_t *spec = json_object_get(job, "spec");
  const char *mode = json_string_value(json_object_get(spec, "completionMode"));
  json_t *completions = json_object_get(spec, "completions");
  if (json_is_integer(completions))
    s.completions = json_integer_value(completions);
  s.indexed = mode && strcmp(mode, "Indexed") == 0 && s.completions >= 0;
  int rc = owned_pods(c, job, &s.pods, &s.npods, err);
  if (rc == 0) {
    if (json_object_get(meta_get(job), "deletionTimestamp"))
      rc = release_all(&s, err);
    else if (job_is_finished(job))
      rc = release_all(&s, err) < 0 ? -1 : expire_finished(&s, err);
    else
      rc = sync_active_job(&s, err);
  }
  if (rc == 0 && s.requeue_ms > 0)
    workqueue_add_after(c->kc.queue, key, s.requeue_ms);
  informer_objs_free(s.pods, s.npods);
  json_decref(s.status);
  json_decref(s.job);
  free(s.done);
  return rc;
}

int
job_sync_orphan_pod(struct job_controller *c, const char *pod_key, k8c_err *err)
{
  json_t *pod = informer_get(c->pod_inf, pod_key);
  if (pod == NULL)
    return 0;
  int rc = 0;
  json_t *ref = cu_controller_ref(pod);
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *job_name =
      kind && strcmp(kind, "Job") == 0 ? json_string_value(json_object_get(ref, "name")) : NULL;
  const char *job_uid = json_string_value(json_object_get(ref, "uid"));
  json_t *job = NULL;
  k8c_err gerr = {0};
  bool orphan = true;
  if (job_name &&
      client_get(c->client, c->job_res, meta_namespace(pod), job_name, &job, &gerr) == 0) {
    orphan = job_uid == NULL || strcmp(meta_uid(job), job_uid) != 0;
  } else if (gerr.status != 404 && job_name) {
    k8c_err_move(err, &gerr);
    rc = -1;
    orphan = false;
  }
  k8c_err_clear(&gerr);
  if (orphan)
    rc = job_remove_finalizer(c, pod, err);
  else if (job) {
    cleanup_free char *job_key = cu_key(job);
    workqueue_add(c->kc.queue, job_key);
  }
  json_decref(job);
  json_decref(pod);
  return rc;
}
