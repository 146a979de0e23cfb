/* podinfo.h — a pod as the scheduler sees it, parsed once from its JSON: resource
 * requests (upstream's init-container and overhead rules), host ports, tolerations,
 * node selector and affinity, pod (anti-)affinity terms and spread constraints.
 * Every plugin reads these fields instead of walking JSON on each node. Refcounted:
 * the queue, the cache and a scheduling cycle may hold the same pod_info. */
#ifndef K8C_SCHEDULER_PODINFO_H
#define K8C_SCHEDULER_PODINFO_H

#include "apimachinery/labels.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The requests upstream assumes for a container that states none, when scoring. */
#define SCHED_DEFAULT_MILLI_CPU 100
#define SCHED_DEFAULT_MEMORY (200LL * 1024 * 1024)

struct sched_resources {
  int64_t milli_cpu;
  int64_t memory;
};

enum sel_op { SEL_IN, SEL_NOT_IN, SEL_EXISTS, SEL_DOES_NOT_EXIST, SEL_GT, SEL_LT };

/* One nodeSelectorRequirement. */
struct node_sel_req {
  char *key;
  enum sel_op op;
  char **values;
  size_t nvalues;
};

/* One nodeSelectorTerm: every requirement must hold; a term with none matches nothing. */
struct node_sel_term {
  struct node_sel_req *exprs; /* on labels */
  size_t nexprs;
  struct node_sel_req *fields; /* on metadata.name */
  size_t nfields;
  int weight; /* preferred terms only */
};

/* A pod (anti-)affinity term, or a spread constraint's pod selection. */
struct pod_term {
  label_selector *sel;
  char **namespaces; /* the namespaces it selects pods in */
  size_t nnamespaces;
  bool all_namespaces; /* namespaceSelector: {} */
  char *topology_key;
  int weight;
  char *signature; /* namespaces + canonical selector: the key of cache memos */
};

struct toleration {
  char *key;   /* "" with exists = every key */
  bool exists; /* operator Exists (else Equal) */
  char *value;
  char *effect; /* "" = every effect */
};

struct host_port {
  int port;
  char protocol[8];
  char ip[48];
};

struct spread_constraint {
  int max_skew;
  int min_domains;
  bool do_not_schedule;
  bool honor_node_affinity; /* nodeAffinityPolicy, default Honor */
  bool honor_node_taints;   /* nodeTaintsPolicy, default Ignore */
  struct pod_term term;     /* selector, the pod's namespace, topology key */
};

struct pod_info {
  int refs;    /* atomic */
  json_t *obj; /* the pod as the informer delivered it (shared, read-only) */
  char *key;   /* "ns/name" */
  const char *ns, *name, *uid, *node_name, *scheduler_name; /* borrowed from obj */
  const json_t *labels;
  bool terminating;
  int32_t priority;
  bool priority_set;          /* spec.priority present */
  const char *priority_class; /* borrowed; NULL if none */
  bool preempt_never;
  struct sched_resources req;     /* what NodeResourcesFit checks */
  struct sched_resources nonzero; /* the same with defaults for missing requests (scoring) */
  struct host_port *ports;
  size_t nports;
  struct toleration *tolerations;
  size_t ntolerations;
  const json_t *node_selector;          /* spec.nodeSelector (borrowed) or NULL */
  struct node_sel_term *req_node_terms; /* required node affinity: OR of terms */
  size_t nreq_node_terms;
  bool has_req_node_affinity;
  struct node_sel_term *pref_node_terms;
  size_t npref_node_terms;
  struct pod_term *affinity, *anti_affinity; /* required */
  size_t naffinity, nanti_affinity;
  struct pod_term *pref_affinity, *pref_anti_affinity;
  size_t npref_affinity, npref_anti_affinity;
  struct spread_constraint *spread;
  size_t nspread;
  long long queued_ms; /* set by sched_queue_pop: when the pod was first queued */
};

/* Parses a pod (the object is json_incref'd, not copied). Never NULL: malformed parts
 * are skipped as upstream ignores what it cannot parse. Caller owns one reference. */
struct pod_info *pod_info_new(json_t *pod);
struct pod_info *pod_info_ref(struct pod_info *pi);
void pod_info_unref(struct pod_info *pi);

/* Whether the pod has any inter-pod affinity of its own (required or preferred). */
bool pod_info_has_pod_affinity(const struct pod_info *pi);

/* Whether pod (namespace ns, labels) is selected by term. */
bool pod_term_matches(const struct pod_term *t, const char *ns, const json_t *labels);

/* Node matching: nodeSelector + required node affinity. */
bool node_sel_term_matches(const struct node_sel_term *t, const json_t *node_labels,
                           const char *node_name);
bool pod_info_matches_node_selector(const struct pod_info *pi, const json_t *node_labels,
                                    const char *node_name);

/* Whether a toleration tolerates a taint {key, value, effect}. */
bool toleration_tolerates(const struct toleration *t, const char *key, const char *value,
                          const char *effect);

#endif
