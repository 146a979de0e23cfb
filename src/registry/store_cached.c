/* store_cached.c — one object read from the watch cache and parsed, for admission and
 * authentication code that needs another object's fields (a ServiceAccount, a pod). */
#include "lib/mem.h"
#include "registry/registry.h"
#include "registry/store_internal.h"

json_t *
store_cached_object(struct registry *reg, const struct api_resource *res, const char *ns,
                    const char *name)
{
  if (res == NULL)
    return NULL;
  cleanup_free char *key = registry_key(res, ns ? ns : "", name);
  cache_obj *co = NULL;
  if (watchcache_get(reg->cache, key, &co, NULL) < 0)
    return NULL;
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  json_t *obj = store_parse(json, len, NULL);
  cache_obj_unref(co);
  return obj;
}
