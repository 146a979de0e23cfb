/* balanced_allocation.c — NodeResourcesBalancedAllocation: favours nodes whose CPU and
 * memory would be used in equal fractions after placing the pod: score = (1 − std) × 100,
 * fractions from actual requests (upstream's useRequested), capped at 1. */
#include "scheduler/plugins/plugins.h"

#include <math.h>

static int64_t
balanced_allocation_score(struct sched_cycle *cy, void *state, const struct node_info *n)
{
  (void)state;
  const struct pod_info *p = cy->pod;
  double fractions[2];
  int count = 0;
  if (n->allocatable.milli_cpu > 0) {
    double f =
        (double)(n->requested.milli_cpu + p->req.milli_cpu) / (double)n->allocatable.milli_cpu;
    fractions[count++] = f > 1 ? 1 : f;
  }
  if (n->allocatable.memory > 0) {
    double f = (double)(n->requested.memory + p->req.memory) / (double)n->allocatable.memory;
    fractions[count++] = f > 1 ? 1 : f;
  }
  double std = count == 2 ? fabs((fractions[0] - fractions[1]) / 2) : 0;
  return (int64_t)((1 - std) * SCHED_MAX_NODE_SCORE);
}

const struct sched_plugin plugin_node_resources_balanced_allocation = {
    .name = "NodeResourcesBalancedAllocation",
    .weight = 1,
    .score = balanced_allocation_score,
};
