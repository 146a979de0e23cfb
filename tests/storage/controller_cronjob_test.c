/* controller_cronjob_test.c — the CronJob controller against a real registry with an
 * injected clock (the test moves time and pokes the CronJob): Jobs named
 * CRONJOB-<minute> with the scheduled-timestamp annotation and ownerReference,
 * status.active/lastScheduleTime/lastSuccessfulTime, concurrencyPolicy Allow, Forbid and
 * Replace, suspend, startingDeadlineSeconds, the too-many-missed warning, history limits,
 * time zones (UTC aliases, Europe/Berlin from the system zoneinfo, unknown ones). */
#include "apimachinery/meta.h"
#include "controller_fixture.h"
#include "controllers/controller_util.h"
#include "controllers/cronjob.h"

#include <stdatomic.h>
#include <string.h>

struct cj_fixture {
  struct client_fixture f;
  informer_factory *inf;
  k8c_client *ctl_client;
  void *state;
  _Atomic long long now;
  int kicks;
  const struct api_resource *jobs, *cronjobs, *events;
};

static time_t
test_clock(void *ctx)
{
  struct cj_fixture *x = ctx;
  return (time_t)atomic_load(&x->now);
}

static void
cx_open(struct cj_fixture *x)
{
  CHECK_INT(client_fixture_open(&x->f), 0);
  x->jobs = api_resource_find("batch", "v1", "jobs");
  x->cronjobs = api_resource_find("batch", "v1", "cronjobs");
  x->events = api_resource_find("", "v1", "events");
  atomic_store(&x->now, (long long)time(NULL));
  x->kicks = 0;
  x->ctl_client = client_inprocess_new(&x->f.reg, "kube-controller-manager");
  x->inf = informer_factory_new(x->ctl_client, 0);
  struct controller_context ctx = {
      .client = x->ctl_client, .informers = x->inf, .cfg = {.workers = 2}};
  struct cronjob_controller_opts opts = {.now = test_clock, .now_ctx = x};
  k8c_err err = {0};
  x->state = cronjob_controller_start(&ctx, &opts, &err);
  CHECK(x->state != NULL);
  CHECK_INT(informer_factory_start(x->inf, &err), 0);
  CHECK(informer_factory_wait_synced(x->inf, 5000));
}

static void
cx_close(struct cj_fixture *x)
{
  cronjob_controller_def.stop(x->state);
  informer_factory_free(x->inf);
  client_free(x->ctl_client);
  client_fixture_close(&x->f);
}

static void
create_cronjob(struct cj_fixture *x, const char *name, const char *schedule,
               const char *spec_fields)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"spec\":{%s\"schedule\":\"%s\",\"jobTemplate\":{"
           "\"metadata\":{\"labels\":{\"team\":\"blue\"}},\"spec\":{\"template\":{\"spec\":{"
           "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]"
           "}}}}}}",
           name, spec_fields, schedule);
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->f.client, x->cronjobs, "default", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create cronjob %s: %s\n", name, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
patch_obj(struct cj_fixture *x, const struct api_resource *res, const char *name, const char *text,
          const char *subresource)
{
  json_t *p = json_of(text);
  k8c_err err = {0};
  struct client_write_opts o = {.subresource = subresource};
  int rc = client_patch(x->f.client, res, "default", name, "application/merge-patch+json", p, &o,
                        NULL, &err);
  if (rc < 0)
    fprintf(stderr, "patch %s: %s\n", name, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(p);
}

/* Moves the clock to t and makes the controller look at cronjob name again. */
static void
advance_to(struct cj_fixture *x, const char *name, time_t t)
{
  atomic_store(&x->now, (long long)t);
  char text[128];
  snprintf(text, sizeof text, "{\"metadata\":{\"annotations\":{\"kick\":\"%d\"}}}", ++x->kicks);
  patch_obj(x, x->cronjobs, name, text, NULL);
}

static json_t *
get_obj(struct cj_fixture *x, const struct api_resource *res, const char *name)
{
  json_t *obj = NULL;
  k8c_err err = {0};
  if (client_get(x->f.client, res, "default", name, &obj, &err) < 0)
    obj = NULL;
  k8c_err_clear(&err);
  return obj;
}

static bool
job_exists(struct cj_fixture *x, const char *name)
{
  json_t *j = get_obj(x, x->jobs, name);
  json_decref(j);
  return j != NULL;
}

static size_t
count_jobs(struct cj_fixture *x)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->jobs, "default", NULL, &list, &err), 0);
  size_t n = json_array_size(json_object_get(list, "items"));
  json_decref(list);
  return n;
}

