/* proxy.h — the service proxy (kube-proxy's nftables mode) a node agent runs: it watches
 * Services and EndpointSlices and keeps one nftables table (family ip, default "k8c")
 * that balances ClusterIP, NodePort, external and LoadBalancer traffic over the ready
 * endpoints. It never touches any other table. See docs in proxy_render.h for the layout.
 *
 * Start: one full sync (the table replaced atomically) once the informers have synced;
 * then every change rewrites only the changed Services' elements and chains, in one
 * transaction per round. A failed transaction triggers a full sync. */
#ifndef K8C_PROXY_PROXY_H
#define K8C_PROXY_PROXY_H

#include "client/client.h"
#include "client/informer.h"
#include "lib/err.h"
#include "proxy/proxy_sync.h"

#include <stdbool.h>

struct proxy_config {
  const char *node_name;       /* endpoints on this node are local; NULL = all local */
  const char *const *node_ips; /* NULL-terminated IPv4 addresses: NodePorts answer there */
  const char *cluster_cidr;    /* pod CIDR of the cluster ("10.42.0.0/16"); NULL = none */
  const char *service_cidr;    /* "10.43.0.0/16"; NULL = none */
  const char *table;           /* NULL/"" = "k8c" */
  unsigned masquerade_mark;    /* 0 = 0x4000 */
  /* a service-CIDR IPv4 this node serves itself (the cluster DNS IP on its own
   * interface): exempt from the drop of unallocated ClusterIPs; NULL = none */
  const char *local_service_ip;
};

struct service_proxy;

/* Starts the proxy. Call it from a thread in the node's network namespace: the netlink
 * socket to nftables is opened here, and the table lives in that namespace. informers NULL: the
 * proxy makes and owns its own informers over client. With a shared factory, the caller stops the
 * factory's informers before proxy_stop (no handler may run on a stopped proxy), as the controller
 * manager does. client, informers and cfg's strings are borrowed during the call only, except
 * client and informers, which must outlive the proxy. NULL with err if a thread cannot start. */
struct service_proxy *proxy_start(k8c_client *client, informer_factory *informers,
                                  const struct proxy_config *cfg, k8c_err *err);

/* Stops the sync thread and frees the proxy. The table stays (as upstream, so a restart
 * does not interrupt traffic); NULL is fine. */
void proxy_stop(struct service_proxy *p);

/* Waits up to timeout_ms until the first full sync has been applied. */
bool proxy_wait_synced(struct service_proxy *p, int timeout_ms);

/* Waits up to timeout_ms until Service key ("ns/name") has been applied from inputs
 * (the Service and its slices) at least as new as resource_version (a decimal string).
 * For tests and benchmarks. */
bool proxy_wait_applied(struct service_proxy *p, const char *key, const char *resource_version,
                        int timeout_ms);

void proxy_stats(struct service_proxy *p, struct proxy_sync_stats *out);

#endif
