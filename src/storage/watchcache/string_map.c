/* string_map.c — the compact string map (see string_map.h): a count, a reference to its
 * key list ("key\0" × n, refcounted, shared through a string_map_shapes set when the
 * caller has one) and the values as "value\0" back to back in the same block. */
#include "storage/watchcache/string_map.h"

#include "lib/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SHAPES_MIN_PRUNE_AT 64

struct key_list {
  atomic_int refs;
  unsigned n;
  uint64_t hash;
  size_t bytes;
  char data[]; /* n × key NUL */
};

struct string_map {
  atomic_int refs;
  unsigned n;
  struct key_list *keys;
  char data[]; /* n × value NUL, in the order of keys */
};

struct string_map_shapes {
  pthread_mutex_t mu;
  struct key_list **slots; /* open addressing, linear probing; each holds one reference */
  size_t cap;              /* a power of two */
  size_t count;
  size_t prune_at;
};

static void
key_list_unref(struct key_list *k)
{
  if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
    free(k);
}

static uint64_t
bytes_hash(const char *s, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return h;
}

string_map_shapes *
string_map_shapes_new(void)
{
  string_map_shapes *s = xcalloc(1, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
  s->cap = 64;
  s->slots = xcalloc(s->cap, sizeof *s->slots);
  s->prune_at = SHAPES_MIN_PRUNE_AT;
  return s;
}

void
string_map_shapes_free(string_map_shapes *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->cap; i++)
    key_list_unref(s->slots[i]);
  free(s->slots);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

size_t
string_map_shapes_count(string_map_shapes *s)
{
  pthread_mutex_lock(&s->mu);
  size_t n = s->count;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Lays the entries out again in cap slots, leaving out those only the set holds. */
static void
shapes_rebuild(string_map_shapes *s, size_t cap)
{
  struct key_list **slots = xcalloc(cap, sizeof *slots);
  size_t count = 0;
  for (size_t i = 0; i < s->cap; i++) {
    struct key_list *k = s->slots[i];
    if (k == NULL)
      continue;
    if (atomic_load_explicit(&k->refs, memory_order_acquire) == 1) {
      key_list_unref(k); /* no map uses it: the set's reference was the last */
      continue;
    }
    size_t j = (size_t)k->hash & (cap - 1);
    while (slots[j])
      j = (j + 1) & (cap - 1);
    slots[j] = k;
    count++;
  }
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  s->count = count;
}

/* A reference to the set's list equal to keys[0..bytes) (n keys), adding one if new. */
static struct key_list *
shapes_get(string_map_shapes *s, const char *keys, size_t bytes, unsigned n)
{
  uint64_t h = bytes_hash(keys, bytes);
  pthread_mutex_lock(&s->mu);
  size_t i = (size_t)h & (s->cap - 1);
  for (; s->slots[i]; i = (i + 1) & (s->cap - 1)) {
    struct key_list *k = s->slots[i];
    if (k->hash == h && k->n == n && k->bytes == bytes && memcmp(k->data, keys, bytes) == 0) {
      atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
      pthread_mutex_unlock(&s->mu);
      return k;
    }
  }
  struct key_list *k = xmalloc(sizeof *k + bytes);
  atomic_init(&k->refs, 2); /* the set's and the caller's */
  k->n = n;
  k->hash = h;
  k->bytes = bytes;
  memcpy(k->data, keys, bytes);
  s->slots[i] = k;
  s->count++;
  if (s->count >= s->prune_at || s->count * 2 > s->cap) {
    size_t cap = s->cap;
    while (cap < s->count * 4)
      cap *= 2;
    shapes_rebuild(s, cap);
    s->prune_at = s->count * 2 > SHAPES_MIN_PRUNE_AT ? s->count * 2 : SHAPES_MIN_PRUNE_AT;
  }
  pthread_mutex_unlock(&s->mu);
  return k;
}

string_map *
string_map_from_json_shared(const json_t *obj, string_map_shapes *shapes)
{
  if (!json_is_object(obj))
    return NULL;
  size_t key_bytes = 0, value_bytes = 0, n = 0;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)obj, k, v) {
    if (!json_is_string(v))
      continue;
    key_bytes += strlen(k) + 1;
    value_bytes += json_string_length(v) + 1;
    n++;
  }
  if (n == 0)
    return NULL;
  /* The keys go to a scratch block (on the stack when small), the values to the map. */
  char scratch[1024];
  char *keys = key_bytes <= sizeof scratch ? scratch : xmalloc(key_bytes);
  string_map *m = xmalloc(sizeof *m + value_bytes);
  atomic_init(&m->refs, 1);
  m->n = (unsigned)n;
  char *kp = keys, *vp = m->data;
  json_object_foreach ((json_t *)obj, k, v) {
    if (!json_is_string(v))
      continue;
    size_t kl = strlen(k) + 1;
    memcpy(kp, k, kl);
    kp += kl;
    /* strlen, not json_string_length: a value with a NUL inside reads up to it, as
     * every lookup through a C string would. */
    size_t vl = strlen(json_string_value(v)) + 1;
    memcpy(vp, json_string_value(v), vl);
    vp += vl;
  }
  if (shapes) {
    m->keys = shapes_get(shapes, keys, key_bytes, (unsigned)n);
  } else {
    m->keys = xmalloc(sizeof *m->keys + key_bytes);
    atomic_init(&m->keys->refs, 1);
    m->keys->n = (unsigned)n;
    m->keys->hash = 0;
    m->keys->bytes = key_bytes;
    memcpy(m->keys->data, keys, key_bytes);
  }
  if (keys != scratch)
    free(keys);
  return m;
}

string_map *
string_map_from_json(const json_t *obj)
{
  return string_map_from_json_shared(obj, NULL);
}

const char *
string_map_get(const string_map *map, const char *key)
{
  if (map == NULL)
    return NULL;
  const char *k = map->keys->data, *v = map->data;
  for (unsigned i = 0; i < map->n; i++) {
    size_t kl = strlen(k);
    if (strcmp(k, key) == 0)
      return v;
    k += kl + 1;
    v += strlen(v) + 1;
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
  if (map && atomic_fetch_sub_explicit(&map->refs, 1, memory_order_acq_rel) == 1) {
    key_list_unref(map->keys);
    free(map);
  }
}
