/* cronjob.c — the CronJob controller's plumbing: informers on cronjobs and jobs feed a
 * work queue of CronJob keys (a Job's event goes to the CronJob controlling it);
 * workers run cronjob_sync (cronjob_sync.c), which requeues each CronJob for its next
 * activation. */
#include "controllers/cronjob.h"

#include "apimachinery/meta.h"
#include "controllers/cronjob_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>
#include <unistd.h>

static void *cronjob_start(struct controller_context *ctx, k8c_err *err);
static void cronjob_stop(void *state);

const struct controller_def cronjob_controller_def = {
    .name = "cronjob",
    .start = cronjob_start,
    .stop = cronjob_stop,
};

bool
cronjob_time_zone_is_utc(const char *tz)
{
  static const char *const utc[] = {
      "UTC",       "Etc/UTC",       "UCT",       "Etc/UCT",       "GMT",   "Etc/GMT",
      "GMT0",      "Etc/GMT0",      "GMT+0",     "Etc/GMT+0",     "GMT-0", "Etc/GMT-0",
      "Greenwich", "Etc/Greenwich", "Universal", "Etc/Universal", "Zulu",  "Etc/Zulu",
      NULL,
  };
  for (const char *const *u = utc; *u; u++)
    if (tz && strcmp(tz, *u) == 0)
      return true;
  return false;
}

/* ---------- event handlers ---------- */

static void
enqueue_cronjob(struct cronjob_controller *c, const json_t *cj)
{
  cleanup_free char *key = cu_key(cj);
  workqueue_add(c->queue, key);
}

static void
job_changed(struct cronjob_controller *c, const json_t *job)
{
  json_t *ref = cu_controller_ref(job);
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  if (kind == NULL || strcmp(kind, "CronJob") != 0)
    return;
  json_t *cj = cu_resolve_controller_ref(c->cj_inf, "CronJob", meta_namespace(job), ref);
  if (cj) {
    enqueue_cronjob(c, cj);
    json_decref(cj);
  }
}

static void
on_job_add(void *ctx, json_t *job)
{
  job_changed(ctx, job);
}

static void
on_job_update(void *ctx, json_t *old_job, json_t *new_job)
{
  (void)old_job;
  job_changed(ctx, new_job);
}

static void
on_job_delete(void *ctx, json_t *job)
{
  job_changed(ctx, job);
}

static void
on_cj_add(void *ctx, json_t *cj)
{
  enqueue_cronjob(ctx, cj);
}

static void
on_cj_update(void *ctx, json_t *old_cj, json_t *new_cj)
{
  (void)old_cj;
  enqueue_cronjob(ctx, new_cj);
}

/* ---------- workers ---------- */

static void *
cronjob_worker(void *arg)
{
  pthread_setname_np(pthread_self(), "ctl-cronjob");
  struct cronjob_controller *c = arg;
  /* As upstream's WaitForCacheSync: a sync on a partial pod list would act twice. */
  while (!(informer_has_synced(c->cj_inf) && informer_has_synced(c->job_inf)) &&
         !workqueue_shutting_down(c->queue))
    usleep(10000);
  char *key = NULL;
  while (workqueue_get(c->queue, &key)) {
    k8c_err err = {0};
    if (cronjob_sync(c, key, &err) < 0) {
      log_debug("cronjob %s: %s (retrying)", key, err.message);
      workqueue_add_rate_limited(c->queue, key);
    } else {
      workqueue_forget(c->queue, key);
    }
    k8c_err_clear(&err);
    workqueue_done(c->queue, key);
    free(key);
  }
  return NULL;
}

/* ---------- start / stop ---------- */

void *
cronjob_controller_start(struct controller_context *ctx, const struct cronjob_controller_opts *opts,
                         k8c_err *err)
{
  struct cronjob_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  if (opts)
    c->opts = *opts;
  c->cj_res = api_resource_find("batch", "v1", "cronjobs");
  c->job_res = api_resource_find("batch", "v1", "jobs");
  c->cj_inf = informer_factory_get(ctx->informers, c->cj_res, "", NULL, NULL);
  c->job_inf = informer_factory_get(ctx->informers, c->job_res, "", NULL, NULL);
  (void)!informer_add_index(c->job_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  c->queue = workqueue_new(NULL);
  c->rec = event_recorder_new(c->client, "cronjob-controller", NULL);
  struct informer_handlers cj_h = {.on_add = on_cj_add, .on_update = on_cj_update, .ctx = c};
  struct informer_handlers job_h = {
      .on_add = on_job_add, .on_update = on_job_update, .on_delete = on_job_delete, .ctx = c};
  informer_add_handlers(c->cj_inf, &cj_h);
  informer_add_handlers(c->job_inf, &job_h);
  c->nworkers = ctx->cfg.workers > 0 ? ctx->cfg.workers : 2;
  c->workers = xcalloc((size_t)c->nworkers, sizeof *c->workers);
  for (int i = 0; i < c->nworkers; i++) {
    if (pthread_create(&c->workers[i], NULL, cronjob_worker, c) != 0) {
      c->nworkers = i;
      cronjob_stop(c);
      k8c_error(err, 500, K8C_REASON_INTERNAL, "cronjob controller: cannot start workers");
      return NULL;
    }
  }
  return c;
}

static void *
cronjob_start(struct controller_context *ctx, k8c_err *err)
{
  return cronjob_controller_start(ctx, NULL, err);
}

static void
cronjob_stop(void *state)
{
  struct cronjob_controller *c = state;
  if (c == NULL)
    return;
  informer_remove_handlers(c->cj_inf, c);
  informer_remove_handlers(c->job_inf, c);
  workqueue_shutdown(c->queue);
  for (int i = 0; i < c->nworkers; i++)
    pthread_join(c->workers[i], NULL);
  free(c->workers);
  workqueue_free(c->queue);
  event_recorder_free(c->rec);
  free(c);
}
