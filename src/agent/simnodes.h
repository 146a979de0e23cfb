/* simnodes.h — simulated ("hollow") nodes, like kwok or kubemark: N Node objects that
 * register, heartbeat through Leases and run pods bound to them as a kubelet would
 * report it, with no containers anywhere. Only API calls through a k8c_client, so the
 * same code runs inside `k8c server --simulate N` and, over HTTPS, in `k8c agent`.
 *
 * Cost is per cluster, not per node: one heartbeat thread walks a timer wheel, one pod
 * informer (indexed by spec.nodeName) and a few workers serve every node. */
#ifndef K8C_AGENT_SIMNODES_H
#define K8C_AGENT_SIMNODES_H

#include "client/client.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>

/* Stops a node's heartbeats (lease renewals and status posts) while the node carries
 * this label with the value "stopped" (kubectl label node X k8c.io/simulate-heartbeat=stopped). */
#define SIMNODES_HEARTBEAT_LABEL "k8c.io/simulate-heartbeat"
/* On a pod whose restartPolicy is Never or OnFailure: its containers "exit" this many
 * milliseconds after the pod started, and the pod becomes Succeeded ... */
#define SIMNODES_EXIT_AFTER_ANNOTATION "k8c.io/simulate-exit-after-ms"
/* ... or Failed, if this annotation gives a non-zero exit code. */
#define SIMNODES_EXIT_CODE_ANNOTATION "k8c.io/simulate-exit-code"

struct simnodes_config {
  int count;                /* nodes to simulate (1 .. 65536) */
  int first_index;          /* names start at sim-node-<first_index> (several agents); 0 */
  const char *cluster_cidr; /* pod network carved into one block per node; "10.42.0.0/16" */
  int ready_delay_ms;       /* from Running to Ready; 0 */
  int lease_renew_ms;       /* Lease renewTime period; 10000 */
  int lease_duration_s;     /* Lease spec.leaseDurationSeconds; 40 */
  int status_update_ms;     /* Ready condition heartbeat (node status) period; 300000 */
  int pod_workers;          /* threads writing pod status; 8 */
  int heartbeat_threads;    /* threads renewing Leases, each for a stripe of nodes: so that
                               writes overlap (the store commits them in groups); 0 = one
                               per 100 nodes, at most 8 */
  /* Informers shared with other components of the process (borrowed; must outlive the
   * simulation), or NULL: its own, on client. A shared pod informer holds every pod
   * (the scheduler's and controllers' need), an own one only bound pods. */
  struct informer_factory *informers;
};

typedef struct simnodes simnodes;

/* The pod CIDR block size for count nodes in cluster_cidr: a /24 per node when they fit,
 * else the largest block that does (at least a /26). -1 with a 400 when the network is
 * too small or not an IPv4 CIDR. *block_base is the network address (host order). */
int simnodes_pod_cidr_plan(const char *cluster_cidr, int count, unsigned *block_base,
                           int *block_prefix, k8c_err *err);

/* Starts the simulation: registers the nodes and their Leases (asynchronously: see
 * simnodes_wait_registered), then heartbeats and runs their pods until simnodes_stop.
 * client (borrowed) must outlive it and be thread-safe. Its handlers on shared informers
 * (cfg->informers) are taken off when it stops. NULL with err on bad configuration. */
simnodes *simnodes_start(k8c_client *client, const struct simnodes_config *cfg, k8c_err *err);
/* Waits up to timeout_ms (-1 = forever) until every node and Lease exists. */
bool simnodes_wait_registered(simnodes *s, int timeout_ms);
/* Stops every thread and frees s. Nodes and pods are left in the API as they are (a
 * stopped kubelet does not delete its Node). NULL is fine. */
void simnodes_stop(simnodes *s);

size_t simnodes_count(const simnodes *s);
/* Node i's name ("sim-node-0000"); borrowed from s. NULL when i is out of range. */
const char *simnodes_node_name(const simnodes *s, size_t i);

/* For tests: stops (enabled=false) or resumes a node's heartbeats, as the label does.
 * A node without heartbeats behaves as a dead kubelet: it neither renews its Lease, nor
 * posts status, nor touches its pods; when resumed it posts Ready at once and catches
 * up with its pods. -1 (404) for an unknown node. */
int simnodes_set_heartbeat(simnodes *s, const char *node, bool enabled, k8c_err *err);

#endif
