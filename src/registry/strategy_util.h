/* strategy_util.h — small helpers every kind strategy shares: reading and defaulting
 * fields of a JSON object by dotted path, and appending StatusCauses worded the way
 * upstream's field.Error does ("Required value", "Invalid value: ...", "Forbidden: ...").
 * Getters return borrowed references (or NULL); formatters return malloc'd strings. */
#ifndef K8C_REGISTRY_STRATEGY_UTIL_H
#define K8C_REGISTRY_STRATEGY_UTIL_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- reading ---------------------------------------------------------------------- */

/* Follows a dotted path ("spec.template.spec"); borrowed, NULL if any step is missing. */
json_t *obj_get(const json_t *obj, const char *path);
/* The string at path, or NULL when absent or not a string. Borrowed. */
const char *obj_str(const json_t *obj, const char *path);
/* The string at path, or "" when absent. Borrowed. */
const char *obj_str0(const json_t *obj, const char *path);
/* json_string(s) (new reference; NULL if s is NULL or not UTF-8), skipping jansson's
 * UTF-8 scan when s is plain ASCII, as nearly every API string is. */
json_t *obj_string(const char *s);
/* The integer at path, or dflt when absent or not an integer. */
json_int_t obj_int(const json_t *obj, const char *path, json_int_t dflt);
/* True only if the value at path is JSON true. */
bool obj_true(const json_t *obj, const char *path);
/* Number of elements of the array (or keys of the object) at path; 0 if absent. */
size_t obj_len(const json_t *obj, const char *path);

/* ---- defaulting (each sets key only when it is absent or null) --------------------- */
/* key is a field name the caller spells out (ASCII): jansson does not check it again. */

/* Returns obj[key] as an object, creating {} when missing. Borrowed. */
json_t *obj_ensure(json_t *obj, const char *key);
void obj_default_str(json_t *obj, const char *key, const char *value);
void obj_default_int(json_t *obj, const char *key, json_int_t value);
void obj_default_bool(json_t *obj, const char *key, bool value);
/* Steals value; drops it when key is already set. */
void obj_default_new(json_t *obj, const char *key, json_t *value);
/* True when key is absent or JSON null. */
bool obj_unset(const json_t *obj, const char *key);

/* ---- StatusCauses in upstream's wording -------------------------------------------- */

#define CAUSE_NOT_FOUND "FieldValueNotFound"

void cause_required(k8c_err *err, const char *field, const char *detail); /* detail may be NULL */
/* value_repr is the value as Go would print it (already quoted for strings). */
void cause_invalid(k8c_err *err, const char *field, const char *value_repr, const char *detail);
void cause_invalid_str(k8c_err *err, const char *field, const char *value, const char *detail);
void cause_invalid_int(k8c_err *err, const char *field, json_int_t value, const char *detail);
void cause_forbidden(k8c_err *err, const char *field, const char *detail);
void cause_duplicate(k8c_err *err, const char *field, const char *value_repr);
void cause_not_found(k8c_err *err, const char *field, const char *value_repr);

/* Go's %q of s (malloc'd). */
char *go_quote(const char *s);
/* Go's %#v of a map[string]string held in a JSON object: map[string]string{"a":"b"}
 * (keys sorted); NULL/absent → map[string]string(nil). malloc'd. */
char *go_string_map(const json_t *map);
/* Go's %#v of a []string held in a JSON array: []string{"a", "b"}. malloc'd. */
char *go_string_slice(const json_t *array);
/* Go's %#v of a v1.LabelSelector (matchLabels only is exact; expressions summarised). */
char *go_label_selector(const json_t *selector);
/* A field value that is immutable once set: appends "Invalid value: X: field is immutable"
 * if the JSON values differ (value_repr describes new). Returns 1 if it appended. */
int validate_immutable(k8c_err *err, const char *field, const json_t *now, const json_t *old,
                       const char *value_repr);

/* ---- buffers ---------------------------------------------------------------------- */

#include "lib/buf.h"
/* The buffer's text, NUL-terminated even when nothing was appended (buf_cstr on a fresh
 * buffer does not terminate); the buffer keeps ownership. */
const char *buf_text(buf *b);
/* Hands the (terminated) text to the caller, who frees it; resets the buffer. */
char *buf_take(buf *b);

/* ---- selectable fields (values are strings, as upstream's fields.Set) ------------- */

void field_set(json_t *fields, const char *key, const char *value); /* NULL → "" */
void field_set_int(json_t *fields, const char *key, json_int_t value);
void field_set_bool(json_t *fields, const char *key, bool value);

/* ---- names ------------------------------------------------------------------------- */

/* upstream's path.IsValidPathSegmentName (RBAC, HPA, events): no "/", "%", "." or "..". */
int validate_path_segment_name(k8c_err *err, const char *field, const char *value);

/* ObjectMeta validation for obj (old NULL on create) with name rules `names`
 * (NULL = DNS-1123 subdomain). Returns the number of problems. */
int validate_meta_of(k8c_err *err, const json_t *obj, const json_t *old, bool namespaced,
                     int (*names)(k8c_err *, const char *, const char *));

/* "a=b,c=d" for a map of labels in key order (the form kubectl prints); malloc'd.
 * Empty/absent → "" */
char *labels_string(const json_t *map);

/* ---- field paths (for causes; built on every validation, so without printf) ------- */

/* out = a b c (c may be NULL), truncated to cap - 1 bytes like snprintf. */
void path_cat(char *out, size_t cap, const char *a, const char *b, const char *c);
/* out = base list index rest, e.g. ("spec", ".ports[", 2, "].name") -> spec.ports[2].name;
 * truncated like snprintf. */
void path_cat_index(char *out, size_t cap, const char *base, const char *list, size_t index,
                    const char *rest);

#endif
