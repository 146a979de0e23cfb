/* preemption.h — upstream's DefaultPreemption PostFilter: when a pod fits nowhere, find
 * nodes where evicting lower-priority pods would make it fit (a dry run on the cache),
 * keep as few victims as possible (reprieving the most important first, PDB-violating
 * ones before the others), and pick the node upstream would: fewest PDB violations,
 * lowest highest victim priority, smallest priority sum, fewest victims, latest start. */
#ifndef K8C_SCHEDULER_PREEMPTION_H
#define K8C_SCHEDULER_PREEMPTION_H

#include "scheduler/framework.h"

/* A PodDisruptionBudget as preemption reads it. */
struct sched_pdb {
  char *ns;
  label_selector *sel; /* NULL or empty selects nothing */
  int disruptions_allowed;
  json_t *disrupted_pods; /* status.disruptedPods (object of names), borrowed or NULL */
};

/* Where a failed cycle left each node. */
struct sched_node_failure {
  struct node_info *node;
  enum sched_code code;
};

struct preemption_result {
  struct node_info *node;    /* chosen candidate (borrowed), NULL if none */
  struct pod_info **victims; /* new references; free with preemption_result_clear */
  size_t nvictims;
  char *message; /* without a candidate: the "0/N nodes are available: ..." text */
};

/* Runs preemption for pod after a cycle in which no node fitted (the caller holds the
 * cache lock; the cache is left as it was). failed lists every node with its outcome;
 * nall is the number of nodes considered. terminating_on_nominated: upstream's
 * eligibility check (the pod already preempted and its victims are still going). */
void sched_preempt(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
                   const struct sched_node_failure *failed, size_t nfailed, size_t nall,
                   const struct sched_pdb *pdbs, size_t npdbs, struct preemption_result *out);
void preemption_result_clear(struct preemption_result *r);

/* Whether pod (namespace, labels, name) is covered by pdb. */
bool sched_pdb_selects(const struct sched_pdb *pdb, const struct pod_info *pod);

/* Runs every PreFilter and Filter hook of fw for pod on one node (the caller holds the
 * lock). True when it fits; st holds the reasons otherwise. */
bool sched_fits_on_node(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
                        const struct node_info *n, struct sched_status *st);

#endif
