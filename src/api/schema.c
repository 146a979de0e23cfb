/* schema.c — lookups over the generated field table (src/api/gen/schema.c) and the
 * unknown-field walk behind fieldValidation. Both tables are sorted, so every lookup is a
 * binary search; the walk follows the object and asks the table one field at a time. */
#include "api/schema.h"

#include <stdlib.h>
#include <string.h>

#include "api/schema_data.h"
#include "lib/buf.h"
#include "lib/mem.h"

struct field_key {
  const char *definition;
  const char *name;
};

static int
compare_field_key(const void *key, const void *elem)
{
  const struct field_key *k = key;
  const struct schema_field *f = elem;
  int c = strcmp(k->definition, f->definition);
  return c != 0 ? c : strcmp(k->name, f->name);
}

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

const struct schema_field *
schema_field_lookup(const char *definition, const char *name)
{
  if (definition == NULL || name == NULL)
    return NULL;
  struct field_key key = {definition, name};
  return bsearch(&key, schema_fields, schema_fields_count, sizeof schema_fields[0],
                 compare_field_key);
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
