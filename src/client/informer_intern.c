/* informer_intern.c — the hash-consing table (see informer_intern.h): open addressing
 * with linear probing over (hash, value) entries, each holding one reference. A
 * container's hash mixes its keys with its children's addresses, valid because children
 * are made canonical first; so comparing two pods' spec costs a few pointer compares. */
#include "client/informer_intern.h"

#include "lib/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MIN_SWEEP_AT 4096
#define MAX_SWEEP_PASSES 8

struct entry {
  json_t *v; /* NULL = empty */
  uint64_t hash;
};

struct informer_intern {
  struct entry *slots;
  size_t cap; /* a power of two */
  size_t count;
  size_t sweep_at;
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

static uint64_t
bytes_hash(const char *s, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return h;
}

/* Only for values whose children (if any) are canonical already. */
static uint64_t
value_hash(json_t *v)
{
  uint64_t h = (uint64_t)json_typeof(v) + 1;
  switch (json_typeof(v)) {
  case JSON_STRING:
    return mix(h, bytes_hash(json_string_value(v), json_string_length(v)));
  case JSON_INTEGER:
    return mix(h, (uint64_t)json_integer_value(v));
  case JSON_REAL: {
    double d = json_real_value(v);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return mix(h, bits);
  }
  case JSON_OBJECT: {
    const char *key;
    json_t *child;
    json_object_foreach (v, key, child)
      h = mix(mix(h, bytes_hash(key, strlen(key))), (uint64_t)(uintptr_t)child);
    return h;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *child;
    json_array_foreach (v, i, child)
      h = mix(h, (uint64_t)(uintptr_t)child);
    return h;
  }
  default:
    return h;
  }
}

/* Equal, given that both have canonical children: members in the same order with the
 * same keys and the very same values. */
static bool
same_value(json_t *a, json_t *b)
{
  if (a == b)
    return true;
  if (json_typeof(a) != json_typeof(b))
    return false;
  switch (json_typeof(a)) {
  case JSON_STRING:
    return json_string_length(a) == json_string_length(b) &&
           memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
  case JSON_INTEGER:
    return json_integer_value(a) == json_integer_value(b);
  case JSON_REAL: {
    double x = json_real_value(a), y = json_real_value(b);
    return memcmp(&x, &y, sizeof x) == 0;
  }
  case JSON_OBJECT: {
    if (json_object_size(a) != json_object_size(b))
      return false;
    void *ia = json_object_iter(a), *ib = json_object_iter(b);
    for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib))
      if (json_object_iter_value(ia) != json_object_iter_value(ib) ||
          strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0)
        return false;
    return ia == NULL && ib == NULL;
  }
  case JSON_ARRAY: {
    size_t n = json_array_size(a);
    if (n != json_array_size(b))
      return false;
    for (size_t i = 0; i < n; i++)
      if (json_array_get(a, i) != json_array_get(b, i))
        return false;
    return true;
  }
  default:
    return false;
  }
}

informer_intern *
informer_intern_new(void)
{
  informer_intern *t = xcalloc(1, sizeof *t);
  t->cap = 1024;
  t->slots = xcalloc(t->cap, sizeof *t->slots);
  t->sweep_at = MIN_SWEEP_AT;
  return t;
}

void
informer_intern_free(informer_intern *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->cap; i++)
    json_decref(t->slots[i].v);
  free(t->slots);
  free(t);
}

size_t
informer_intern_count(const informer_intern *t)
{
  return t->count;
}

static void
place(struct entry *slots, size_t cap, struct entry e)
{
  size_t i = (size_t)e.hash & (cap - 1);
  while (slots[i].v)
    i = (i + 1) & (cap - 1);
  slots[i] = e;
}

/* Re-lays the entries out in a table of cap slots (dropping none). */
static void
resize(informer_intern *t, size_t cap)
{
  struct entry *slots = xcalloc(cap, sizeof *slots);
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].v)
      place(slots, cap, t->slots[i]);
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
}

/* The canonical value equal to v, a reference the caller owns; v's reference is
 * consumed. v's children are made canonical first (in place: v is not shared yet). */
static json_t *intern_value(informer_intern *t, json_t *v);

static void
intern_members(informer_intern *t, json_t *v)
{
  if (json_is_object(v)) {
    for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
      json_t *child = json_object_iter_value(it);
      json_t *canon = intern_value(t, json_incref(child));
      if (canon != child)
        json_object_iter_set_new(v, it, canon);
      else
        json_decref(canon);
    }
  } else if (json_is_array(v)) {
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
      json_t *child = json_array_get(v, i);
      json_t *canon = intern_value(t, json_incref(child));
      if (canon != child)
        json_array_set_new(v, i, canon);
      else
        json_decref(canon);
    }
  }
}

