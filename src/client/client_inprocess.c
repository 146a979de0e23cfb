/* client_inprocess.c — the API client backend for code running inside `k8c server`: each
 * call goes straight to the registry, which runs the same defaulting, admission,
 * validation, storage and watch-cache path as an HTTP request. Watch events hand out
 * the watch cache's shared, immutable text without copying it. */
#include "client/client.h"

#include "lib/mem.h"
#include "registry/convert.h"
#include "registry/core/serviceaccount_token.h"
#include "registry/registry.h"

#include <string.h>

struct inprocess_client {
  struct k8c_client base;
  struct registry *reg;
  char *field_manager;
};

struct inprocess_watch {
  struct client_watch base;
  registry_watcher *rw;
  const struct api_resource *res;
};

static const struct k8c_client_ops inprocess_ops;
static const struct client_watch_ops inprocess_watch_ops;

/* ---------- public ---------- */

k8c_client *
client_inprocess_new(struct registry *reg, const char *field_manager)
{
  struct inprocess_client *c = xcalloc(1, sizeof *c);
  c->base.ops = &inprocess_ops;
  c->reg = reg;
  c->field_manager = xstrdup(field_manager ? field_manager : "k8c");
  return &c->base;
}

/* ---------- helpers ---------- */

static struct inprocess_client *
to_inprocess(k8c_client *c)
{
  return (struct inprocess_client *)c;
}

static struct write_opts
write_opts_for(struct inprocess_client *c, const struct client_write_opts *o)
{
  return (struct write_opts){
      .dry_run = o->dry_run,
      .field_validation = FIELD_VALIDATION_STRICT,
      .field_manager = o->field_manager ? o->field_manager : c->field_manager,
      .force = o->force,
  };
}

/* Parses stored JSON text into the served version's shape. New reference or NULL. */
static json_t *
object_from_text(const struct api_resource *res, const char *json, size_t len, k8c_err *err)
{
  json_error_t jerr;
  json_t *stored = json_loadb(json, len, 0, &jerr);
  if (stored == NULL) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "decoding stored object: %s", jerr.text);
    return NULL;
  }
  if (!convert_needed(res))
    return stored;
  json_t *served = convert_from_storage(res, stored);
  json_decref(stored);
  return served;
}

static void
give(json_t **out, json_t *obj)
{
  if (out)
    *out = obj;
  else
    json_decref(obj);
}

static char *
api_version_of(const struct api_resource *res)
{
  if (res->group[0] == 0)
    return xstrdup(res->version);
  return xasprintf("%s/%s", res->group, res->version);
}

/* ---------- reads ---------- */

static int
inprocess_get(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
              json_t **out, k8c_err *err)
{
  struct registry_target t = {res, ns, name ? name : "", ""};
  cache_obj *co = NULL;
  if (registry_get(to_inprocess(c)->reg, &t, &co, err) < 0)
    return -1;
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  json_t *obj = object_from_text(res, json, len, err);
  cache_obj_unref(co);
  if (obj == NULL)
    return -1;
  *out = obj;
  return 0;
}

static struct list_opts
list_opts_for(const struct client_list_opts *o)
{
  return (struct list_opts){
      .label_selector = o->label_selector,
      .field_selector = o->field_selector,
      .resource_version = o->resource_version,
      .resource_version_match = o->resource_version_match,
      .limit = o->limit,
      .continue_token = o->continue_token,
      .send_initial_events = o->send_initial_events,
      .allow_bookmarks = o->allow_bookmarks,
  };
}

static int
inprocess_list(k8c_client *c, const struct api_resource *res, const char *ns,
               const struct client_list_opts *o, json_t **out, k8c_err *err)
{
  struct registry_target t = {res, ns, "", ""};
  struct list_opts lo = list_opts_for(o);
  struct list_result lr;
  if (registry_list(to_inprocess(c)->reg, &t, &lo, &lr, err) < 0)
    return -1;
  cleanup_json json_t *items = json_array();
  for (size_t i = 0; i < lr.count; i++) {
    json_t *obj = object_from_text(res, lr.items[i].json, lr.items[i].len, err);
    if (obj == NULL) {
      list_result_free(&lr);
      return -1;
    }
    json_array_append_new(items, obj);
  }
  json_t *meta = json_object();
  char rv[32];
  snprintf(rv, sizeof rv, "%lld", (long long)lr.revision);
  json_object_set_new(meta, "resourceVersion", json_string(rv));
  if (lr.continue_token)
    json_object_set_new(meta, "continue", json_string(lr.continue_token));
  if (lr.remaining >= 0)
    json_object_set_new(meta, "remainingItemCount", json_integer(lr.remaining));
  list_result_free(&lr);
  cleanup_free char *api_version = api_version_of(res);
  *out = json_pack("{s:s,s:s,s:o,s:O}", "kind", res->list_kind, "apiVersion", api_version,
                   "metadata", meta, "items", items);
  return 0;
}

/* ---------- writes ---------- */

static int
inprocess_create(k8c_client *c, const struct api_resource *res, const char *ns, json_t *obj,
                 const struct client_write_opts *o, json_t **out, k8c_err *err)
{
  struct inprocess_client *ic = to_inprocess(c);
  struct registry_target t = {res, ns, "", ""};
  struct write_opts wo = write_opts_for(ic, o);
  json_t *result = NULL;
  int status = 0;
  if (registry_create(ic->reg, &t, obj, &wo, &result, &status, err) < 0)
    return -1;
  give(out, result);
  return 0;
}

