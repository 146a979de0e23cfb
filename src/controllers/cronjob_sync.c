/* cronjob_sync.c — one sync of a CronJob, as upstream's syncCronJob: reconcile
 * status.active with the Jobs it controls (finished ones leave, stray running ones join,
 * missing ones are dropped), then, unless suspended, find the most recent missed
 * activation (bounded by startingDeadlineSeconds; more than 100 missed is warned
 * about), apply concurrencyPolicy, create the Job CRONJOB-<minutes since the epoch>,
 * trim the history, and requeue for the next activation. */
#include "apimachinery/meta.h"
#include "controllers/cron_schedule.h"
#include "controllers/cronjob_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cj_sync {
  struct cronjob_controller *c;
  const char *key;
  json_t *cj;    /* borrowed */
  json_t **jobs; /* the Jobs cj controls (owned) */
  size_t njobs;
  json_t *status;     /* being built (owned) */
  struct cron_tz *tz; /* spec.timeZone (owned); NULL: UTC */
  time_t now;
};

/* ---------- helpers ---------- */

static time_t
clock_now(struct cronjob_controller *c)
{
  return c->opts.now ? c->opts.now(c->opts.now_ctx) : cu_now();
}

/* RFC 3339 of t as wall time in tz ("...Z" in UTC, else "...+01:00"), as Go prints it. */
static void
format_time(time_t t, const struct cron_tz *tz, char out[40])
{
  long off = cron_tz_offset(tz, t);
  time_t wall = t + off;
  struct tm tm;
  gmtime_r(&wall, &tm);
  size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  if (off == 0)
    snprintf(out + n, 40 - n, "Z");
  else
    snprintf(out + n, 40 - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600,
             labs(off) % 3600 / 60);
}

/* An RFC 3339 time with its offset applied ("2024-01-01T10:00:00+01:00" is 09:00 UTC);
 * 0 if it does not parse. */
static time_t
parse_time_with_offset(const char *text)
{
  time_t t = cu_parse_time(text);
  if (t == 0 || strlen(text) < 19)
    return t;
  const char *p = text + 19;
  while (*p == '.' || (*p >= '0' && *p <= '9'))
    p++;
  int hh, mm;
  if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2)
    t -= (*p == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
  return t;
}

static bool
condition_true(const json_t *job, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(job, "status"), "conditions"), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    const char *s = json_string_value(json_object_get(c, "status"));
    if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
      return true;
  }
  return false;
}

/* "Complete", "Failed" or NULL (still running). */
static const char *
finished_as(const json_t *job)
{
  if (condition_true(job, "Complete"))
    return "Complete";
  if (condition_true(job, "Failed"))
    return "Failed";
  return NULL;
}

static json_t *
job_by_uid(struct cj_sync *s, const char *uid)
{
  for (size_t i = 0; uid && i < s->njobs; i++)
    if (strcmp(meta_uid(s->jobs[i]), uid) == 0)
      return s->jobs[i];
  return NULL;
}

static bool
active_has(const json_t *active, const char *field, const char *value)
{
  size_t i;
  json_t *ref;
  json_array_foreach (active, i, ref) {
    const char *v = json_string_value(json_object_get(ref, field));
    if (v && value && strcmp(v, value) == 0)
      return true;
  }
  return false;
}

static json_t *
job_reference(const json_t *job)
{
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "Job", "namespace",
                   meta_namespace(job), "name", meta_name(job), "uid", meta_uid(job), "apiVersion",
                   "batch/v1", "resourceVersion", meta_resource_version(job));
}

static int
owned_jobs(struct cj_sync *s, k8c_err *err)
{
  json_t **jobs = NULL;
  size_t n = 0;
  if (informer_by_index(s->c->job_inf, "namespace", meta_namespace(s->cj), &jobs, &n, err) < 0)
    return -1;
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *ref = cu_controller_ref(jobs[i]);
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    if (uid && strcmp(uid, meta_uid(s->cj)) == 0)
      jobs[kept++] = jobs[i];
    else
      json_decref(jobs[i]);
  }
  s->jobs = jobs;
  s->njobs = kept;
  return 0;
}

static int
delete_job(struct cj_sync *s, const char *name, k8c_err *err)
{
  cleanup_json json_t *opts = json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion",
                                        "v1", "propagationPolicy", "Background");
  k8c_err derr = {0};
  if (client_delete(s->c->client, s->c->job_res, meta_namespace(s->cj), name, opts, NULL, NULL,
                    &derr) < 0) {
    if (derr.status == 404) {
      k8c_err_clear(&derr);
      return 0;
    }
    event_record(s->c->rec, s->cj, "Warning", "FailedDelete", "Error deleting job: %s",
                 derr.message);
    k8c_err_move(err, &derr);
    return -1;
  }
  event_record(s->c->rec, s->cj, "Normal", "SuccessfulDelete", "Deleted job %s", name);
  return 0;
}