static json_t *
intern_value(informer_intern *t, json_t *v)
{
  if (json_is_true(v) || json_is_false(v) || json_is_null(v))
    return v; /* jansson's singletons */
  intern_members(t, v);
  uint64_t h = value_hash(v);
  size_t i = (size_t)h & (t->cap - 1);
  for (; t->slots[i].v; i = (i + 1) & (t->cap - 1)) {
    if (t->slots[i].hash == h && same_value(t->slots[i].v, v)) {
      json_t *canon = json_incref(t->slots[i].v);
      json_decref(v);
      return canon;
    }
  }
  t->slots[i] = (struct entry){json_incref(v), h};
  t->count++;
  if (t->count * 4 > t->cap * 3) /* linear probing stays short up to 3/4 full */
    resize(t, t->cap * 2);
  return v;
}

void
informer_intern_children(informer_intern *t, json_t *obj)
{
  intern_members(t, obj);
  if (t->count >= t->sweep_at) {
    size_t left = informer_intern_sweep(t);
    t->sweep_at = left * 2 > MIN_SWEEP_AT ? left * 2 : MIN_SWEEP_AT;
  }
}

/* A set of values (by address): the descendants of shared values, during a sweep. */
struct value_set {
  json_t **slots;
  size_t cap; /* a power of two */
  size_t count;
};

static size_t
address_slot(const json_t *v, size_t cap)
{
  return (size_t)(((uint64_t)(uintptr_t)v * 0x9e3779b97f4a7c15ULL) >> 16) & (cap - 1);
}

static bool
value_set_has(const struct value_set *set, const json_t *v)
{
  for (size_t i = address_slot(v, set->cap); set->slots[i]; i = (i + 1) & (set->cap - 1))
    if (set->slots[i] == v)
      return true;
  return false;
}

/* Adds v; false if it was there already. */
static bool
value_set_add(struct value_set *set, json_t *v)
{
  if ((set->count + 1) * 2 > set->cap) {
    struct value_set bigger = {xcalloc(set->cap * 2, sizeof(json_t *)), set->cap * 2, 0};
    for (size_t i = 0; i < set->cap; i++)
      if (set->slots[i])
        (void)value_set_add(&bigger, set->slots[i]);
    free(set->slots);
    *set = bigger;
  }
  size_t i = address_slot(v, set->cap);
  for (; set->slots[i]; i = (i + 1) & (set->cap - 1))
    if (set->slots[i] == v)
      return false;
  set->slots[i] = v;
  set->count++;
  return true;
}

static void
mark_descendants(struct value_set *set, json_t *v)
{
  if (json_is_object(v)) {
    const char *key;
    json_t *child;
    json_object_foreach (v, key, child)
      if (value_set_add(set, child))
        mark_descendants(set, child);
  } else if (json_is_array(v)) {
    size_t i;
    json_t *child;
    json_array_foreach (v, i, child)
      if (value_set_add(set, child))
        mark_descendants(set, child);
  }
}

/* Shared: held by the table and at least two others (references count, not holders: a
 * near enough test). */
static bool
is_shared(const json_t *v)
{
  return v->refcount >= 3;
}

size_t
informer_intern_sweep(informer_intern *t)
{
  /* What stays: shared values and everything inside them (a shared container's
   * children may have no other holder, but dropping them would make the next equal
   * container a new one). What goes: values only the table holds, and values that one
   * other holder alone has — most of them one object's own name, uid, spec or status,
   * which no later object will equal (the table would otherwise index every member of
   * every cached object: tens of bytes each). An object whose equal comes later (an
   * update of the same object) just gets its own copy. */
  struct value_set keep = {xcalloc(1024, sizeof(json_t *)), 1024, 0};
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].v && is_shared(t->slots[i].v))
      mark_descendants(&keep, t->slots[i].v);
  /* Dropping a container can leave its children held by the table alone: a few passes
   * catch those too (trees are shallow). */
  for (int pass = 0; pass < MAX_SWEEP_PASSES; pass++) {
    size_t dropped = 0;
    for (size_t i = 0; i < t->cap; i++) {
      json_t *v = t->slots[i].v;
      if (v && (v->refcount == 1 || (!is_shared(v) && !value_set_has(&keep, v)))) {
        t->slots[i].v = NULL;
        json_decref(v);
        dropped++;
      }
    }
    t->count -= dropped;
    if (dropped == 0)
      break;
  }
  free(keep.slots);
  size_t cap = 1024;
  while (cap < t->count * 2) /* at most half full: one entry costs 16 to 43 bytes */
    cap *= 2;
  resize(t, cap); /* also closes the holes the probing would stop at */
  return t->count;
}
