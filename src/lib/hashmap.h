/* hashmap.h — a string-keyed hash map with open addressing (linear probing).
 *
 * Knows nothing about what it stores: values are opaque pointers the caller owns.
 * Deletion shifts later entries back instead of leaving tombstones, so lookups stay
 * short however many keys come and go. Not thread-safe; the owner locks. */
#ifndef K8C_LIB_HASHMAP_H
#define K8C_LIB_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hashmap hashmap;

/* Position of an iteration; start with `hashmap_iter it = {0};`. */
typedef struct hashmap_iter {
  size_t next_slot;
} hashmap_iter;

/* Returns a new empty map (never NULL). */
hashmap *hashmap_new(void);

/* Frees the map and its key copies; calls free_value (if not NULL) on every value. */
void hashmap_free(hashmap *m, void (*free_value)(void *value));

/* Returns the value stored under key, or NULL. */
void *hashmap_get(const hashmap *m, const char *key);

/* Stores value under key (the map keeps its own copy of key). Returns the value it
 * replaced (ownership back to the caller), or NULL if the key was new. */
void *hashmap_put(hashmap *m, const char *key, void *value);

/* Removes key; returns its value (ownership back to the caller), or NULL if absent. */
void *hashmap_remove(hashmap *m, const char *key);

size_t hashmap_count(const hashmap *m);

/* Steps through every entry in no particular order. Returns false at the end. *key
 * points into the map (valid until the entry is removed). The map must not change
 * during iteration. */
bool hashmap_next(const hashmap *m, hashmap_iter *it, const char **key, void **value);

#endif
