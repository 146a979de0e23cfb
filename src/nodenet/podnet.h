/* podnet.h — what a node's pod network needs besides routes: IPv4 forwarding, and the
 * masquerade of pod traffic that leaves the cluster (flannel's rule: source in the
 * cluster CIDR, destination outside it), so pod-to-pod traffic between nodes keeps its
 * source address. The CNI bridge plugin's own ipMasq is off for that reason: it would
 * masquerade everything outside the node's pod CIDR, other nodes' pods included. */
#ifndef K8C_NODENET_PODNET_H
#define K8C_NODENET_PODNET_H

#include "lib/err.h"

/* Writes 1 to /proc/sys/net/ipv4/ip_forward (of this network namespace). */
int podnet_enable_forwarding(k8c_err *err);

/* Replaces nftables table "ip <table>" (NULL = "k8c-podnet") with one postrouting nat
 * rule masquerading cluster_cidr sources towards any destination outside cluster_cidr
 * (multicast excepted). Like the proxy's table it stays when the agent stops, so
 * running pods keep their egress across a restart. */
int podnet_masquerade_sync(const char *table, const char *cluster_cidr, k8c_err *err);

/* Deletes the table (absent is fine). */
int podnet_masquerade_delete(const char *table, k8c_err *err);

#endif
