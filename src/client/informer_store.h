/* informer_store.h — the informer's thread-safe local cache (client-go's ThreadSafeStore
 * with its Indexer): key → immutable json_t, plus named secondary indexes kept up to date
 * on every change. Readers share the objects by reference; a read-write lock lets many
 * lookups run while the informer thread is not writing. Internal to src/client/. */
#ifndef K8C_CLIENT_INFORMER_STORE_H
#define K8C_CLIENT_INFORMER_STORE_H

#include "apimachinery/labels.h"
#include "client/informer.h"
#include "lib/err.h"

#include <jansson.h>
#include <stddef.h>

typedef struct informer_store informer_store;

informer_store *informer_store_new(void);
void informer_store_free(informer_store *s);

/* Stores obj (adding a reference) under key. Returns the object it replaces (the
 * store's reference passes to the caller) or NULL. */
json_t *informer_store_put(informer_store *s, const char *key, json_t *obj);
/* Removes key; returns its object (reference passes to the caller) or NULL. */
json_t *informer_store_remove(informer_store *s, const char *key);
/* A new reference to the object under key, or NULL. */
json_t *informer_store_get(informer_store *s, const char *key);
/* New references to every object whose labels match sel (NULL = all), sorted by key;
 * free with informer_objs_free. */
void informer_store_list(informer_store *s, const label_selector *sel, json_t ***objs, size_t *n);
/* Every key (copies, in no order); free each and the array. */
void informer_store_keys(informer_store *s, char ***keys, size_t *n);

int informer_store_add_index(informer_store *s, const char *name, informer_index_fn fn, void *ctx);
int informer_store_by_index(informer_store *s, const char *name, const char *value, json_t ***objs,
                            size_t *n, k8c_err *err);

#endif
