/* namespace_object.h — the shape shared by controllers that keep one named object in
 * every active namespace (the "default" ServiceAccount, the kube-root-ca.crt ConfigMap):
 * a namespace is queued when it appears or changes and when its object changes or is
 * deleted; its turn creates the object when the informer lacks it and, if the spec says
 * how, updates it when it drifted. AlreadyExists and terminating namespaces are fine. */
#ifndef K8C_CONTROLLERS_NAMESPACE_OBJECT_H
#define K8C_CONTROLLERS_NAMESPACE_OBJECT_H

#include "controllers/controller.h"

#include <stdbool.h>

struct namespace_object_spec {
  const char *controller; /* for logs: "serviceaccount" */
  const char *thread;     /* worker thread name (at most 15 characters) */
  const char *group, *version, *plural;
  const char *name; /* the object's name in every namespace */
  /* The object wanted in ns (new reference; metadata.name set). */
  json_t *(*desired)(const void *arg, const char *ns);
  /* Makes have (a private copy of the stored object) what is wanted; returns true if it
   * changed anything. NULL: an existing object is never touched. */
  bool (*reconcile)(const void *arg, json_t *have, const json_t *want);
  const void *arg; /* borrowed; outlives the controller */
};

/* Starts the controller for spec (copied; its strings and arg are borrowed). */
void *namespace_object_start(struct controller_context *ctx,
                             const struct namespace_object_spec *spec, k8c_err *err);
void namespace_object_stop(void *state);

#endif
