/* store_util.c — small pieces every path of the generic store shares: keys, stored
 * serialization, upstream-worded NotFound/Conflict errors, namespace checks. */
#include "apimachinery/json_encode.h"
#include "apimachinery/meta.h"
#include "lib/decimal.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "registry/convert.h"
#include "registry/store_internal.h"
#include "registry/strategy_util.h"

#include <stdio.h>
#include <string.h>

char *
registry_key(const struct api_resource *res, const char *ns, const char *name)
{
  /* Plain concatenation: every get, write and watch event builds one of these. */
  static const char prefix[] = "/registry/";
  size_t prefix_len = sizeof prefix - 1;
  size_t res_len = strlen(res->storage_resource);
  if (ns == NULL)
    ns = "";
  size_t ns_len = res->namespaced ? strlen(ns) : 0;
  size_t name_len = strlen(name);
  char *key = xmalloc(prefix_len + res_len + 1 + ns_len + 1 + name_len + 1);
  char *p = key;
  memcpy(p, prefix, prefix_len);
  p += prefix_len;
  memcpy(p, res->storage_resource, res_len);
  p += res_len;
  *p++ = '/';
  if (res->namespaced) {
    memcpy(p, ns, ns_len);
    p += ns_len;
    *p++ = '/';
  }
  memcpy(p, name, name_len);
  p[name_len] = 0;
  return key;
}

char *
registry_prefix(const struct api_resource *res, const char *ns)
{
  if (res->namespaced && ns && ns[0])
    return xasprintf("/registry/%s/%s/", res->storage_resource, ns);
  return xasprintf("/registry/%s/", res->storage_resource);
}

char *
store_api_version(const struct api_resource *res)
{
  if (res->group[0] == 0)
    return xstrdup(res->version);
  return xasprintf("%s/%s", res->group, res->version);
}

char *
store_serialize(const json_t *obj, size_t *len)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *rv = json_object_get(meta, "resourceVersion");
  if (rv)
    json_incref(rv), json_object_del(meta, "resourceVersion");
  char *out = json_encode_compact(obj, len);
  if (rv) {
    json_object_set(meta, "resourceVersion", rv);
    json_decref(rv);
  }
  if (out == NULL)
    abort();
  return out;
}

json_t *
store_parse(const char *json, size_t len, k8c_err *err)
{
  json_error_t jerr;
  json_t *obj = json_loadb(json, len, 0, &jerr);
  if (obj == NULL)
    k8c_error(err, 500, K8C_REASON_INTERNAL, "decoding stored object: %s", jerr.text);
  return obj;
}

void
store_set_rv(json_t *obj, int64_t rev)
{
  char rv[DECIMAL_INT64_MAX]; /* every write stamps one: no printf */
  decimal_int64(rev, rv);
  json_t *meta = json_object_get(obj, "metadata");
  if (json_is_object(meta))
    json_object_set_new_nocheck(meta, "resourceVersion", json_string_nocheck(rv));
}

void
store_qualified_resource(const struct api_resource *res, char *out, size_t outlen)
{
  if (res->group[0])
    snprintf(out, outlen, "%s.%s", res->plural, res->group);
  else
    snprintf(out, outlen, "%s", res->plural);
}

int
store_not_found(const struct api_resource *res, const char *name, k8c_err *err)
{
  char qr[256];
  store_qualified_resource(res, qr, sizeof qr);
  k8c_error(err, 404, K8C_REASON_NOT_FOUND, "%s \"%s\" not found", qr, name);
  return -1;
}

int
store_conflict(const struct api_resource *res, const char *name, const char *why, k8c_err *err)
{
  char qr[256];
  store_qualified_resource(res, qr, sizeof qr);
  return k8c_error(err, 409, K8C_REASON_CONFLICT, "Operation cannot be fulfilled on %s \"%s\": %s",
                   qr, name, why);
}

char *
store_serialize_for(const struct api_resource *res, const json_t *obj, size_t *len)
{
  json_t *stored = convert_to_storage(res, obj);
  char *out = store_serialize(stored, len);
  json_decref(stored);
  return out;
}

int
store_read_current(struct registry *r, const struct api_resource *res, const char *key,
                   json_t **obj, int64_t *rev, k8c_err *err)
{
  cache_obj *co = NULL;
  if (watchcache_get(r->cache, key, &co, err) < 0)
    return -1;
  *rev = cache_obj_revision(co);
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  json_t *stored = store_parse(json, len, err);
  cache_obj_unref(co);
  if (stored == NULL)
    return -1;
  *obj = convert_from_storage(res, stored);
  json_decref(stored);
  return 0;
}

bool
store_tracks_generation(const struct api_resource *res)
{
  static const char *const tracked[] = {"deployments",
                                        "replicasets",
                                        "statefulsets",
                                        "daemonsets",
                                        "jobs",
                                        "cronjobs",
                                        "horizontalpodautoscalers",
                                        "poddisruptionbudgets",
                                        "ingresses",
                                        "networkpolicies",
                                        "customresourcedefinitions",
                                        "replicationcontrollers",
                                        NULL};
  for (int i = 0; tracked[i]; i++)
    if (strcmp(res->plural, tracked[i]) == 0)
      return true;
  return false;
}

int
store_check_namespace(struct registry *r, const char *ns, k8c_err *err)
{
  char key[512]; /* a namespace name is at most 63 bytes */
  path_cat(key, sizeof key, "/registry/namespaces/", ns, NULL);
  cache_obj *co = NULL;
  int rc = watchcache_get(r->cache, key, &co, NULL);
  if (rc < 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "namespaces \"%s\" not found", ns);
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  /* Every create in a namespace comes here: only a text that mentions either marker can
   * describe a terminating namespace, so most checks need no parse. */
  json_t *nsobj = NULL;
  if (memmem(json, len, "\"deletionTimestamp\"", 19) || memmem(json, len, "\"Terminating\"", 13))
    nsobj = store_parse(json, len, NULL);
  cache_obj_unref(co);
  bool terminating = false;
  if (nsobj) {
    json_t *meta = json_object_get(nsobj, "metadata");
    const char *phase =
        json_string_value(json_object_get(json_object_get(nsobj, "status"), "phase"));
    terminating = json_object_get(meta, "deletionTimestamp") != NULL ||
                  (phase && strcmp(phase, "Terminating") == 0);
    json_decref(nsobj);
  }
  if (terminating)
    return k8c_error(err, 403, K8C_REASON_FORBIDDEN,
                     "unable to create new content in namespace %s because it is being terminated",
                     ns);
  return 0;
}

void
store_mark_race(k8c_err *err)
{
  if (err && err->status == 409 && strcmp(err->reason, K8C_REASON_CONFLICT) == 0)
    snprintf(err->reason, sizeof err->reason, "%s", STORE_REASON_RACE);
}

bool
store_is_race(const k8c_err *err)
{
  return err && err->status == 409 && strcmp(err->reason, STORE_REASON_RACE) == 0;
}

void
store_catch_up(struct registry *r)
{
  int64_t committed = r->store->ops->current_revision(r->store);
  if (watchcache_wait_revision(r->cache, committed, 1000) < 0)
    log_warn("registry: the watch cache is more than a second behind revision %lld",
             (long long)committed);
}
