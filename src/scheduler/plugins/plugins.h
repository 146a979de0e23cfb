/* plugins.h — the scheduler's in-tree plugins (one file each, upstream's names), and
 * helpers they share. The default profile that orders them is registry.c. */
#ifndef K8C_SCHEDULER_PLUGINS_H
#define K8C_SCHEDULER_PLUGINS_H

#include "scheduler/framework.h"

extern const struct sched_plugin plugin_node_unschedulable;
extern const struct sched_plugin plugin_node_name;
extern const struct sched_plugin plugin_taint_toleration;
extern const struct sched_plugin plugin_node_affinity;
extern const struct sched_plugin plugin_node_ports;
extern const struct sched_plugin plugin_node_resources_fit;
extern const struct sched_plugin plugin_pod_topology_spread;
extern const struct sched_plugin plugin_inter_pod_affinity;
extern const struct sched_plugin plugin_node_resources_balanced_allocation;

/* Whether pod tolerates every NoSchedule/NoExecute taint of n; *first (if not NULL)
 * gets the first untolerated one. */
bool pod_tolerates_node_taints(const struct pod_info *pod, const struct node_info *n,
                               const struct taint **first);

/* A node's label value, or NULL. */
const char *node_label(const struct node_info *n, const char *key);

#endif
