/* fuzz_quantity.c — resource.Quantity parser on arbitrary text: parse, format, re-parse
 * the canonical form (it must parse to the same value, and printing settles after one
 * round: like upstream, a binary value that is no multiple of 1024 reprints in decimal), scaled
 * values. */
#include "apimachinery/quantity.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xstrndup((const char *)data, size);
  k8c_err err = {0};
  quantity q;
  if (quantity_parse(text, &q, &err) == 0) {
    char *canonical = quantity_format(&q);
    quantity again;
    if (quantity_parse(canonical, &again, &err) < 0)
      abort();
    if (quantity_cmp(&q, &again) != 0)
      abort();
    char *twice = quantity_format(&again);
    quantity third;
    if (quantity_parse(twice, &third, &err) < 0 || quantity_cmp(&q, &third) != 0)
      abort();
    char *thrice = quantity_format(&third);
    if (strcmp(twice, thrice) != 0)
      abort();
    free(thrice);
    (void)quantity_milli_value(&q);
    (void)quantity_value(&q);
    free(twice);
    free(canonical);
  }
  k8c_err_clear(&err);
  free(text);
  return 0;
}
