/* typed.h — schema-aware walks over JSON objects for server-side apply: the field set
 * of an object, the apply merge, the difference between two versions, and pruning.
 *
 * The schema comes in through a struct of function pointers (normally the generated
 * table's schema_field_lookup), so the walks can be tested against a small fake. Every
 * value is given a type: struct (fields from the schema), map, list (atomic, set or map
 * with keys) or scalar; a value the schema does not describe is typed by its JSON shape
 * (objects are maps, arrays atomic), like structured-merge-diff's "deduced" type. */
#ifndef K8C_APIMACHINERY_TYPED_H
#define K8C_APIMACHINERY_TYPED_H

#include "api/schema.h"

#include <jansson.h>

struct typed_schema {
  /* The field `name` of `definition`, or NULL if unknown (see api/schema.h). */
  const struct schema_field *(*field_lookup)(const char *definition, const char *name);
};

/* The set of fields `obj` sets (structured-merge-diff's ToFieldSet): leaves, list items
 * and map entries are members; struct fields only through their leaves. definition may
 * be NULL (everything deduced). Returns a new FieldsV1 tree (caller owns). */
json_t *typed_field_set(const struct typed_schema *schema, const json_t *obj,
                        const char *definition);

/* `applied` merged onto `live`: maps and structs recursively, map/set lists by key
 * (live items not in applied are kept), atomic lists and scalars replaced. Either side may
 * be NULL. Returns a new value (caller owns); shares nothing with the inputs. */
json_t *typed_merge(const struct typed_schema *schema, const json_t *live, const json_t *applied,
                    const char *definition);

/* Compares old (may be NULL) with new: *changed (caller owns) receives the paths added or
 * modified — including added map entries and list items as nodes, so `{".":{},...}`
 * appears under them — and *removed (caller owns) the paths that disappeared. */
void typed_compare(const struct typed_schema *schema, const json_t *old, const json_t *new_obj,
                   const char *definition, json_t **changed, json_t **removed);

/* Removes from obj (in place) what `last` had and nobody owns any more: every member of
 * `last` and every named struct field of `last` for which `owned` has no node at all.
 * Anything with an owned member at or below it is kept. The top-level apiVersion, kind
 * and metadata are never removed. */
void typed_prune(const struct typed_schema *schema, json_t *obj, const json_t *last,
                 const json_t *owned, const char *definition);

#endif
