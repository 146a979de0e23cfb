/* rv_splice.h — sets metadata.resourceVersion in a compact JSON object's text without
 * parsing and re-encoding it: the watch cache's hot path, since every write needs the
 * stored text with its new resourceVersion. */
#ifndef K8C_STORAGE_WATCHCACHE_RV_SPLICE_H
#define K8C_STORAGE_WATCHCACHE_RV_SPLICE_H

#include <stddef.h>
#include <stdint.h>

/* Returns a new NUL-terminated copy of json (an object) whose top-level "metadata" object
 * has "resourceVersion":"<rev>" (replacing an existing string value, or inserted first).
 * NULL if the text has no top-level metadata object, is not well-formed enough to tell,
 * or has an escape sequence in a key of the top level or of metadata (the caller then
 * falls back to parsing). Caller frees. */
char *rv_splice(const char *json, size_t len, int64_t rev, size_t *out_len);

#endif
