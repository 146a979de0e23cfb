/* parsed_cache.h — a small, bounded cache of parsed objects the registry has just
 * written, so that the next write of the same object (a pod's binding right after its
 * creation, its status right after the binding) and the in-process watchers of the change
 * can start from the jansson tree instead of parsing the stored text again.
 *
 * An entry is (key, resourceVersion) → tree. Trees are IMMUTABLE once put: they are shared
 * by reference count (jansson >= 2.11 counts atomically) across threads; nobody may
 * modify a tree from the cache or anything inside it. To change one, copy the levels you
 * change (json_copy) and share the rest. Bounded by entry count and by the stored text
 * bytes the trees stand for; the oldest entries go first. Thread-safe. */
#ifndef K8C_REGISTRY_PARSED_CACHE_H
#define K8C_REGISTRY_PARSED_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct parsed_cache parsed_cache;

/* A cache holding at most max_entries trees standing for at most max_text_bytes of stored
 * JSON text (a jansson tree takes about 12 times its compact text). Free with
 * parsed_cache_free. */
parsed_cache *parsed_cache_new(size_t max_entries, size_t max_text_bytes);
void parsed_cache_free(parsed_cache *pc);

/* Records tree (exactly what parsing key's stored text at rev gives, resourceVersion
 * included) as key's object at rev, taking a new reference: from now on tree must never
 * change. text_len is the length of that text (the bound's unit). Replaces the entry of
 * an older rev of key; ignored if the cache has a newer one or the text alone exceeds
 * the byte bound. Evicts the oldest entries beyond the bounds. */
void parsed_cache_put(parsed_cache *pc, const char *key, int64_t rev, json_t *tree,
                      size_t text_len);

/* The tree of key at exactly rev: a new reference to an immutable tree (json_decref it),
 * or NULL if the cache has none (or only another revision). */
json_t *parsed_cache_get(parsed_cache *pc, const char *key, int64_t rev);

/* Drops key's entry, if any. */
void parsed_cache_forget(parsed_cache *pc, const char *key);

struct parsed_cache_stats {
  size_t entries, text_bytes;
  uint64_t hits, misses;
};
void parsed_cache_stats(parsed_cache *pc, struct parsed_cache_stats *out);

#endif
