/* pod_topology_spread.c — PodTopologySpread: DoNotSchedule constraints reject a node when
 * placing the pod there would make (matching pods in its domain + 1 − the smallest
 * domain's count) exceed maxSkew (fewer than minDomains domains: the minimum is 0);
 * ScheduleAnyway constraints score domains with fewer matching pods higher. Pod counts
 * per node come from the cache's memos; only nodes passing the pod's node affinity count
 * (nodeAffinityPolicy Honor) and, with nodeTaintsPolicy Honor, tolerated ones. */
#include "scheduler/plugins/plugins.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define HOSTNAME_KEY "kubernetes.io/hostname"

struct constraint_state {
  const struct spread_constraint *c;
  struct pod_memo *memo;
  hashmap *domains; /* topology value -> (intptr) matching pods */
  int64_t min;
  bool self_match;
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
  for (size_t i = 0; i < s->n; i++)
    hashmap_free(s->cs[i].domains, NULL);
  free(s->cs);
  free(s->ignored);
  free(s);
}

static bool
node_has_keys(const struct pod_info *pod, const struct node_info *n, bool hard)
{
  for (size_t i = 0; i < pod->nspread; i++)
    if (pod->spread[i].do_not_schedule == hard && node_label(n, pod->spread[i].term.topology_key) == NULL)
      return false;
  return true;
}

static bool
node_included(const struct pod_info *pod, const struct spread_constraint *c,
              const struct node_info *n)
{
  if (c->honor_node_affinity && !pod_info_matches_node_selector(pod, n->labels, n->name))
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
    cs->domains = hashmap_new();
    cs->self_match = pod_term_matches(&c->term, pod->ns, pod->labels);
  }
  return s;
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
  struct sched_cache *c = cy->cache;
  for (size_t i = 0; i < c->nnodes; i++) {
    const struct node_info *n = c->nodes[i];
    if (!node_has_keys(cy->pod, n, true))
      continue;
    for (size_t k = 0; k < s->n; k++) {
      struct constraint_state *cs = &s->cs[k];
      if (!node_included(cy->pod, cs->c, n))
        continue;
      const char *value = node_label(n, cs->c->term.topology_key);
      intptr_t have = (intptr_t)hashmap_get(cs->domains, value);
      hashmap_put(cs->domains, value, (void *)(have + cs->memo->counts[n->slot]));
    }
  }
  for (size_t k = 0; k < s->n; k++) {
    struct constraint_state *cs = &s->cs[k];
    int64_t min = INT64_MAX;
    hashmap_iter it = {0};
    const char *key;
    void *v;
    while (hashmap_next(cs->domains, &it, &key, &v))
      if ((int64_t)(intptr_t)v < min)
        min = (intptr_t)v;
    if (min == INT64_MAX || (int)hashmap_count(cs->domains) < cs->c->min_domains)
      min = 0;
    cs->min = min;
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
    const char *value = node_label(n, cs->c->term.topology_key);
    if (value == NULL) {
      sched_status_fail(st, SCHED_UNRESOLVABLE,
                        "node(s) didn't match pod topology spread constraints (missing required "
                        "label)");
      return;
    }
    int64_t match = (intptr_t)hashmap_get(cs->domains, value);
    if (match + (cs->self_match ? 1 : 0) - cs->min > cs->c->max_skew) {
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
  struct sched_cache *c = cy->cache;
  s->ignored = xcalloc(c->count_cap, 1);
  size_t nignored = 0;
  for (size_t i = 0; i < nn; i++) {
    if (!node_has_keys(cy->pod, nodes[i], false)) {
      s->ignored[nodes[i]->slot] = 1;
      nignored++;
      continue;
    }
    for (size_t k = 0; k < s->n; k++) {
      const char *value = node_label(nodes[i], s->cs[k].c->term.topology_key);
      if (strcmp(s->cs[k].c->term.topology_key, HOSTNAME_KEY) != 0 &&
          hashmap_get(s->cs[k].domains, value) == NULL)
        hashmap_put(s->cs[k].domains, value, (void *)(intptr_t)1); /* present; counts +1 */
    }
  }
  for (size_t k = 0; k < s->n; k++) {
    bool host = strcmp(s->cs[k].c->term.topology_key, HOSTNAME_KEY) == 0;
    size_t size = host ? nn - nignored : hashmap_count(s->cs[k].domains);
    s->cs[k].weight = log((double)size + 2);
  }
  for (size_t i = 0; i < c->nnodes; i++) {
    const struct node_info *n = c->nodes[i];
    if (!node_has_keys(cy->pod, n, false))
      continue;
    for (size_t k = 0; k < s->n; k++) {
      struct constraint_state *cs = &s->cs[k];
      if (strcmp(cs->c->term.topology_key, HOSTNAME_KEY) == 0 || !node_included(cy->pod, cs->c, n))
        continue;
      const char *value = node_label(n, cs->c->term.topology_key);
      intptr_t have = (intptr_t)hashmap_get(cs->domains, value);
      if (have)
        hashmap_put(cs->domains, value, (void *)(have + cs->memo->counts[n->slot]));
    }
  }
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
    const char *value = node_label(n, cs->c->term.topology_key);
    if (value == NULL)
      continue;
    int64_t count = strcmp(cs->c->term.topology_key, HOSTNAME_KEY) == 0
                        ? cs->memo->counts[n->slot]
                        : (intptr_t)hashmap_get(cs->domains, value) - 1;
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
