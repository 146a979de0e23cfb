/* cache_obj.h — the immutable, refcounted objects and watch events the watch cache
 * hands out. An object is serialized once, with metadata.resourceVersion set, and then
 * shared by every list, get and watcher that needs it, across threads. */
#ifndef K8C_STORAGE_WATCHCACHE_CACHE_OBJ_H
#define K8C_STORAGE_WATCHCACHE_CACHE_OBJ_H

#include "lib/err.h"
#include "storage/watchcache/string_map.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Given an object, returns new references to its metadata.labels (or NULL) and to an
 * object of selectable field values (e.g. {"metadata.name":"x"}), or NULL. */
typedef void (*watchcache_indexer)(void *ctx, const char *key, const json_t *obj,
                                   json_t **labels_out, json_t **fields_out);

/* Every field is read-only once the object is published. labels and fields are kept
 * as compact string maps (the indexer's JSON is converted), readable from any thread. */
typedef struct cache_obj {
  atomic_int refs;
  int64_t rev;        /* its resourceVersion */
  int64_t create_rev; /* storage create revision of the key */
  char *json;         /* compact JSON, NUL-terminated, resourceVersion set to rev */
  size_t len;
  string_map *labels; /* NULL if none */
  string_map *fields; /* NULL if the indexer gave none */
  char key[];         /* in the same allocation: one block less per cached object */
} cache_obj;

enum watch_event_type { WATCH_ADDED = 1, WATCH_MODIFIED = 2, WATCH_DELETED = 3 };

typedef struct watch_event {
  atomic_int refs;
  enum watch_event_type type;
  cache_obj *obj; /* referenced by the event */
  int64_t rev;    /* revision of the change (the initial state's rev for synthetic ADDED) */
} watch_event;

/* Parses a stored value, sets metadata.resourceVersion to rev, serializes it compactly
 * (key order kept) and indexes it. Returns a new object with one reference, or NULL
 * (400) if value is not a JSON object. indexer may be NULL; the index maps share their
 * key lists through shapes (may be NULL). */
cache_obj *cache_obj_new(const char *key, const char *value, size_t len, int64_t rev,
                         int64_t create_rev, watchcache_indexer indexer, void *indexer_ctx,
                         string_map_shapes *shapes, k8c_err *err);

/* A copy of o whose resourceVersion is rev (for DELETED events). One new reference;
 * NULL if o's JSON cannot be re-read (never for objects made by cache_obj_new). */
/* Indexes a value before it is written (outside the store's serial section): `parsed` is
 * the value as an object if the caller has it (it must encode to exactly `value`), else
 * NULL and the value is parsed. The result has no text or revision until
 * cache_obj_finish. Caller owns it. */
cache_obj *cache_obj_prepare(const char *key, const char *value, size_t len, const json_t *parsed,
                             watchcache_indexer indexer, void *indexer_ctx,
                             string_map_shapes *shapes, k8c_err *err);
/* The cached object for value at rev, reusing prepared's index (no parse). NULL if the
 * text cannot take a resourceVersion. */
cache_obj *cache_obj_finish(const cache_obj *prepared, const char *value, size_t len, int64_t rev,
                            int64_t create_rev);

cache_obj *cache_obj_with_revision(const cache_obj *o, int64_t rev);

/* Adds a reference and returns o. */
cache_obj *cache_obj_ref(cache_obj *o);
/* Drops a reference; frees the object with the last one. NULL is fine. */
void cache_obj_unref(cache_obj *o);
/* Unrefs count objects and frees the array (as returned by watchcache_list). */
void cache_obj_array_free(cache_obj **objs, size_t count);

static inline const char *
cache_obj_key(const cache_obj *o)
{
  return o->key;
}
static inline int64_t
cache_obj_revision(const cache_obj *o)
{
  return o->rev;
}
static inline const char *
cache_obj_json(const cache_obj *o, size_t *len)
{
  if (len)
    *len = o->len;
  return o->json;
}
static inline const string_map *
cache_obj_labels(const cache_obj *o)
{
  return o->labels;
}
static inline const string_map *
cache_obj_fields(const cache_obj *o)
{
  return o->fields;
}

/* A new event holding a new reference to obj; one reference to the event. */
watch_event *watch_event_new(enum watch_event_type type, cache_obj *obj, int64_t rev);
watch_event *watch_event_ref(watch_event *ev);
void watch_event_unref(watch_event *ev);
/* "ADDED", "MODIFIED", "DELETED". */
const char *watch_event_type_name(enum watch_event_type type);

#endif
