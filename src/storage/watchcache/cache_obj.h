/* cache_obj.h — the immutable, refcounted objects and watch events the watch cache
 * hands out. An object is serialized once, with metadata.resourceVersion set, and then
 * shared by every list, get and watcher that needs it, across threads. Its text may be
 * kept compressed while it is cold (cooler.c); readers always get the same bytes. */
#ifndef K8C_STORAGE_WATCHCACHE_CACHE_OBJ_H
#define K8C_STORAGE_WATCHCACHE_CACHE_OBJ_H

#include "lib/err.h"
#include "storage/watchcache/cache_packed.h"
#include "storage/watchcache/string_map.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Given an object, returns new references to its metadata.labels (or NULL) and to an
 * object of selectable field values (e.g. {"metadata.name":"x"}), or NULL. */
typedef void (*watchcache_indexer)(void *ctx, const char *key, const json_t *obj,
                                   json_t **labels_out, json_t **fields_out);

/* Every field but text, packed and used is read-only once the object is published.
 * labels and fields are kept as compact string maps (the indexer's JSON is converted),
 * readable from any thread.
 *
 * The text (compact JSON, NUL-terminated, resourceVersion set to rev) is always
 * reachable through cache_obj_text; it is held plainly (text), compressed (packed), or
 * both. The rules that make a borrowed text pointer safe:
 *  - packed is set at most once (by the cooler) and freed only with the object;
 *  - text goes from NULL to a buffer only by compare-and-swap (a reader re-warming a
 *    cold object), so a published buffer is never replaced while readers may hold it;
 *  - text goes back to NULL only in cache_obj_drop_text, which the watch cache calls
 *    holding its write lock and only when nobody outside the cache holds a reference
 *    to the object (or to an event of it), so no reader can hold the old pointer. */
typedef struct cache_obj {
  atomic_int refs;
  atomic_uint used;               /* cache_obj_clock() of the last text read; 0 = unseen/cooled */
  int64_t rev;                    /* its resourceVersion */
  int64_t create_rev;             /* storage create revision of the key */
  _Atomic(char *) text;           /* plain text, or NULL while cold */
  _Atomic(cache_packed *) packed; /* compressed text; NULL if never cooled (see pack_state) */
  size_t len;                     /* bytes of text (plain), whatever the form */
  string_map *labels;             /* NULL if none */
  string_map *fields;             /* NULL if the indexer gave none */
  char key[];                     /* in the same allocation: one block less per cached object */
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

/* The object's compact JSON (resourceVersion set), NUL-terminated; *len (may be NULL)
 * is its length. Borrowed: valid while the caller holds its reference to o (or to an
 * event of o). A cold object is inflated and kept plain again ("re-warmed") until the
 * cache finds it idle once more. Never NULL. Use for reads that hold on to the pointer
 * (a get's response buffer) or that are likely to repeat. */
const char *cache_obj_text(const cache_obj *o, size_t *len);

/* The same bytes for a one-off read (list items, watch stream copies) that should not
 * re-warm a cold object: if o is cold, its text is inflated into *scratch, which the
 * caller frees after use, and that is returned; else *scratch is NULL and the pointer is
 * borrowed as for cache_obj_text. The second such read of a cold object within
 * CACHE_OBJ_REWARM_SECONDS re-warms it (objects read over and over stay plain). */
const char *cache_obj_text_peek(const cache_obj *o, size_t *len, char **scratch);

enum { CACHE_OBJ_REWARM_SECONDS = 5 };

/* Coarse monotonic seconds, never 0 (the unit of cache_obj.used). */
unsigned cache_obj_clock(void);

/* ---- for the watch cache's cooler (one thread at a time per object) ---- */

/* True if o's text is currently only compressed. */
bool cache_obj_is_cold(const cache_obj *o);
/* 1 if o has a packed form, 0 if it has none yet, -1 if its text is known not to
 * compress (it then stays plain: no pass tries again). */
int cache_obj_pack_state(const cache_obj *o);
/* Compresses o's text against d unless cache_obj_pack_state says it is done or futile.
 * The caller holds a reference to o. 0 if o now has a packed form, else -1. */
int cache_obj_pack(cache_obj *o, cache_deflater *z, cache_dict *d);
/* Takes o's plain text away (o must have a packed form) and returns it for the caller to
 * free. Only under the rules above: nobody else may hold a reference that could be
 * reading it. Returns NULL if o was already cold. */
char *cache_obj_drop_text(cache_obj *o);

/* A new event holding a new reference to obj; one reference to the event. */
watch_event *watch_event_new(enum watch_event_type type, cache_obj *obj, int64_t rev);
watch_event *watch_event_ref(watch_event *ev);
void watch_event_unref(watch_event *ev);
/* "ADDED", "MODIFIED", "DELETED". */
const char *watch_event_type_name(enum watch_event_type type);

#endif
