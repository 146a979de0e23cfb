/* controller_job_test.c — the Job controller against a real registry, the test playing
 * the kubelet (it sets pod phases through the status subresource): pods with upstream's
 * labels, ownerReference, generateName and job-tracking finalizer; completions and
 * parallelism; Indexed jobs; failures counted once against backoffLimit with back-off
 * between recreations; activeDeadlineSeconds; suspend and resume; the interim and final
 * conditions; ttlSecondsAfterFinished; finalizers released from orphaned pods. */
#include "apimachinery/meta.h"
#include "controller_fixture.h"
#include "controllers/controller_util.h"
#include "controllers/job.h"

#include <string.h>

struct job_fixture {
  struct client_fixture f;
  informer_factory *inf;
  k8c_client *ctl_client;
  void *state;
  const struct api_resource *pods, *jobs, *events;
};

static void
jx_open(struct job_fixture *x)
{
  CHECK_INT(client_fixture_open(&x->f), 0);
  x->pods = api_resource_find("", "v1", "pods");
  x->jobs = api_resource_find("batch", "v1", "jobs");
  x->events = api_resource_find("", "v1", "events");
  x->ctl_client = client_inprocess_new(&x->f.reg, "kube-controller-manager");
  x->inf = informer_factory_new(x->ctl_client, 0);
  struct controller_context ctx = {
      .client = x->ctl_client, .informers = x->inf, .cfg = {.workers = 2}};
  struct job_controller_opts opts = {.backoff_base_ms = 300, .backoff_max_ms = 1000};
  k8c_err err = {0};
  x->state = job_controller_start(&ctx, &opts, &err);
  CHECK(x->state != NULL);
  CHECK_INT(informer_factory_start(x->inf, &err), 0);
  CHECK(informer_factory_wait_synced(x->inf, 5000));
}

static void
jx_close(struct job_fixture *x)
{
  job_controller_def.stop(x->state);
  informer_factory_free(x->inf);
  client_free(x->ctl_client);
  client_fixture_close(&x->f);
}

/* Stops the controller and starts a fresh one (new informers, no memory) on the same
 * store, as a server restart would. */
static void
jx_restart(struct job_fixture *x, void (*while_down)(struct job_fixture *x))
{
  job_controller_def.stop(x->state);
  informer_factory_free(x->inf);
  if (while_down)
    while_down(x);
  x->inf = informer_factory_new(x->ctl_client, 0);
  struct controller_context ctx = {
      .client = x->ctl_client, .informers = x->inf, .cfg = {.workers = 2}};
  struct job_controller_opts opts = {.backoff_base_ms = 300, .backoff_max_ms = 1000};
  k8c_err err = {0};
  x->state = job_controller_start(&ctx, &opts, &err);
  CHECK(x->state != NULL);
  CHECK_INT(informer_factory_start(x->inf, &err), 0);
  CHECK(informer_factory_wait_synced(x->inf, 5000));
}

/* Creates job name with the extra spec fields (a JSON fragment ending in a comma). */
static void
create_job(struct job_fixture *x, const char *name, const char *spec_fields,
           const char *restart_policy)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"spec\":{%s\"template\":{\"spec\":{"
           "\"restartPolicy\":\"%s\",\"terminationGracePeriodSeconds\":0,"
           "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
           name, spec_fields, restart_policy);
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->f.client, x->jobs, "default", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create job %s: %s\n", name, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static json_t *
get_job(struct job_fixture *x, const char *name)
{
  json_t *obj = NULL;
  k8c_err err = {0};
  if (client_get(x->f.client, x->jobs, "default", name, &obj, &err) < 0)
    obj = NULL;
  k8c_err_clear(&err);
  return obj;
}

static void
patch_obj(struct job_fixture *x, const struct api_resource *res, const char *name, const char *text,
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

static void
set_phase(struct job_fixture *x, const json_t *pod, const char *phase)
{
  char text[256];
  snprintf(text, sizeof text, "{\"status\":{\"phase\":\"%s\"}}", phase);
  patch_obj(x, x->pods, meta_name(pod), text, "status");
}

/* Every pod of job name (new array, in creation order). */
static json_t *
job_pods(struct job_fixture *x, const char *name)
{
  char sel[128];
  snprintf(sel, sizeof sel, "batch.kubernetes.io/job-name=%s", name);
  struct client_list_opts o = {.label_selector = sel};
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->pods, "default", &o, &list, &err), 0);
  json_t *items = json_incref(json_object_get(list, "items"));
  json_decref(list);
  return items;
}

