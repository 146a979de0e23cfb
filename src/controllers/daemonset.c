/* daemonset.c — the DaemonSet controller: informers on daemonsets, pods, nodes and
 * ControllerRevisions feed a work queue of DaemonSet keys (pods and revisions reach their
 * set through pod_owner_router; a node whose labels, taints or spec changed wakes every
 * set); workers run ds_sync. Pods are made with generateName, so expectations guard
 * against creating a node's pod twice. */
#include "apimachinery/meta.h"
#include "controllers/controller.h"
#include "controllers/daemonset_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>

static void *ds_start(struct controller_context *ctx, k8c_err *err);
static void ds_stop(void *state);

const struct controller_def daemonset_controller_def = {
    .name = "daemonset",
    .start = ds_start,
    .stop = ds_stop,
};

static void
on_ds_add(void *ctx, json_t *ds)
{
  struct ds_controller *c = ctx;
  cleanup_free char *key = cu_key(ds);
  workqueue_add(c->queue, key);
}

static void
on_ds_update(void *ctx, json_t *old_ds, json_t *new_ds)
{
  (void)old_ds;
  on_ds_add(ctx, new_ds);
}

static void
on_ds_delete(void *ctx, json_t *ds)
{
  struct ds_controller *c = ctx;
  cleanup_free char *key = cu_key(ds);
  expectations_delete(c->exp, key);
}

/* Node handlers: their ctx is the router (a distinct pointer per informer is not needed,
 * but the router already knows the owners and the queue). */
static void
on_node_add(void *ctx, json_t *node)
{
  (void)node;
  pod_router_enqueue_all(ctx, NULL);
}

static void
on_node_update(void *ctx, json_t *old_node, json_t *new_node)
{
  if (old_node != new_node && json_equal(meta_labels(old_node), meta_labels(new_node)) &&
      json_equal(json_object_get(old_node, "spec"), json_object_get(new_node, "spec")))
    return;
  pod_router_enqueue_all(ctx, NULL);
}

static void *
ds_worker(void *arg)
{
  pthread_setname_np(pthread_self(), "ctl-daemonset");
  struct ds_controller *c = arg;
  char *key = NULL;
  while (workqueue_get(c->queue, &key)) {
    k8c_err err = {0};
    if (ds_sync(c, key, &err) < 0) {
      log_debug("daemonset %s: %s (retrying)", key, err.message);
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
ds_start(struct controller_context *ctx, k8c_err *err)
{
  struct ds_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->ds_res = api_resource_find("apps", "v1", "daemonsets");
  c->pod_res = api_resource_find("", "v1", "pods");
  c->ds_inf = informer_factory_get(ctx->informers, c->ds_res, "", NULL, NULL);
  c->pod_inf = informer_factory_get(ctx->informers, c->pod_res, "", NULL, NULL);
  c->node_inf =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "nodes"), "", NULL, NULL);
  const struct api_resource *rev_res = api_resource_find("apps", "v1", "controllerrevisions");
  c->rev_inf = informer_factory_get(ctx->informers, rev_res, "", NULL, NULL);
  c->history = (struct history_ctx){
      .client = c->client, .res = rev_res, .inf = c->rev_inf, .owner_kind = "DaemonSet"};
  /* Shared informers: the index may already exist (-1 then), which is fine. */
  (void)!informer_add_index(c->ds_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  (void)!informer_add_index(c->pod_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  (void)!informer_add_index(c->rev_inf, "namespace", informer_index_by_path,
                            (void *)"metadata.namespace");
  c->queue = workqueue_new(NULL);
  c->exp = expectations_new();
  c->rec = event_recorder_new(c->client, "daemonset-controller", NULL);
  c->router = (struct pod_owner_router){
      .owners = c->ds_inf, .kind = "DaemonSet", .queue = c->queue, .exp = c->exp};
  c->rev_router = (struct pod_owner_router){
      .owners = c->ds_inf, .kind = "DaemonSet", .queue = c->queue, .exp = NULL};
  struct informer_handlers rev_h = {.on_add = pod_router_on_add,
                                    .on_update = pod_router_on_update,
                                    .on_delete = pod_router_on_delete,
                                    .ctx = &c->rev_router};
  struct informer_handlers ds_h = {
      .on_add = on_ds_add, .on_update = on_ds_update, .on_delete = on_ds_delete, .ctx = c};
  struct informer_handlers pod_h = {.on_add = pod_router_on_add,
                                    .on_update = pod_router_on_update,
                                    .on_delete = pod_router_on_delete,
                                    .ctx = &c->router};
  struct informer_handlers node_h = {.on_add = on_node_add,
                                     .on_update = on_node_update,
                                     .on_delete = on_node_add,
                                     .ctx = &c->router};
  informer_add_handlers(c->ds_inf, &ds_h);
  informer_add_handlers(c->pod_inf, &pod_h);
  informer_add_handlers(c->node_inf, &node_h);
  informer_add_handlers(c->rev_inf, &rev_h);
  c->nworkers = ctx->cfg.workers > 0 ? ctx->cfg.workers : 2;
  c->workers = xcalloc((size_t)c->nworkers, sizeof *c->workers);
  for (int i = 0; i < c->nworkers; i++) {
    if (pthread_create(&c->workers[i], NULL, ds_worker, c) != 0) {
      c->nworkers = i;
      ds_stop(c);
      k8c_error(err, 500, K8C_REASON_INTERNAL, "daemonset controller: cannot start workers");
      return NULL;
    }
  }
  return c;
}

static void
ds_stop(void *state)
{
  struct ds_controller *c = state;
  if (c == NULL)
    return;
  informer_remove_handlers(c->ds_inf, c);
  informer_remove_handlers(c->pod_inf, &c->router);
  informer_remove_handlers(c->node_inf, &c->router);
  informer_remove_handlers(c->rev_inf, &c->rev_router);
  workqueue_shutdown(c->queue);
  for (int i = 0; i < c->nworkers; i++)
    pthread_join(c->workers[i], NULL);
  free(c->workers);
  workqueue_free(c->queue);
  expectations_free(c->exp);
  event_recorder_free(c->rec);
  free(c);
}
