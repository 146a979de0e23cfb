/* node_affinity.c — NodeAffinity: spec.nodeSelector and required node affinity must
 * match (filter); matching preferred terms add their weights (score, normalized so the
 * best node gets 100). */
#include "scheduler/plugins/plugins.h"

static void
node_affinity_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                     struct sched_status *st)
{
  (void)state;
  if (!pod_info_matches_node_selector(cy->pod, n->labels, n->name))
    sched_status_fail(st, SCHED_UNRESOLVABLE, "node(s) didn't match Pod's node affinity/selector");
}

static bool
node_affinity_pre_score(struct sched_cycle *cy, void **state, struct node_info **nodes, size_t n)
{
  (void)state, (void)nodes, (void)n;
  return cy->pod->npref_node_terms > 0;
}

static int64_t
node_affinity_score(struct sched_cycle *cy, void *state, const struct node_info *n)
{
  (void)state;
  int64_t score = 0;
  for (size_t i = 0; i < cy->pod->npref_node_terms; i++) {
    const struct node_sel_term *t = &cy->pod->pref_node_terms[i];
    if (t->weight != 0 && node_sel_term_matches(t, n->labels, n->name))
      score += t->weight;
  }
  return score;
}

static void
node_affinity_normalize(struct sched_cycle *cy, void *state, struct node_info **nodes,
                        int64_t *scores, size_t n)
{
  (void)cy, (void)state, (void)nodes;
  sched_default_normalize(scores, n, false);
}

const struct sched_plugin plugin_node_affinity = {
    .name = "NodeAffinity",
    .weight = 2,
    .filter = node_affinity_filter,
    .pre_score = node_affinity_pre_score,
    .score = node_affinity_score,
    .normalize = node_affinity_normalize,
};