/* The pods of job name whose phase is neither Succeeded nor Failed (new array). */
static json_t *
running_pods(struct job_fixture *x, const char *name)
{
  json_t *all = job_pods(x, name), *out = json_array();
  size_t i;
  json_t *p;
  json_array_foreach (all, i, p)
    if (pod_is_active(p))
      json_array_append(out, p);
  json_decref(all);
  return out;
}

static size_t
count_running(struct job_fixture *x, const char *name)
{
  json_t *a = running_pods(x, name);
  size_t n = json_array_size(a);
  json_decref(a);
  return n;
}

static long long
job_int(struct job_fixture *x, const char *name, const char *path)
{
  json_t *job = get_job(x, name);
  long long v = cu_int(job, path, -1);
  json_decref(job);
  return v;
}

/* The status ("True"/"False") of the job's condition type, or "" (static buffer-free:
 * compares in place). */
static bool
job_condition_is(struct job_fixture *x, const char *name, const char *type, const char *status,
                 const char *reason)
{
  json_t *job = get_job(x, name);
  bool ok = false;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(job, "status"), "conditions"), i, c) {
    if (strcmp(cu_str(c, "type"), type) == 0 && strcmp(cu_str(c, "status"), status) == 0 &&
        (reason == NULL || strcmp(cu_str(c, "reason"), reason) == 0))
      ok = true;
  }
  json_decref(job);
  return ok;
}

static bool
has_finalizer(const json_t *pod)
{
  size_t i;
  json_t *f;
  json_array_foreach (json_object_get(json_object_get(pod, "metadata"), "finalizers"), i, f)
    if (strcmp(json_string_value(f), "batch.kubernetes.io/job-tracking") == 0)
      return true;
  return false;
}

/* How many pods of job name still hold the tracking finalizer. */
static size_t
count_finalized(struct job_fixture *x, const char *name)
{
  json_t *all = job_pods(x, name);
  size_t n = 0, i;
  json_t *p;
  json_array_foreach (all, i, p)
    n += has_finalizer(p);
  json_decref(all);
  return n;
}

static bool
event_seen(struct job_fixture *x, const char *reason)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->events, "default", NULL, &list, &err), 0);
  bool seen = false;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(list, "items"), i, e)
    if (strcmp(cu_str(e, "reason") ? cu_str(e, "reason") : "", reason) == 0)
      seen = true;
  json_decref(list);
  return seen;
}

/* Finishes one running pod of job name with phase; returns once the job saw it. */
static void
finish_one(struct job_fixture *x, const char *name, const char *phase, const char *counter,
           long long expect)
{
  json_t *run = running_pods(x, name);
  CHECK(json_array_size(run) > 0);
  set_phase(x, json_array_get(run, 0), phase);
  json_decref(run);
  CHECK(WAIT_UNTIL(job_int(x, name, counter) == expect, 5000));
}

