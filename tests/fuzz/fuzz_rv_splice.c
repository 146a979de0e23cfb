/* fuzz_rv_splice.c — resourceVersion splicing never reads out of bounds, and whenever the
 * input is a JSON object its output is too, with the revision in metadata; rv_splice_find +
 * rv_splice_at always give the same bytes as rv_splice. */
#include "storage/watchcache/rv_splice.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  size_t len = 0;
  char *out = rv_splice((const char *)data, size, 12345, &len);
  /* The two-step form finds the same point and writes the same bytes. */
  struct rv_splice_point point;
  bool found = rv_splice_find((const char *)data, size, &point);
  if (found != (out != NULL))
    abort();
  if (found) {
    size_t at_len = 0;
    char *at = rv_splice_at((const char *)data, size, &point, 12345, &at_len);
    if (at == NULL || at_len != len || memcmp(at, out, len) != 0)
      abort();
    free(at);
  }
  if (out == NULL)
    return 0;
  json_error_t jerr;
  /* Stored values never repeat a key (jansson writes them); only those are checked. */
  json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (json_is_object(in)) {
    json_t *got = json_loadb(out, len, 0, &jerr);
    if (got == NULL)
      abort();
    const char *rv =
        json_string_value(json_object_get(json_object_get(got, "metadata"), "resourceVersion"));
    if (rv == NULL || strcmp(rv, "12345") != 0)
      abort();
    json_decref(got);
  }
  json_decref(in);
  free(out);
  return 0;
}
