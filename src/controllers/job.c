/* job.c — the Job controller's plumbing: informers on jobs and pods feed a
 * keyed_controller's queue of job keys (and "pod:ns/name" keys for orphan pods still
 * holding the job-tracking finalizer); its workers run job_sync (job_sync.c). The pod
 * handlers also keep the expectations and the record of finalizers recently taken off
 * current. */
#include "controllers/job.h"

#include "apimachinery/meta.h"
#include "controllers/job_internal.h"
#include "lib/mem.h"

#include <string.h>

static void *job_start(struct controller_context *ctx, k8c_err *err);
static void job_stop(void *state);

const struct controller_def job_controller_def = {
    .name = "job",
    .start = job_start,
    .stop = job_stop,
};

/* ---------- event handlers ---------- */

/* A pod holding the finalizer without a live Job: its own key, to release it. */
static void
enqueue_orphan(struct job_controller *c, const json_t *pod)
{
  cleanup_free char *pod_key = cu_key(pod);
  cleanup_free char *key = xasprintf(JOB_ORPHAN_PREFIX "%s", pod_key);
  workqueue_add(c->kc.queue, key);
}

static void
forget_removed_finalizer(struct job_controller *c, const json_t *pod)
{
  pthread_mutex_lock(&c->lock);
  free(hashmap_remove(c->finalizers_removed, meta_uid(pod)));
  pthread_mutex_unlock(&c->lock);
}

/* Routes a pod event to its job; gone: the pod was deleted (or is being deleted). */
static void
pod_changed(struct job_controller *c, const json_t *pod, bool added, bool gone)
{
  if (gone || !job_pod_has_finalizer(pod))
    forget_removed_finalizer(c, pod);
  json_t *ref = cu_controller_ref(pod);
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  json_t *job = kind && strcmp(kind, "Job") == 0
                    ? cu_resolve_controller_ref(c->job_inf, "Job", meta_namespace(pod), ref)
                    : NULL;
  if (job == NULL) {
    if (job_pod_has_finalizer(pod))
      enqueue_orphan(c, pod);
    return;
  }
  cleanup_free char *key = cu_key(job);
  if (added && !gone)
    expectations_creation_observed(c->exp, key);
  if (gone) {
    cleanup_free char *pod_key = cu_key(pod);
    expectations_deletion_observed(c->exp, key, pod_key);
  }
  workqueue_add(c->kc.queue, key);
  json_decref(job);
}

static bool
deleting(const json_t *obj)
{
  return json_object_get(meta_get((json_t *)obj), "deletionTimestamp") != NULL;
}

static void
on_pod_add(void *ctx, json_t *pod)
{
  pod_changed(ctx, pod, true, deleting(pod));
}

static void
on_pod_update(void *ctx, json_t *old_pod, json_t *new_pod)
{
  if (old_pod == new_pod)
    return;
  pod_changed(ctx, new_pod, false, deleting(new_pod));
}

static void
on_pod_delete(void *ctx, json_t *pod)
{
  pod_changed(ctx, pod, false, true);
}

static void
on_job_delete(void *ctx, json_t *job)
{
  struct job_controller *c = ctx;
  keyed_controller_enqueue(c, job); /* the sync forgets it */
  /* Its pods may see no event of their own (orphan propagation, no garbage collector
   * yet): release their finalizers now. */
  json_t **pods = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(job), &pods, &n, &err) < 0) {
    k8c_err_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const char *uid = json_string_value(json_object_get(cu_controller_ref(pods[i]), "uid"));
    if (uid && strcmp(uid, meta_uid(job)) == 0 && job_pod_has_finalizer(pods[i]))
      enqueue_orphan(c, pods[i]);
  }
  informer_objs_free(pods, n);
}

static int
sync_key(void *c, const char *key, k8c_err *err)
{
  return job_sync(c, key, err);
}

/* ---------- start / stop ---------- */

void *
job_controller_start(struct controller_context *ctx, const struct job_controller_opts *opts,
                     k8c_err *err)
{
  struct job_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->opts.backoff_base_ms = opts && opts->backoff_base_ms > 0 ? opts->backoff_base_ms : 10000;
  c->opts.backoff_max_ms = opts && opts->backoff_max_ms > 0 ? opts->backoff_max_ms : 360000;
  c->job_res = api_resource_find("batch", "v1", "jobs");
  c->pod_res = api_resource_find("", "v1", "pods");
  c->job_inf = informer_factory_get(ctx->informers, c->job_res, "", NULL, NULL);
  c->pod_inf = informer_factory_get(ctx->informers, c->pod_res, "", NULL, NULL);
  cu_add_namespace_index(c->pod_inf);
  pthread_mutex_init(&c->lock, NULL);
  c->backoff = hashmap_new();
  c->finalizers_removed = hashmap_new();
  c->written_rv = hashmap_new();
  /* The workers wait for both caches: a sync on a partial pod list would act twice. */
  keyed_controller_init(&c->kc,
                        &(struct keyed_controller_spec){.name = "job",
                                                        .thread = "ctl-job",
                                                        .sync = sync_key,
                                                        .arg = c,
                                                        .wait_for = {c->job_inf, c->pod_inf}});
  c->exp = expectations_new();
  c->rec = event_recorder_new(c->client, "job-controller", NULL);
  struct informer_handlers job_h = {.on_add = keyed_controller_enqueue,
                                    .on_update = keyed_controller_enqueue_update,
                                    .on_delete = on_job_delete,
                                    .ctx = c};
  struct informer_handlers pod_h = {
      .on_add = on_pod_add, .on_update = on_pod_update, .on_delete = on_pod_delete, .ctx = c};
  keyed_controller_watch(&c->kc, c->job_inf, &job_h);
  keyed_controller_watch(&c->kc, c->pod_inf, &pod_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    job_stop(c);
    return NULL;
  }
  return c;
}

static void *
job_start(struct controller_context *ctx, k8c_err *err)
{
  return job_controller_start(ctx, NULL, err);
}

static void
job_stop(void *state)
{
  struct job_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  expectations_free(c->exp);
  event_recorder_free(c->rec);
  hashmap_free(c->backoff, free);
  hashmap_free(c->finalizers_removed, free);
  hashmap_free(c->written_rv, free);
  pthread_mutex_destroy(&c->lock);
  free(c);
}
