/* handlers.c — the resource verbs over HTTP: decode the body (JSON, YAML or Kubernetes
 * protobuf), read the query options, call the generic registry, and answer with the
 * negotiated encoding.
 * All semantics live in the registry; this file only translates. */
#include "apimachinery/json_encode.h"
#include "apiserver/server_internal.h"

#include "apimachinery/protobuf.h"
#include "apimachinery/yaml.h"
#include "apiserver/nodeproxy.h"
#include "apiserver/scale.h"
#include "lib/mem.h"
#include "registry/convert.h"
#include "registry/core/serviceaccount_token.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

/* ---------- decoding ---------- */

static json_t *
decode_body(struct api_request *r, bool yaml, bool strict, json_t *warnings, k8c_err *err)
{
  if (r->body.len == 0) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "the body of the request was empty");
    return NULL;
  }
  const char *ctype = request_header(r, "Content-Type");
  if (ctype && strncmp(ctype, K8S_PROTOBUF_CONTENT_TYPE, strlen(K8S_PROTOBUF_CONTENT_TYPE)) == 0)
    return k8s_protobuf_decode(r->body.data, r->body.len, err); /* kubectl 1.32+ typed clients */
  if (yaml)
    return yaml_to_json(r->body.data, r->body.len, err);
  json_error_t jerr;
  json_t *obj = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
  if (obj)
    return obj;
  if (strstr(jerr.text, "duplicate")) {
    if (strict) {
      k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "strict decoding error: %s", jerr.text);
      return NULL;
    }
    if (warnings)
      json_array_append_new(warnings, json_string(jerr.text));
    obj = json_loadb(r->body.data, r->body.len, 0, &jerr);
    if (obj)
      return obj;
  }
  k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
            "error decoding request body: invalid JSON at line %d, column %d: %s", jerr.line,
            jerr.column, jerr.text);
  return NULL;
}

static bool
content_is_yaml(const char *ctype)
{
  return ctype && (strncmp(ctype, "application/yaml", 16) == 0 ||
                   strncmp(ctype, "application/apply-patch+yaml", 28) == 0);
}

static int
read_write_opts(struct api_request *r, struct write_opts *o, k8c_err *err)
{
  memset(o, 0, sizeof *o);
  const char *dry = request_query(r, "dryRun");
  if (dry) {
    if (strcmp(dry, "All") != 0)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "Invalid dryRun value: %s: supported values: \"All\"", dry);
    o->dry_run = true;
  }
  const char *fv = request_query(r, "fieldValidation");
  o->field_validation = FIELD_VALIDATION_WARN;
  if (fv && fv[0]) {
    if (strcmp(fv, "Strict") == 0)
      o->field_validation = FIELD_VALIDATION_STRICT;
    else if (strcmp(fv, "Warn") == 0)
      o->field_validation = FIELD_VALIDATION_WARN;
    else if (strcmp(fv, "Ignore") == 0)
      o->field_validation = FIELD_VALIDATION_IGNORE;
    else
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "fieldValidation must be one of Strict, Warn or Ignore, got %s", fv);
  }
  o->field_manager = request_query(r, "fieldManager");
  if (o->field_manager && strlen(o->field_manager) > REQUEST_FIELD_MANAGER_MAX)
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "fieldManager: Too long: may not be more than 128 bytes");
  /* As upstream, a write that names no manager is recorded under its User-Agent's
   * product name; a server-side apply must name one (registry_patch refuses it). */
  const char *ctype = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
  bool apply = ctype && strncmp(ctype, "application/apply-patch", 23) == 0;
  if ((o->field_manager == NULL || o->field_manager[0] == 0) && !apply) {
    request_manager_from_user_agent(request_header(r, MHD_HTTP_HEADER_USER_AGENT),
                                    r->agent_manager);
    if (r->agent_manager[0])
      o->field_manager = r->agent_manager;
  }
  const char *force = request_query(r, "force");
  o->force = force && strcmp(force, "true") == 0;
  return 0;
}

void read_list_opts(struct api_request *r, struct list_opts *lo);

void
read_list_opts(struct api_request *r, struct list_opts *lo)
{
  memset(lo, 0, sizeof *lo);
  lo->label_selector = request_query(r, "labelSelector");
  lo->field_selector = request_query(r, "fieldSelector");
  lo->resource_version = request_query(r, "resourceVersion");
  lo->resource_version_match = request_query(r, "resourceVersionMatch");
  const char *limit = request_query(r, "limit");
  lo->limit = limit ? atoll(limit) : 0;
  lo->continue_token = request_query(r, "continue");
  const char *sie = request_query(r, "sendInitialEvents");
  lo->send_initial_events = sie && strcmp(sie, "true") == 0;
  const char *bm = request_query(r, "allowWatchBookmarks");
  lo->allow_bookmarks = bm && strcmp(bm, "true") == 0;
}

