/* informer_store.c — key → object map with secondary indexes (value → set of keys).
 *
 * An index is recomputed from the old and the new object on each change, so index
 * functions stay pure and nothing per object needs remembering besides the object. */
#include "client/informer_store.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER ((void *)1)

struct store_index {
  char *name;
  informer_index_fn fn;
  void *ctx;
  hashmap *values; /* value -> hashmap of keys (value MEMBER) */
};

struct informer_store {
  pthread_rwlock_t lock;
  hashmap *items; /* key -> json_t (one reference) */
  struct store_index *indexes;
  size_t index_count;
};

static void index_object(struct store_index *idx, const char *key, json_t *obj, bool add);

/* ---------- public ---------- */

informer_store *
informer_store_new(void)
{
  informer_store *s = xcalloc(1, sizeof *s);
  pthread_rwlock_init(&s->lock, NULL);
  s->items = hashmap_new();
  return s;
}

static void
decref_value(void *v)
{
  json_decref(v);
}

static void
free_key_set(void *set)
{
  hashmap_free(set, NULL);
}

void
informer_store_free(informer_store *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->index_count; i++) {
    hashmap_free(s->indexes[i].values, free_key_set);
    free(s->indexes[i].name);
  }
  free(s->indexes);
  hashmap_free(s->items, decref_value);
  pthread_rwlock_destroy(&s->lock);
  free(s);
}

json_t *
informer_store_put(informer_store *s, const char *key, json_t *obj)
{
  pthread_rwlock_wrlock(&s->lock);
  json_t *old = hashmap_put(s->items, key, json_incref(obj));
  for (size_t i = 0; i < s->index_count; i++) {
    if (old)
      index_object(&s->indexes[i], key, old, false);
    index_object(&s->indexes[i], key, obj, true);
  }
  pthread_rwlock_unlock(&s->lock);
  return old;
}

json_t *
informer_store_remove(informer_store *s, const char *key)
{
  pthread_rwlock_wrlock(&s->lock);
  json_t *old = hashmap_remove(s->items, key);
  for (size_t i = 0; old && i < s->index_count; i++)
    index_object(&s->indexes[i], key, old, false);
  pthread_rwlock_unlock(&s->lock);
  return old;
}

json_t *
informer_store_get(informer_store *s, const char *key)
{
  pthread_rwlock_rdlock(&s->lock);
  json_t *obj = json_incref(hashmap_get(s->items, key));
  pthread_rwlock_unlock(&s->lock);
  return obj;
}

struct keyed {
  const char *key;
  json_t *obj;
};

