/* netpol_model.h — what one NetworkPolicy means on this node, as plain C values: the
 * local pods it selects, and per ingress/egress rule the allowed peers (merged IPv4
 * intervals), numeric port ranges and named ports already resolved to (pod IP, protocol,
 * port) triples. No nftables here.
 *
 * Pure functions of their inputs (the policy, a snapshot of every pod and namespace, the
 * node's name), so the renderer and the tests can rely on them. */
#ifndef K8C_NETPOL_MODEL_H
#define K8C_NETPOL_MODEL_H

#include "lib/hashmap.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum netpol_dir { NP_INGRESS, NP_EGRESS, NP_DIRS };

/* IP protocol numbers as nftables names them ("tcp" ...). */
enum { NP_PROTO_TCP = 6, NP_PROTO_UDP = 17, NP_PROTO_SCTP = 132 };

struct netpol_range { /* IPv4, host byte order, inclusive */
  uint32_t lo, hi;
};

struct netpol_ports { /* one protocol's port range, inclusive */
  uint8_t proto;
  uint16_t lo, hi;
};

struct netpol_named { /* a named port resolved on one pod */
  uint32_t ip;
  uint8_t proto;
  uint16_t lo, hi;
};

struct netpol_rule {
  bool any_peer;              /* `from`/`to` empty or absent: every address */
  struct netpol_range *peers; /* owned; sorted, non-overlapping (pod IPs and ipBlocks) */
  size_t n_peers;
  bool any_port;              /* `ports` empty or absent: every port and protocol */
  struct netpol_ports *ports; /* owned; numeric ports, sorted, non-overlapping per protocol */
  size_t n_ports;
  bool has_named;             /* some port was named: `named` holds what it resolved to */
  struct netpol_named *named; /* owned; sorted, non-overlapping per (ip, protocol) */
  size_t n_named;
};

struct netpol_policy {
  char *key;           /* "ns/name" (owned) */
  bool types[NP_DIRS]; /* policyTypes after defaulting; both false = the policy is gone */
  uint32_t *selected;  /* owned; local pods it selects, sorted, unique */
  size_t n_selected;
  struct netpol_rule *rules[NP_DIRS]; /* owned */
  size_t n_rules[NP_DIRS];
};

/* The cluster as the model sees it; everything borrowed from the caller. */
struct netpol_world {
  json_t *const *pods; /* every pod of the cluster */
  size_t n_pods;
  hashmap *ns_labels;    /* namespace name → its labels (json_t*, borrowed; may be NULL) */
  const char *node_name; /* pods with spec.nodeName equal to it are local; NULL = all */
};

/* The pod's IPv4 address (host order) when the pod takes part in policies: it has an
 * IPv4 status.podIP (or podIPs[]), is not hostNetwork and has not finished; else 0. */
uint32_t netpol_pod_ipv4(const json_t *pod);
bool netpol_pod_is_local(const json_t *pod, const char *node_name);

/* Builds the model of policy (NULL: the policy is gone; then only key is set) into out
 * (zeroed by the call). Unparseable selectors match nothing. Free with
 * netpol_policy_clear. */
void netpol_policy_build(const char *key, const json_t *policy, const struct netpol_world *w,
                         struct netpol_policy *out);
void netpol_policy_clear(struct netpol_policy *p);

/* True if the policy's result can depend on pods outside its own namespace or on
 * namespace labels (a namespaceSelector peer, or an egress rule to every pod with a named
 * port): such policies are rebuilt whenever any pod or namespace changes. */
bool netpol_policy_crosses_namespaces(const json_t *policy);

/* "10.0.0.1" for ip (host order) into out (at least 16 bytes). */
void netpol_ip_string(uint32_t ip, char *out);

#endif
