/* schema.c — lookups over the generated field table (src/api/gen/schema.c) and the
 * unknown-field walk behind fieldValidation. Definitions are found by binary search, fields
 * through a hash index built on first use; the walk follows the object and asks the table one field
 * at a time. */
#include "api/schema.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema_data.h"
#include "lib/buf.h"
#include "lib/mem.h"

static int
compare_definition_name(const void *key, const void *elem)
{
  const struct schema_definition *d = elem;
  return strcmp(key, d->name);
}

static const struct schema_definition *
definition_lookup(const char *definition)
{
  if (definition == NULL)
    return NULL;
  return bsearch(definition, schema_definitions, schema_definitions_count,
                 sizeof schema_definitions[0], compare_definition_name);
}

/* (definition, name) -> field, by hashing: the binary search compares long definition
 * names that share their first twenty-odd bytes, and every typed walk over an object
 * (unknown fields, null pruning, managedFields) asks once per member. The index is built
 * once, on first use, and only read afterwards. */
struct field_index {
  uint32_t *slots; /* field index + 1; 0 = empty */
  size_t mask;
};

static struct field_index field_index;
static pthread_once_t field_index_once = PTHREAD_ONCE_INIT;

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

static uint64_t
field_hash(const char *definition, const char *name)
{
  return part_hash(part_hash(0, definition), name);
}

static void
field_index_build(void)
{
  size_t size = 16;
  while (size < 2 * schema_fields_count)
    size *= 2;
  field_index.slots = xcalloc(size, sizeof *field_index.slots);
  field_index.mask = size - 1;
  for (size_t i = 0; i < schema_fields_count; i++) {
    size_t at = field_hash(schema_fields[i].definition, schema_fields[i].name) & field_index.mask;
    while (field_index.slots[at] != 0)
      at = (at + 1) & field_index.mask;
    field_index.slots[at] = (uint32_t)(i + 1);
  }
}

const struct schema_field *
schema_field_lookup(const char *definition, const char *name)
{
  if (definition == NULL || name == NULL)
    return NULL;
  if (pthread_once(&field_index_once, field_index_build) != 0)
    abort();
  size_t at = field_hash(definition, name) & field_index.mask;
  for (uint32_t slot; (slot = field_index.slots[at]) != 0; at = (at + 1) & field_index.mask) {
    const struct schema_field *f = &schema_fields[slot - 1];
    if (strcmp(f->name, name) == 0 && strcmp(f->definition, definition) == 0)
      return f;
  }
  return NULL;
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

/* The field path being visited lives in one buffer: a level appends its part and cuts
 * it off again, so paths are only copied out for the (rare) unknown fields. */
static int find_unknown_in_object(const json_t *obj, const char *definition, buf *path, bool top,
                                  json_t *paths_out);

static size_t
push_field(buf *path, const char *name)
{
  size_t mark = path->len;
  if (mark)
    buf_append(path, ".", 1);
  buf_puts(path, name);
  return mark;
}

static void
pop_to(buf *path, size_t mark)
{
  path->len = mark;
  if (path->data)
    path->data[mark] = '\0';
}

/* Checks one value whose schema is (kind, ref): recurses into objects, array elements and
 * map values that are described by a definition; everything else has no fields to check. */
static int
find_unknown_in_value(const json_t *value, enum schema_kind kind, enum schema_kind item_kind,
                      const char *ref, buf *path, json_t *paths_out)
{
  if (ref == NULL)
    return 0;
  if (kind == SCHEMA_OBJECT)
    return find_unknown_in_object(value, ref, path, false, paths_out);
  if (item_kind != SCHEMA_OBJECT)
    return 0;
  int count = 0;
  if (kind == SCHEMA_ARRAY && json_is_array(value)) {
    size_t i;
    const json_t *item;
    json_array_foreach (value, i, item) {
      size_t mark = path->len;
      buf_printf(path, "[%zu]", i);
      count += find_unknown_in_object(item, ref, path, false, paths_out);
      pop_to(path, mark);
    }
  } else if (kind == SCHEMA_MAP && json_is_object(value)) {
    const char *key;
    const json_t *item;
    json_object_foreach ((json_t *)value, key, item) {
      size_t mark = push_field(path, key);
      count += find_unknown_in_object(item, ref, path, false, paths_out);
      pop_to(path, mark);
    }
  }
  return count;
}

static int
find_unknown_in_object(const json_t *obj, const char *definition, buf *path, bool top,
                       json_t *paths_out)
{
  if (!json_is_object(obj))
    return 0;
  const struct schema_definition *d = definition_lookup(definition);
  if (d == NULL || d->kind != SCHEMA_OBJECT)
    return 0;
  int count = 0;
  const char *name;
  const json_t *value;
  json_object_foreach ((json_t *)obj, name, value) {
    if (top && (strcmp(name, "apiVersion") == 0 || strcmp(name, "kind") == 0))
      continue;
    const struct schema_field *f = schema_field_lookup(definition, name);
    size_t mark = push_field(path, name);
    if (f == NULL) {
      if (json_array_append_new(paths_out, json_string(buf_cstr(path))) == 0)
        count++;
    } else {
      count += find_unknown_in_value(value, f->kind, f->item_kind, f->ref, path, paths_out);
    }
    pop_to(path, mark);
  }
  return count;
}

int
schema_find_unknown_fields(const json_t *obj, const char *definition, const char *path_prefix,
                           json_t *paths_out)
{
  const char *prefix = path_prefix ? path_prefix : "";
  buf path;
  buf_init(&path);
  buf_puts(&path, prefix);
  int count = find_unknown_in_object(obj, definition, &path, prefix[0] == '\0', paths_out);
  buf_free(&path);
  return count;
}
