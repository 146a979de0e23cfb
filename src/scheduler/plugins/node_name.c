/* node_name.c — NodeName: a pod naming a node in spec.nodeName fits only that node. */
#include "scheduler/plugins/plugins.h"

#include <string.h>

static void
node_name_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                 struct sched_status *st)
{
  (void)state;
  if (cy->pod->node_name && strcmp(cy->pod->node_name, n->name) != 0)
    sched_status_fail(st, SCHED_UNRESOLVABLE, "node(s) didn't match the requested node name");
}

const struct sched_plugin plugin_node_name = {
    .name = "NodeName",
    .filter = node_name_filter,
};