/* ---------- status.active ---------- */

static void
note_success(struct cj_sync *s, const json_t *job)
{
  const char *done = cu_str(job, "status.completionTime");
  const char *last = cu_str(s->status, "lastSuccessfulTime");
  if (done && (last == NULL || cu_parse_time(done) > cu_parse_time(last)))
    json_object_set_new(s->status, "lastSuccessfulTime", json_string(done));
}

static int
reconcile_active(struct cj_sync *s, k8c_err *err)
{
  json_t *old = json_object_get(s->status, "active");
  json_t *active = json_array();
  size_t i;
  json_t *ref;
  json_array_foreach (old, i, ref) {
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    json_t *job = job_by_uid(s, uid);
    if (job) {
      const char *fin = finished_as(job);
      if (fin) {
        event_record(s->c->rec, s->cj, "Normal", "SawCompletedJob",
                     "Saw completed job: %s, condition: %s", meta_name(job), fin);
        if (strcmp(fin, "Complete") == 0)
          note_success(s, job);
      } else {
        json_array_append(active, ref);
      }
      continue;
    }
    /* Not in our cache: ask the API before forgetting it. */
    json_t *got = NULL;
    k8c_err gerr = {0};
    if (name &&
        client_get(s->c->client, s->c->job_res, meta_namespace(s->cj), name, &got, &gerr) < 0 &&
        gerr.status != 404) {
      k8c_err_move(err, &gerr);
      json_decref(active);
      return -1;
    }
    k8c_err_clear(&gerr);
    if (got && uid && strcmp(meta_uid(got), uid) == 0 && finished_as(got) == NULL) {
      json_array_append(active, ref);
    } else if (got == NULL || (uid && strcmp(meta_uid(got), uid) != 0)) {
      event_record(s->c->rec, s->cj, "Normal", "MissingJob", "Active job went missing: %s",
                   name ? name : "");
    }
    json_decref(got);
  }
  for (size_t j = 0; j < s->njobs; j++) {
    json_t *job = s->jobs[j];
    if (finished_as(job) || active_has(active, "uid", meta_uid(job)))
      continue;
    /* A job of a later activation than status knows is our own, seen before our status
     * write came back through the informer: no news. */
    const char *at =
        json_string_value(json_object_get(meta_annotations(job), CRONJOB_SCHEDULED_ANNOTATION));
    if (at == NULL ||
        parse_time_with_offset(at) <= cu_parse_time(cu_str(s->status, "lastScheduleTime")))
      event_record(s->c->rec, s->cj, "Warning", "UnexpectedJob",
                   "Saw a job that the controller did not create or forgot: %s", meta_name(job));
    json_array_append_new(active, job_reference(job));
  }
  json_object_set_new(s->status, "active", active);
  return 0;
}

/* ---------- creating the scheduled job ---------- */

static json_t *
job_from_template(struct cj_sync *s, const char *name, time_t scheduled)
{
  const json_t *tpl = json_object_get(json_object_get(s->cj, "spec"), "jobTemplate");
  const json_t *tmeta = json_object_get(tpl, "metadata");
  json_t *labels = json_deep_copy(json_object_get(tmeta, "labels"));
  json_t *annotations = json_deep_copy(json_object_get(tmeta, "annotations"));
  if (!json_is_object(annotations)) {
    json_decref(annotations);
    annotations = json_object();
  }
  char when[40];
  format_time(scheduled, s->tz, when);
  json_object_set_new(annotations, CRONJOB_SCHEDULED_ANNOTATION, json_string(when));
  json_t *meta = json_pack("{s:s, s:s, s:o, s:[o]}", "name", name, "namespace",
                           meta_namespace(s->cj), "annotations", annotations, "ownerReferences",
                           cu_controller_ref_new("batch/v1", "CronJob", s->cj));
  if (json_is_object(labels))
    json_object_set_new(meta, "labels", labels);
  else
    json_decref(labels);
  json_t *spec = json_deep_copy(json_object_get(tpl, "spec"));
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch/v1", "kind", "Job", "metadata",
                   meta, "spec", spec ? spec : json_object());
}

