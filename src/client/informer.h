/* informer.h — client-go's shared informer: one thread per (resource, namespace, label
 * selector, field selector) lists the collection, then watches from the list's
 * resourceVersion, keeps a local cache of the objects and tells registered handlers
 * about every add, update and delete, in the order the server made them.
 *
 * Objects in the cache are immutable, refcounted jansson values shared by every reader:
 * whoever gets one (from a handler or a lookup) must never modify it; json_incref it to
 * keep it and json_decref what lookups return. See docs/design/client.md. */
#ifndef K8C_CLIENT_INFORMER_H
#define K8C_CLIENT_INFORMER_H

#include "apimachinery/labels.h"
#include "client/client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct informer informer;

/* Called from the informer's thread, one call at a time, never concurrently with another
 * handler call of the same informer. Objects are borrowed (valid for the call; json_incref
 * to keep) and read-only. Handlers should be quick — typically they queue a key in a
 * workqueue — and may call informer_get/list/by_index but not informer_add_handlers,
 * informer_stop or informer_free on the same informer. Any callback may be NULL. */
struct informer_handlers {
  void (*on_add)(void *ctx, json_t *obj);
  /* old == new (the same pointer) for a periodic resync. After a relist, every listed
   * object that was already cached is reported as an update, even if unchanged. */
  void (*on_update)(void *ctx, json_t *old_obj, json_t *new_obj);
  /* The last state the informer saw (after a relist that misses an object, the last
   * cached state: the final state may be unknown). */
  void (*on_delete)(void *ctx, json_t *obj);
  void *ctx;
  /* How often on_update(obj, obj) is replayed for every cached object: 0 = the
   * informer's default (informer_config.resync_period_ms), < 0 = never. */
  long long resync_period_ms;
};

struct informer_config {
  const char *label_selector; /* NULL = everything */
  const char *field_selector; /* NULL = everything */
  long long resync_period_ms; /* default for handlers; 0 = no resync */
};

/* Values an object is indexed under: a new reference to a JSON string, an array of
 * strings, or NULL (not indexed). Must be a pure function of obj. */
typedef json_t *(*informer_index_fn)(void *ctx, json_t *obj);

/* A new, stopped informer. client and res must outlive it; cfg (may be NULL) and ns are
 * copied; ns "" = all namespaces (or cluster-scoped). Free with informer_free. */
informer *informer_new(k8c_client *client, const struct api_resource *res, const char *ns,
                       const struct informer_config *cfg);

/* Registers handlers (copied). If the informer already holds objects, the new handlers
 * first get on_add for each of them (as client-go does). Thread-safe. */
void informer_add_handlers(informer *inf, const struct informer_handlers *h);

/* Removes every handler registered with this ctx. When it returns, none of them is
 * running or will run again (so ctx may be freed). For components that stop while the
 * informer, shared with others, keeps running. Not from a handler of this informer. */
void informer_remove_handlers(informer *inf, const void *ctx);

/* Adds a named index; existing objects are indexed at once. 0 as well if the same index
 * (same function and ctx, or informer_index_by_path with the same path) exists already;
 * -1 if the name is taken by another. */
int informer_add_index(informer *inf, const char *name, informer_index_fn fn, void *ctx);
/* An index function whose ctx is a dotted path of object fields ("spec.nodeName");
 * indexes the string found there. */
json_t *informer_index_by_path(void *path, json_t *obj);

/* Starts the informer's thread (once; a stopped informer stays stopped). -1 with err
 * if the thread cannot start. */
int informer_start(informer *inf, k8c_err *err);
/* Waits up to timeout_ms (-1 = forever) until the first list has been applied and its
 * handlers called. Returns true when synced, false on timeout or if stopped. */
bool informer_wait_synced(informer *inf, int timeout_ms);
bool informer_has_synced(informer *inf);

/* The cached object under key ("ns/name", or "name" if cluster-scoped): a new reference
 * (json_decref it; never modify it), or NULL. */
json_t *informer_get(informer *inf, const char *key);
/* Every cached object, sorted by key: *objs is a new array of new references; release
 * it with informer_objs_free(*objs, *n). */
void informer_list(informer *inf, json_t ***objs, size_t *n);
/* Only the objects whose labels match sel (NULL matches all). */
void informer_list_matching(informer *inf, const label_selector *sel, json_t ***objs, size_t *n);
/* As informer_list_matching with a selector string; -1 with a 400 if it does not parse. */
int informer_list_selected(informer *inf, const char *selector, json_t ***objs, size_t *n,
                           k8c_err *err);
/* The objects an index maps value to, sorted by key. -1 (404) if there is no such index. */
int informer_by_index(informer *inf, const char *index_name, const char *value, json_t ***objs,
                      size_t *n, k8c_err *err);
void informer_objs_free(json_t **objs, size_t n);

/* The resourceVersion of the last list or event applied (caller frees), or NULL. */
char *informer_last_resource_version(informer *inf);
/* How many times the informer has listed the collection (1 after the first sync;
 * more after relists). */
unsigned informer_list_count(informer *inf);

/* Stops the thread (waking it from a watch) and waits for it; the cache stays readable.
 * Idempotent. */
void informer_stop(informer *inf);
/* Stops the informer and frees it with its cache. */
void informer_free(informer *inf);

/* ---------- a set of shared informers ---------- */

/* Hands out one informer per (resource, namespace, label selector, field selector), so
 * controllers watching the same collection share one list+watch and one cache (client-go's
 * SharedInformerFactory). Not for use from handlers. */
typedef struct informer_factory informer_factory;

/* client must outlive the factory. default_resync_ms: the informers' resync default. */
informer_factory *informer_factory_new(k8c_client *client, long long default_resync_ms);
/* The shared informer for this collection (borrowed; the factory owns it), created on
 * first request and started at once if the factory has been started. Selectors may be
 * NULL. */
informer *informer_factory_get(informer_factory *f, const struct api_resource *res, const char *ns,
                               const char *label_sel, const char *field_sel);
/* Starts every informer not yet started (and those requested later). */
int informer_factory_start(informer_factory *f, k8c_err *err);
/* Waits until every started informer has synced; false on timeout. */
bool informer_factory_wait_synced(informer_factory *f, int timeout_ms);
/* Stops and frees every informer. */
/* Stops every informer of the factory (no handler runs after it returns). */
void informer_factory_stop(informer_factory *f);
void informer_factory_free(informer_factory *f);

#endif
