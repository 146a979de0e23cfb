/* cache.h — the scheduler's view of the cluster: every node with the pods bound (or
 * assumed) to it, kept up to date incrementally from informer events, never recomputed.
 * Per node: allocatable, taints, the summed requests of its pods, used host ports. Across
 * nodes: "memos" — for a pod selector (namespaces + labels) the number of matching pods
 * on each node — and groups of existing pods' required anti-affinity terms, both updated
 * on every pod add/remove, so affinity and spread checks cost O(nodes), not O(pods).
 *
 * Not thread-safe by itself: callers hold sched_cache_lock around every call. */
#ifndef K8C_SCHEDULER_CACHE_H
#define K8C_SCHEDULER_CACHE_H

#include "scheduler/podinfo.h"

#include <pthread.h>
#include <sys/types.h>

struct taint {
  char *key, *value, *effect;
};

struct node_info {
  char *name;
  json_t *obj; /* the Node (shared, read-only); NULL once deleted while pods remain */
  const json_t *labels;
  size_t slot; /* stable index into per-node count arrays */
  ssize_t pos; /* index in the schedulable node array, -1 if not in it */
  struct sched_resources allocatable;
  int64_t allowed_pods;
  struct taint *taints;
  size_t ntaints;
  bool unschedulable;
  struct sched_resources requested, nonzero_requested;
  struct pod_info **pods;
  size_t npods, cap_pods;
  size_t pods_scoring_affinity; /* pods whose affinity matters to others' scores */
};

/* The pods of one selector on each node (by slot). */
struct pod_memo {
  struct pod_info *owner; /* keeps term alive */
  const struct pod_term *term;
  int *counts;
  long long last_used;
};

/* Existing pods' required anti-affinity terms with the same selector and topology key. */
struct anti_group {
  struct pod_info *owner;
  const struct pod_term *term;
  int *counts; /* pods holding such a term, per node slot */
  int total;
};

/* Nodes grouped by the value of one label (a topology key): domain ids per node slot,
 * rebuilt only when nodes or their labels change. */
struct topo_index {
  char *key;
  int *domain_of; /* per slot: domain id, or -1 when the node lacks the label */
  size_t ndomains;
  long long built_for; /* topo_generation it reflects */
};

struct sched_cache {
  pthread_mutex_t mu;
  struct hashmap *nodes_by_name; /* name -> node_info (incl. deleted ones holding pods) */
  struct hashmap *pods;          /* "ns/name" -> struct cache_pod */
  struct node_info **nodes;      /* schedulable nodes, in arrival order */
  size_t *node_slots;            /* node_slots[i] == nodes[i]->slot: loops over per-slot
                                    arrays need not touch every node_info */
  size_t nnodes, cap_nodes;
  size_t slots;     /* slots handed out so far */
  size_t count_cap; /* length of every per-node count array */
  size_t *free_slots;
  size_t nfree_slots;
  struct hashmap *memos;       /* signature -> pod_memo */
  struct hashmap *anti_groups; /* signature@topologyKey -> anti_group */
  size_t pods_scoring_affinity;
  long long generation;       /* bumped on every change */
  long long node_generation;  /* bumped when nodes come, go or change what filters see */
  long long topo_generation;  /* bumped only when nodes come, go or change labels: what
                                 topology indexes depend on (not taints, not capacity) */
  struct hashmap *topologies; /* key -> topo_index */
};

struct sched_cache *sched_cache_new(void);
void sched_cache_free(struct sched_cache *c);
void sched_cache_lock(struct sched_cache *c);
void sched_cache_unlock(struct sched_cache *c);

/* Adds or updates a node. Returns true when something the filters look at changed
 * (new node, labels, taints, allocatable, unschedulable): a reason to retry pods. */
bool sched_cache_upsert_node(struct sched_cache *c, json_t *node);
void sched_cache_remove_node(struct sched_cache *c, const char *name);
/* Looks a node up by name (schedulable or not); borrowed. */
struct node_info *sched_cache_node(struct sched_cache *c, const char *name);

/* Accounts pi (a reference is taken) to node, replacing any earlier state of the same
 * pod (key). assumed: the scheduler decided it, the API has not confirmed yet. */
void sched_cache_add_pod(struct sched_cache *c, struct pod_info *pi, const char *node,
                         bool assumed);
/* Removes the pod if present. */
void sched_cache_remove_pod(struct sched_cache *c, const char *key);
/* Whether key is in the cache only as assumed (bind not yet seen); false if absent. */
bool sched_cache_pod_assumed(struct sched_cache *c, const char *key);
bool sched_cache_has_pod(struct sched_cache *c, const char *key);

/* The memo for term's selection (created on first use by scanning every cached pod);
 * owner must own term. Borrowed; valid while the lock is held. */
struct pod_memo *sched_cache_memo(struct sched_cache *c, struct pod_info *owner,
                                  const struct pod_term *term);

/* The up-to-date index for a topology key (borrowed; valid while the lock is held). */
const struct topo_index *sched_cache_topology(struct sched_cache *c, const char *key);

/* Whether port (protocol, ip) conflicts with a host port already used on node. */
bool node_info_port_conflicts(const struct node_info *n, const struct host_port *p);

#endif
