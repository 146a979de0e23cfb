/* fuzz_merge_patch.c — libFuzzer target: JSON merge patch apply and create over
 * arbitrary document/patch pairs (document JSON, newline, patch JSON). */
#include <stdlib.h>

#include "apimachinery/patch/mergepatch.h"
#include "fuzz_split.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *doc, *patch;
  if (fuzz_split_json(data, size, &doc, &patch) < 0)
    return 0;
  json_t *doc_before = json_deep_copy(doc), *patch_before = json_deep_copy(patch);
  k8c_err err = {0};
  json_t *out = merge_patch_apply(doc, patch, &err);
  if (out == NULL && err.status != 400)
    abort();
  if (!json_equal(doc, doc_before) || !json_equal(patch, patch_before))
    abort();
  json_t *diff = merge_patch_create(doc, out);
  if (diff != NULL && (!json_is_object(doc) || !json_is_object(out)))
    abort();
  json_decref(diff);
  json_decref(out);
  k8c_err_clear(&err);
  json_decref(doc_before);
  json_decref(patch_before);
  json_decref(doc);
  json_decref(patch);
  return 0;
}
