/* dns_server.h — the cluster DNS server that runs inside k8c (the node agent starts it):
 * Services and EndpointSlices come from informers, are folded into an immutable record
 * snapshot (rebuilt, debounced, on every change) and answered over UDP and TCP on the
 * configured addresses; names outside the cluster zone go to the node's resolvers. */
#ifndef K8C_DNS_SERVER_H
#define K8C_DNS_SERVER_H

#include "client/client.h"
#include "client/informer.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>

struct dns_config {
  const char *const *listen;    /* NULL-terminated "ip:port" list ("[v6]:port" too); port 0
                                   picks a free one. NULL = { "10.43.0.10:53" } */
  const char *cluster_domain;   /* NULL = "cluster.local" */
  const char *const *upstreams; /* NULL-terminated "ip[:port]"; NULL = the nameservers of
                                   resolv_conf, loopback ones skipped */
  const char *resolv_conf;      /* NULL = "/etc/resolv.conf" */
  unsigned ttl;                 /* seconds; 0 = 5, as CoreDNS's kubernetes plugin */
  int forward_timeout_ms;       /* 0 = 2000 */
  int udp_workers;              /* threads (SO_REUSEPORT sockets) per address; 0 = 1 */
};

struct dns_server;

/* Starts the server. client must outlive it. informers (may be NULL: the server makes,
 * starts and owns its own factory) supplies the services and endpointslices informers;
 * a caller-owned factory is started by the caller, and must be stopped
 * (informer_factory_stop) before dns_server_stop, as for controllers. With its own
 * factory the server waits up to 5 s for the first list before answering. Addresses
 * are bound with IP_FREEBIND, so the service IP may be configured after the start.
 * Returns NULL with err if an address cannot be bound. */
struct dns_server *dns_server_start(k8c_client *client, informer_factory *informers,
                                    const struct dns_config *cfg, k8c_err *err);

/* Stops every thread, closes the sockets and frees the server. NULL is fine. */
void dns_server_stop(struct dns_server *s);

/* The port listen address i is bound to (UDP and TCP share it); -1 if no such address. */
int dns_server_port(const struct dns_server *s, size_t i);

/* How many record snapshots have been built (the first at start): lets tests wait for
 * a change to be reflected. */
unsigned long dns_server_generation(struct dns_server *s);

#endif
