/* nodenet.h — everything that makes a node a networking node, started by every node
 * agent (`k8c server`'s in-process one and `k8c agent`): once the node's own Node object
 * has a spec.podCIDR and an InternalIP, it turns on IPv4 forwarding and the cluster-
 * egress masquerade (podnet.h), keeps host-gw routes to the other nodes' pod CIDRs
 * (hostgw.h), and runs the service proxy (src/proxy), the cluster DNS on its service IP
 * (node_dns.h) and NetworkPolicy enforcement (src/netpol), all sharing one set of
 * informers, all in the network namespace of the thread that calls nodenet_start.
 *
 * Teardown on nodenet_stop: the DNS interface and the host-gw routes are removed; the
 * nftables tables (proxy "k8c", netpol "k8c-netpol", masquerade "k8c-podnet") stay, as
 * kube-proxy and flannel leave theirs, so pods keep working across an agent restart and
 * the next start replaces them atomically. */
#ifndef K8C_NODENET_NODENET_H
#define K8C_NODENET_NODENET_H

#include "client/client.h"
#include "lib/err.h"

#include <stdbool.h>

struct nodenet_config {
  const char *node_name;      /* required */
  const char *cluster_cidr;   /* NULL = "10.42.0.0/16" */
  const char *service_cidr;   /* NULL = "10.43.0.0/16" */
  const char *cluster_dns;    /* the DNS service IP; NULL = "10.43.0.10" */
  const char *cluster_domain; /* NULL = "cluster.local" */
  const char *resolv_conf;    /* the resolvers DNS forwards to; NULL = "/etc/resolv.conf" */
  const char *dns_interface;  /* dummy interface for cluster_dns; NULL = "k8c-dns" */
  bool disable_kube_proxy;
  bool disable_network_policy;
  bool disable_cluster_dns;
};

struct nodenet;

/* Starts watching Nodes and, in the background, the components once this node has its
 * pod CIDR and InternalIP. client must outlive it; cfg's strings are copied. NULL with
 * err on a bad configuration or when a thread cannot start. */
struct nodenet *nodenet_start(k8c_client *client, const struct nodenet_config *cfg, k8c_err *err);

/* Waits up to timeout_ms until every enabled component has started. */
bool nodenet_wait_ready(struct nodenet *n, int timeout_ms);

/* Stops every component (see the teardown note above). NULL is fine. */
void nodenet_stop(struct nodenet *n);

#endif