static size_t
count_active(struct cj_fixture *x, const char *name)
{
  json_t *cj = get_obj(x, x->cronjobs, name);
  size_t n = json_array_size(json_object_get(json_object_get(cj, "status"), "active"));
  json_decref(cj);
  return n;
}

static bool
event_seen(struct cj_fixture *x, const char *reason)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->events, "default", NULL, &list, &err), 0);
  bool seen = false;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(list, "items"), i, e) {
    const char *r = cu_str(e, "reason");
    if (r && strcmp(r, reason) == 0)
      seen = true;
  }
  json_decref(list);
  return seen;
}

/* The name of the job of the activation at minute boundary t. */
static char *
job_name(const char *cj, time_t t)
{
  return xasprintf("%s-%lld", cj, (long long)(t / 60));
}

/* The next whole minute after the current clock. */
static time_t
next_minute(struct cj_fixture *x)
{
  time_t now = (time_t)atomic_load(&x->now);
  return now - now % 60 + 60;
}

/* Marks job name finished as the Job controller would (type "Complete" or "Failed"). */
static void
finish_job(struct cj_fixture *x, const char *name, const char *type)
{
  cleanup_free char *now = meta_now_rfc3339();
  bool ok = strcmp(type, "Complete") == 0;
  char text[640];
  snprintf(text, sizeof text,
           "{\"status\":{\"startTime\":\"%s\",%s%s%s\"%s\":1,\"conditions\":[{\"type\":"
           "\"%s\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]}}",
           now, ok ? "\"completionTime\":\"" : "", ok ? now : "", ok ? "\"," : "",
           ok ? "succeeded" : "failed", type, now);
  patch_obj(x, x->jobs, name, text, "status");
}

