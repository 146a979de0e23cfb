/* strategicpatch_internal.h — what the map half (strategicpatch.c) and the list half
 * (strategicpatch_list.c) of strategic merge patch share. Not for other callers.
 *
 * Values are jansson nodes of private copies of document and patch: functions may
 * change their arguments in place and return a new reference to the result. */
#ifndef K8C_APIMACHINERY_PATCH_STRATEGICPATCH_INTERNAL_H
#define K8C_APIMACHINERY_PATCH_STRATEGICPATCH_INTERNAL_H

#include <stdbool.h>

#include "apimachinery/patch/strategicpatch.h"

#define SMP_DIRECTIVE "$patch"
#define SMP_RETAIN_KEYS "$retainKeys"
#define SMP_SET_ELEMENT_ORDER "$setElementOrder"
#define SMP_DELETE_FROM_PRIMITIVE_LIST "$deleteFromPrimitiveList"

/* One run of a patch: the metadata source and where errors go. */
struct smp_run {
  const struct smp_schema *schema;
  k8c_err *err;
};

/* The type a value is being patched as: a struct definition, the values of a map
 * field, or nothing known. */
struct smp_ctx {
  const char *definition;            /* struct definition or NULL */
  const struct schema_field *map_of; /* when inside a map: the map field */
};

/* What the schema says about one field of a context. */
struct smp_field_meta {
  bool merge;             /* patchStrategy contains "merge" */
  bool replace;           /* patchStrategy is "replace" */
  const char *merge_key;  /* patchMergeKey or NULL */
  struct smp_ctx value;   /* context for an object value */
  struct smp_ctx element; /* context for the elements of a list value */
};

struct smp_field_meta smp_lookup(const struct smp_run *run, struct smp_ctx ctx, const char *key,
                                 size_t key_len);

/* Element kinds as upstream distinguishes them (Go types after decoding). */
enum smp_elem_kind { SMP_ELEM_MAP, SMP_ELEM_SCALAR };

/* Error helpers, each returning -1: upstream's 400s, its generic 422, and the plain
 * errors upstream surfaces as 500 without a reason. */
int smp_bad_request(const struct smp_run *run, const char *message);
int smp_unprocessable(const struct smp_run *run);
int smp_plain_error(const struct smp_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Compact JSON of v, cut to a readable length, for messages. Caller frees. */
char *smp_describe(const json_t *v);

/* Go's == on decoded JSON values: scalars by type and value; absent and null are the
 * same nil; objects and arrays never compare equal. */
bool smp_go_equal(const json_t *a, const json_t *b);

/* Merges patch (object) into original (object or NULL). */
json_t *smp_merge_map(const struct smp_run *run, json_t *original, json_t *patch,
                      struct smp_ctx ctx);

/* Merges two lists of a field with the merge strategy. */
json_t *smp_merge_list(const struct smp_run *run, json_t *original, json_t *patch,
                       struct smp_ctx element, const char *merge_key, bool is_delete_list);

/* The common element kind of the lists a and b (either may be NULL). */
int smp_element_kind(const struct smp_run *run, const json_t *a, const json_t *b,
                     enum smp_elem_kind *kind);

/* Splits `list` into the items present in `by` and the rest (both new arrays). */
int smp_partition(const struct smp_run *run, const json_t *list, const json_t *by,
                  const char *merge_key, json_t **present, json_t **absent);

/* Orders patch items by patch_order, server-only items by server_order, and
 * interleaves them (upstream's normalizeElementOrder). New reference. */
json_t *smp_normalize_order(const struct smp_run *run, json_t *patch_items, json_t *server_only,
                            const json_t *patch_order, const json_t *server_order,
                            const char *merge_key, enum smp_elem_kind kind);

/* Index of the object in list whose merge_key equals value, -1 if none; -2 (error
 * filled) when a non-object is met first. */
long smp_find_by_key(const struct smp_run *run, const json_t *list, const char *merge_key,
                     const json_t *value);

#endif
