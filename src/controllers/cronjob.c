/* cronjob.c — the CronJob controller's plumbing: informers on cronjobs and jobs feed a
 * keyed_controller's queue of CronJob keys (a Job's event goes to the CronJob
 * controlling it); its workers run cronjob_sync (cronjob_sync.c), which requeues each
 * CronJob for its next activation. */
#include "controllers/cronjob.h"

#include "apimachinery/meta.h"
#include "controllers/cronjob_internal.h"
#include "lib/mem.h"

#include <string.h>

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
job_changed(struct cronjob_controller *c, const json_t *job)
{
  json_t *ref = cu_controller_ref(job);
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  if (kind == NULL || strcmp(kind, "CronJob") != 0)
    return;
  json_t *cj = cu_resolve_controller_ref(c->cj_inf, "CronJob", meta_namespace(job), ref);
  if (cj) {
    keyed_controller_enqueue(c, cj);
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

static int
sync_key(void *c, const char *key, k8c_err *err)
{
  return cronjob_sync(c, key, err);
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
  cu_add_namespace_index(c->job_inf);
  /* The workers wait for both caches: a sync on a partial job list would act twice. */
  keyed_controller_init(&c->kc,
                        &(struct keyed_controller_spec){.name = "cronjob",
                                                        .thread = "ctl-cronjob",
                                                        .sync = sync_key,
                                                        .arg = c,
                                                        .wait_for = {c->cj_inf, c->job_inf}});
  c->rec = event_recorder_new(c->client, "cronjob-controller", NULL);
  struct informer_handlers cj_h = {
      .on_add = keyed_controller_enqueue, .on_update = keyed_controller_enqueue_update, .ctx = c};
  struct informer_handlers job_h = {
      .on_add = on_job_add, .on_update = on_job_update, .on_delete = on_job_delete, .ctx = c};
  keyed_controller_watch(&c->kc, c->cj_inf, &cj_h);
  keyed_controller_watch(&c->kc, c->job_inf, &job_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    cronjob_stop(c);
    return NULL;
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
  keyed_controller_stop(&c->kc);
  event_recorder_free(c->rec);
  free(c);
}