TEST(completions_with_parallelism)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "pi", "\"completions\":3,\"parallelism\":2,", "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "pi") == 2, 5000));
  CHECK(WAIT_UNTIL(job_int(&x, "pi", "status.active") == 2, 5000));
  json_t *job = get_job(&x, "pi");
  CHECK(cu_str(job, "status.startTime") != NULL);
  json_t *pods = running_pods(&x, "pi");
  json_t *pod = json_array_get(pods, 0);
  CHECK(strncmp(meta_name(pod), "pi-", 3) == 0 && strlen(meta_name(pod)) == 8);
  json_t *labels = meta_labels(pod);
  CHECK_STR(json_string_value(json_object_get(labels, "batch.kubernetes.io/job-name")), "pi");
  CHECK_STR(json_string_value(json_object_get(labels, "job-name")), "pi");
  CHECK_STR(json_string_value(json_object_get(labels, "batch.kubernetes.io/controller-uid")),
            meta_uid(job));
  CHECK_STR(json_string_value(json_object_get(labels, "controller-uid")), meta_uid(job));
  json_t *ref = cu_controller_ref(pod);
  CHECK_STR(cu_str(ref, "kind"), "Job");
  CHECK_STR(cu_str(ref, "apiVersion"), "batch/v1");
  CHECK_STR(cu_str(ref, "uid"), meta_uid(job));
  CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
  CHECK(has_finalizer(pod));
  json_decref(pods);
  json_decref(job);

  finish_one(&x, "pi", "Succeeded", "status.succeeded", 1);
  CHECK(WAIT_UNTIL(count_running(&x, "pi") == 2, 5000)); /* one more for the 3rd completion */
  finish_one(&x, "pi", "Succeeded", "status.succeeded", 2);
  usleep(300000);
  CHECK_INT((long long)count_running(&x, "pi"), 1); /* 3 - 2 succeeded = 1 still wanted */
  finish_one(&x, "pi", "Succeeded", "status.succeeded", 3);
  CHECK(WAIT_UNTIL(job_condition_is(&x, "pi", "Complete", "True", NULL), 5000));
  CHECK(job_condition_is(&x, "pi", "SuccessCriteriaMet", "True", "CompletionsReached"));
  job = get_job(&x, "pi");
  CHECK(cu_str(job, "status.completionTime") != NULL);
  CHECK_INT(cu_int(job, "status.active", 0), 0);
  CHECK_INT(cu_int(job, "status.failed", 0), 0);
  CHECK_INT((long long)json_object_size(
                cu_str(job, "status.uncountedTerminatedPods")
                    ? NULL
                    : json_object_get(json_object_get(job, "status"), "uncountedTerminatedPods")),
            0);
  json_decref(job);
  /* Finished pods are kept, their finalizers gone. */
  json_t *all = job_pods(&x, "pi");
  CHECK_INT((long long)json_array_size(all), 3);
  json_decref(all);
  CHECK(WAIT_UNTIL(count_finalized(&x, "pi") == 0, 5000));
  CHECK(event_seen(&x, "Completed"));
  CHECK(event_seen(&x, "SuccessfulCreate"));
  /* The count does not move again once the outcome is recorded. */
  usleep(300000);
  CHECK_INT(job_int(&x, "pi", "status.succeeded"), 3);
  jx_close(&x);
}

TEST(backoff_limit_exceeded)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "bad", "\"backoffLimit\":1,", "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "bad") == 1, 5000));
  long long t0 = fixture_now_ms();
  finish_one(&x, "bad", "Failed", "status.failed", 1);
  /* The replacement waits for the back-off (300 ms in this test, 10 s upstream). */
  CHECK(WAIT_UNTIL(count_running(&x, "bad") == 1, 5000));
  CHECK(fixture_now_ms() - t0 >= 250);
  CHECK(!job_condition_is(&x, "bad", "Failed", "True", NULL));
  finish_one(&x, "bad", "Failed", "status.failed", 2);
  CHECK(WAIT_UNTIL(job_condition_is(&x, "bad", "Failed", "True", "BackoffLimitExceeded"), 5000));
  CHECK(job_condition_is(&x, "bad", "FailureTarget", "True", "BackoffLimitExceeded"));
  CHECK(!job_condition_is(&x, "bad", "Complete", "True", NULL));
  CHECK(WAIT_UNTIL(count_finalized(&x, "bad") == 0, 5000));
  usleep(300000);
  CHECK_INT((long long)count_running(&x, "bad"), 0);
  CHECK_INT(job_int(&x, "bad", "status.failed"), 2);
  CHECK(event_seen(&x, "BackoffLimitExceeded"));
  jx_close(&x);
}

TEST(deleted_pod_counts_as_failure)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "del", "\"backoffLimit\":3,", "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "del") == 1, 5000));
  json_t *run = running_pods(&x, "del");
  const char *name = meta_name(json_array_get(run, 0));
  k8c_err err = {0};
  CHECK_INT(client_delete(x.f.client, x.pods, "default", name, NULL, NULL, NULL, &err), 0);
  /* The finalizer holds the pod until the job counted it, then lets it go. */
  CHECK(WAIT_UNTIL(job_int(&x, "del", "status.failed") == 1, 5000));
  CHECK(WAIT_UNTIL(!fixture_exists(&x.f, "pods", "default", name), 5000));
  CHECK(WAIT_UNTIL(count_running(&x, "del") == 1, 5000));
  json_decref(run);
  jx_close(&x);
}

TEST(restart_on_failure_counts_restarts)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "crash", "\"backoffLimit\":2,", "OnFailure");
  CHECK(WAIT_UNTIL(count_running(&x, "crash") == 1, 5000));
  json_t *run = running_pods(&x, "crash");
  patch_obj(&x, x.pods, meta_name(json_array_get(run, 0)),
            "{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"c\","
            "\"image\":\"busybox\",\"imageID\":\"\",\"ready\":false,\"restartCount\":2}]}}",
            "status");
  json_decref(run);
  CHECK(WAIT_UNTIL(job_condition_is(&x, "crash", "Failed", "True", "BackoffLimitExceeded"), 5000));
  CHECK(WAIT_UNTIL(count_running(&x, "crash") == 0, 5000));
  jx_close(&x);
}

