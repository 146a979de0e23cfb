/* fields.h — field selectors ("metadata.name=web,spec.nodeName!=n1"): upstream's syntax
 * with backslash-escaped values, matching against a flat map of an object's selectable
 * fields, and the per-resource "is this field supported" check. */
#ifndef K8C_APIMACHINERY_FIELDS_H
#define K8C_APIMACHINERY_FIELDS_H

#include "apimachinery/labels.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct field_selector field_selector;

/* Parses "a=b", "a==b", "a!=b", comma-separated (AND); in values "\," "\=" "\\" escape.
 * An empty string selects everything. On error returns NULL with a 400 BadRequest and
 * upstream's message ("invalid selector: 'x'; can't understand 'x'", "invalid field
 * selector: invalid escape sequence: \q"). Caller frees with field_selector_free(). */
field_selector *field_selector_parse(const char *text, k8c_err *err);

/* Whether fields ({"metadata.name":"x","spec.nodeName":"n",...}) satisfy the selector;
 * a field missing from the map compares as "". A NULL selector matches everything. */
bool field_selector_matches(const field_selector *sel, const json_t *fields);
/* As field_selector_matches, reading the field values through get(ctx, field). */
bool field_selector_matches_lookup(const field_selector *sel, label_lookup get, const void *ctx);

/* Fails with 400 "field label not supported: spec.foo" if the selector names a field that
 * is neither metadata.name, metadata.namespace nor in the NULL-terminated supported list
 * (which may be NULL). resource_kind is used for logging context only and may be NULL. */
int field_selector_check_supported(const field_selector *sel, const char *const *supported,
                                   const char *resource_kind, k8c_err *err);

/* The value v if the selector contains field=v (or field==v), else NULL. Borrowed from the
 * selector. Used to narrow a list, e.g. to one metadata.name. */
const char *field_selector_exact_value(const field_selector *sel, const char *field);

/* True if the selector has no terms. */
bool field_selector_is_empty(const field_selector *sel);

/* Canonical form: terms sorted, values re-escaped. Caller frees. */
char *field_selector_to_string(const field_selector *sel);

void field_selector_free(field_selector *sel);

#endif
