/* netpol_render.h — nftables for NetworkPolicy enforcement: the base ruleset of the
 * enforcer's own table (family ip, default "k8c-netpol") and, per policy, a "fragment":
 * the sets, set elements and chains that policy contributes. Syncing is a diff of
 * fragments, so a pod or label change only moves set elements.
 *
 * Layout. Two base chains on the forward hook: egress-check (priority filter - 1) and
 * ingress-check (priority filter). Each accepts established/related traffic, traffic not
 * from (to) an isolated local pod (sets egress-isolated, ingress-isolated), a pod's traffic
 * to itself (set self) and, for ingress, traffic from the node itself; then jumps to
 * egress-policies (ingress-policies), which jumps to every policy's chain, and drops what
 * no policy accepted (dropped, not rejected: the connection times out, as upstream). An
 * accept only ends its own base chain, so a pod-to-pod packet must pass both checks.
 * A policy chain has one rule per allowed (peers, ports) shape, e.g.
 *   ip daddr @np3-sel ip saddr @np3-i0-peers meta l4proto . th dport @np3-i0-ports accept
 * whose sets hold the selected pods, the peers (pod IPs, ipBlocks minus except) and ports;
 * named ports are (pod ip . protocol . port) elements resolved per destination pod. */
#ifndef K8C_NETPOL_RENDER_H
#define K8C_NETPOL_RENDER_H

#include "lib/buf.h"
#include "lib/hashmap.h"
#include "netpol/netpol_model.h"

#include <stdbool.h>

#define NP_SET_INGRESS_ISOLATED "ingress-isolated"
#define NP_SET_EGRESS_ISOLATED "egress-isolated"
#define NP_SET_SELF "self"
#define NP_CHAIN_INGRESS_POLICIES "ingress-policies"
#define NP_CHAIN_EGRESS_POLICIES "egress-policies"

/* What one policy (or the node's own pods) contributes. Every value is owned. */
struct netpol_fragment {
  hashmap *sets;   /* own set name → declaration body ("type ipv4_addr ; flags interval ;") */
  hashmap *elems;  /* set name (own or one of the shared base sets) → hashmap element → 1 */
  hashmap *chains; /* own chain name → rules, one per line ("" for an empty chain) */
};

void netpol_fragment_init(struct netpol_fragment *f);
void netpol_fragment_clear(struct netpol_fragment *f);

/* Renders p into f (initialised, empty); every chain and set name starts with prefix
 * ("np3"). A gone policy (no policyTypes) renders nothing. */
void netpol_render_policy(const struct netpol_policy *p, const char *prefix,
                          struct netpol_fragment *f);

/* The node's fragment: elements of the self set for the local pods ips (host order). */
void netpol_render_local(const uint32_t *ips, size_t n, struct netpol_fragment *f);

/* True for the base ruleset's sets, whose elements several fragments may share. */
bool netpol_set_is_shared(const char *name);

/* Appends the commands that create the table from scratch (replacing any previous table
 * of that name in the same transaction) with its base chains and shared sets. */
void netpol_render_base(const char *table, buf *out);

/* The chain a fragment owns for direction d of its policy ("np3-ingress"); caller frees. */
char *netpol_policy_chain(const char *prefix, enum netpol_dir d);

#endif
