/* skiplist.h — a string-keyed map kept in key order (a skip list), for range scans.
 *
 * Lookups, inserts and removals cost O(log n); iterating from any key onwards is a walk
 * along the bottom level, so "all keys with this prefix, sorted" is cheap. Values are
 * opaque pointers the caller owns. Not thread-safe; the owner locks. */
#ifndef K8C_LIB_SKIPLIST_H
#define K8C_LIB_SKIPLIST_H

#include <stddef.h>

typedef struct skiplist skiplist;
typedef struct skiplist_node skiplist_node;

/* Returns a new empty list (never NULL). */
skiplist *skiplist_new(void);

/* Frees the list and its key copies; calls free_value (if not NULL) on every value. */
void skiplist_free(skiplist *l, void (*free_value)(void *value));

/* Stores value under key (the list keeps its own copy of key). Returns the value it
 * replaced (ownership back to the caller) or NULL if the key was new. */
void *skiplist_put(skiplist *l, const char *key, void *value);

/* Removes key; returns its value (ownership back to the caller) or NULL if absent. */
void *skiplist_remove(skiplist *l, const char *key);

/* Returns the value under key, or NULL. */
void *skiplist_get(const skiplist *l, const char *key);

size_t skiplist_count(const skiplist *l);

/* The first node whose key is >= key (key NULL = the very first node), or NULL.
 * Nodes stay valid until removed; the list must not change while walking. */
skiplist_node *skiplist_seek(const skiplist *l, const char *key);
skiplist_node *skiplist_node_next(const skiplist_node *n);
const char *skiplist_node_key(const skiplist_node *n);
void *skiplist_node_value(const skiplist_node *n);

#endif
