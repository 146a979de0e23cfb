/* string_map.c — the compact string map (see string_map.h): a count, then the entries as
 * "key\0value\0" back to back in the same block. */
#include "storage/watchcache/string_map.h"

#include "lib/mem.h"

#include <stdatomic.h>
#include <string.h>

struct string_map {
  atomic_int refs;
  unsigned n;
  char data[]; /* n × key NUL value NUL */
};

string_map *
string_map_from_json(const json_t *obj)
{
  if (!json_is_object(obj))
    return NULL;
  size_t bytes = 0, n = 0;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)obj, k, v) {
    if (!json_is_string(v))
      continue;
    bytes += strlen(k) + 1 + strlen(json_string_value(v)) + 1;
    n++;
  }
  if (n == 0)
    return NULL;
  string_map *m = xmalloc(sizeof *m + bytes);
  atomic_init(&m->refs, 1);
  m->n = (unsigned)n;
  char *p = m->data;
  json_object_foreach ((json_t *)obj, k, v) {
    if (!json_is_string(v))
      continue;
    size_t kl = strlen(k) + 1, vl = strlen(json_string_value(v)) + 1;
    memcpy(p, k, kl);
    p += kl;
    memcpy(p, json_string_value(v), vl);
    p += vl;
  }
  return m;
}

const char *
string_map_get(const string_map *map, const char *key)
{
  if (map == NULL)
    return NULL;
  const char *p = map->data;
  for (unsigned i = 0; i < map->n; i++) {
    const char *value = p + strlen(p) + 1;
    if (strcmp(p, key) == 0)
      return value;
    p = value + strlen(value) + 1;
  }
  return NULL;
}

const char *
string_map_lookup(const void *map, const char *key)
{
  return string_map_get(map, key);
}

size_t
string_map_size(const string_map *map)
{
  return map ? map->n : 0;
}

string_map *
string_map_ref(string_map *map)
{
  if (map)
    atomic_fetch_add_explicit(&map->refs, 1, memory_order_relaxed);
  return map;
}

void
string_map_unref(string_map *map)
{
  if (map && atomic_fetch_sub_explicit(&map->refs, 1, memory_order_acq_rel) == 1)
    free(map);
}
