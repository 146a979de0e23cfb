/* namespace_object.c — one named object kept in every active namespace (see
 * namespace_object.h). A namespace is the work item, so a burst of changes to the same
 * namespace is one sync. */
#include "controllers/namespace_object.h"

#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/keyed_controller.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

#define MAX_RETRIES 15

struct ns_object_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  struct namespace_object_spec spec;
  k8c_client *client;
  const struct api_resource *namespaces_res, *objects_res;
  informer *namespaces, *objects;
};

static bool
namespace_active(const json_t *ns)
{
  if (json_object_get(json_object_get(ns, "metadata"), "deletionTimestamp"))
    return false;
  const char *phase = json_string_value(json_object_get(json_object_get(ns, "status"), "phase"));
  return phase == NULL || strcmp(phase, "Active") == 0;
}

/* 0: a fine outcome for a write (409 exists/changed: the informer brings the news; 403
 * the namespace is terminating; 404 it is gone); -1: retry. */
static int
write_outcome(k8c_err *cerr, k8c_err *err)
{
  if (cerr->status == 409 || cerr->status == 403 || cerr->status == 404) {
    k8c_err_clear(cerr);
    return 0;
  }
  k8c_err_move(err, cerr);
  return -1;
}

/* 0 done, -1 retry. */
static int
sync_namespace(void *arg, const char *ns, k8c_err *err)
{
  struct ns_object_controller *c = arg;
  cleanup_json json_t *ns_obj = informer_get(c->namespaces, ns);
  if (ns_obj == NULL || !namespace_active(ns_obj))
    return 0;
  cleanup_free char *key = xasprintf("%s/%s", ns, c->spec.name);
  cleanup_json json_t *have = informer_get(c->objects, key);
  if (have && c->spec.reconcile == NULL)
    return 0;
  cleanup_json json_t *want = c->spec.desired(c->spec.arg, ns);
  k8c_err cerr = {0};
  if (have == NULL) {
    if (client_create(c->client, c->objects_res, ns, want, NULL, NULL, &cerr) == 0) {
      log_debug("%s controller: created %s", c->spec.controller, key);
      return 0;
    }
    return write_outcome(&cerr, err);
  }
  cleanup_json json_t *copy = json_deep_copy(have);
  if (!c->spec.reconcile(c->spec.arg, copy, want))
    return 0;
  if (client_update(c->client, c->objects_res, ns, c->spec.name, copy, NULL, NULL, &cerr) == 0) {
    log_debug("%s controller: updated %s", c->spec.controller, key);
    return 0;
  }
  return write_outcome(&cerr, err);
}

static void
on_namespace(void *ctx, json_t *obj)
{
  struct ns_object_controller *c = ctx;
  if (meta_name(obj) && namespace_active(obj))
    workqueue_add(c->kc.queue, meta_name(obj));
}

static void
on_namespace_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  on_namespace(ctx, new_obj);
}

static void
on_object(void *ctx, json_t *obj)
{
  struct ns_object_controller *c = ctx;
  const char *name = meta_name(obj);
  const char *ns = meta_namespace(obj);
  if (name && ns && strcmp(name, c->spec.name) == 0)
    workqueue_add(c->kc.queue, ns);
}

static void
on_object_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  on_object(ctx, new_obj);
}

void *
namespace_object_start(struct controller_context *ctx, const struct namespace_object_spec *spec,
                       k8c_err *err)
{
  struct ns_object_controller *c = xcalloc(1, sizeof *c);
  c->spec = *spec;
  c->client = ctx->client;
  keyed_controller_init(&c->kc, &(struct keyed_controller_spec){.name = spec->controller,
                                                                .thread = spec->thread,
                                                                .sync = sync_namespace,
                                                                .arg = c,
                                                                .max_retries = MAX_RETRIES});
  c->namespaces_res = api_resource_find("", "v1", "namespaces");
  c->objects_res = api_resource_find(spec->group, spec->version, spec->plural);
  c->namespaces = informer_factory_get(ctx->informers, c->namespaces_res, "", NULL, NULL);
  c->objects = informer_factory_get(ctx->informers, c->objects_res, "", NULL, NULL);
  struct informer_handlers nh = {
      .on_add = on_namespace, .on_update = on_namespace_update, .ctx = c, .resync_period_ms = -1};
  keyed_controller_watch(&c->kc, c->namespaces, &nh);
  struct informer_handlers oh = {.on_delete = on_object, .ctx = c, .resync_period_ms = -1};
  if (spec->reconcile)
    oh.on_update = on_object_update;
  keyed_controller_watch(&c->kc, c->objects, &oh);
  if (keyed_controller_run(&c->kc, 1, err) < 0) {
    namespace_object_stop(c);
    return NULL;
  }
  return c;
}

void
namespace_object_stop(void *state)
{
  struct ns_object_controller *c = state;
  keyed_controller_stop(&c->kc);
  free(c);
}
