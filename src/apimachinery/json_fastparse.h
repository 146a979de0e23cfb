/* json_fastparse.h — a fast path for decoding request bodies into jansson values.
 * jansson's parser reads a byte at a time through a stream and hashes every key twice
 * when duplicates are rejected (about 95k instructions for a 600-byte pod). This parser
 * accepts only a plain subset of JSON and answers NULL for anything else, so a caller
 * falls back to json_loadb, which then gives the value or the error text; whatever it
 * accepts, json_loadb(JSON_REJECT_DUPLICATES) would have decoded to the same tree, with
 * members in the same order. */
#ifndef K8C_APIMACHINERY_JSON_FASTPARSE_H
#define K8C_APIMACHINERY_JSON_FASTPARSE_H

#include <jansson.h>
#include <stddef.h>

/* The object or array in text[0..len), or NULL when text is not in the subset: a value
 * other than an object or array at the top, a string with a byte outside printable
 * ASCII or a \u escape, a number with a fraction, exponent or more than 18 digits, a
 * duplicate key, nesting deeper than 256, anything malformed. The caller owns the
 * result. */
json_t *json_fastparse(const char *text, size_t len);

#endif
