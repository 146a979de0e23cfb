/* registry.c — the default scheduling profile: upstream's plugin order (filters run in
 * this order, stopping at the first failure) and score weights (TaintToleration 3,
 * NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2, the others 1). */
#include "scheduler/plugins/plugins.h"

#include <string.h>

const struct sched_plugin *const sched_default_plugins[] = {
    &plugin_node_unschedulable,
    &plugin_node_name,
    &plugin_taint_toleration,
    &plugin_node_affinity,
    &plugin_node_ports,
    &plugin_node_resources_fit,
    &plugin_pod_topology_spread,
    &plugin_inter_pod_affinity,
    &plugin_node_resources_balanced_allocation,
    NULL,
};

const char *
node_label(const struct node_info *n, const char *key)
{
  return json_string_value(json_object_get(n->labels, key));
}

bool
pod_tolerates_node_taints(const struct pod_info *pod, const struct node_info *n,
                          const struct taint **first)
{
  for (size_t i = 0; i < n->ntaints; i++) {
    const struct taint *t = &n->taints[i];
    if (strcmp(t->effect, "NoSchedule") != 0 && strcmp(t->effect, "NoExecute") != 0)
      continue;
    bool tolerated = false;
    for (size_t j = 0; j < pod->ntolerations && !tolerated; j++)
      tolerated = toleration_tolerates(&pod->tolerations[j], t->key, t->value, t->effect);
    if (!tolerated) {
      if (first)
        *first = t;
      return false;
    }
  }
  return true;
}