/* ---------- verbs ---------- */

static int
answer_error(struct api_request *r, k8c_err *err)
{
  int ret = response_error(r, err);
  k8c_err_clear(err);
  return ret;
}

static int
answer_object(struct api_request *r, int status, json_t *obj, const struct negotiated *n,
              const json_t *warnings)
{
  size_t len = 0;
  char *text = json_encode_compact(obj, &len);
  if (text == NULL)
    abort(); /* stored objects always encode */
  int ret = response_object(r, status, text, len, n, warnings);
  free(text);
  return ret;
}

/* The cache's copy of what a write just stored, when it is exactly that revision: its
 * bytes can be sent as they are instead of encoding the object again. */
static cache_obj *
written_object_from_cache(struct registry *reg, const struct request_info *ri, const json_t *out,
                          bool dry_run)
{
  if (dry_run || convert_needed(ri->res) || !json_is_object(out) ||
      strcmp(json_string_value(json_object_get(out, "kind")) ?: "", ri->res->kind) != 0)
    return NULL;
  json_t *meta = json_object_get(out, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
  if (name == NULL || rv == NULL || json_object_get(meta, "deletionTimestamp"))
    return NULL;
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  cleanup_free char *key = registry_key(ri->res, ns ? ns : "", name);
  cache_obj *co = NULL;
  if (watchcache_get(reg->cache, key, &co, NULL) < 0)
    return NULL;
  if (cache_obj_revision(co) != strtoll(rv, NULL, 10)) {
    cache_obj_unref(co);
    return NULL;
  }
  return co;
}

/* POST .../pods/NAME/binding: a Binding assigns the pod to a node. */
static int
handle_binding(struct apiserver *s, struct api_request *r)
{
  const struct request_info *ri = &r->info;
  k8c_err err = {0};
  const char *ctype = request_header(r, "Content-Type");
  cleanup_json json_t *body = decode_body(r, content_is_yaml(ctype), false, NULL, &err);
  if (body == NULL)
    return answer_error(r, &err);
  const char *fm = request_query(r, "fieldManager");
  if (registry_bind_pod(s->cfg.reg, ri->namespace_, ri->name, body, fm, &err) < 0)
    return answer_error(r, &err);
  return response_status_success(r, 201, NULL);
}

/* POST .../serviceaccounts/NAME/token: a TokenRequest, answered with the token. */
static int
handle_token_request(struct apiserver *s, struct api_request *r, const struct negotiated *n)
{
  const struct request_info *ri = &r->info;
  k8c_err err = {0};
  const char *ctype = request_header(r, "Content-Type");
  cleanup_json json_t *body = decode_body(r, content_is_yaml(ctype), false, NULL, &err);
  if (body == NULL)
    return answer_error(r, &err);
  cleanup_json json_t *out = NULL;
  if (registry_token_request(s->cfg.reg, ri->namespace_, ri->name, body, &out, &err) < 0)
    return answer_error(r, &err);
  return response_json(r, 201, out, n, NULL);
}

int
handle_resource(struct apiserver *s, struct api_request *r)
{
  struct registry *reg = s->cfg.reg;
  const struct request_info *ri = &r->info;
  struct registry_target t = {ri->res, ri->namespace_, ri->name, ri->subresource};
  k8c_err err = {0};
  if (nodeproxy_is_pod_stream(ri->resource, ri->group, ri->subresource))
    return nodeproxy_handle(s, r);
  struct negotiated n;
  bool table_ok = ri->verb == VERB_GET || ri->verb == VERB_LIST;
  if (response_negotiate(r, table_ok && ri->subresource[0] == 0, &n, &err) < 0)
    return answer_error(r, &err);

  if (strcmp(ri->subresource, "scale") == 0)
    return handle_scale(s, r, &n);
  if (strcmp(ri->subresource, "binding") == 0)
    return handle_binding(s, r);
  if (strcmp(ri->subresource, "token") == 0)
    return handle_token_request(s, r, &n);

  if (ri->verb == VERB_GET) {
    cache_obj *co = NULL;
    if (registry_get(reg, &t, &co, &err) < 0)
      return answer_error(r, &err);
    size_t len = 0;
    const char *json = cache_obj_text(co, &len);
    int ret;
    if (convert_needed(ri->res)) {
      size_t clen = 0;
      cleanup_free char *served = convert_text_from_storage(ri->res, json, len, &clen);
      ret = served ? response_object(r, 200, served, clen, &n, NULL)
                   : response_object(r, 200, json, len, &n, NULL);
    } else if (n.type == MEDIA_JSON) {
      ret = response_cached_json(r, co);
    } else {
      ret = response_object(r, 200, json, len, &n, NULL);
    }
    cache_obj_unref(co);
    return ret;
  }
  if (ri->verb == VERB_LIST) {
    struct list_opts lo;
    read_list_opts(r, &lo);
    struct list_result lr;
    if (registry_list(reg, &t, &lo, &lr, &err) < 0)
      return answer_error(r, &err);
    if (convert_needed(ri->res)) {
      for (size_t i = 0; i < lr.count; i++) {
        size_t clen = 0;
        char *served = convert_text_from_storage(ri->res, lr.items[i].json, lr.items[i].len, &clen);
        if (served == NULL)
          continue;
        free(lr.items[i].owned);
        lr.items[i].owned = served;
        lr.items[i].json = served;
        lr.items[i].len = clen;
      }
    }
    int ret = response_list(r, &lr, &n);
    list_result_free(&lr);
    return ret;
  }

  struct write_opts o;
  if (read_write_opts(r, &o, &err) < 0)
    return answer_error(r, &err);
  cleanup_json json_t *warnings = json_array();
  o.warnings = warnings;
  const char *ctype = request_header(r, "Content-Type");
  json_t *out = NULL;
  int status = 200;
  int rc = 0;
  switch (ri->verb) {
  case VERB_CREATE:
  case VERB_UPDATE: {
    cleanup_json json_t *body = decode_body(
        r, content_is_yaml(ctype), o.field_validation == FIELD_VALIDATION_STRICT, warnings, &err);
    if (body == NULL)
      return answer_error(r, &err);
    o.body_is_scratch = ri->verb == VERB_CREATE;
    rc = ri->verb == VERB_CREATE ? registry_create(reg, &t, body, &o, &out, &status, &err)
                                 : registry_update(reg, &t, body, &o, &out, &status, &err);
    break;
  }
  case VERB_PATCH: {
    if (ctype == NULL)
      ctype = "";
    cleanup_json json_t *patch = decode_body(r, content_is_yaml(ctype), false, warnings, &err);
    if (patch == NULL)
      return answer_error(r, &err);
    rc = registry_patch(reg, &t, ctype, patch, &o, &out, &status, &err);
    break;
  }
  case VERB_DELETE:
  case VERB_DELETECOLLECTION: {
    cleanup_json json_t *opts = NULL;
    if (r->body.len) {
      opts = decode_body(r, content_is_yaml(ctype), false, warnings, &err);
      if (opts == NULL)
        return answer_error(r, &err);
    } else {
      opts = json_object();
    }
    const char *grace = request_query(r, "gracePeriodSeconds");
    if (grace)
      json_object_set_new(opts, "gracePeriodSeconds", json_integer(atoll(grace)));
    const char *prop = request_query(r, "propagationPolicy");
    if (prop)
      json_object_set_new(opts, "propagationPolicy", json_string(prop));
    const char *dry = json_string_value(json_array_get(json_object_get(opts, "dryRun"), 0));
    if (dry && strcmp(dry, "All") == 0)
      o.dry_run = true;
    if (ri->verb == VERB_DELETE) {
      rc = registry_delete(reg, &t, opts, &o, &out, &status, &err);
    } else {
      struct list_opts lo;
      read_list_opts(r, &lo);
      json_t *items = NULL;
      rc = registry_delete_collection(reg, &t, &lo, opts, &o, &items, &err);
      if (rc == 0) {
        cleanup_free char *api_version =
            ri->group[0] ? xasprintf("%s/%s", ri->group, ri->version) : xstrdup(ri->version);
        out = json_pack("{s:s,s:s,s:{},s:o}", "kind", ri->res->list_kind, "apiVersion", api_version,
                        "metadata", "items", items);
        status = 200;
      }
    }
    break;
  }
  default:
    k8c_error(&err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
              "the server does not allow this method on the requested resource");
    rc = -1;
  }
  if (rc < 0)
    return answer_error(r, &err);
  struct negotiated plain = n;
  if (plain.type == MEDIA_TABLE)
    plain.type = MEDIA_JSON;
  int ret;
  cache_obj *cached = written_object_from_cache(reg, ri, out, o.dry_run);
  if (cached) {
    size_t len = 0;
    const char *json = cache_obj_text(cached, &len);
    ret = response_object(r, status, json, len, &plain, warnings);
    cache_obj_unref(cached);
  } else {
    ret = answer_object(r, status, out, &plain, warnings);
  }
  json_decref(out);
  return ret;
}
