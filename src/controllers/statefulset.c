/* statefulset.c — the StatefulSet controller: informers on statefulsets and pods feed a
 * work queue of set keys (pods reach their set through pod_owner_router); workers run
 * sts_sync. Stateful pods have fixed names, so a create that our stale cache repeats
 * fails with AlreadyExists instead of duplicating a pod: no expectations are needed. */
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/statefulset_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>

static void *sts_start(struct controller_context *ctx, k8c_err *err);
static void sts_stop(void *state);

const struct controller_def statefulset_controller_def = {
    .name = "statefulset",
    .start = sts_start,
    .stop = sts_stop,
};

static void
on_set_add(void *ctx, json_t *set)
{
  struct sts_controller *c = ctx;
  cleanup_free char *key = cu_key(set);
  workqueue_add(c->queue, key);
}

static void
on_set_update(void *ctx, json_t *old_set, json_t *new_set)
{
  (void)old_set;
  on_set_add(ctx, new_set);
}

static void *
sts_worker(void *arg)
{
  pthread_setname_np(pthread_self(), "ctl-statefulset");
  struct sts_controller *c = arg;
  char *key = NULL;
  while (workqueue_get(c->queue, &key)) {
    k8c_err err = {0};
    if (sts_sync(c, key, &err) < 0) {
      log_debug("statefulset %s: %s (retrying)", key, err.message);
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

static void *
sts_start(struct controller_context *ctx, k8c_err *err)
{
  struct sts_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->sts_res = api_resource_find("apps", "v1", "statefulsets");
  c->pod_res = api_resource_find("", "v1", "pods");
  c->pvc_res = api_resource_find("", "v1", "persistentvolumeclaims");
  c->sts_inf = informer_factory_get(ctx->informers, c->sts_res, "", NULL, NULL);
  c->pod_inf = informer_factory_get(ctx->informers, c->pod_res, "", NULL, NULL);
  const struct api_resource *rev_res = api_resource_find("apps", "v1", "controllerrevisions");
  c->rev_inf = informer_factory_get(ctx->informers, rev_res, "", NULL, NULL);
  c->history = (struct history_ctx){
      .client = c->client, .res = rev_res, .inf = c->rev_inf, .owner_kind = "StatefulSet"};
  /* Shared informers: the index may already exist (-1 then), which is fine. */
  (void)!informer_add_index(c->sts_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  (void)!informer_add_index(c->pod_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  (void)!informer_add_index(c->rev_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  c->queue = workqueue_new(NULL);
  c->rec = event_recorder_new(c->client, "statefulset-controller", NULL);
  c->router = (struct pod_owner_router){
      .owners = c->sts_inf, .kind = "StatefulSet", .queue = c->queue, .exp = NULL};
  struct informer_handlers set_h = {.on_add = on_set_add, .on_update = on_set_update, .ctx = c};
  struct informer_handlers pod_h = {.on_add = pod_router_on_add,
                                    .on_update = pod_router_on_update,
                                    .on_delete = pod_router_on_delete,
                                    .ctx = &c->router};
  informer_add_handlers(c->sts_inf, &set_h);
  informer_add_handlers(c->pod_inf, &pod_h);
  c->nworkers = ctx->cfg.workers > 0 ? ctx->cfg.workers : 2;
  c->workers = xcalloc((size_t)c->nworkers, sizeof *c->workers);
  for (int i = 0; i < c->nworkers; i++) {
    if (pthread_create(&c->workers[i], NULL, sts_worker, c) != 0) {
      c->nworkers = i;
      sts_stop(c);
      k8c_error(err, 500, K8C_REASON_INTERNAL, "statefulset controller: cannot start workers");
      return NULL;
    }
  }
  return c;
}

static void
sts_stop(void *state)
{
  struct sts_controller *c = state;
  if (c == NULL)
    return;
  informer_remove_handlers(c->sts_inf, c);
  informer_remove_handlers(c->pod_inf, &c->router);
  workqueue_shutdown(c->queue);
  for (int i = 0; i < c->nworkers; i++)
    pthread_join(c->workers[i], NULL);
  free(c->workers);
  workqueue_free(c->queue);
  event_recorder_free(c->rec);
  free(c);
}
