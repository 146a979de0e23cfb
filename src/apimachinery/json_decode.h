/* json_decode.h — a fast reader for JSON text into jansson values, for the text the
 * store keeps (compact, valid). It builds what json_loadb(text, len, 0) builds; on
 * anything unusual (bad syntax, an integer out of range, NUL in a string, deep nesting)
 * it hands the whole text to json_loadb, so results and errors stay jansson's. */
#ifndef K8C_APIMACHINERY_JSON_DECODE_H
#define K8C_APIMACHINERY_JSON_DECODE_H

#include <jansson.h>
#include <stddef.h>

/* The object or array in text[0..len), or NULL with *error filled (error may be NULL)
 * as json_loadb fills it. The caller owns the result. */
json_t *json_decode(const char *text, size_t len, json_error_t *error);

#endif
