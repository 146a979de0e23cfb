/* framework.h — upstream's scheduling framework in small: plugins with optional
 * PreFilter/Filter/PreScore/Score/NormalizeScore hooks, run in the default profile's
 * order with its weights, over a sample of nodes (percentageOfNodesToScore), ending in
 * the highest-scoring node (ties broken at random) or a FitError message worded as
 * upstream's ("0/3 nodes are available: ... preemption: ..."). */
#ifndef K8C_SCHEDULER_FRAMEWORK_H
#define K8C_SCHEDULER_FRAMEWORK_H

#include "scheduler/cache.h"

#define SCHED_MAX_NODE_SCORE 100
#define SCHED_MAX_REASONS 3

enum sched_code {
  SCHED_SUCCESS = 0,
  SCHED_UNSCHEDULABLE, /* preemption might help */
  SCHED_UNRESOLVABLE   /* UnschedulableAndUnresolvable: preemption cannot help */
};

struct sched_status {
  enum sched_code code;
  int nreasons;
  bool codes_only; /* set by the caller: only the code is wanted, skip formatting reasons */
  char reasons[SCHED_MAX_REASONS][384];
};

/* Marks st failed with code and appends a reason (printf-style; not formatted when
 * st->codes_only). */
void sched_status_fail(struct sched_status *st, enum sched_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One scheduling attempt of one pod, under the cache lock. */
struct sched_cycle {
  struct sched_cache *cache;
  struct pod_info *pod;
};

/* A plugin: every hook is optional. State pointers are per cycle and freed with
 * free_state. */
struct sched_plugin {
  const char *name;
  int weight; /* score weight in the default profile; 0 = not a score plugin */
  /* Prepares filter state; false with st filled rejects the pod on every node. */
  bool (*pre_filter)(struct sched_cycle *cy, void **state, struct sched_status *st);
  void (*filter)(struct sched_cycle *cy, void *state, const struct node_info *n,
                 struct sched_status *st);
  /* Prepares score state from the feasible nodes; false = the plugin scores 0 here. */
  bool (*pre_score)(struct sched_cycle *cy, void **state, struct node_info **nodes, size_t n);
  int64_t (*score)(struct sched_cycle *cy, void *state, const struct node_info *n);
  void (*normalize)(struct sched_cycle *cy, void *state, struct node_info **nodes, int64_t *scores,
                    size_t n);
  void (*free_state)(void *state);       /* pre_filter's state */
  void (*free_score_state)(void *state); /* pre_score's; NULL = free_state */
};

/* The default profile, in upstream's order; NULL-terminated (plugins/registry.c). */
extern const struct sched_plugin *const sched_default_plugins[];

struct sched_pdb;

struct sched_framework {
  const struct sched_plugin *const *plugins;
  int percentage_of_nodes_to_score; /* 0 = adaptive, as upstream */
  size_t next_start_index;
  unsigned rng;
  /* Set by the caller before each cycle (all borrowed): the PodDisruptionBudgets that
   * preemption honours, and the node the pod was nominated to earlier (or NULL). */
  const struct sched_pdb *pdbs;
  size_t npdbs;
  const char *nominated_node;
};

struct sched_result {
  struct node_info *node; /* the chosen node (borrowed from the cache), or NULL */
  char *message;          /* on failure: the FitError text; caller frees */
  size_t evaluated, feasible;
  /* On failure, when preemption found a node: the node to nominate (borrowed) and the
   * pods to evict there (new references; the caller unrefs them and frees the array). */
  struct node_info *nominated;
  struct pod_info **victims;
  size_t nvictims;
};

/* How many feasible nodes to look for among n (upstream's numFeasibleNodesToFind). */
size_t sched_nodes_to_find(int percentage, size_t n);

/* Runs every plugin for pod against the cache (the caller holds its lock): out->node
 * set, or out->node NULL with out->message when no node fits, and then, when evicting
 * lower-priority pods would make room, out->nominated and out->victims. */
void sched_schedule_one(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
                        struct sched_result *out);

/* Upstream's DefaultNormalizeScore. */
void sched_default_normalize(int64_t *scores, size_t n, bool reverse);

#endif
