/* fuzz_label_selector.c — label selector parser on arbitrary text: parse, print the
 * canonical form, re-parse it (it must parse to the same form), match, free. */
#include "apimachinery/labels.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xstrndup((const char *)data, size);
  k8c_err err = {0};
  label_selector *sel = label_selector_parse(text, &err);
  if (sel != NULL) {
    char *canonical = label_selector_to_string(sel);
    label_selector *again = label_selector_parse(canonical, &err);
    if (again == NULL)
      abort(); /* the canonical form must always parse */
    char *twice = label_selector_to_string(again);
    if (strcmp(canonical, twice) != 0)
      abort();
    json_t *labels = json_pack("{s:s,s:s}", "a", "b", "n", "5");
    (void)label_selector_matches(sel, labels);
    json_decref(labels);
    free(twice);
    free(canonical);
    label_selector_free(again);
    label_selector_free(sel);
  }
  k8c_err_clear(&err);
  free(text);
  return 0;
}
