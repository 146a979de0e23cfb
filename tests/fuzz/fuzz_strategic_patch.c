/* fuzz_strategic_patch.c — libFuzzer target: strategic merge patch against a
 * Deployment's schema from the generated table (document JSON, newline, patch JSON). */
#include <stdlib.h>

#include "apimachinery/patch/strategicpatch.h"
#include "fuzz_split.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *doc, *patch;
  if (fuzz_split_json(data, size, &doc, &patch) < 0)
    return 0;
  json_t *doc_before = json_deep_copy(doc), *patch_before = json_deep_copy(patch);
  k8c_err err = {0};
  json_t *out = strategic_merge_patch_apply(doc, patch, "io.k8s.api.apps.v1.Deployment", &err);
  if (out == NULL && err.status == 0)
    abort();
  if (!json_equal(doc, doc_before) || !json_equal(patch, patch_before))
    abort();
  json_decref(out);
  k8c_err_clear(&err);
  json_decref(doc_before);
  json_decref(patch_before);
  json_decref(doc);
  json_decref(patch);
  return 0;
}
