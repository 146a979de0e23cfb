/* pod_topology_spread.c — PodTopologySpread: DoNotSchedule constraints reject a node when
 * placing the pod there would make (matching pods in its domain + 1 − the smallest
 * domain's count) exceed maxSkew (fewer than minDomains domains: the minimum is 0);
 * ScheduleAnyway constraints score domains with fewer matching pods higher. Pod counts
 * per node come from the cache's memos and domains from its topology indexes, so a cycle
 * is a few array passes; only nodes passing the pod's node affinity count
 * (nodeAffinityPolicy Honor) and, with nodeTaintsPolicy Honor, tolerated ones. */
#include "scheduler/plugins/plugins.h"

#include "lib/mem.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define HOSTNAME_KEY "kubernetes.io/hostname"

struct constraint_state {
  const struct spread_constraint *c;
  struct pod_memo *memo;
  const struct topo_index *topo;
  int64_t *counts;        /* per domain */
  unsigned char *present; /* per domain: some eligible node is in it */
  int64_t min;
  bool self_match, hostname;
  double weight; /* scoring */
};

struct spread_state {
  struct constraint_state *cs;
  size_t n;
  unsigned char *ignored; /* scoring: per node slot */
};

static void
spread_state_free(void *p)
{
  struct spread_state *s = p;
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->cs[i].counts);
    free(s->cs[i].present);
  }
  free(s->cs);
  free(s->ignored);
  free(s);
}

static bool
node_has_keys(const struct spread_state *s, size_t slot)
{
  for (size_t k = 0; k < s->n; k++)
    if (s->cs[k].topo->domain_of[slot] < 0)
      return false;
  return true;
}

/* Whether node_included can be false for this pod and constraint at all. */
static bool
inclusion_filters(const struct pod_info *pod, const struct spread_constraint *c)
{
  return (c->honor_node_affinity && (pod->node_selector || pod->has_req_node_affinity)) ||
         c->honor_node_taints;
}

static bool
node_included(const struct pod_info *pod, const struct spread_constraint *c,
              const struct node_info *n)
{
  if (c->honor_node_affinity && (pod->node_selector || pod->has_req_node_affinity) &&
      !pod_info_matches_node_selector(pod, n->labels, n->name))
    return false;
  if (c->honor_node_taints && !pod_tolerates_node_taints(pod, n, NULL))
    return false;
  return true;
}

static struct spread_state *
spread_state_new(struct sched_cycle *cy, bool hard)
{
  struct pod_info *pod = cy->pod;
  size_t count = 0;
  for (size_t i = 0; i < pod->nspread; i++)
    if (pod->spread[i].do_not_schedule == hard)
      count++;
  if (count == 0)
    return NULL;
  struct spread_state *s = xcalloc(1, sizeof *s);
  s->cs = xcalloc(count, sizeof *s->cs);
  for (size_t i = 0; i < pod->nspread; i++) {
    const struct spread_constraint *c = &pod->spread[i];
    if (c->do_not_schedule != hard)
      continue;
    struct constraint_state *cs = &s->cs[s->n++];
    cs->c = c;
    cs->memo = sched_cache_memo(cy->cache, pod, &c->term);
    cs->topo = sched_cache_topology(cy->cache, c->term.topology_key);
    cs->counts = xcalloc(cs->topo->ndomains + 1, sizeof *cs->counts);
    cs->present = xcalloc(cs->topo->ndomains + 1, 1);
    cs->self_match = pod_term_matches(&c->term, pod->ns, pod->labels);
    cs->hostname = strcmp(c->term.topology_key, HOSTNAME_KEY) == 0;
  }
  return s;
}

/* Sums matching pods per domain over every node that has all the keys and passes the
 * constraint's inclusion policies; when scoring, only in domains of feasible nodes. */
static void
count_domains(struct sched_cycle *cy, struct spread_state *s, bool only_present)
{
  struct sched_cache *c = cy->cache;
  for (size_t i = 0; i < c->nnodes; i++) {
    size_t slot = c->node_slots[i]; /* node_info itself only when a policy needs it */
    if (!node_has_keys(s, slot))
      continue;
    for (size_t k = 0; k < s->n; k++) {
      struct constraint_state *cs = &s->cs[k];
      int d = cs->topo->domain_of[slot];
      if ((only_present && !cs->present[d]) ||
          (inclusion_filters(cy->pod, cs->c) && !node_included(cy->pod, cs->c, c->nodes[i])))
        continue;
      if (!only_present)
        cs->present[d] = 1;
      cs->counts[d] += cs->memo->counts[slot];
    }
  }
}

