/* fuzz_store_decode.c — libFuzzer target: json_decode (the store's reader) against
 * json_loadb on arbitrary bytes: both fail, or both build the same value with the same
 * member order. Aborts on any difference. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apimachinery/json_decode.h"
#include "apimachinery/json_encode.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_error_t e1, e2;
  json_t *want = json_loadb((const char *)data, size, 0, &e1);
  json_t *got = json_decode((const char *)data, size, &e2);
  if ((want == NULL) != (got == NULL))
    abort();
  if (want != NULL) {
    if (!json_equal(want, got))
      abort();
    char *a = json_encode_compact(want, NULL);
    char *b = json_encode_compact(got, NULL);
    if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
      abort();
    free(a);
    free(b);
  }
  json_decref(want);
  json_decref(got);
  return 0;
}
