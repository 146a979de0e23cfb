/* fuzz_split.h — shared by the patch fuzz targets: splits an input into a document and
 * a patch at the first newline and parses both as JSON (any value). */
#ifndef K8C_FUZZ_SPLIT_H
#define K8C_FUZZ_SPLIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Returns 0 with *doc and *patch set (caller decrefs both), -1 if either fails to parse. */
static inline int
fuzz_split_json(const uint8_t *data, size_t size, json_t **doc, json_t **patch)
{
  const uint8_t *nl = memchr(data, '\n', size);
  if (nl == NULL)
    return -1;
  size_t doc_len = (size_t)(nl - data);
  *doc = json_loadb((const char *)data, doc_len, JSON_DECODE_ANY, NULL);
  if (*doc == NULL)
    return -1;
  *patch = json_loadb((const char *)nl + 1, size - doc_len - 1, JSON_DECODE_ANY, NULL);
  if (*patch == NULL) {
    json_decref(*doc);
    return -1;
  }
  return 0;
}

#endif