/* ---------- filter ---------- */

static bool
spread_pre_filter(struct sched_cycle *cy, void **state, struct sched_status *st)
{
  (void)st;
  struct spread_state *s = spread_state_new(cy, true);
  *state = s;
  if (s == NULL)
    return true;
  count_domains(cy, s, false);
  for (size_t k = 0; k < s->n; k++) {
    struct constraint_state *cs = &s->cs[k];
    int64_t min = INT64_MAX;
    int domains = 0;
    for (size_t d = 0; d < cs->topo->ndomains; d++)
      if (cs->present[d]) {
        domains++;
        if (cs->counts[d] < min)
          min = cs->counts[d];
      }
    cs->min = min == INT64_MAX || domains < cs->c->min_domains ? 0 : min;
  }
  return true;
}

static void
spread_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
              struct sched_status *st)
{
  (void)cy;
  struct spread_state *s = state;
  if (s == NULL)
    return;
  for (size_t k = 0; k < s->n; k++) {
    struct constraint_state *cs = &s->cs[k];
    int d = cs->topo->domain_of[n->slot];
    if (d < 0) {
      sched_status_fail(st, SCHED_UNRESOLVABLE,
                        "node(s) didn't match pod topology spread constraints (missing required "
                        "label)");
      return;
    }
    if (cs->counts[d] + (cs->self_match ? 1 : 0) - cs->min > cs->c->max_skew) {
      sched_status_fail(st, SCHED_UNSCHEDULABLE,
                        "node(s) didn't match pod topology spread constraints");
      return;
    }
  }
}

/* ---------- score ---------- */

static bool
spread_pre_score(struct sched_cycle *cy, void **state, struct node_info **nodes, size_t nn)
{
  struct spread_state *s = spread_state_new(cy, false);
  *state = s;
  if (s == NULL)
    return false;
  s->ignored = xcalloc(cy->cache->count_cap, 1);
  size_t nignored = 0;
  for (size_t i = 0; i < nn; i++) {
    if (!node_has_keys(s, nodes[i]->slot)) {
      s->ignored[nodes[i]->slot] = 1;
      nignored++;
      continue;
    }
    for (size_t k = 0; k < s->n; k++)
      s->cs[k].present[s->cs[k].topo->domain_of[nodes[i]->slot]] = 1;
  }
  for (size_t k = 0; k < s->n; k++) {
    size_t size = 0;
    for (size_t d = 0; d < s->cs[k].topo->ndomains; d++)
      size += s->cs[k].present[d];
    if (s->cs[k].hostname)
      size = nn - nignored;
    s->cs[k].weight = log((double)size + 2);
  }
  count_domains(cy, s, true);
  return true;
}

static int64_t
spread_score(struct sched_cycle *cy, void *state, const struct node_info *n)
{
  (void)cy;
  struct spread_state *s = state;
  if (s->ignored[n->slot])
    return 0;
  double score = 0;
  for (size_t k = 0; k < s->n; k++) {
    struct constraint_state *cs = &s->cs[k];
    int d = cs->topo->domain_of[n->slot];
    int64_t count = cs->hostname ? cs->memo->counts[n->slot] : cs->counts[d];
    score += (double)count * cs->weight + (double)(cs->c->max_skew - 1);
  }
  return (int64_t)llround(score);
}

static void
spread_normalize(struct sched_cycle *cy, void *state, struct node_info **nodes, int64_t *scores,
                 size_t nn)
{
  (void)cy;
  struct spread_state *s = state;
  int64_t min = INT64_MAX, max = 0;
  for (size_t i = 0; i < nn; i++) {
    if (s->ignored[nodes[i]->slot])
      continue;
    if (scores[i] < min)
      min = scores[i];
    if (scores[i] > max)
      max = scores[i];
  }
  for (size_t i = 0; i < nn; i++) {
    if (s->ignored[nodes[i]->slot])
      scores[i] = 0;
    else if (max == 0)
      scores[i] = SCHED_MAX_NODE_SCORE;
    else
      scores[i] = SCHED_MAX_NODE_SCORE * (max + min - scores[i]) / max;
  }
}

const struct sched_plugin plugin_pod_topology_spread = {
    .name = "PodTopologySpread",
    .weight = 2,
    .pre_filter = spread_pre_filter,
    .filter = spread_filter,
    .pre_score = spread_pre_score,
    .score = spread_score,
    .normalize = spread_normalize,
    .free_state = spread_state_free,
};
