/* informer_intern.h — hash-consing of the values an informer caches: equal subtrees of
 * different objects (a template's containers, tolerations, labels, condition entries,
 * the same timestamp or image string) become one shared, immutable jansson value. Pods
 * of one workload differ in a few fields, so a parsed pod (~17 KB of jansson values)
 * shrinks to the parts that are its own. Values are compared bottom-up: once children
 * are canonical, two containers are equal when their keys and child pointers are.
 *
 * Not thread-safe: one table per informer, used only by its thread. Entries are weak in
 * effect: informer_intern_sweep keeps only values shared by several holders (and what is
 * inside them), so the table indexes the common parts, not every member of every object. */
#ifndef K8C_CLIENT_INFORMER_INTERN_H
#define K8C_CLIENT_INFORMER_INTERN_H

#include <jansson.h>
#include <stddef.h>

typedef struct informer_intern informer_intern;

informer_intern *informer_intern_new(void);
/* Releases the table's references (the values live on while others hold them). */
void informer_intern_free(informer_intern *t);

/* Replaces, in place, every member and element below obj (an object or array that
 * nobody else holds yet) by its canonical equal value; obj itself is not entered in the
 * table. Afterwards obj and everything in it must be treated as immutable. */
void informer_intern_children(informer_intern *t, json_t *obj);

/* Drops the table's entries that only the table, or the table and one other reference,
 * hold — unless they are inside a value with more references; returns how many
 * entries remain. Called by informer_intern_children itself when the table has grown. */
size_t informer_intern_sweep(informer_intern *t);

/* Entries in the table (for tests). */
size_t informer_intern_count(const informer_intern *t);

#endif
