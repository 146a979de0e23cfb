/* fuzz_json_decode.c — libFuzzer target: jansson decoding of arbitrary bytes the way
 * the apiserver reads bodies (duplicates rejected, any value), then the decoded value
 * as a merge patch onto a fixed object. */
#include <stdint.h>
#include <stdlib.h>

#include "apimachinery/patch/mergepatch.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_error_t jerr;
  json_t *value =
      json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (value == NULL)
    return 0;
  json_t *base = json_pack("{s:s,s:{s:s,s:{s:s}},s:{s:i,s:[s,s]}}", "kind", "ConfigMap", "metadata",
                           "name", "x", "labels", "app", "web", "data", "n", 1, "l", "a", "b");
  k8c_err err = {0};
  json_t *out = merge_patch_apply(base, value, &err);
  if (out != NULL) {
    char *text = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
    free(text);
  }
  json_decref(out);
  k8c_err_clear(&err);
  json_decref(base);
  json_decref(value);
  return 0;
}
