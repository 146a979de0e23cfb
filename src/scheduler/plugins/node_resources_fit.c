/* node_resources_fit.c — NodeResourcesFit: the pod's requests must fit the node's
 * allocatable minus what its pods request, and the pod count stay within allocatable
 * pods (filter); LeastAllocated scoring favours the emptiest node, counting containers
 * without requests at upstream's defaults (100m CPU, 200Mi memory). A request larger
 * than the whole node is unresolvable: preemption could not help. */
#include "scheduler/plugins/plugins.h"

static void
node_resources_fit_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                          struct sched_status *st)
{
  (void)state;
  const struct pod_info *p = cy->pod;
  if ((int64_t)n->npods + 1 > n->allowed_pods)
    sched_status_fail(st, SCHED_UNSCHEDULABLE, "Too many pods");
  if (p->req.milli_cpu == 0 && p->req.memory == 0)
    return;
  enum sched_code code = SCHED_UNSCHEDULABLE;
  bool short_cpu =
      p->req.milli_cpu > 0 && p->req.milli_cpu > n->allocatable.milli_cpu - n->requested.milli_cpu;
  bool short_mem = p->req.memory > 0 && p->req.memory > n->allocatable.memory - n->requested.memory;
  if ((short_cpu && p->req.milli_cpu > n->allocatable.milli_cpu) ||
      (short_mem && p->req.memory > n->allocatable.memory))
    code = SCHED_UNRESOLVABLE;
  if (short_cpu)
    sched_status_fail(st, code, "Insufficient cpu");
  if (short_mem)
    sched_status_fail(st, code, "Insufficient memory");
}

static int64_t
least_allocated(int64_t requested, int64_t capacity)
{
  if (capacity == 0 || requested > capacity)
    return 0;
  return (capacity - requested) * SCHED_MAX_NODE_SCORE / capacity;
}

static int64_t
node_resources_fit_score(struct sched_cycle *cy, void *state, const struct node_info *n)
{
  (void)state;
  const struct pod_info *p = cy->pod;
  int64_t cpu = least_allocated(n->nonzero_requested.milli_cpu + p->nonzero.milli_cpu,
                                n->allocatable.milli_cpu);
  int64_t mem =
      least_allocated(n->nonzero_requested.memory + p->nonzero.memory, n->allocatable.memory);
  int weights = (n->allocatable.milli_cpu ? 1 : 0) + (n->allocatable.memory ? 1 : 0);
  return weights ? (cpu + mem) / weights : 0;
}

const struct sched_plugin plugin_node_resources_fit = {
    .name = "NodeResourcesFit",
    .weight = 1,
    .filter = node_resources_fit_filter,
    .score = node_resources_fit_score,
};
