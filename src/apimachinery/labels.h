/* labels.h — label selectors: upstream's string syntax ("app=web,tier in (a,b),!canary"),
 * metav1.LabelSelector objects, matching against an object's labels, and the canonical
 * string form. A selector is an immutable list of requirements that must all hold. */
#ifndef K8C_APIMACHINERY_LABELS_H
#define K8C_APIMACHINERY_LABELS_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct label_selector label_selector;

/* Parses the string syntax: a=b, a==b, a!=b, a in (x,y), a notin (x), a, !a, a>1, a<1,
 * comma-separated (AND), whitespace tolerant. An empty string selects everything.
 * On error returns NULL with a 400 BadRequest carrying upstream's message, e.g.
 *   unable to parse requirement: <nil>: Invalid value: "a b": name part must ...
 * Caller frees the result with label_selector_free(). */
label_selector *label_selector_parse(const char *text, k8c_err *err);

/* Converts a metav1.LabelSelector {matchLabels, matchExpressions (In, NotIn, Exists,
 * DoesNotExist)}. NULL, JSON null and {} select everything. On error (bad operator, bad
 * key or value) returns NULL with a 400. Caller frees. */
label_selector *label_selector_from_json(const json_t *ls, k8c_err *err);

/* A selector requiring each key=value of a plain map (Service.spec.selector,
 * ReplicationController.spec.selector). NULL or {} selects everything. Caller frees. */
label_selector *label_selector_from_map(const json_t *map, k8c_err *err);

/* A selector that matches nothing (upstream's labels.Nothing()). Caller frees. */
label_selector *label_selector_nothing(void);

/* True if the selector has no requirements (it selects everything). */
bool label_selector_is_empty(const label_selector *sel);

/* Whether labels (an object of string values, or NULL for "no labels") satisfy sel.
 * A NULL sel matches everything. */
bool label_selector_matches(const label_selector *sel, const json_t *labels);

/* Where a matcher finds an object's labels (or fields) when they are not JSON: the value
 * of key, or NULL when there is none. */
typedef const char *(*label_lookup)(const void *ctx, const char *key);

/* As label_selector_matches, reading the labels through get(ctx, key). */
bool label_selector_matches_lookup(const label_selector *sel, label_lookup get, const void *ctx);

/* Canonical form, requirements sorted by key: "a=b,c in (x,y),!d". Caller frees. */
char *label_selector_to_string(const label_selector *sel);

void label_selector_free(label_selector *sel);

#endif
