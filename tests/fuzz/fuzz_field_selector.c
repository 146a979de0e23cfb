/* fuzz_field_selector.c — field selector parser on arbitrary text: parse, print, re-parse
 * the canonical form (it must print the same), match and query, free. */
#include "apimachinery/fields.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xstrndup((const char *)data, size);
  k8c_err err = {0};
  field_selector *sel = field_selector_parse(text, &err);
  if (sel != NULL) {
    char *canonical = field_selector_to_string(sel);
    field_selector *again = field_selector_parse(canonical, &err);
    if (again == NULL)
      abort();
    char *twice = field_selector_to_string(again);
    if (strcmp(canonical, twice) != 0)
      abort();
    json_t *fields = json_pack("{s:s}", "metadata.name", "x");
    (void)field_selector_matches(sel, fields);
    (void)field_selector_exact_value(sel, "metadata.name");
    static const char *const supported[] = {"spec.nodeName", NULL};
    (void)field_selector_check_supported(sel, supported, "Pod", &err);
    json_decref(fields);
    free(twice);
    free(canonical);
    field_selector_free(again);
    field_selector_free(sel);
  }
  k8c_err_clear(&err);
  free(text);
  return 0;
}
