/* registry.h — the one generic REST store behind every kind: decode → defaults →
 * admission → validation → storage for writes, and get/list/watch served from the
 * watch cache. Per-kind behaviour comes from strategies (strategy.h). In-process
 * clients (controllers) call these functions directly and get the same semantics as
 * HTTP clients. */
#ifndef K8C_REGISTRY_REGISTRY_H
#define K8C_REGISTRY_REGISTRY_H

#include "api/resource.h"
#include "lib/err.h"
#include "storage/storage.h"
#include "storage/watchcache/watchcache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

enum field_validation {
  FIELD_VALIDATION_STRICT = 0,
  FIELD_VALIDATION_WARN,
  FIELD_VALIDATION_IGNORE
};

/* Cluster configuration the registry needs (allocation ranges). */
struct registry_config {
  const char *service_cidr;         /* "10.43.0.0/16" */
  int node_port_min, node_port_max; /* 30000..32767 */
};

struct strategy_env {
  struct registry *reg;
};

struct registry {
  storage *store;
  watchcache *cache;
  struct registry_config cfg;
  struct strategy_env env;
  pthread_mutex_t alloc_lock; /* serializes IP and port allocation */
  /* Signs and checks ServiceAccount tokens (borrowed; NULL: serviceaccounts/token is not
   * served and no token authenticates). Set before serving. */
  struct satoken_issuer *token_issuer;
};

/* Where a request points: the resource, namespace, name and subresource. */
struct registry_target {
  const struct api_resource *res;
  const char *namespace_;  /* "" for cluster-wide */
  const char *name;        /* "" for collections */
  const char *subresource; /* "", "status", "scale", "finalize" (namespaces) */
};

struct write_opts {
  bool dry_run;
  enum field_validation field_validation;
  const char *field_manager;   /* may be NULL */
  bool force;                  /* server-side apply: take ownership on conflicts */
  json_t *warnings;            /* borrowed array; warnings are appended here (may be NULL) */
  bool body_is_scratch;        /* the caller will not use the body again: it may be modified
                                * in place instead of copied (the HTTP layer's decoded bodies) */
  bool managed_fields_applied; /* the body is a server-side apply's result, whose
                                * managedFields are final: no Update entry is recorded */
};

struct list_opts {
  const char *label_selector; /* may be NULL */
  const char *field_selector; /* may be NULL */
  const char *resource_version;
  const char *resource_version_match;
  long long limit;
  const char *continue_token;
  bool send_initial_events;
  bool allow_bookmarks;
};

/* One listed object: its JSON (with resourceVersion), held either by a cache reference
 * or by an owned copy (pages read from the store at an older revision). */
struct list_item {
  const char *json;
  size_t len;
  cache_obj *ref; /* referenced, or NULL */
  char *owned;    /* owned, or NULL */
};

struct list_result {
  struct list_item *items;
  size_t count;
  int64_t revision;
  char *continue_token; /* owned; NULL when complete */
  long long remaining;  /* -1 if unknown */
};

int registry_init(struct registry *r, storage *s, const struct registry_config *cfg, k8c_err *err);
void registry_destroy(struct registry *r);

/* Writes return the resulting object (*out, owned by the caller, with resourceVersion)
 * and the HTTP status to answer with (*status: 200, 201 or 202). Bodies are borrowed. */
int registry_create(struct registry *r, const struct registry_target *t, json_t *body,
                    const struct write_opts *o, json_t **out, int *status, k8c_err *err);
int registry_update(struct registry *r, const struct registry_target *t, json_t *body,
                    const struct write_opts *o, json_t **out, int *status, k8c_err *err);
/* content_type: application/json-patch+json, application/merge-patch+json,
 * application/strategic-merge-patch+json, application/apply-patch+yaml (body JSON). */
int registry_patch(struct registry *r, const struct registry_target *t, const char *content_type,
                   json_t *patch, const struct write_opts *o, json_t **out, int *status,
                   k8c_err *err);
/* delete_options: a DeleteOptions object or NULL. */
int registry_delete(struct registry *r, const struct registry_target *t, json_t *delete_options,
                    const struct write_opts *o, json_t **out, int *status, k8c_err *err);
int registry_delete_collection(struct registry *r, const struct registry_target *t,
                               const struct list_opts *lo, json_t *delete_options,
                               const struct write_opts *o, json_t **out, k8c_err *err);

/* pods/binding: assigns an unbound pod to binding.target.name (a Node), setting
 * spec.nodeName and PodScheduled=True. 409 if already bound or terminating. As upstream,
 * managedFields stay as they are (field_manager is not recorded). */
int registry_bind_pod(struct registry *r, const char *ns, const char *name, const json_t *binding,
                      const char *field_manager, k8c_err *err);

/* namespaces/finalize: sets the namespace's spec.finalizers to body's (a Namespace; the
 * rest of body is ignored); a terminating namespace left without finalizers is deleted.
 * registry_update routes subresource "finalize" of namespaces here. *out as for writes. */
int registry_finalize_namespace(struct registry *r, const char *name, const json_t *body,
                                const struct write_opts *o, json_t **out, k8c_err *err);

/* Reads: the object from the cache (referenced; cache_obj_unref it). */
int registry_get(struct registry *r, const struct registry_target *t, cache_obj **out,
                 k8c_err *err);
/* For subresources (scale): a freshly built object. */
int registry_get_json(struct registry *r, const struct registry_target *t, json_t **out,
                      k8c_err *err);
int registry_list(struct registry *r, const struct registry_target *t, const struct list_opts *lo,
                  struct list_result *out, k8c_err *err);
void list_result_free(struct list_result *l);
/* A watch on a collection with the list options' selectors and resourceVersion
 * (""/"0": initial ADDED events for what exists, then changes; N: changes after N). */
typedef struct registry_watcher registry_watcher;
registry_watcher *registry_watch(struct registry *r, const struct registry_target *t,
                                 const struct list_opts *lo, k8c_err *err);
/* 1: *ev is a referenced event; 0: timeout; -1: the watch ended (closed or too slow). */
int registry_watcher_next(registry_watcher *rw, watch_event **ev, int timeout_ms);
/* From another thread: makes registry_watcher_next return -1 (waking it) without freeing
 * the watcher; the reader still closes it. Not after registry_watcher_close. */
void registry_watcher_interrupt(registry_watcher *rw);
void registry_watcher_close(registry_watcher *rw);

/* The storage key of an object, and the prefix of a collection. Caller frees. */
char *registry_key(const struct api_resource *res, const char *ns, const char *name);
char *registry_prefix(const struct api_resource *res, const char *ns);

#endif