/* Creates the job of activation scheduled, honouring concurrencyPolicy. */
static int
start_job(struct cj_sync *s, time_t scheduled, k8c_err *err)
{
  cleanup_free char *name = xasprintf("%s-%lld", meta_name(s->cj), (long long)(scheduled / 60));
  json_t *active = json_object_get(s->status, "active");
  bool made = active_has(active, "name", name);
  for (size_t i = 0; i < s->njobs && !made; i++)
    made = strcmp(meta_name(s->jobs[i]), name) == 0;
  if (made) { /* by an earlier sync whose status write did not land: record it now */
    if (cu_parse_time(cu_str(s->status, "lastScheduleTime")) < scheduled) {
      char when[40];
      format_time(scheduled, NULL, when);
      json_object_set_new(s->status, "lastScheduleTime", json_string(when));
    }
    return 0;
  }
  const char *policy = cu_str(s->cj, "spec.concurrencyPolicy");
  if (policy && strcmp(policy, "Forbid") == 0 && json_array_size(active) > 0) {
    event_record(s->c->rec, s->cj, "Normal", "JobAlreadyActive",
                 "Not starting job because prior execution is running and concurrency policy is "
                 "Forbid");
    return 0;
  }
  if (policy && strcmp(policy, "Replace") == 0) {
    json_t *left = json_array();
    size_t i;
    json_t *ref;
    int rc = 0;
    json_array_foreach (active, i, ref) {
      const char *n = json_string_value(json_object_get(ref, "name"));
      if (n && delete_job(s, n, err) < 0) {
        json_array_append(left, ref);
        rc = -1;
      }
    }
    json_object_set_new(s->status, "active", left);
    if (rc < 0)
      return -1;
  }
  cleanup_json json_t *job = job_from_template(s, name, scheduled);
  json_t *created = NULL;
  k8c_err cerr = {0};
  char when[40];
  format_time(scheduled, NULL, when);
  if (client_create(s->c->client, s->c->job_res, meta_namespace(s->cj), job, NULL, &created,
                    &cerr) < 0) {
    if (cerr.status == 409) { /* someone made it: assume it was scheduled */
      k8c_err_clear(&cerr);
      json_object_set_new(s->status, "lastScheduleTime", json_string(when));
      return 0;
    }
    event_record(s->c->rec, s->cj, "Warning", "FailedCreate", "Error creating job: %s",
                 cerr.message);
    k8c_err_move(err, &cerr);
    return -1;
  }
  event_record(s->c->rec, s->cj, "Normal", "SuccessfulCreate", "Created job %s", name);
  json_array_append_new(json_object_get(s->status, "active"), job_reference(created));
  json_object_set_new(s->status, "lastScheduleTime", json_string(when));
  json_decref(created);
  return 0;
}

/* ---------- history ---------- */

static time_t
job_sort_time(const json_t *job)
{
  time_t t = cu_parse_time(cu_str(job, "status.completionTime"));
  if (t == 0)
    t = cu_parse_time(cu_str(job, "status.startTime"));
  if (t == 0)
    t = cu_parse_time(cu_str(job, "metadata.creationTimestamp"));
  return t;
}

static int
by_time(const void *a, const void *b)
{
  time_t ta = job_sort_time(*(json_t *const *)a), tb = job_sort_time(*(json_t *const *)b);
  if (ta != tb)
    return ta < tb ? -1 : 1;
  return strcmp(meta_name(*(json_t *const *)a), meta_name(*(json_t *const *)b));
}

/* Deletes the oldest finished jobs beyond successfulJobsHistoryLimit and
 * failedJobsHistoryLimit. */
static int
trim_history(struct cj_sync *s, k8c_err *err)
{
  const char *kinds[] = {"Complete", "Failed"};
  const char *limits[] = {"spec.successfulJobsHistoryLimit", "spec.failedJobsHistoryLimit"};
  long long defaults[] = {3, 1};
  int rc = 0;
  for (int k = 0; k < 2; k++) {
    json_t **list = xcalloc(s->njobs ? s->njobs : 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < s->njobs; i++) {
      const char *fin = finished_as(s->jobs[i]);
      if (fin && strcmp(fin, kinds[k]) == 0 &&
          !json_object_get(meta_get(s->jobs[i]), "deletionTimestamp"))
        list[n++] = s->jobs[i];
    }
    long long limit = cu_int(s->cj, limits[k], defaults[k]);
    if ((long long)n > limit) {
      qsort(list, n, sizeof *list, by_time);
      for (size_t i = 0; i < n - (size_t)limit; i++) {
        k8c_err derr = {0};
        if (delete_job(s, meta_name(list[i]), &derr) < 0) {
          if (err->status == 0)
            k8c_err_move(err, &derr);
          rc = -1;
        }
        k8c_err_clear(&derr);
      }
    }
    free(list);
  }
  return rc;
}