TEST(indexed_completion)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "idx", "\"completions\":3,\"parallelism\":3,\"completionMode\":\"Indexed\",",
             "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "idx") == 3, 5000));
  json_t *run = running_pods(&x, "idx");
  bool seen[3] = {false};
  json_t *pod0 = NULL;
  size_t i;
  json_t *p;
  json_array_foreach (run, i, p) {
    const char *ix = json_string_value(
        json_object_get(meta_annotations(p), "batch.kubernetes.io/job-completion-index"));
    CHECK(ix != NULL);
    int n = atoi(ix);
    CHECK(n >= 0 && n < 3);
    seen[n] = true;
    CHECK_STR(json_string_value(
                  json_object_get(meta_labels(p), "batch.kubernetes.io/job-completion-index")),
              ix);
    char host[32], prefix[32];
    snprintf(host, sizeof host, "idx-%d", n);
    snprintf(prefix, sizeof prefix, "idx-%d-", n);
    CHECK_STR(cu_str(p, "spec.hostname"), host);
    CHECK(strncmp(meta_name(p), prefix, strlen(prefix)) == 0);
    json_t *ctr = json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0);
    json_t *env = json_object_get(ctr, "env");
    CHECK_STR(cu_str(json_array_get(env, 0), "name"), "JOB_COMPLETION_INDEX");
    if (n == 0)
      pod0 = p;
    else
      set_phase(&x, p, "Succeeded");
  }
  CHECK(seen[0] && seen[1] && seen[2]);
  CHECK(WAIT_UNTIL(job_int(&x, "idx", "status.succeeded") == 2, 5000));
  json_t *job = get_job(&x, "idx");
  CHECK_STR(cu_str(job, "status.completedIndexes"), "1-2");
  json_decref(job);
  set_phase(&x, pod0, "Failed");
  json_decref(run);
  CHECK(WAIT_UNTIL(job_int(&x, "idx", "status.failed") == 1, 5000));
  /* Index 0 is made again. */
  CHECK(WAIT_UNTIL(count_running(&x, "idx") == 1, 5000));
  run = running_pods(&x, "idx");
  CHECK_STR(json_string_value(json_object_get(meta_annotations(json_array_get(run, 0)),
                                              "batch.kubernetes.io/job-completion-index")),
            "0");
  set_phase(&x, json_array_get(run, 0), "Succeeded");
  json_decref(run);
  CHECK(WAIT_UNTIL(job_condition_is(&x, "idx", "Complete", "True", NULL), 5000));
  job = get_job(&x, "idx");
  CHECK_STR(cu_str(job, "status.completedIndexes"), "0-2");
  CHECK_INT(cu_int(job, "status.succeeded", 0), 3);
  json_decref(job);
  jx_close(&x);
}

TEST(active_deadline)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "slow", "\"activeDeadlineSeconds\":1,\"parallelism\":2,\"completions\":4,",
             "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "slow") == 2, 5000));
  CHECK(WAIT_UNTIL(job_condition_is(&x, "slow", "Failed", "True", "DeadlineExceeded"), 5000));
  CHECK(job_condition_is(&x, "slow", "FailureTarget", "True", "DeadlineExceeded"));
  CHECK_INT((long long)count_running(&x, "slow"), 0);
  /* Pods the controller removed are not failures. */
  CHECK_INT(job_int(&x, "slow", "status.failed"), -1);
  CHECK(event_seen(&x, "DeadlineExceeded"));
  jx_close(&x);
}

