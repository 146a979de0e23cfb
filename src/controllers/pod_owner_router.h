/* pod_owner_router.h — the pod event handlers the StatefulSet and DaemonSet controllers
 * share: each pod event is mapped to the key of the object controlling it (through its
 * controller ownerReference, resolved against the owners' informer by uid) or, for an
 * orphan, to every owner of its namespace whose selector matches it, and queued. */
#ifndef K8C_CONTROLLERS_POD_OWNER_ROUTER_H
#define K8C_CONTROLLERS_POD_OWNER_ROUTER_H

#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/controller_util.h"

struct pod_owner_router {
  informer *owners;  /* the owning kind's informer, with a "namespace" index (borrowed) */
  const char *kind;  /* "StatefulSet", "DaemonSet" */
  workqueue *queue;  /* where owner keys go (borrowed) */
  expectations *exp; /* creations/deletions observed are recorded here; NULL: none */
};

/* Handlers for the pod informer; ctx is the struct pod_owner_router (which must stay
 * valid until informer_remove_handlers(pods, router)). */
void pod_router_on_add(void *ctx, json_t *pod);
void pod_router_on_update(void *ctx, json_t *old_pod, json_t *new_pod);
void pod_router_on_delete(void *ctx, json_t *pod);

/* The three handlers above with r as ctx. */
struct informer_handlers pod_router_handlers(struct pod_owner_router *r);

/* The owner controlling obj (a new reference) or NULL. */
json_t *pod_router_owner_of(const struct pod_owner_router *r, const json_t *obj);

/* Queues every owner in ns (all of them when ns is NULL). */
void pod_router_enqueue_all(const struct pod_owner_router *r, const char *ns);

#endif
