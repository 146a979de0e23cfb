/* fuzz_yaml.c — YAML decoder on arbitrary bytes; whatever decodes must serialize back to
 * YAML that decodes to the same JSON. */
#include "apimachinery/yaml.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xstrndup((const char *)data, size);
  k8c_err err = {0};
  json_t *j = yaml_to_json(text, strlen(text), &err);
  if (j != NULL) {
    size_t len;
    char *out = json_to_yaml(j, &len);
    if (out == NULL)
      abort();
    json_t *back = yaml_to_json(out, len, &err);
    if (back == NULL || !json_equal(back, j))
      abort();
    json_decref(back);
    free(out);
    json_decref(j);
  }
  k8c_err_clear(&err);
  free(text);
  return 0;
}