static int
inprocess_update(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                 const char *subresource, json_t *obj, const struct client_write_opts *o,
                 json_t **out, k8c_err *err)
{
  struct inprocess_client *ic = to_inprocess(c);
  struct registry_target t = {res, ns, name, subresource};
  struct write_opts wo = write_opts_for(ic, o);
  json_t *result = NULL;
  int status = 0;
  if (registry_update(ic->reg, &t, obj, &wo, &result, &status, err) < 0)
    return -1;
  give(out, result);
  return 0;
}

static int
inprocess_patch(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                const char *patch_type, json_t *patch, const struct client_write_opts *o,
                json_t **out, k8c_err *err)
{
  struct inprocess_client *ic = to_inprocess(c);
  struct registry_target t = {res, ns, name, o->subresource ? o->subresource : ""};
  struct write_opts wo = write_opts_for(ic, o);
  json_t *result = NULL;
  int status = 0;
  if (registry_patch(ic->reg, &t, patch_type, patch, &wo, &result, &status, err) < 0)
    return -1;
  give(out, result);
  return 0;
}

static int
inprocess_bind(k8c_client *c, const char *ns, const char *name, const char *uid, const char *node,
               k8c_err *err)
{
  struct inprocess_client *ic = (struct inprocess_client *)c;
  json_t *binding = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s}}", "apiVersion", "v1", "kind",
                              "Binding", "metadata", "name", name, "namespace", ns, "target",
                              "apiVersion", "v1", "kind", "Node", "name", node);
  if (uid && uid[0])
    json_object_set_new(json_object_get(binding, "metadata"), "uid", json_string(uid));
  int rc = registry_bind_pod(ic->reg, ns, name, binding, ic->field_manager, err);
  json_decref(binding);
  return rc;
}

static int
inprocess_delete(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                 json_t *delete_options, const struct client_write_opts *o, json_t **out,
                 k8c_err *err)
{
  struct inprocess_client *ic = to_inprocess(c);
  struct registry_target t = {res, ns, name, ""};
  struct write_opts wo = write_opts_for(ic, o);
  json_t *result = NULL;
  int status = 0;
  if (registry_delete(ic->reg, &t, delete_options, &wo, &result, &status, err) < 0)
    return -1;
  give(out, result);
  return 0;
}

static void
inprocess_free(k8c_client *c)
{
  struct inprocess_client *ic = to_inprocess(c);
  free(ic->field_manager);
  free(ic);
}

/* ---------- watches ---------- */

static client_watch *
inprocess_watch(k8c_client *c, const struct api_resource *res, const char *ns,
                const struct client_list_opts *o, k8c_err *err)
{
  struct registry_target t = {res, ns, "", ""};
  struct list_opts lo = list_opts_for(o);
  registry_watcher *rw = registry_watch(to_inprocess(c)->reg, &t, &lo, err);
  if (rw == NULL)
    return NULL;
  struct inprocess_watch *w = xcalloc(1, sizeof *w);
  w->base.ops = &inprocess_watch_ops;
  w->rw = rw;
  w->res = res;
  return &w->base;
}

static void
release_watch_event(void *hold)
{
  watch_event_unref(hold);
}

static enum client_event_type
client_type_of(enum watch_event_type type)
{
  switch (type) {
  case WATCH_ADDED:
    return CLIENT_EVENT_ADDED;
  case WATCH_MODIFIED:
    return CLIENT_EVENT_MODIFIED;
  case WATCH_DELETED:
    return CLIENT_EVENT_DELETED;
  }
  return CLIENT_EVENT_ERROR;
}

static int
inprocess_watch_next(client_watch *cw, struct client_event *ev, int timeout_ms)
{
  struct inprocess_watch *w = (struct inprocess_watch *)cw;
  watch_event *we = NULL;
  int rc = registry_watcher_next(w->rw, &we, timeout_ms);
  if (rc <= 0)
    return rc;
  client_event_clear(ev);
  ev->type = client_type_of(we->type);
  size_t len = 0;
  const char *json = cache_obj_text(we->obj, &len);
  if (convert_needed(w->res)) {
    size_t served_len = 0;
    char *served = convert_text_from_storage(w->res, json, len, &served_len);
    if (served) {
      watch_event_unref(we);
      ev->raw = served;
      ev->raw_len = served_len;
      ev->hold = served;
      ev->release = free;
      return 1;
    }
  }
  ev->raw = json;
  ev->raw_len = len;
  ev->hold = we;
  ev->release = release_watch_event;
  return 1;
}

static void
inprocess_watch_cancel(client_watch *cw)
{
  registry_watcher_interrupt(((struct inprocess_watch *)cw)->rw);
}

static void
inprocess_watch_close(client_watch *cw)
{
  struct inprocess_watch *w = (struct inprocess_watch *)cw;
  registry_watcher_close(w->rw);
  free(w);
}

static int
inprocess_request_token(k8c_client *c, const char *ns, const char *name, const json_t *request,
                        json_t **out, k8c_err *err)
{
  return registry_token_request(to_inprocess(c)->reg, ns, name, request, out, err);
}

/* ---------- tables ---------- */

static const struct k8c_client_ops inprocess_ops = {
    .get = inprocess_get,
    .list = inprocess_list,
    .create = inprocess_create,
    .update = inprocess_update,
    .patch = inprocess_patch,
    .del = inprocess_delete,
    .watch = inprocess_watch,
    .bind = inprocess_bind,
    .request_token = inprocess_request_token,
    .free = inprocess_free,
};

static const struct client_watch_ops inprocess_watch_ops = {
    .next = inprocess_watch_next,
    .cancel = inprocess_watch_cancel,
    .close = inprocess_watch_close,
};
