/* node_unschedulable.c — NodeUnschedulable: a cordoned node (spec.unschedulable) takes
 * only pods tolerating the node.kubernetes.io/unschedulable:NoSchedule taint. */
#include "scheduler/plugins/plugins.h"

static void
node_unschedulable_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                          struct sched_status *st)
{
  (void)state;
  if (!n->unschedulable)
    return;
  for (size_t i = 0; i < cy->pod->ntolerations; i++)
    if (toleration_tolerates(&cy->pod->tolerations[i], "node.kubernetes.io/unschedulable", "",
                             "NoSchedule"))
      return;
  sched_status_fail(st, SCHED_UNRESOLVABLE, "node(s) were unschedulable");
}

const struct sched_plugin plugin_node_unschedulable = {
    .name = "NodeUnschedulable",
    .filter = node_unschedulable_filter,
};
