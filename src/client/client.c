/* client.c — the backend-neutral half of the API client: the calls dispatch through the
 * vtable, and watch events parse their object lazily, once, so a consumer that only
 * needs the text (or only the type) pays for no parse. */
#include "client/client.h"

#include "lib/mem.h"

#include <string.h>

/* ---------- calls ---------- */

int
client_get(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
           json_t **out, k8c_err *err)
{
  return c->ops->get(c, res, ns ? ns : "", name, out, err);
}

int
client_list(k8c_client *c, const struct api_resource *res, const char *ns,
            const struct client_list_opts *o, json_t **out, k8c_err *err)
{
  static const struct client_list_opts none;
  return c->ops->list(c, res, ns ? ns : "", o ? o : &none, out, err);
}

int
client_create(k8c_client *c, const struct api_resource *res, const char *ns, json_t *obj,
              const struct client_write_opts *o, json_t **out, k8c_err *err)
{
  static const struct client_write_opts none;
  return c->ops->create(c, res, ns ? ns : "", obj, o ? o : &none, out, err);
}

static const char *
name_or_object_name(const char *name, const json_t *obj)
{
  if (name && name[0])
    return name;
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")) ?: "";
}

int
client_update(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
              json_t *obj, const struct client_write_opts *o, json_t **out, k8c_err *err)
{
  static const struct client_write_opts none;
  return c->ops->update(c, res, ns ? ns : "", name_or_object_name(name, obj), "", obj,
                        o ? o : &none, out, err);
}

int
client_update_status(k8c_client *c, const struct api_resource *res, const char *ns,
                     const char *name, json_t *obj, const struct client_write_opts *o, json_t **out,
                     k8c_err *err)
{
  static const struct client_write_opts none;
  return c->ops->update(c, res, ns ? ns : "", name_or_object_name(name, obj), "status", obj,
                        o ? o : &none, out, err);
}

int
client_patch(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
             const char *patch_type, json_t *patch, const struct client_write_opts *o, json_t **out,
             k8c_err *err)
{
  static const struct client_write_opts none;
  return c->ops->patch(c, res, ns ? ns : "", name, patch_type, patch, o ? o : &none, out, err);
}

int
client_delete(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
              json_t *delete_options, const struct client_write_opts *o, json_t **out, k8c_err *err)
{
  static const struct client_write_opts none;
  return c->ops->del(c, res, ns ? ns : "", name, delete_options, o ? o : &none, out, err);
}

int
client_request_token(k8c_client *c, const char *ns, const char *name, const json_t *request,
                     json_t **out, k8c_err *err)
{
  *out = NULL;
  return c->ops->request_token(c, ns, name, request, out, err);
}

int
client_bind(k8c_client *c, const char *ns, const char *name, const char *uid, const char *node,
            k8c_err *err)
{
  return c->ops->bind(c, ns ? ns : "", name, uid, node, err);
}

client_watch *
client_watch_start(k8c_client *c, const struct api_resource *res, const char *ns,
                   const struct client_list_opts *o, k8c_err *err)
{
  static const struct client_list_opts none;
  return c->ops->watch(c, res, ns ? ns : "", o ? o : &none, err);
}

void
client_free(k8c_client *c)
{
  if (c)
    c->ops->free(c);
}

/* ---------- watches ---------- */

int
client_watch_next(client_watch *w, struct client_event *ev, int timeout_ms)
{
  return w->ops->next(w, ev, timeout_ms);
}

void
client_watch_cancel(client_watch *w)
{
  w->ops->cancel(w);
}

void
client_watch_close(client_watch *w)
{
  if (w)
    w->ops->close(w);
}

/* ---------- events ---------- */

json_t *
client_event_object(struct client_event *ev)
{
  if (ev->parsed == NULL && ev->raw) {
    json_error_t jerr;
    ev->parsed = json_loadb(ev->raw, ev->raw_len, JSON_DECODE_ANY, &jerr);
  }
  return ev->parsed;
}

void
client_event_clear(struct client_event *ev)
{
  json_decref(ev->parsed);
  if (ev->release)
    ev->release(ev->hold);
  memset(ev, 0, sizeof *ev);
}

const char *
client_event_type_name(enum client_event_type type)
{
  switch (type) {
  case CLIENT_EVENT_ADDED:
    return "ADDED";
  case CLIENT_EVENT_MODIFIED:
    return "MODIFIED";
  case CLIENT_EVENT_DELETED:
    return "DELETED";
  case CLIENT_EVENT_BOOKMARK:
    return "BOOKMARK";
  case CLIENT_EVENT_ERROR:
    return "ERROR";
  }
  return "UNKNOWN";
}

/* ---------- helpers ---------- */

char *
client_object_key(const json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  if (name == NULL)
    return NULL;
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  if (ns && ns[0])
    return xasprintf("%s/%s", ns, name);
  return xstrdup(name);
}

const char *
client_object_rv(const json_t *obj)
{
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}
