/* daemonset.c — the DaemonSet controller: informers on daemonsets, pods, nodes and
 * ControllerRevisions feed a work queue of DaemonSet keys (pods and revisions reach their
 * set through pod_owner_router; a node whose labels, taints or spec changed wakes every
 * set); keyed_controller workers run ds_sync. Pods are made with generateName, so expectations
 * guard against creating a node's pod twice. */
#include "apimachinery/meta.h"
#include "controllers/controller.h"
#include "controllers/daemonset_internal.h"
#include "lib/mem.h"

static void *ds_start(struct controller_context *ctx, k8c_err *err);
static void ds_stop(void *state);

const struct controller_def daemonset_controller_def = {
    .name = "daemonset",
    .start = ds_start,
    .stop = ds_stop,
};

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

static int
sync_key(void *c, const char *key, k8c_err *err)
{
  return ds_sync(c, key, err);
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
  cu_add_namespace_index(c->ds_inf);
  cu_add_namespace_index(c->pod_inf);
  cu_add_namespace_index(c->rev_inf);
  keyed_controller_init(
      &c->kc, &(struct keyed_controller_spec){
                  .name = "daemonset", .thread = "ctl-daemonset", .sync = sync_key, .arg = c});
  c->exp = expectations_new();
  c->rec = event_recorder_new(c->client, "daemonset-controller", NULL);
  c->router = (struct pod_owner_router){
      .owners = c->ds_inf, .kind = "DaemonSet", .queue = c->kc.queue, .exp = c->exp};
  c->rev_router = (struct pod_owner_router){
      .owners = c->ds_inf, .kind = "DaemonSet", .queue = c->kc.queue, .exp = NULL};
  struct informer_handlers ds_h = {.on_add = keyed_controller_enqueue,
                                   .on_update = keyed_controller_enqueue_update,
                                   .on_delete = on_ds_delete,
                                   .ctx = c};
  struct informer_handlers pod_h = pod_router_handlers(&c->router);
  struct informer_handlers node_h = {.on_add = on_node_add,
                                     .on_update = on_node_update,
                                     .on_delete = on_node_add,
                                     .ctx = &c->router};
  struct informer_handlers rev_h = pod_router_handlers(&c->rev_router);
  keyed_controller_watch(&c->kc, c->ds_inf, &ds_h);
  keyed_controller_watch(&c->kc, c->pod_inf, &pod_h);
  keyed_controller_watch(&c->kc, c->node_inf, &node_h);
  keyed_controller_watch(&c->kc, c->rev_inf, &rev_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    ds_stop(c);
    return NULL;
  }
  return c;
}

static void
ds_stop(void *state)
{
  struct ds_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  expectations_free(c->exp);
  event_recorder_free(c->rec);
  free(c);
}
