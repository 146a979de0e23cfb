/* schema.c — lookups over the generated field table (src/api/gen/schema.c) and the
 * unknown-field walk behind fieldValidation. Definitions and fields are found through hash
 * indexes built on first use; the walk follows the object and asks the table one field at a
 * time, building a field's path only when it is unknown. */
#include "api/schema.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema_data.h"
#include "lib/buf.h"
#include "lib/mem.h"

/* (definition, name) -> field and name -> definition, by hashing: the binary search
 * compares long definition names that share their first twenty-odd bytes, and every typed
 * walk over an object (unknown fields, null pruning, managedFields) asks once per member.
 * Both indexes are built once, on first use, and only read afterwards. A field's hash
 * extends its definition's, so a walk hashes an object's definition once, not per member. */
struct schema_index {
  uint64_t *field_slots; /* see slot_of; 0 = empty */
  size_t field_mask;
  uint64_t *definition_slots;
  size_t definition_mask;
};

/* A slot holds the entry's index + 1 in its low half and the top half of its hash in the
 * high half, so a probe that meets another entry rarely needs to compare strings. */
static inline uint64_t
slot_of(uint64_t hash, size_t i)
{
  return (hash & 0xffffffff00000000ULL) | (uint64_t)(i + 1);
}

static inline bool
slot_tag_matches(uint64_t slot, uint64_t hash)
{
  return ((slot ^ hash) & 0xffffffff00000000ULL) == 0;
}

static inline size_t
slot_index(uint64_t slot)
{
  return (size_t)(uint32_t)slot - 1;
}

static struct schema_index schema_index;
static pthread_once_t schema_index_once = PTHREAD_ONCE_INIT;

static inline uint64_t
mix(uint64_t h, uint64_t w)
{
  h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 32);
}

/* A few words of s (its length, start, middle and end) rather than every byte: the
 * lookup compares the strings anyway, so a collision only costs a probe. */
static uint64_t
part_hash(uint64_t h, const char *s)
{
  size_t n = strlen(s);
  h = mix(h, n);
  if (n < 8) {
    uint64_t w = 0;
    memcpy(&w, s, n);
    return mix(h, w);
  }
  uint64_t first, middle, last;
  memcpy(&first, s, 8);
  memcpy(&middle, s + (n - 8) / 2, 8);
  memcpy(&last, s + n - 8, 8);
  return mix(mix(mix(h, first), middle), last);
}

static uint64_t *
index_slots(size_t count, size_t *mask)
{
  size_t size = 16;
  while (size < 2 * count)
    size *= 2;
  *mask = size - 1;
  return xcalloc(size, sizeof(uint64_t));
}

static void
index_insert(uint64_t *slots, size_t mask, uint64_t hash, size_t i)
{
  size_t at = hash & mask;
  while (slots[at] != 0)
    at = (at + 1) & mask;
  slots[at] = slot_of(hash, i);
}

static void
schema_index_build(void)
{
  struct schema_index *x = &schema_index;
  x->field_slots = index_slots(schema_fields_count, &x->field_mask);
  for (size_t i = 0; i < schema_fields_count; i++)
    index_insert(x->field_slots, x->field_mask,
                 part_hash(part_hash(0, schema_fields[i].definition), schema_fields[i].name), i);
  x->definition_slots = index_slots(schema_definitions_count, &x->definition_mask);
  for (size_t i = 0; i < schema_definitions_count; i++)
    index_insert(x->definition_slots, x->definition_mask, part_hash(0, schema_definitions[i].name),
                 i);
}

static const struct schema_index *
index_get(void)
{
  if (pthread_once(&schema_index_once, schema_index_build) != 0)
    abort();
  return &schema_index;
}

/* The table repeats each definition's name as one literal, so pointers usually match. */
static inline bool
same_name(const char *a, const char *b)
{
  return a == b || strcmp(a, b) == 0;
}

/* definition_hash is part_hash(0, definition). */
static const struct schema_definition *
definition_lookup_hashed(const struct schema_index *x, const char *definition,
                         uint64_t definition_hash)
{
  size_t at = definition_hash & x->definition_mask;
  for (uint64_t slot; (slot = x->definition_slots[at]) != 0; at = (at + 1) & x->definition_mask) {
    if (!slot_tag_matches(slot, definition_hash))
      continue;
    const struct schema_definition *d = &schema_definitions[slot_index(slot)];
    if (same_name(d->name, definition))
      return d;
  }
  return NULL;
}

static const struct schema_definition *
definition_lookup(const char *definition)
{
  if (definition == NULL)
    return NULL;
  return definition_lookup_hashed(index_get(), definition, part_hash(0, definition));
}

