/* json_encode.h — compact JSON text of a jansson value, byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) writes, several times faster: the
 * store serializes every written object and the API answers with the same encoding. */
#ifndef K8C_APIMACHINERY_JSON_ENCODE_H
#define K8C_APIMACHINERY_JSON_ENCODE_H

#include <jansson.h>
#include <stddef.h>

/* The compact text of v (any JSON value), NUL-terminated, its length in *len (may be
 * NULL). The caller frees it. NULL where json_dumps fails too (a string that is not
 * valid UTF-8, a NaN or infinite real). */
char *json_encode_compact(const json_t *v, size_t *len);

#endif
