/* rv_splice.h — sets metadata.resourceVersion in a compact JSON object's text without
 * parsing and re-encoding it: the watch cache's hot path, since every write needs the
 * stored text with its new resourceVersion. */
#ifndef K8C_STORAGE_WATCHCACHE_RV_SPLICE_H
#define K8C_STORAGE_WATCHCACHE_RV_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns a new NUL-terminated copy of json (an object) whose top-level "metadata" object
 * has "resourceVersion":"<rev>" (replacing an existing string value, or inserted first).
 * NULL if the text has no top-level metadata object, is not well-formed enough to tell,
 * or has an escape sequence in a key of the top level or of metadata (the caller then
 * falls back to parsing). Caller frees. */
char *rv_splice(const char *json, size_t len, int64_t rev, size_t *out_len);

/* Where a text's revision goes, found once so the splice itself is a copy: the writer can
 * find it while preparing a value and leave only rv_splice_at to the serial commit. */
struct rv_splice_point {
  size_t len;  /* length of the text the point was found in */
  size_t from; /* first byte replaced (the old value's opening quote) or the insertion point */
  size_t to;   /* end of the replaced bytes (== from when inserting) */
  bool insert; /* insert a "resourceVersion" member at from, else replace the string value */
  bool comma;  /* the inserted member is followed by others */
};

/* Finds where rv_splice puts the revision; false exactly when rv_splice returns NULL. */
bool rv_splice_find(const char *json, size_t len, struct rv_splice_point *point);

/* rv_splice with a point rv_splice_find gave for these same bytes (only the length is
 * checked: NULL if it differs). Caller frees. */
char *rv_splice_at(const char *json, size_t len, const struct rv_splice_point *point, int64_t rev,
                   size_t *out_len);

#endif