static const struct schema_field *
field_lookup_hashed(const struct schema_index *x, const char *definition, uint64_t definition_hash,
                    const char *name)
{
  uint64_t hash = part_hash(definition_hash, name);
  size_t at = hash & x->field_mask;
  for (uint64_t slot; (slot = x->field_slots[at]) != 0; at = (at + 1) & x->field_mask) {
    if (!slot_tag_matches(slot, hash))
      continue;
    const struct schema_field *f = &schema_fields[slot_index(slot)];
    if (strcmp(f->name, name) == 0 && same_name(f->definition, definition))
      return f;
  }
  return NULL;
}

const struct schema_field *
schema_field_lookup(const char *definition, const char *name)
{
  if (definition == NULL || name == NULL)
    return NULL;
  return field_lookup_hashed(index_get(), definition, part_hash(0, definition), name);
}

bool
schema_definition_known(const char *definition)
{
  return definition_lookup(definition) != NULL;
}

bool
schema_definition_is_any(const char *definition)
{
  const struct schema_definition *d = definition_lookup(definition);
  return d != NULL && d->kind == SCHEMA_ANY;
}

/* ---- unknown fields ------------------------------------------------------------------ */

/* The field path being visited is a chain of segments on the C stack (each level links
 * its own to its parent's), formatted into a string only for an unknown field: a clean
 * object, the usual case, never builds one. */
struct path_seg {
  const struct path_seg *parent;
  const char *name; /* a member name, or NULL for an array element */
  size_t index;     /* the element's index when name is NULL */
};

static void
format_path(buf *out, const struct path_seg *seg)
{
  if (seg == NULL)
    return;
  format_path(out, seg->parent);
  if (seg->name == NULL) {
    buf_printf(out, "[%zu]", seg->index);
    return;
  }
  if (out->len)
    buf_append(out, ".", 1);
  buf_puts(out, seg->name);
}

static int find_unknown_in_object(const struct schema_index *x, const json_t *obj,
                                  const char *definition, const struct path_seg *path, bool top,
                                  json_t *paths_out);

/* Checks one value whose schema is (kind, ref): recurses into objects, array elements and
 * map values that are described by a definition; everything else has no fields to check. */
static int
find_unknown_in_value(const struct schema_index *x, const json_t *value, enum schema_kind kind,
                      enum schema_kind item_kind, const char *ref, const struct path_seg *path,
                      json_t *paths_out)
{
  if (ref == NULL)
    return 0;
  if (kind == SCHEMA_OBJECT)
    return find_unknown_in_object(x, value, ref, path, false, paths_out);
  if (item_kind != SCHEMA_OBJECT)
    return 0;
  int count = 0;
  if (kind == SCHEMA_ARRAY && json_is_array(value)) {
    size_t i;
    const json_t *item;
    json_array_foreach (value, i, item) {
      struct path_seg seg = {.parent = path, .name = NULL, .index = i};
      count += find_unknown_in_object(x, item, ref, &seg, false, paths_out);
    }
  } else if (kind == SCHEMA_MAP && json_is_object(value)) {
    const char *key;
    const json_t *item;
    json_object_foreach ((json_t *)value, key, item) {
      struct path_seg seg = {.parent = path, .name = key, .index = 0};
      count += find_unknown_in_object(x, item, ref, &seg, false, paths_out);
    }
  }
  return count;
}

static int
find_unknown_in_object(const struct schema_index *x, const json_t *obj, const char *definition,
                       const struct path_seg *path, bool top, json_t *paths_out)
{
  if (!json_is_object(obj))
    return 0;
  uint64_t definition_hash = part_hash(0, definition);
  const struct schema_definition *d = definition_lookup_hashed(x, definition, definition_hash);
  if (d == NULL || d->kind != SCHEMA_OBJECT)
    return 0;
  int count = 0;
  const char *name;
  const json_t *value;
  json_object_foreach ((json_t *)obj, name, value) {
    if (top && (strcmp(name, "apiVersion") == 0 || strcmp(name, "kind") == 0))
      continue;
    const struct schema_field *f = field_lookup_hashed(x, definition, definition_hash, name);
    struct path_seg seg = {.parent = path, .name = name, .index = 0};
    if (f == NULL) {
      buf p;
      buf_init(&p);
      format_path(&p, &seg);
      if (json_array_append_new(paths_out, json_string(buf_cstr(&p))) == 0)
        count++;
      buf_free(&p);
    } else {
      count += find_unknown_in_value(x, value, f->kind, f->item_kind, f->ref, &seg, paths_out);
    }
  }
  return count;
}

int
schema_find_unknown_fields(const json_t *obj, const char *definition, const char *path_prefix,
                           json_t *paths_out)
{
  if (definition == NULL)
    return 0;
  const char *prefix = path_prefix ? path_prefix : "";
  /* A non-empty prefix is the first segment; the empty one adds nothing to a path. */
  struct path_seg root = {.parent = NULL, .name = prefix, .index = 0};
  return find_unknown_in_object(index_get(), obj, definition, prefix[0] ? &root : NULL,
                                prefix[0] == '\0', paths_out);
}
