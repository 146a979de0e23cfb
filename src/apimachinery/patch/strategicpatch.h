/* strategicpatch.h — strategic merge patch (application/strategic-merge-patch+json)
 * for built-in types, as k8s.io/apimachinery/pkg/util/strategicpatch applies it.
 *
 * The one idea: the patch is a partial object whose lists merge by key instead of
 * being replaced; which lists do, and by which key, is data from the schema table
 * (patchStrategy / patchMergeKey per field), reached through a small lookup vtable so
 * tests can supply their own. */
#ifndef K8C_APIMACHINERY_PATCH_STRATEGICPATCH_H
#define K8C_APIMACHINERY_PATCH_STRATEGICPATCH_H

#include <jansson.h>

#include "api/schema.h"
#include "lib/err.h"

/* Where field metadata comes from. lookup returns the field `field` of OpenAPI
 * definition `definition`, or NULL when unknown (then that field patches like a JSON
 * merge patch: maps merge, lists are replaced). */
struct smp_schema {
  const struct schema_field *(*lookup)(const char *definition, const char *field);
};

/* The generated table of src/api/gen (schema_field_lookup). */
extern const struct smp_schema smp_schema_builtin;

/* Applies `patch` to `doc`, an object of OpenAPI definition `definition` (e.g.
 * "io.k8s.api.apps.v1.Deployment"; NULL = no schema), and returns the patched object;
 * the caller owns it. Neither input is modified. Directive keys ($patch, $retainKeys,
 * $setElementOrder/..., $deleteFromPrimitiveList/...) never appear in the result.
 * Errors, with upstream's status codes:
 *   400 BadRequest  doc or patch not an object; malformed $retainKeys,
 *                   $setElementOrder or $deleteFromPrimitiveList directives
 *   422 Invalid     lists of lists (upstream's generic 422 message)
 *   500 (no reason) other malformed patches that upstream reports as plain errors,
 *                   e.g. "map: {...} does not contain declared merge key: name",
 *                   "unknown patch type: ...", mixed element types in a list
 * A JSON null patch is an empty patch. */
json_t *strategic_merge_patch_apply(const json_t *doc, const json_t *patch, const char *definition,
                                    k8c_err *err);

/* The same, with field metadata from `schema`. */
json_t *strategic_merge_patch_apply_with_schema(const json_t *doc, const json_t *patch,
                                                const char *definition,
                                                const struct smp_schema *schema, k8c_err *err);

#endif
