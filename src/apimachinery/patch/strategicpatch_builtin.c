/* strategicpatch_builtin.c — strategic merge patch against the generated schema table.
 *
 * Kept apart from strategicpatch.c so that code (and tests) using their own lookup
 * does not pull the generated table into the link. */
#include "apimachinery/patch/strategicpatch.h"

const struct smp_schema smp_schema_builtin = {.lookup = schema_field_lookup};

json_t *
strategic_merge_patch_apply(const json_t *doc, const json_t *patch, const char *definition,
                            k8c_err *err)
{
  return strategic_merge_patch_apply_with_schema(doc, patch, definition, &smp_schema_builtin, err);
}