static int
keyed_compare(const void *a, const void *b)
{
  return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* Sorts entries by key and moves their objects into a new array. */
static void
objs_from_keyed(struct keyed *entries, size_t count, json_t ***objs, size_t *n)
{
  qsort(entries, count, sizeof *entries, keyed_compare);
  *objs = xcalloc(count ? count : 1, sizeof **objs);
  for (size_t i = 0; i < count; i++)
    (*objs)[i] = entries[i].obj;
  *n = count;
}

void
informer_store_list(informer_store *s, const label_selector *sel, json_t ***objs, size_t *n)
{
  pthread_rwlock_rdlock(&s->lock);
  struct keyed *entries = xcalloc(hashmap_count(s->items) + 1, sizeof *entries);
  size_t count = 0;
  hashmap_iter it = {0};
  const char *key;
  void *value;
  while (hashmap_next(s->items, &it, &key, &value)) {
    json_t *labels = json_object_get(json_object_get(value, "metadata"), "labels");
    if (sel && !label_selector_matches(sel, labels))
      continue;
    entries[count++] = (struct keyed){key, json_incref(value)};
  }
  objs_from_keyed(entries, count, objs, n);
  pthread_rwlock_unlock(&s->lock);
  free(entries);
}

void
informer_store_keys(informer_store *s, char ***keys, size_t *n)
{
  pthread_rwlock_rdlock(&s->lock);
  size_t count = hashmap_count(s->items);
  *keys = xcalloc(count + 1, sizeof **keys);
  hashmap_iter it = {0};
  const char *key;
  void *value;
  size_t i = 0;
  while (hashmap_next(s->items, &it, &key, &value))
    (*keys)[i++] = xstrdup(key);
  pthread_rwlock_unlock(&s->lock);
  *n = i;
}

int
informer_store_add_index(informer_store *s, const char *name, informer_index_fn fn, void *ctx)
{
  pthread_rwlock_wrlock(&s->lock);
  for (size_t i = 0; i < s->index_count; i++) {
    if (strcmp(s->indexes[i].name, name) == 0) {
      /* Components sharing an informer may each ask for the same index: fine. */
      const struct store_index *have = &s->indexes[i];
      bool same =
          have->fn == fn && (have->ctx == ctx || (fn == informer_index_by_path && have->ctx &&
                                                  ctx && strcmp(have->ctx, ctx) == 0));
      pthread_rwlock_unlock(&s->lock);
      return same ? 0 : -1;
    }
  }
  s->indexes = xrealloc(s->indexes, (s->index_count + 1) * sizeof *s->indexes);
  struct store_index *idx = &s->indexes[s->index_count++];
  *idx = (struct store_index){xstrdup(name), fn, ctx, hashmap_new()};
  hashmap_iter it = {0};
  const char *key;
  void *value;
  while (hashmap_next(s->items, &it, &key, &value))
    index_object(idx, key, value, true);
  pthread_rwlock_unlock(&s->lock);
  return 0;
}

int
informer_store_by_index(informer_store *s, const char *name, const char *value, json_t ***objs,
                        size_t *n, k8c_err *err)
{
  pthread_rwlock_rdlock(&s->lock);
  struct store_index *idx = NULL;
  for (size_t i = 0; i < s->index_count && !idx; i++)
    if (strcmp(s->indexes[i].name, name) == 0)
      idx = &s->indexes[i];
  if (idx == NULL) {
    pthread_rwlock_unlock(&s->lock);
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "informer has no index \"%s\"", name);
  }
  hashmap *keys = hashmap_get(idx->values, value);
  size_t cap = keys ? hashmap_count(keys) : 0;
  struct keyed *entries = xcalloc(cap + 1, sizeof *entries);
  size_t count = 0;
  hashmap_iter it = {0};
  const char *key;
  void *unused;
  while (keys && hashmap_next(keys, &it, &key, &unused)) {
    json_t *obj = hashmap_get(s->items, key);
    if (obj)
      entries[count++] = (struct keyed){key, json_incref(obj)};
  }
  objs_from_keyed(entries, count, objs, n);
  pthread_rwlock_unlock(&s->lock);
  free(entries);
  return 0;
}

/* ---------- indexes ---------- */

static void
index_value(struct store_index *idx, const char *key, const char *value, bool add)
{
  hashmap *keys = hashmap_get(idx->values, value);
  if (add) {
    if (keys == NULL) {
      keys = hashmap_new();
      hashmap_put(idx->values, value, keys);
    }
    hashmap_put(keys, key, MEMBER);
    return;
  }
  if (keys == NULL)
    return;
  hashmap_remove(keys, key);
  if (hashmap_count(keys) == 0)
    hashmap_free(hashmap_remove(idx->values, value), NULL);
}

static void
index_object(struct store_index *idx, const char *key, json_t *obj, bool add)
{
  json_t *values = idx->fn(idx->ctx, obj);
  if (json_is_string(values)) {
    index_value(idx, key, json_string_value(values), add);
  } else if (json_is_array(values)) {
    size_t i;
    json_t *v;
    json_array_foreach (values, i, v) {
      if (json_is_string(v))
        index_value(idx, key, json_string_value(v), add);
    }
  }
  json_decref(values);
}
