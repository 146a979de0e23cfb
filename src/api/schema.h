/* schema.h — the shape of every served type, as data: for each OpenAPI definition, its
 * fields with their value kind, the definition they refer to, and their patch strategy
 * and list semantics. Generated from ../shared/ref/openapi into src/api/gen/schema.c.
 * Strategic merge patch, server-side apply and fieldValidation=Strict read it. */
#ifndef K8C_API_SCHEMA_H
#define K8C_API_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum schema_kind {
  SCHEMA_SCALAR = 0, /* string, integer, number, boolean, or int-or-string/quantity/time */
  SCHEMA_OBJECT = 1, /* a struct: its fields are listed under `ref` */
  SCHEMA_ARRAY = 2,  /* items described by item_kind/ref */
  SCHEMA_MAP = 3,    /* additionalProperties: values described by item_kind/ref */
  SCHEMA_ANY = 4     /* free-form (x-kubernetes-preserve-unknown-fields, RawExtension) */
};

struct schema_field {
  const char *definition;      /* owning definition, e.g. "io.k8s.api.core.v1.PodSpec" */
  const char *name;            /* JSON field name, e.g. "containers" */
  enum schema_kind kind;       /* kind of the field's value */
  enum schema_kind item_kind;  /* for ARRAY/MAP: kind of the elements */
  const char *ref;             /* definition of the value (OBJECT) or of the elements, or NULL */
  const char *patch_strategy;  /* "merge", "replace", "retainKeys", "merge,retainKeys" or NULL */
  const char *patch_merge_key; /* e.g. "name", or NULL */
  const char *list_type;       /* x-kubernetes-list-type: "atomic","set","map" or NULL */
  const char *list_map_keys;   /* x-kubernetes-list-map-keys, comma-joined, or NULL */
  bool required;
  const char *map_type; /* x-kubernetes-map-type of the value ("atomic", "granular") from the
                         * field or the referenced definition, or NULL */
};

/* The field `name` of `definition`, or NULL if the definition has no such field
 * (or the definition is unknown). A hash lookup. */
const struct schema_field *schema_field_lookup(const char *definition, const char *name);

/* true if the definition is known (has at least one field, or is declared). */
bool schema_definition_known(const char *definition);

/* true if the definition is free-form (unknown fields allowed anywhere below it). */
bool schema_definition_is_any(const char *definition);

/* fieldValidation: appends to the JSON array paths_out (a new string per field) the path
 * of every field present in obj but unknown to `definition`, as upstream words it:
 * "spec.foo", "spec.containers[0].foo", map values as "spec.nodeSelector.key.foo" (never
 * happens for string maps). path_prefix ("" or NULL at the top) is prepended with a dot.
 * apiVersion and kind at the top level are always known; nothing under an ANY field or
 * definition is checked; values of the wrong JSON type are skipped (decoding reports them).
 * Returns the number of paths appended; paths_out stays owned by the caller. */
int schema_find_unknown_fields(const json_t *obj, const char *definition, const char *path_prefix,
                               json_t *paths_out);

#endif
