/* hostgw.h — host-gw pod routing, as flannel's host-gw backend: for every other Node that
 * has spec.podCIDR and an InternalIP, a route "podCIDR via InternalIP" in the node's main
 * routing table, so pod-to-pod traffic crosses nodes without encapsulation or NAT.
 *
 * Level-triggered: any Node change (and a periodic resync) recomputes the wanted routes
 * from the informer's cache and reconciles them with the kernel's routes that carry
 * k8c's protocol number: missing or different ones are replaced, ones no Node wants any
 * more are deleted. Routes of anyone else are never touched. */
#ifndef K8C_NODENET_HOSTGW_H
#define K8C_NODENET_HOSTGW_H

#include "client/informer.h"
#include "lib/err.h"

#include <stdbool.h>

struct hostgw_config {
  const char *node_name;  /* this node (no route to its own pod CIDR); copied */
  unsigned char protocol; /* rtm_protocol of our routes; 0 = NODENET_RTPROT */
  int resync_ms;          /* reconcile this often even without a change; 0 = 30000 */
};

struct hostgw;

/* Starts the reconciler over nodes (a Node informer, started or not; it must outlive the
 * reconciler). Call it from a thread in the node's network namespace: the reconciler's
 * thread inherits it. NULL with err if the thread cannot start. */
struct hostgw *hostgw_start(informer *nodes, const struct hostgw_config *cfg, k8c_err *err);

/* Stops the reconciler; with remove_routes, deletes every route it manages. NULL is fine. */
void hostgw_stop(struct hostgw *g, bool remove_routes);

/* How many reconciles have completed (successfully or not). */
unsigned long hostgw_generation(struct hostgw *g);

/* Waits up to timeout_ms for a reconcile that started after this call. For tests. */
bool hostgw_wait_reconciled(struct hostgw *g, int timeout_ms);

#endif
