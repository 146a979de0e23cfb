/* hashmap.c — open addressing with linear probing and backward-shift deletion.
 *
 * The table size is a power of two and is doubled when it becomes 3/4 full; each slot
 * keeps the key's hash so probing and growing rarely touch the key strings. */
#include "lib/hashmap.h"

#include "lib/mem.h"

#include <stdint.h>
#include <string.h>

struct hashmap_slot {
  char *key; /* owned; NULL = empty slot */
  void *value;
  uint64_t hash;
};

struct hashmap {
  struct hashmap_slot *slots;
  size_t cap; /* power of two */
  size_t count;
};

enum { HASHMAP_INITIAL_CAP = 16 };

static uint64_t
hash_string(const char *s)
{
  /* FNV-1a followed by a final avalanche so the low bits used for the index mix well. */
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

static size_t
find_slot(const hashmap *m, const char *key, uint64_t hash)
{
  size_t mask = m->cap - 1;
  size_t i = hash & mask;
  while (m->slots[i].key) {
    if (m->slots[i].hash == hash && strcmp(m->slots[i].key, key) == 0)
      return i;
    i = (i + 1) & mask;
  }
  return i;
}

static void
grow(hashmap *m)
{
  struct hashmap_slot *old = m->slots;
  size_t old_cap = m->cap;
  m->cap = old_cap * 2;
  m->slots = xcalloc(m->cap, sizeof(*m->slots));
  size_t mask = m->cap - 1;
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i].key)
      continue;
    size_t j = old[i].hash & mask;
    while (m->slots[j].key)
      j = (j + 1) & mask;
    m->slots[j] = old[i];
  }
  free(old);
}

hashmap *
hashmap_new(void)
{
  hashmap *m = xcalloc(1, sizeof(*m));
  m->cap = HASHMAP_INITIAL_CAP;
  m->slots = xcalloc(m->cap, sizeof(*m->slots));
  return m;
}

void
hashmap_free(hashmap *m, void (*free_value)(void *value))
{
  if (!m)
    return;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->slots[i].key)
      continue;
    free(m->slots[i].key);
    if (free_value)
      free_value(m->slots[i].value);
  }
  free(m->slots);
  free(m);
}

void *
hashmap_get(const hashmap *m, const char *key)
{
  size_t i = find_slot(m, key, hash_string(key));
  return m->slots[i].key ? m->slots[i].value : NULL;
}

void *
hashmap_put(hashmap *m, const char *key, void *value)
{
  uint64_t hash = hash_string(key);
  size_t i = find_slot(m, key, hash);
  if (m->slots[i].key) {
    void *old = m->slots[i].value;
    m->slots[i].value = value;
    return old;
  }
  if ((m->count + 1) * 4 > m->cap * 3) {
    grow(m);
    i = find_slot(m, key, hash);
  }
  m->slots[i] = (struct hashmap_slot){.key = xstrdup(key), .value = value, .hash = hash};
  m->count++;
  return NULL;
}

void *
hashmap_remove(hashmap *m, const char *key)
{
  size_t mask = m->cap - 1;
  size_t i = find_slot(m, key, hash_string(key));
  if (!m->slots[i].key)
    return NULL;
  void *value = m->slots[i].value;
  free(m->slots[i].key);
  m->slots[i].key = NULL;
  m->count--;
  /* Shift back every following entry of the probe run that may now sit closer to its
   * home slot, so no lookup stops early at the hole. */
  size_t hole = i;
  size_t j = (i + 1) & mask;
  while (m->slots[j].key) {
    size_t home = m->slots[j].hash & mask;
    /* The entry at j may move into the hole if its home is not in (hole, j]. */
    bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_between) {
      m->slots[hole] = m->slots[j];
      m->slots[j].key = NULL;
      hole = j;
    }
    j = (j + 1) & mask;
  }
  return value;
}

size_t
hashmap_count(const hashmap *m)
{
  return m->count;
}

bool
hashmap_next(const hashmap *m, hashmap_iter *it, const char **key, void **value)
{
  while (it->next_slot < m->cap) {
    struct hashmap_slot *s = &m->slots[it->next_slot++];
    if (s->key) {
      if (key)
        *key = s->key;
      if (value)
        *value = s->value;
      return true;
    }
  }
  return false;
}
