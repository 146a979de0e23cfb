/* string_map.h — a compact, immutable, refcounted map of strings to strings: what the
 * watch cache keeps of each object for selectors (its labels, its selectable fields).
 * One allocation holds the values and the key list is shared by every map with the same
 * keys (string_map_shapes), so a pod's index costs about a hundred bytes where the same
 * map as jansson objects costs well over a kilobyte. Lookups scan the (few) entries. */
#ifndef K8C_STORAGE_WATCHCACHE_STRING_MAP_H
#define K8C_STORAGE_WATCHCACHE_STRING_MAP_H

#include <jansson.h>
#include <stddef.h>

typedef struct string_map string_map;

/* The string members of obj (others are skipped); NULL if obj is not an object or has no
 * string member. One reference for the caller. */
string_map *string_map_from_json(const json_t *obj);

/* The key lists of many maps, each stored once: the maps of one kind of object (every
 * pod's selectable fields, every event's) have the same keys in the same order, so a
 * map made through this set holds only its values and a reference to the shared list.
 * Thread-safe. Lists that no map uses any more are dropped as the set grows. */
typedef struct string_map_shapes string_map_shapes;

string_map_shapes *string_map_shapes_new(void);
/* Maps made through the set stay valid: each holds its own reference to its key list. */
void string_map_shapes_free(string_map_shapes *shapes);
/* Key lists in the set (for tests). */
size_t string_map_shapes_count(string_map_shapes *shapes);

/* As string_map_from_json, with the key list taken from (or added to) shapes. */
string_map *string_map_from_json_shared(const json_t *obj, string_map_shapes *shapes);

/* The value of key, or NULL; map may be NULL. Valid while the caller holds a reference. */
const char *string_map_get(const string_map *map, const char *key);

/* The value of key for selector matching: the same as string_map_get, with map passed as
 * the context the selector-matching functions take. */
const char *string_map_lookup(const void *map, const char *key);

size_t string_map_size(const string_map *map);

/* Adds a reference (map may be NULL; returns map). */
string_map *string_map_ref(string_map *map);
/* Drops a reference; frees with the last. NULL is fine. */
void string_map_unref(string_map *map);

#endif