TEST(suspend_and_resume)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "later", "\"suspend\":true,\"parallelism\":2,\"completions\":2,", "Never");
  CHECK(WAIT_UNTIL(job_condition_is(&x, "later", "Suspended", "True", "JobSuspended"), 5000));
  CHECK_INT((long long)count_running(&x, "later"), 0);
  patch_obj(&x, x.jobs, "later", "{\"spec\":{\"suspend\":false}}", NULL);
  CHECK(WAIT_UNTIL(count_running(&x, "later") == 2, 5000));
  CHECK(WAIT_UNTIL(job_condition_is(&x, "later", "Suspended", "False", "JobResumed"), 5000));
  json_t *job = get_job(&x, "later");
  CHECK(cu_str(job, "status.startTime") != NULL);
  json_decref(job);
  patch_obj(&x, x.jobs, "later", "{\"spec\":{\"suspend\":true}}", NULL);
  CHECK(WAIT_UNTIL(count_running(&x, "later") == 0, 5000));
  CHECK(WAIT_UNTIL(job_condition_is(&x, "later", "Suspended", "True", "JobSuspended"), 5000));
  CHECK(WAIT_UNTIL(job_int(&x, "later", "status.active") == -1, 5000));
  CHECK_INT(job_int(&x, "later", "status.failed"), -1);
  jx_close(&x);
}

TEST(ttl_after_finished)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "brief", "\"ttlSecondsAfterFinished\":1,", "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "brief") == 1, 5000));
  finish_one(&x, "brief", "Succeeded", "status.succeeded", 1);
  CHECK(WAIT_UNTIL(job_condition_is(&x, "brief", "Complete", "True", NULL), 5000));
  json_t *job = get_job(&x, "brief");
  CHECK(job != NULL);
  json_decref(job);
  CHECK(WAIT_UNTIL((job = get_job(&x, "brief")) == NULL || (json_decref(job), false), 8000));
  jx_close(&x);
}

TEST(orphan_pods_released)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "gone", "", "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "gone") == 1, 5000));
  k8c_err err = {0};
  CHECK_INT(client_delete(x.f.client, x.jobs, "default", "gone", NULL, NULL, NULL, &err), 0);
  /* No garbage collector here: the pod stays, but the controller lets go of it. */
  CHECK(WAIT_UNTIL(count_finalized(&x, "gone") == 0, 5000));
  jx_close(&x);
}

static void
finish_all_running(struct job_fixture *x)
{
  json_t *run = running_pods(x, "again");
  size_t i;
  json_t *p;
  json_array_foreach (run, i, p)
    set_phase(x, p, "Succeeded");
  json_decref(run);
}

TEST(restart_counts_once)
{
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "again", "\"completions\":4,\"parallelism\":2,", "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "again") == 2, 5000));
  finish_one(&x, "again", "Succeeded", "status.succeeded", 1);
  CHECK(WAIT_UNTIL(count_running(&x, "again") == 2, 5000));
  /* Both running pods finish while the controller is down: counted once each after. */
  jx_restart(&x, finish_all_running);
  CHECK(WAIT_UNTIL(job_int(&x, "again", "status.succeeded") == 3, 5000));
  CHECK(WAIT_UNTIL(count_running(&x, "again") == 1, 5000));
  jx_restart(&x, NULL);
  usleep(500000);
  CHECK_INT((long long)count_running(&x, "again"), 1); /* no duplicate after a restart */
  CHECK_INT(job_int(&x, "again", "status.succeeded"), 3);
  json_t *all = job_pods(&x, "again");
  CHECK_INT((long long)json_array_size(all), 4);
  json_decref(all);
  finish_one(&x, "again", "Succeeded", "status.succeeded", 4);
  CHECK(WAIT_UNTIL(job_condition_is(&x, "again", "Complete", "True", NULL), 5000));
  jx_close(&x);
}

TEST(indexes_text)
{
  /* The completedIndexes form, through the controller's own helpers via a job status. */
  struct job_fixture x;
  jx_open(&x);
  create_job(&x, "many", "\"completions\":6,\"parallelism\":6,\"completionMode\":\"Indexed\",",
             "Never");
  CHECK(WAIT_UNTIL(count_running(&x, "many") == 6, 5000));
  json_t *run = running_pods(&x, "many");
  size_t i;
  json_t *p;
  json_array_foreach (run, i, p) {
    int ix = atoi(json_string_value(
        json_object_get(meta_annotations(p), "batch.kubernetes.io/job-completion-index")));
    if (ix == 0 || ix == 2 || ix == 3 || ix == 5)
      set_phase(&x, p, "Succeeded");
  }
  json_decref(run);
  CHECK(WAIT_UNTIL(job_int(&x, "many", "status.succeeded") == 4, 5000));
  json_t *job = get_job(&x, "many");
  CHECK_STR(cu_str(job, "status.completedIndexes"), "0,2-3,5");
  CHECK_INT(cu_int(job, "status.active", 0), 2);
  json_decref(job);
  jx_close(&x);
}

TEST_MAIN()
