/* garbagecollector.h — the garbage collector's insides, shared by its two files:
 * garbagecollector.c (informers over every resource, event handlers, work queues and
 * workers) and garbagecollector_sync.c (what one queued object's turn does). The graph
 * of ownerReferences is not a separate structure: every informer indexes its objects by
 * their owners' uids, so an owner's dependents are one index lookup per resource away. */
#ifndef K8C_CONTROLLERS_GARBAGECOLLECTOR_H
#define K8C_CONTROLLERS_GARBAGECOLLECTOR_H

#include "client/workqueue.h"
#include "controllers/controller.h"

#include <pthread.h>

#define GC_FINALIZER_ORPHAN "orphan"
#define GC_FINALIZER_FOREGROUND "foregroundDeletion"
/* The informer index: an object's ownerReferences[*].uid. */
#define GC_OWNER_INDEX "garbagecollector/owner-uid"

struct gc;

/* One watched resource: its informer (shared, owned by the factory). */
struct gc_resource {
  struct gc *gc;
  const struct api_resource *res;
  informer *inf;
};

struct gc {
  k8c_client *client;
  struct gc_resource *resources;
  size_t count;
  workqueue *attempt_to_delete; /* objects whose owners or dependents need a look */
  workqueue *attempt_to_orphan; /* owners being deleted with the "orphan" finalizer */
  pthread_t *threads;
  size_t nthreads;
};

/* Queue keys: "<resource index>|<namespace>|<name>|<uid>". Caller frees. */
char *gc_key(const struct gc_resource *gr, const json_t *obj);
/* Parses a key: the resource and borrowed pieces of buf (which the call modifies).
 * NULL if malformed. */
struct gc_resource *gc_parse_key(struct gc *gc, char *buf, const char **ns, const char **name,
                                 const char **uid);

/* The watched resource an ownerReference's apiVersion and kind name (any version of the
 * group and kind), or NULL. */
struct gc_resource *gc_resource_for_ref(struct gc *gc, const json_t *ref);

/* Every cached object (across all resources) with an ownerReference to uid: new
 * references in a new array of *n (informer_objs_free), each with its resource in
 * (*res)[i] (free *res). */
void gc_dependents(struct gc *gc, const char *uid, json_t ***objs, struct gc_resource ***res,
                   size_t *n);

bool gc_has_finalizer(const json_t *obj, const char *finalizer);

/* One turn for a queued key: 0 done, -1 retry later (err says why). */
int gc_attempt_to_delete(struct gc *gc, const char *key, k8c_err *err);
int gc_attempt_to_orphan(struct gc *gc, const char *key, k8c_err *err);

extern const struct controller_def garbagecollector_controller;

#endif
