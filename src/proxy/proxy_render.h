/* proxy_render.h — nftables for the service proxy: the base ruleset k8c owns (one table,
 * its hooks, maps and fixed chains) and, per Service, a "fragment": the map elements,
 * chains and sets that Service contributes. Syncing is then a diff of fragments.
 *
 * The one design idea: endpoint choice is a lookup, not a chain per endpoint. A Service
 * port with N endpoints maps (ip . proto . port) to a chain shared by every Service with N
 * endpoints, whose one rule is `dnat ip to ip daddr . meta l4proto . th dport . numgen
 * random mod N map @cluster-endpoints`; the endpoints are N elements of that map. So
 * 10,000 Services × 10 endpoints are ~110,000 map elements and ~10 chains, not 110,000
 * chains (upstream kube-proxy's layout), which the kernel loads ~50 times faster. Only
 * sessionAffinity keeps upstream's per-endpoint chains and sets (they hold the state). */
#ifndef K8C_PROXY_RENDER_H
#define K8C_PROXY_RENDER_H

#include "lib/buf.h"
#include "lib/hashmap.h"
#include "proxy/proxy_model.h"

#include <stdbool.h>

/* The named maps and sets of the table. Elements of sets have the value "". */
enum proxy_map {
  PM_SERVICE_IPS,        /* ip . proto . port : verdict (cluster, external, LB IPs) */
  PM_SERVICE_NODEPORTS,  /* proto . port : verdict */
  PM_CLUSTER_ENDPOINTS,  /* ip . proto . port . index : endpoint ip . port */
  PM_NODEPORT_ENDPOINTS, /* proto . port . index : endpoint ip . port */
  PM_NOEP_SERVICES,      /* ip . proto . port : reject or drop */
  PM_NOEP_NODEPORTS,     /* proto . port : reject or drop */
  PM_CLUSTER_IPS,        /* set of ClusterIPs (masquerade, invalid-port reject) */
  PM_HAIRPIN,            /* set of (pod ip . same pod ip) for local endpoints */
  PM_COUNT
};

/* Names in the table ("service-ips" ...), indexed by enum proxy_map. */
extern const char *const proxy_map_names[PM_COUNT];

struct proxy_render_config {
  const char *table;           /* table name (family ip) */
  const char *cluster_cidr;    /* NULL/"": no masquerade of traffic from outside the cluster */
  const char *service_cidr;    /* NULL/"": no drop of unallocated ClusterIPs */
  unsigned masquerade_mark;    /* e.g. 0x4000 */
  const char *const *node_ips; /* NULL-terminated: NodePort addresses */
  /* a service-CIDR IPv4 served by the node itself (the cluster DNS IP): not dropped as
   * unallocated; NULL = none */
  const char *local_service_ip;
};

/* What one Service contributes. Every hashmap value is an owned string. */
struct proxy_fragment {
  hashmap *elems[PM_COUNT]; /* element key → value ("" for set elements) */
  hashmap *chains;          /* this Service's own chains: name → rules, one per line */
  hashmap *sets;            /* this Service's affinity sets: name → timeout in seconds */
  hashmap *shared_chains;   /* shared chains it jumps to (dnat-N ...): name → rules */
  hashmap *entries;         /* entry points it claimed ("10.43.0.1 . tcp . 80"): → "" */
};

/* Asked before a Service takes an entry point (ClusterIP, external IP or node port and
 * protocol); false leaves that entry out (another Service owns it). */
typedef bool (*proxy_claim_fn)(void *ctx, const char *svc_key, const char *entry);

void proxy_fragment_init(struct proxy_fragment *f);
void proxy_fragment_clear(struct proxy_fragment *f);

/* Renders svc into f (initialised, empty). claim may be NULL (every entry allowed). */
void proxy_render_service(const struct proxy_service *svc, const struct proxy_render_config *cfg,
                          proxy_claim_fn claim, void *claim_ctx, struct proxy_fragment *f);

/* Appends the commands that create the table from scratch (replacing any previous table
 * of that name in the same transaction) with its fixed chains, maps and sets. */
void proxy_render_base(const struct proxy_render_config *cfg, buf *out);

/* ---------- batches: the diff of fragments as one nft transaction ---------- */

/* Commands collected in the order the kernel needs them: declarations, element deletes,
 * chain bodies, element adds, then removal of chains and sets nothing refers to any more. */
struct proxy_batch {
  buf declare;
  buf elem_del[PM_COUNT]; /* ", "-separated keys */
  buf bodies;
  buf elem_add[PM_COUNT]; /* ", "-separated "key : value" */
  buf remove_chains;
  buf remove_sets;
  size_t changes; /* commands and elements collected */
};

void proxy_batch_init(struct proxy_batch *b);
void proxy_batch_free(struct proxy_batch *b);

/* Adds what turns old (NULL = nothing) into new (NULL = nothing) to b. shared_present
 * holds the shared chains that exist (name → any non-NULL); those new is the first to
 * need are created and recorded there. set_refs counts the Services holding each element
 * of the shared sets (hairpin, cluster-ips): an element is added by the first and
 * deleted with the last. Both maps belong to the caller and live as long as the table. */
void proxy_batch_diff(struct proxy_batch *b, const char *table, const struct proxy_fragment *old,
                      const struct proxy_fragment *new, hashmap *shared_present, hashmap *set_refs);

/* Appends the batch as nft commands to out (prefix text first, e.g. the base ruleset). */
void proxy_batch_text(const struct proxy_batch *b, const char *table, buf *out);

/* The same split in two: everything but the element additions, and only those (a full
 * sync sends the additions, its bulk, through proxy_nftnl instead of nft text). */
void proxy_batch_text_without_adds(const struct proxy_batch *b, const char *table, buf *out);
void proxy_batch_text_adds(const struct proxy_batch *b, const char *table, buf *out);

#endif
