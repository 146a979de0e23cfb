/* taint_toleration.c — TaintToleration: NoSchedule/NoExecute taints must be tolerated
 * (filter); each untolerated PreferNoSchedule taint lowers the node's score (reversed
 * normalization: fewest such taints = 100). */
#include "scheduler/plugins/plugins.h"

#include <string.h>

static void
taint_toleration_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                        struct sched_status *st)
{
  (void)state;
  const struct taint *t = NULL;
  if (!pod_tolerates_node_taints(cy->pod, n, &t))
    sched_status_fail(st, SCHED_UNRESOLVABLE, "node(s) had untolerated taint {%s: %s}", t->key,
                      t->value);
}

static int64_t
taint_toleration_score(struct sched_cycle *cy, void *state, const struct node_info *n)
{
  (void)state;
  int64_t count = 0;
  for (size_t i = 0; i < n->ntaints; i++) {
    const struct taint *t = &n->taints[i];
    if (strcmp(t->effect, "PreferNoSchedule") != 0)
      continue;
    bool tolerated = false;
    for (size_t j = 0; j < cy->pod->ntolerations && !tolerated; j++)
      tolerated = toleration_tolerates(&cy->pod->tolerations[j], t->key, t->value, t->effect);
    if (!tolerated)
      count++;
  }
  return count;
}

static void
taint_toleration_normalize(struct sched_cycle *cy, void *state, struct node_info **nodes,
                           int64_t *scores, size_t n)
{
  (void)cy, (void)state, (void)nodes;
  sched_default_normalize(scores, n, true);
}

const struct sched_plugin plugin_taint_toleration = {
    .name = "TaintToleration",
    .weight = 3,
    .filter = taint_toleration_filter,
    .score = taint_toleration_score,
    .normalize = taint_toleration_normalize,
};
