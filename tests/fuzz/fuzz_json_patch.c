/* fuzz_json_patch.c — libFuzzer target: JSON Patch over arbitrary document/patch pairs
 * (input = document JSON, newline, patch JSON). Checks the inputs stay unchanged. */
#include <stdlib.h>

#include "apimachinery/patch/jsonpatch.h"
#include "fuzz_split.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *doc, *patch;
  if (fuzz_split_json(data, size, &doc, &patch) < 0)
    return 0;
  json_t *doc_before = json_deep_copy(doc);
  k8c_err err = {0};
  json_t *out = json_patch_apply(doc, patch, &err);
  if (out == NULL && err.status == 0)
    abort();
  if (!json_equal(doc, doc_before))
    abort();
  json_decref(out);
  k8c_err_clear(&err);
  json_decref(doc_before);
  json_decref(doc);
  json_decref(patch);
  return 0;
}
