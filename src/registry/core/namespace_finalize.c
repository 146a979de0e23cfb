/* namespace_finalize.c — the namespaces/finalize subresource: the only way to change a
 * Namespace's spec.finalizers. The namespace controller lifts "kubernetes" through it once
 * the namespace is empty; a terminating namespace left without finalizers goes at once. */
#include "lib/mem.h"
#include "registry/store_internal.h"

#include <stdio.h>
#include <string.h>

static int
check_finalizers(const char *name, const json_t *finalizers, k8c_err *err)
{
  if (finalizers == NULL || json_is_null(finalizers))
    return 0;
  if (!json_is_array(finalizers))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "spec.finalizers of namespace %s must be a list of strings", name);
  size_t i;
  json_t *f;
  json_array_foreach (finalizers, i, f) {
    const char *s = json_string_value(f);
    if (s == NULL || s[0] == 0) {
      k8c_error(err, 422, K8C_REASON_INVALID,
                "Namespace \"%s\" is invalid: spec.finalizers[%zu]: Invalid value: \"\": name "
                "part must be non-empty",
                name, i);
      char field[48];
      snprintf(field, sizeof field, "spec.finalizers[%zu]", i);
      k8c_err_add_cause(err, "FieldValueInvalid", field, "name part must be non-empty");
      return -1;
    }
  }
  return 0;
}

int
registry_finalize_namespace(struct registry *r, const char *name, const json_t *body,
                            const struct write_opts *o, json_t **out, k8c_err *err)
{
  const struct api_resource *res = api_resource_find("", "v1", "namespaces");
  if (!json_is_object(body))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "the body of the request was not a JSON object");
  json_t *body_meta = json_object_get(body, "metadata");
  const char *body_name = json_string_value(json_object_get(body_meta, "name"));
  if (body_name && strcmp(body_name, name) != 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "the name of the object (%s) does not match the name on the URL (%s)",
                     body_name, name);
  json_t *finalizers = json_object_get(json_object_get(body, "spec"), "finalizers");
  if (check_finalizers(name, finalizers, err) < 0)
    return -1;
  const char *want_rv = json_string_value(json_object_get(body_meta, "resourceVersion"));
  cleanup_free char *key = registry_key(res, "", name);
  struct registry_target t = {res, "", name, "finalize"};
  for (int attempt = 0; attempt < 32; attempt++) {
    cleanup_json json_t *obj = NULL;
    int64_t rev = 0;
    k8c_err rerr = {0};
    if (store_read_current(r, res, key, &obj, &rev, &rerr) < 0) {
      if (rerr.status == 404) {
        k8c_err_clear(&rerr);
        return store_not_found(res, name, err);
      }
      k8c_err_move(err, &rerr);
      return -1;
    }
    if (want_rv && want_rv[0]) {
      char cur[32];
      snprintf(cur, sizeof cur, "%lld", (long long)rev);
      if (strcmp(cur, want_rv) != 0)
        return store_conflict(res, name,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again",
                              err);
    }
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
      spec = json_object();
      json_object_set_new(obj, "spec", spec);
    }
    json_t *next = json_is_array(finalizers) ? json_deep_copy(finalizers) : json_array();
    if (json_equal(next, json_object_get(spec, "finalizers"))) {
      json_decref(next);
      store_set_rv(obj, rev);
      *out = steal_ptr(obj);
      return 0;
    }
    json_object_set_new(spec, "finalizers", next);
    k8c_err werr = {0};
    int rc;
    if (store_deletion_finished(res, obj)) {
      rc = store_delete_now(r, &t, key, obj, rev, o->dry_run, out, &werr);
    } else {
      int64_t new_rev = 0;
      rc = store_commit_update(r, res, key, obj, rev, o->dry_run, &new_rev, &werr);
      if (rc == 0) {
        store_set_rv(obj, new_rev);
        *out = steal_ptr(obj);
      }
    }
    if (rc == 0)
      return 0;
    if (werr.status == 409 && !(want_rv && want_rv[0])) {
      k8c_err_clear(&werr);
      store_catch_up(r);
      continue;
    }
    k8c_err_move(err, &werr);
    return -1;
  }
  return store_conflict(res, name, "too many concurrent updates; try again", err);
}
