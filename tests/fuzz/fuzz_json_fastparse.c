/* fuzz_json_fastparse.c — libFuzzer target: the fast body parser against jansson on
 * arbitrary bytes. Whatever the fast parser accepts, json_loadb must decode to the same
 * tree with members in the same order; anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apimachinery/json_fastparse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *fast = json_fastparse((const char *)data, size);
  if (fast == NULL)
    return 0;
  json_error_t jerr;
  json_t *slow = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (slow == NULL || !json_equal(fast, slow))
    abort();
  char *a = json_dumps(fast, JSON_COMPACT);
  char *b = json_dumps(slow, JSON_COMPACT);
  if (a == NULL || b == NULL || strcmp(a, b) != 0)
    abort();
  free(a);
  free(b);
  json_decref(fast);
  json_decref(slow);
  return 0;
}
