/* node_ports.c — NodePorts: a pod's hostPorts must be free on the node (same protocol,
 * and the same or a wildcard host IP, conflict). */
#include "scheduler/plugins/plugins.h"

static void
node_ports_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                  struct sched_status *st)
{
  (void)state;
  for (size_t i = 0; i < cy->pod->nports; i++)
    if (node_info_port_conflicts(n, &cy->pod->ports[i])) {
      sched_status_fail(st, SCHED_UNSCHEDULABLE,
                        "node(s) didn't have free ports for the requested pod ports");
      return;
    }
}

const struct sched_plugin plugin_node_ports = {
    .name = "NodePorts",
    .filter = node_ports_filter,
};
