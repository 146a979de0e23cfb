/* statefulset.c — the StatefulSet controller: informers on statefulsets and pods feed a
 * keyed_controller's queue of set keys (pods reach their set through pod_owner_router);
 * its workers run sts_sync. Stateful pods have fixed names, so a create that our stale
 * cache repeats fails with AlreadyExists instead of duplicating a pod: no expectations
 * are needed. */
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/statefulset_internal.h"
#include "lib/mem.h"

static void *sts_start(struct controller_context *ctx, k8c_err *err);
static void sts_stop(void *state);

const struct controller_def statefulset_controller_def = {
    .name = "statefulset",
    .start = sts_start,
    .stop = sts_stop,
};

static int
sync_key(void *c, const char *key, k8c_err *err)
{
  return sts_sync(c, key, err);
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
  cu_add_namespace_index(c->sts_inf);
  cu_add_namespace_index(c->pod_inf);
  cu_add_namespace_index(c->rev_inf);
  keyed_controller_init(
      &c->kc, &(struct keyed_controller_spec){
                  .name = "statefulset", .thread = "ctl-statefulset", .sync = sync_key, .arg = c});
  c->rec = event_recorder_new(c->client, "statefulset-controller", NULL);
  c->router = (struct pod_owner_router){
      .owners = c->sts_inf, .kind = "StatefulSet", .queue = c->kc.queue, .exp = NULL};
  keyed_controller_watch(&c->kc, c->sts_inf,
                         &(struct informer_handlers){.on_add = keyed_controller_enqueue,
                                                     .on_update = keyed_controller_enqueue_update,
                                                     .ctx = c});
  struct informer_handlers pod_h = pod_router_handlers(&c->router);
  keyed_controller_watch(&c->kc, c->pod_inf, &pod_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    sts_stop(c);
    return NULL;
  }
  return c;
}

static void
sts_stop(void *state)
{
  struct sts_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  event_recorder_free(c->rec);
  free(c);
}
