/* controller.h — what a controller is to the controller manager: a name and a start/stop
 * pair, started with a context holding the shared client, informers and event recorder.
 * One file per controller defines a `const struct controller_def`, listed in
 * controllers.c; the manager starts them all inside `k8c server`. */
#ifndef K8C_CONTROLLERS_CONTROLLER_H
#define K8C_CONTROLLERS_CONTROLLER_H

#include "client/client.h"
#include "client/events.h"
#include "client/informer.h"

struct controller_config {
  int workers;                      /* worker threads per controller (default 2) */
  int node_monitor_grace_seconds;   /* node lifecycle: heartbeat grace (default 40) */
  int pod_eviction_timeout_seconds; /* default tolerationSeconds for not-ready/unreachable (300) */
  const char *cluster_cidr;         /* node IPAM: the pod network (default 10.42.0.0/16) */
  int node_cidr_mask_size;          /* node IPAM: each node's block (default 24) */
  const char *root_ca_pem; /* published as kube-root-ca.crt in every namespace (borrowed; must
                            * outlive the manager); NULL: not published */
  /* Informers shared with the other components of the process (borrowed; must outlive
   * the manager), or NULL: the manager makes its own. A controller's handlers must use
   * the state start() returned (or a part of it) as ctx and take them off in stop()
   * with informer_remove_handlers: shared informers keep running after it. */
  informer_factory *shared_informers;
};

struct controller_context {
  k8c_client *client;          /* the manager's in-process client (shared, thread-safe) */
  informer_factory *informers; /* shared informers: get them in start(), they start after */
  struct controller_config cfg;
};

struct controller_def {
  const char *name; /* "replicaset", "deployment", "garbagecollector", ... */
  /* Registers informer handlers and starts worker threads; returns the controller's
   * state (NULL with err set on failure). Informers are started by the manager after
   * every start() returned, so handlers see the initial list. */
  void *(*start)(struct controller_context *ctx, k8c_err *err);
  /* Stops workers and frees the state. */
  void (*stop)(void *state);
};

/* The controllers the manager runs, NULL-terminated (controllers.c). */
extern const struct controller_def *const controllers_table[];

#endif
