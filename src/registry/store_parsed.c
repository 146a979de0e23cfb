/* store_parsed.c — the generic store's use of the parsed-object cache (parsed_cache.h):
 * writes of the kinds written again soon after (pods: created, bound, then their status
 * reported) leave their result there as an immutable tree, and the next write or
 * in-process watcher of that exact revision starts from it instead of parsing the text. */
#include "lib/mem.h"
#include "registry/convert.h"
#include "registry/parsed_cache.h"
#include "registry/store_internal.h"

#include <string.h>

bool
store_parsed_wanted(struct registry *r, const struct api_resource *res)
{
  /* Only kinds stored in their served form (the tree is then the stored one too), and
   * only pods: everything else is written seldom, or (Leases, Node status) by thousands
   * of nodes in turn, long after any bounded cache would have dropped it. */
  return r->parsed != NULL && res->group[0] == 0 && strcmp(res->plural, "pods") == 0 &&
         !convert_needed(res);
}

/* Parses the cached text of key (in storage form) at its current revision. */
static int
read_text(struct registry *r, const char *key, json_t **obj, int64_t *rev, size_t *text_len,
          k8c_err *err)
{
  cache_obj *co = NULL;
  if (watchcache_get(r->cache, key, &co, err) < 0)
    return -1;
  *rev = cache_obj_revision(co);
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  *obj = store_parse(json, len, err);
  cache_obj_unref(co);
  *text_len = len;
  return *obj ? 0 : -1;
}

int
store_read_shared(struct registry *r, const struct api_resource *res, const char *key, json_t **obj,
                  int64_t *rev, k8c_err *err)
{
  if (!store_parsed_wanted(r, res))
    return store_read_current(r, res, key, obj, rev, err);
  /* The current revision first (a cheap lookup), then the tree of exactly that one. */
  cache_obj *co = NULL;
  if (watchcache_get(r->cache, key, &co, err) < 0)
    return -1;
  *rev = cache_obj_revision(co);
  cache_obj_unref(co);
  *obj = parsed_cache_get(r->parsed, key, *rev);
  if (*obj)
    return 0;
  size_t len = 0;
  if (read_text(r, key, obj, rev, &len, err) < 0)
    return -1;
  parsed_cache_put(r->parsed, key, *rev, *obj, len);
  return 0;
}

int
store_read_immutable(struct registry *r, const struct api_resource *res, const char *key,
                     json_t **obj, int64_t *rev, k8c_err *err)
{
  if (!store_parsed_wanted(r, res))
    return store_read_current(r, res, key, obj, rev, err);
  cache_obj *co = NULL;
  if (watchcache_get(r->cache, key, &co, err) < 0)
    return -1;
  *rev = cache_obj_revision(co);
  cache_obj_unref(co);
  *obj = parsed_cache_get(r->parsed, key, *rev);
  if (*obj)
    return 0;
  size_t len = 0;
  return read_text(r, key, obj, rev, &len, err);
}

/* A deep copy of shared in the same member order, except metadata.managedFields, which
 * stays shared (the update pipeline only reads it: apply_track_update replaces it). */
static json_t *
copy_sharing_managed_fields(const json_t *shared)
{
  json_t *obj = json_object();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)shared, k, v) {
    if (strcmp(k, "metadata") != 0 || !json_is_object(v)) {
      json_object_set_new(obj, k, json_deep_copy(v));
      continue;
    }
    json_t *meta = json_object();
    const char *mk;
    json_t *mv;
    json_object_foreach (v, mk, mv) {
      if (strcmp(mk, "managedFields") == 0)
        json_object_set(meta, mk, mv);
      else
        json_object_set_new(meta, mk, json_deep_copy(mv));
    }
    json_object_set_new(obj, k, meta);
  }
  return obj;
}

int
store_read_for_update(struct registry *r, const struct api_resource *res, const char *key,
                      json_t **obj, int64_t *rev, k8c_err *err)
{
  if (!store_parsed_wanted(r, res))
    return store_read_current(r, res, key, obj, rev, err);
  cache_obj *co = NULL;
  if (watchcache_get(r->cache, key, &co, err) < 0)
    return -1;
  *rev = cache_obj_revision(co);
  cache_obj_unref(co);
  cleanup_json json_t *shared = parsed_cache_get(r->parsed, key, *rev);
  if (shared) {
    *obj = copy_sharing_managed_fields(shared);
    return 0;
  }
  size_t len = 0;
  return read_text(r, key, obj, rev, &len, err);
}

int
store_read_private(struct registry *r, const struct api_resource *res, const char *key,
                   json_t **obj, int64_t *rev, k8c_err *err)
{
  if (!store_parsed_wanted(r, res))
    return store_read_current(r, res, key, obj, rev, err);
  cache_obj *co = NULL;
  if (watchcache_get(r->cache, key, &co, err) < 0)
    return -1;
  *rev = cache_obj_revision(co);
  cache_obj_unref(co);
  cleanup_json json_t *shared = parsed_cache_get(r->parsed, key, *rev);
  if (shared) {
    *obj = json_deep_copy(shared); /* about 2.5 times cheaper than a parse */
    return *obj ? 0 : k8c_error(err, 500, K8C_REASON_INTERNAL, "copying a cached object");
  }
  size_t len = 0;
  return read_text(r, key, obj, rev, &len, err);
}

void
store_remember(struct registry *r, const struct api_resource *res, const char *key, json_t *obj,
               int64_t rev, size_t text_len)
{
  if (!store_parsed_wanted(r, res))
    return;
  json_t *meta = json_object_get(obj, "metadata");
  if (!json_is_object(meta))
    return;
  /* The stored text gets its resourceVersion spliced in as metadata's first member:
   * order the tree the same way, so it is what parsing that text gives. */
  json_t *ordered = json_object();
  char rv[32];
  snprintf(rv, sizeof rv, "%lld", (long long)rev);
  json_object_set_new(ordered, "resourceVersion", json_string(rv));
  const char *k;
  json_t *v;
  json_object_foreach (meta, k, v)
    if (strcmp(k, "resourceVersion") != 0)
      json_object_set(ordered, k, v);
  json_object_set_new(obj, "metadata", ordered);
  parsed_cache_put(r->parsed, key, rev, obj, text_len);
}

json_t *
registry_parsed_object(struct registry *r, const struct api_resource *res, const cache_obj *o)
{
  if (!store_parsed_wanted(r, res))
    return NULL;
  return parsed_cache_get(r->parsed, cache_obj_key(o), cache_obj_revision(o));
}
