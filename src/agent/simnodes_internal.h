/* simnodes_internal.h — what the simulated-node files share: the per-node record (a
 * little over a hundred bytes, so thousands of nodes stay cheap), the simulation's
 * state, and the object builders. Not for use outside src/agent/. */
#ifndef K8C_AGENT_SIMNODES_INTERNAL_H
#define K8C_AGENT_SIMNODES_INTERNAL_H

#include "agent/simnodes.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "lib/hashmap.h"

#include <pthread.h>
#include <stdint.h>

#define SIMNODE_MAX_BLOCK 256 /* addresses in the largest per-node block (a /24) */

struct simnode {
  char name[24];
  uint32_t pod_block;                       /* network address of its pod CIDR (host order) */
  uint32_t internal_ip;                     /* fake InternalIP in 198.18.0.0/15 (host order) */
  uint64_t ip_used[SIMNODE_MAX_BLOCK / 64]; /* allocated offsets in the block */
  time_t ready_since;                       /* Ready condition's lastTransitionTime */
  bool registered;
  bool stopped_by_api;
  bool stopped_by_label;
  bool status_due; /* post status at the next tick (after a resume) */
};

/* A pod the simulation runs, by "ns/name". */
struct simpod {
  char uid[40];
  int node;          /* index in simnodes.nodes */
  int ip_offset;     /* in the node's block; 0 = none held */
  long long seen_ms; /* monotonic time it was first seen bound (ready delay, exits) */
};

struct simnodes {
  struct simnodes_config cfg;
  k8c_client *client;
  const struct api_resource *nodes_res, *leases_res, *pods_res;

  int block_prefix;    /* per-node pod CIDR prefix length (24..26) */
  unsigned block_size; /* addresses per block */
  struct simnode *nodes;
  hashmap *by_name; /* node name -> index + 1 (read-only after start) */

  pthread_mutex_t lock;   /* nodes' flags and ip_used, pods, registered_count */
  pthread_cond_t changed; /* on CLOCK_MONOTONIC */
  size_t registered_count;
  unsigned resume_gen; /* bumped when a node resumes: heartbeat threads look for status_due */
  bool stopping;
  hashmap *pods; /* "ns/name" -> struct simpod * */

  struct simnodes_heartbeat *heartbeats; /* one per heartbeat thread */
  int heartbeat_count;

  informer_factory *informers; /* the pod informer and the stopped-label node informer */
  informer *pod_informer;
  informer *stopped_informer; /* nodes labelled SIMNODES_HEARTBEAT_LABEL=stopped */
  workqueue *pod_queue;
  pthread_t *workers;
  int worker_count;
};

/* Index of a simulated node by name, or -1. */
int simnodes_find(const simnodes *s, const char *name);
/* Whether node i currently heartbeats and runs pods (caller holds s->lock). */
bool simnodes_alive_locked(const simnodes *s, int i);

/* ---------- simnode_objects.c: builders (new references) ---------- */

/* "2006-01-02T15:04:05Z" and "2006-01-02T15:04:05.000000Z" of a wall-clock time. */
void simnodes_rfc3339(time_t t, char out[32]);
void simnodes_micro_now(char out[40]);
void simnodes_ipv4(uint32_t addr, char out[16]);

/* The Node as registered: metadata, spec.podCIDR(s); status is posted separately. */
json_t *simnode_object(const simnodes *s, int i);
/* The full node status (capacity, conditions with heartbeat now, addresses, nodeInfo). */
json_t *simnode_status(const simnodes *s, int i, time_t ready_since);
/* The node's Lease, renewed now, owned by the Node with node_uid (may be NULL). */
json_t *simnode_lease(const simnodes *s, int i, const char *node_uid);

/* ---------- simnode_heartbeat.c ---------- */

int simnodes_heartbeat_start(simnodes *s, k8c_err *err);
void simnodes_heartbeat_join(simnodes *s);

/* ---------- simnode_pods.c ---------- */

/* Sets up the pod informer and queue and starts the workers (the informer starts with
 * s->informers). */
int simnodes_pods_start(simnodes *s, k8c_err *err);
/* Queues every pod bound to node i (after its heartbeats resume). */
void simnodes_pods_requeue_node(simnodes *s, int i);
/* Shuts the queue down and joins the workers; simnodes_pods_free once the informers
 * are gone. */
void simnodes_pods_stop(simnodes *s);
void simnodes_pods_free(simnodes *s);

/* ---------- simnode_pod_status.c ---------- */

struct simpod_outcome {
  const char *pod_ip; /* NULL: none */
  const char *host_ip;
  bool ready; /* containers ready (ready delay elapsed) */
  int exited; /* 0 running; 1 exited with exit_code */
  int exit_code;
};
/* The status a kubelet would report for pod (read-only) given the outcome: a new
 * object. Timestamps already in the pod's status are kept when their condition did not
 * change. */
json_t *simpod_status(const json_t *pod, const struct simpod_outcome *o);
/* Whether the pod's current status already says what desired says (phase, IPs,
 * conditions' statuses, container states), so no write is needed. */
bool simpod_status_current(const json_t *pod, const json_t *desired);
/* The pod's exit plan from its annotations and restartPolicy: exit_after_ms (-1: runs
 * forever) and exit code. */
void simpod_exit_plan(const json_t *pod, long long *exit_after_ms, int *exit_code);

#endif