TEST(creates_job_at_activation)
{
  struct cj_fixture x;
  cx_open(&x);
  create_cronjob(&x, "tick", "*/1 * * * *", "");
  usleep(300000);
  CHECK_INT((long long)count_jobs(&x), 0); /* no activation since creation yet */
  time_t t1 = next_minute(&x);
  advance_to(&x, "tick", t1 + 5);
  cleanup_free char *name = job_name("tick", t1);
  CHECK(WAIT_UNTIL(job_exists(&x, name), 5000));
  json_t *job = get_obj(&x, x.jobs, name);
  json_t *cj = get_obj(&x, x.cronjobs, "tick");
  char when[32];
  struct tm tm;
  gmtime_r(&t1, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  CHECK_STR(json_string_value(json_object_get(meta_annotations(job),
                                              "batch.kubernetes.io/cronjob-scheduled-timestamp")),
            when);
  CHECK_STR(json_string_value(json_object_get(meta_labels(job), "team")), "blue");
  json_t *ref = cu_controller_ref(job);
  CHECK_STR(cu_str(ref, "kind"), "CronJob");
  CHECK_STR(cu_str(ref, "uid"), meta_uid(cj));
  CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
  json_decref(cj);
  CHECK(WAIT_UNTIL(count_active(&x, "tick") == 1, 5000));
  cj = get_obj(&x, x.cronjobs, "tick");
  CHECK_STR(cu_str(cj, "status.lastScheduleTime"), when);
  json_t *active = json_array_get(json_object_get(json_object_get(cj, "status"), "active"), 0);
  CHECK_STR(cu_str(active, "name"), name);
  CHECK_STR(cu_str(active, "uid"), meta_uid(job));
  CHECK_STR(cu_str(active, "kind"), "Job");
  json_decref(cj);
  json_decref(job);
  CHECK(event_seen(&x, "SuccessfulCreate"));
  /* The same activation never makes a second job. */
  advance_to(&x, "tick", t1 + 30);
  usleep(300000);
  CHECK_INT((long long)count_jobs(&x), 1);
  /* Finished: it leaves status.active and sets lastSuccessfulTime. */
  finish_job(&x, name, "Complete");
  CHECK(WAIT_UNTIL(count_active(&x, "tick") == 0, 5000));
  cj = get_obj(&x, x.cronjobs, "tick");
  CHECK(cu_str(cj, "status.lastSuccessfulTime") != NULL);
  json_decref(cj);
  CHECK(event_seen(&x, "SawCompletedJob"));
  /* Allow: the next activation runs beside a running job. */
  advance_to(&x, "tick", t1 + 65);
  cleanup_free char *name2 = job_name("tick", t1 + 60);
  CHECK(WAIT_UNTIL(job_exists(&x, name2), 5000));
  advance_to(&x, "tick", t1 + 125);
  cleanup_free char *name3 = job_name("tick", t1 + 120);
  CHECK(WAIT_UNTIL(job_exists(&x, name3), 5000));
  CHECK(WAIT_UNTIL(count_active(&x, "tick") == 2, 5000));
  cx_close(&x);
}

TEST(forbid_and_replace)
{
  struct cj_fixture x;
  cx_open(&x);
  create_cronjob(&x, "solo", "* * * * *", "\"concurrencyPolicy\":\"Forbid\",");
  time_t t1 = next_minute(&x);
  advance_to(&x, "solo", t1 + 1);
  cleanup_free char *first = job_name("solo", t1);
  CHECK(WAIT_UNTIL(job_exists(&x, first), 5000));
  CHECK(WAIT_UNTIL(count_active(&x, "solo") == 1, 5000));
  advance_to(&x, "solo", t1 + 61);
  CHECK(WAIT_UNTIL(event_seen(&x, "JobAlreadyActive"), 5000));
  CHECK_INT((long long)count_jobs(&x), 1);
  /* Replace: the running job goes, the new one comes. */
  patch_obj(&x, x.cronjobs, "solo", "{\"spec\":{\"concurrencyPolicy\":\"Replace\"}}", NULL);
  advance_to(&x, "solo", t1 + 62);
  cleanup_free char *second = job_name("solo", t1 + 60);
  CHECK(WAIT_UNTIL(job_exists(&x, second), 5000));
  CHECK(WAIT_UNTIL(!job_exists(&x, first), 5000));
  CHECK(WAIT_UNTIL(count_active(&x, "solo") == 1, 5000));
  CHECK(event_seen(&x, "SuccessfulDelete"));
  cx_close(&x);
}

TEST(suspend_deadline_and_missed)
{
  struct cj_fixture x;
  cx_open(&x);
  create_cronjob(&x, "paused", "* * * * *", "\"suspend\":true,");
  time_t t1 = next_minute(&x);
  advance_to(&x, "paused", t1 + 1);
  usleep(300000);
  CHECK_INT((long long)count_jobs(&x), 0);
  /* startingDeadlineSeconds 10: 30 s late is too late, 5 s is fine. */
  atomic_store(&x.now, (long long)(t1 + 30));
  patch_obj(&x, x.cronjobs, "paused",
            "{\"spec\":{\"suspend\":false,\"startingDeadlineSeconds\":10}}", NULL);
  usleep(300000);
  CHECK_INT((long long)count_jobs(&x), 0);
  advance_to(&x, "paused", t1 + 65);
  cleanup_free char *ontime = job_name("paused", t1 + 60);
  CHECK(WAIT_UNTIL(job_exists(&x, ontime), 5000));
  CHECK(!event_seen(&x, "TooManyMissedTimes"));
  /* Without a deadline, 200 missed minutes: warned about, and the latest one runs. */
  patch_obj(&x, x.cronjobs, "paused", "{\"spec\":{\"startingDeadlineSeconds\":null}}", NULL);
  advance_to(&x, "paused", t1 + 60 + 200 * 60 + 3);
  cleanup_free char *latest = job_name("paused", t1 + 60 + 200 * 60);
  CHECK(WAIT_UNTIL(job_exists(&x, latest), 5000));
  CHECK(event_seen(&x, "TooManyMissedTimes"));
  CHECK_INT((long long)count_jobs(&x), 2);
  cx_close(&x);
}

TEST(history_limits)
{
  struct cj_fixture x;
  cx_open(&x);
  create_cronjob(&x, "hist", "* * * * *",
                 "\"successfulJobsHistoryLimit\":1,\"failedJobsHistoryLimit\":1,");
  time_t t = next_minute(&x);
  char *names[4];
  for (int i = 0; i < 4; i++) {
    advance_to(&x, "hist", t + 60 * i + 1);
    names[i] = job_name("hist", t + 60 * i);
    CHECK(WAIT_UNTIL(job_exists(&x, names[i]), 5000));
    CHECK(WAIT_UNTIL(count_active(&x, "hist") == 1, 5000));
    finish_job(&x, names[i], i == 1 ? "Failed" : "Complete");
    CHECK(WAIT_UNTIL(count_active(&x, "hist") == 0, 5000));
    usleep(1100000 * (i < 3)); /* distinct completion times */
  }
  /* One success (the newest) and one failure stay. */
  CHECK(WAIT_UNTIL(count_jobs(&x) == 2, 5000));
  CHECK(job_exists(&x, names[3]));
  CHECK(job_exists(&x, names[1]));
  for (int i = 0; i < 4; i++)
    free(names[i]);
  cx_close(&x);
}

TEST(time_zones_and_bad_schedule)
{
  struct cj_fixture x;
  cx_open(&x);
  create_cronjob(&x, "mars", "* * * * *", "\"timeZone\":\"Mars/Olympus_Mons\",");
  create_cronjob(&x, "utc", "* * * * *", "\"timeZone\":\"Etc/UTC\",");
  create_cronjob(&x, "berlin", "0 9 * * *", "\"timeZone\":\"Europe/Berlin\",");
  time_t t1 = next_minute(&x);
  advance_to(&x, "mars", t1 + 1);
  advance_to(&x, "utc", t1 + 1);
  cleanup_free char *utc_job = job_name("utc", t1);
  CHECK(WAIT_UNTIL(job_exists(&x, utc_job), 5000));
  CHECK(WAIT_UNTIL(event_seen(&x, "UnknownTimeZone"), 5000));
  /* 09:00 in Berlin in July is 07:00 UTC (CEST); the annotation keeps the zone's offset. */
  struct tm tm = {.tm_year = 2030 - 1900, .tm_mon = 6, .tm_mday = 15, .tm_hour = 7};
  time_t at = timegm(&tm);
  advance_to(&x, "berlin", at + 30);
  cleanup_free char *berlin_job = job_name("berlin", at);
  CHECK(WAIT_UNTIL(job_exists(&x, berlin_job), 5000));
  json_t *job = get_obj(&x, x.jobs, berlin_job);
  CHECK_STR(json_string_value(json_object_get(meta_annotations(job),
                                              "batch.kubernetes.io/cronjob-scheduled-timestamp")),
            "2030-07-15T09:00:00+02:00");
  json_decref(job);
  json_t *cj = get_obj(&x, x.cronjobs, "berlin");
  CHECK(WAIT_UNTIL((json_decref(cj), cj = get_obj(&x, x.cronjobs, "berlin"),
                    cu_str(cj, "status.lastScheduleTime") != NULL),
                   5000));
  CHECK_STR(cu_str(cj, "status.lastScheduleTime"), "2030-07-15T07:00:00Z");
  json_decref(cj);
  CHECK(event_seen(&x, "TooManyMissedTimes")); /* years of daily runs since creation */
  cj = get_obj(&x, x.cronjobs, "mars");        /* an unknown zone schedules nothing */
  CHECK(cu_str(cj, "status.lastScheduleTime") == NULL);
  json_decref(cj);
  /* A schedule the API accepts but the parser does not (out of range) is reported. */
  create_cronjob(&x, "odd", "61 * * * *", "");
  CHECK(WAIT_UNTIL(event_seen(&x, "UnparseableSchedule"), 5000));
  cx_close(&x);
}

TEST_MAIN()
