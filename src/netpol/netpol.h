/* netpol.h — NetworkPolicy enforcement a node agent runs: it watches NetworkPolicies,
 * Pods and Namespaces and keeps one nftables table of its own (family ip, default
 * "k8c-netpol") that enforces the policies for the pods on this node (each node enforces
 * its own pods; peers may live anywhere). Pod traffic is recognised by the pods' IPs
 * (status.podIP), not by interface, so no bridge name is needed; bridged pod-to-pod
 * traffic must reach the IP forward hook (br_netfilter with bridge-nf-call-iptables=1,
 * as the CNI bridge plugin and kube-proxy expect; a warning is logged otherwise).
 * It never touches any other table. See netpol_render.h for the layout.
 *
 * Start: one full sync once the informers have synced; then changes are debounced and
 * only the policies they can affect are rebuilt, and only differing set elements (or, when
 * a policy itself changed, its chains) are written, in one transaction per round. A failed
 * transaction triggers a full sync. */
#ifndef K8C_NETPOL_NETPOL_H
#define K8C_NETPOL_NETPOL_H

#include "client/client.h"
#include "client/informer.h"
#include "lib/err.h"
#include "netpol/netpol_sync.h"

#include <stdbool.h>

struct netpol_config {
  const char *node_name; /* pods with this spec.nodeName are enforced; NULL = every pod */
  const char *table;     /* NULL/"" = "k8c-netpol" */
  int debounce_ms;       /* how long a change waits for others to batch with; 0 = 10 */
};

struct netpol_enforcer;

/* Starts the enforcer. Call it from a thread in the node's network namespace: the
 * netlink socket to nftables is opened here and the table lives in that namespace.
 * informers NULL: the enforcer makes and owns its own informers over client. With a
 * shared factory, the caller stops the factory's informers before netpol_stop (no handler
 * may run on a stopped enforcer). client and informers must outlive the enforcer; cfg and
 * its strings are copied. NULL with err if a thread cannot start. */
struct netpol_enforcer *netpol_start(k8c_client *client, informer_factory *informers,
                                     const struct netpol_config *cfg, k8c_err *err);

/* Stops the sync thread and frees the enforcer; NULL is fine. The table stays (a restart
 * does not open the pods up meanwhile); netpol_delete_table removes it. */
void netpol_stop(struct netpol_enforcer *e);

/* Deletes the enforcer's table (e.g. when a node leaves); 0, or -1 with err. */
int netpol_delete_table(const char *table, k8c_err *err);

/* Waits up to timeout_ms until the first full sync has been applied. */
bool netpol_wait_synced(struct netpol_enforcer *e, int timeout_ms);

/* Waits up to timeout_ms until every Pod, Namespace and NetworkPolicy change the
 * enforcer saw with a resourceVersion up to resource_version (decimal) is in the kernel.
 * For tests and benchmarks. */
bool netpol_wait_applied(struct netpol_enforcer *e, const char *resource_version, int timeout_ms);

void netpol_stats(struct netpol_enforcer *e, struct netpol_sync_stats *out);

#endif
