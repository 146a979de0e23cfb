/* proxy_model.h — the service proxy's desired state: what one Service and its
 * EndpointSlices mean for this node, as plain C structs (no nftables yet).
 *
 * Pure functions of their inputs, so the renderer and the tests can rely on them: the
 * caller hands in the Service, the slices labelled with its name, and the node's name. */
#ifndef K8C_PROXY_MODEL_H
#define K8C_PROXY_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PROXY_IP_LEN 16 /* dotted IPv4 with its NUL */

struct proxy_endpoint {
  char ip[PROXY_IP_LEN];
  int port;
  bool ready;
  bool serving;
  bool terminating;
  bool local; /* on this node (or its node is unknown) */
};

/* One port of a Service (upstream's ServicePortName): the unit that gets rules. */
struct proxy_service_port {
  char *name;           /* "ns/name/tcp/80" (owned): unique per Service port */
  const char *protocol; /* "tcp", "udp" or "sctp" (static) */
  char cluster_ip[PROXY_IP_LEN];
  int port;
  int node_port;                      /* 0 = none */
  char (*external_ips)[PROXY_IP_LEN]; /* owned: spec.externalIPs + loadBalancer ingress */
  size_t n_external_ips;
  bool external_local;              /* externalTrafficPolicy: Local (only with node ports / LB) */
  bool internal_local;              /* internalTrafficPolicy: Local */
  int affinity_timeout;             /* seconds of sessionAffinity ClientIP; 0 = none */
  struct proxy_endpoint *endpoints; /* owned, sorted by ip then port, de-duplicated */
  size_t n_endpoints;
};

/* A Service reduced to what the proxy programs. No ports for headless, ExternalName,
 * IPv6-only Services and those another proxy serves (service.kubernetes.io/service-proxy-name). */
struct proxy_service {
  char *key;                        /* "ns/name" (owned) */
  struct proxy_service_port *ports; /* owned */
  size_t n_ports;
};

/* Fills out from svc and its slices (borrowed; slices of another address type are
 * skipped). node_name may be NULL (then every endpoint counts as local). Never fails on
 * odd input: what cannot be understood is left out. Release with proxy_service_clear. */
void proxy_service_build(const json_t *svc, json_t *const *slices, size_t n_slices,
                         const char *node_name, struct proxy_service *out);
void proxy_service_clear(struct proxy_service *s);

/* The endpoints traffic may go to, as upstream picks them: the ready ones; if there are
 * none, the serving-but-terminating ones. local_only keeps only this node's. Writes
 * indexes into p->endpoints to idx (room for p->n_endpoints) and returns how many. */
size_t proxy_pick_endpoints(const struct proxy_service_port *p, bool local_only, size_t *idx);

/* true if s is a dotted IPv4 address. */
bool proxy_is_ipv4(const char *s);

#endif
