/* scale.c — GET/PUT/PATCH on .../scale: the Scale view is built from the object's
 * spec.replicas, status.replicas and selector; writes change only spec.replicas,
 * through the registry's normal update path (so validation and conflicts apply). */
#include "apiserver/scale.h"

#include "apimachinery/labels.h"
#include "apimachinery/patch/jsonpatch.h"
#include "apimachinery/patch/mergepatch.h"
#include "apimachinery/patch/strategicpatch.h"
#include "lib/mem.h"

#include <microhttpd.h>
#include <string.h>

static json_t *
scale_from_object(const json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *spec = json_object_get(obj, "spec");
  json_t *status = json_object_get(obj, "status");
  json_t *sm = json_object();
  static const char *const copied[] = {
      "name", "namespace", "uid", "resourceVersion", "creationTimestamp", NULL};
  for (int i = 0; copied[i]; i++) {
    json_t *v = json_object_get(meta, copied[i]);
    if (v)
      json_object_set(sm, copied[i], v);
  }
  json_int_t replicas = json_integer_value(json_object_get(spec, "replicas"));
  json_t *st =
      json_pack("{s:I}", "replicas", json_integer_value(json_object_get(status, "replicas")));
  label_selector *sel = label_selector_from_json(json_object_get(spec, "selector"), NULL);
  if (sel) {
    char *text = label_selector_to_string(sel);
    if (text && text[0])
      json_object_set_new(st, "selector", json_string(text));
    free(text);
    label_selector_free(sel);
  }
  return json_pack("{s:s,s:s,s:o,s:{s:I},s:o}", "kind", "Scale", "apiVersion", "autoscaling/v1",
                   "metadata", sm, "spec", "replicas", replicas, "status", st);
}

static int
answer_error(struct api_request *r, k8c_err *err)
{
  int ret = response_error(r, err);
  k8c_err_clear(err);
  return ret;
}

int
handle_scale(struct apiserver *s, struct api_request *r, const struct negotiated *n)
{
  const struct request_info *ri = &r->info;
  struct registry *reg = s->cfg.reg;
  struct registry_target t = {ri->res, ri->namespace_, ri->name, ""};
  k8c_err err = {0};
  cache_obj *co = NULL;
  if (registry_get(reg, &t, &co, &err) < 0)
    return answer_error(r, &err);
  size_t len = 0;
  json_error_t jerr;
  const char *text = cache_obj_text(co, &len);
  cleanup_json json_t *obj = json_loadb(text, len, 0, &jerr);
  cache_obj_unref(co);
  if (obj == NULL) {
    k8c_error(&err, 500, K8C_REASON_INTERNAL, "decoding stored object: %s", jerr.text);
    return answer_error(r, &err);
  }
  cleanup_json json_t *scale = scale_from_object(obj);
  if (ri->verb == VERB_GET)
    return response_json(r, 200, scale, n, NULL);

  json_error_t berr;
  cleanup_json json_t *body = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &berr);
  if (body == NULL) {
    k8c_error(&err, 400, K8C_REASON_BAD_REQUEST, "error decoding request body: %s", berr.text);
    return answer_error(r, &err);
  }
  cleanup_json json_t *wanted = NULL;
  if (ri->verb == VERB_UPDATE) {
    wanted = json_incref(body);
  } else {
    const char *ctype = request_header(r, "Content-Type");
    if (ctype && strncmp(ctype, "application/json-patch+json", 27) == 0)
      wanted = json_patch_apply(scale, body, &err);
    else if (ctype && strncmp(ctype, "application/strategic-merge-patch+json", 38) == 0)
      wanted = strategic_merge_patch_apply(scale, body, "io.k8s.api.autoscaling.v1.Scale", &err);
    else
      wanted = merge_patch_apply(scale, body, &err);
    if (wanted == NULL)
      return answer_error(r, &err);
  }
  json_t *replicas = json_object_get(json_object_get(wanted, "spec"), "replicas");
  if (!json_is_integer(replicas) || json_integer_value(replicas) < 0) {
    k8c_error(&err, 422, K8C_REASON_INVALID,
              "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: %lld: must be "
              "greater than or equal to 0",
              ri->name, (long long)json_integer_value(replicas));
    k8c_err_add_cause(&err, "FieldValueInvalid", "spec.replicas",
                      "must be greater than or equal to 0");
    return answer_error(r, &err);
  }
  json_object_set(json_object_get(obj, "spec"), "replicas", replicas);
  const char *want_rv =
      json_string_value(json_object_get(json_object_get(wanted, "metadata"), "resourceVersion"));
  json_t *meta = json_object_get(obj, "metadata");
  if (!(want_rv && want_rv[0]))
    json_object_del(meta, "resourceVersion");
  else
    json_object_set_new(meta, "resourceVersion", json_string(want_rv));
  struct write_opts o = {0};
  const char *dry = request_query(r, "dryRun");
  o.dry_run = dry && strcmp(dry, "All") == 0;
  o.field_validation = FIELD_VALIDATION_IGNORE;
  o.field_manager = request_query(r, "fieldManager");
  if (o.field_manager == NULL || o.field_manager[0] == 0) { /* as for every write */
    request_manager_from_user_agent(request_header(r, MHD_HTTP_HEADER_USER_AGENT),
                                    r->agent_manager);
    if (r->agent_manager[0])
      o.field_manager = r->agent_manager;
  }
  json_t *out = NULL;
  int status = 200;
  if (registry_update(reg, &t, obj, &o, &out, &status, &err) < 0)
    return answer_error(r, &err);
  json_t *result = scale_from_object(out);
  json_decref(out);
  int ret = response_json(r, 200, result, n, NULL);
  json_decref(result);
  return ret;
}