/* ---------- the sync ---------- */

static int
write_status(struct cj_sync *s, k8c_err *err)
{
  json_t *active = json_object_get(s->status, "active");
  if (json_array_size(active) == 0)
    json_object_del(s->status, "active");
  if (json_equal(s->status, json_object_get(s->cj, "status")))
    return 0;
  cleanup_json json_t *copy = json_deep_copy(s->cj);
  json_object_set(copy, "status", s->status);
  return client_update_status(s->c->client, s->c->cj_res, meta_namespace(copy), meta_name(copy),
                              copy, NULL, NULL, err);
}

/* Decides and acts on the current activation; *next_run (0: none) is the next one. */
static int
schedule(struct cj_sync *s, time_t *next_run, k8c_err *err)
{
  *next_run = 0;
  const json_t *spec = json_object_get(s->cj, "spec");
  const char *tz = cu_str(s->cj, "spec.timeZone");
  if (tz && !cronjob_time_zone_is_utc(tz)) {
    k8c_err tzerr = {0};
    s->tz = cron_tz_load(s->c->opts.zoneinfo_dir, tz, &tzerr);
    if (s->tz == NULL) {
      event_record(s->c->rec, s->cj, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": %s",
                   tz, tzerr.message);
      k8c_err_clear(&tzerr);
      return 0;
    }
  }
  if (json_is_true(json_object_get(spec, "suspend")))
    return 0;
  const char *text = cu_str(s->cj, "spec.schedule");
  struct cron_schedule sched;
  k8c_err perr = {0};
  if (cron_schedule_parse(text, &sched, &perr) < 0) {
    event_record(s->c->rec, s->cj, "Warning", "UnparseableSchedule",
                 "unparseable schedule: \"%s\" : %s", text ? text : "", perr.message);
    k8c_err_clear(&perr);
    return 0;
  }
  time_t earliest = cu_parse_time(cu_str(s->status, "lastScheduleTime"));
  if (earliest == 0)
    earliest = cu_parse_time(cu_str(s->cj, "metadata.creationTimestamp"));
  json_t *deadline = json_object_get(spec, "startingDeadlineSeconds");
  if (json_is_integer(deadline) && s->now - json_integer_value(deadline) > earliest)
    earliest = s->now - (time_t)json_integer_value(deadline);
  int missed = 0;
  time_t scheduled = cron_schedule_most_recent(&sched, s->tz, earliest, s->now, &missed);
  *next_run = cron_schedule_next(&sched, s->tz, s->now);
  if (missed > 100)
    event_record(s->c->rec, s->cj, "Warning", "TooManyMissedTimes",
                 "too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds "
                 "or check clock skew",
                 missed);
  if (scheduled == 0)
    return 0;
  if (json_is_integer(deadline) && scheduled + json_integer_value(deadline) < s->now) {
    char when[40];
    format_time(scheduled, s->tz, when);
    event_record(s->c->rec, s->cj, "Warning", "MissSchedule",
                 "Missed scheduled time to start a job: %s", when);
    return 0;
  }
  return start_job(s, scheduled, err);
}

int
cronjob_sync(struct cronjob_controller *c, const char *key, k8c_err *err)
{
  json_t *cj = informer_get(c->cj_inf, key);
  if (cj == NULL)
    return 0;
  struct cj_sync s = {.c = c, .key = key, .cj = cj, .now = clock_now(c)};
  json_t *old = json_object_get(cj, "status");
  s.status = json_is_object(old) ? json_deep_copy(old) : json_object();
  time_t next_run = 0;
  int rc = owned_jobs(&s, err);
  if (rc == 0)
    rc = reconcile_active(&s, err);
  bool deleting = json_object_get(meta_get(cj), "deletionTimestamp") != NULL;
  if (rc == 0 && !deleting)
    rc = schedule(&s, &next_run, err);
  if (rc == 0)
    rc = write_status(&s, err);
  if (rc == 0 && !deleting)
    rc = trim_history(&s, err);
  if (rc == 0 && next_run > 0)
    workqueue_add_after(c->kc.queue, key, (long long)(next_run - s.now) * 1000 + 100);
  informer_objs_free(s.jobs, s.njobs);
  json_decref(s.status);
  cron_tz_free(s.tz);
  json_decref(cj);
  return rc;
}
