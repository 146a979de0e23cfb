/* inter_pod_affinity.c — InterPodAffinity: required pod affinity (some matching pod in
 * the node's topology domain, or none anywhere and the pod matches its own terms),
 * required anti-affinity (no matching pod in the domain), and existing pods' required
 * anti-affinity against the incoming pod (filter); preferred terms of both sides move
 * the score (min-max normalized). Counts come from the cache's memos and anti-affinity
 * groups, so pods without such constraints cost nothing here. */
#include "scheduler/plugins/plugins.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <stdint.h>
#include <string.h>

/* Matching pods per topology domain of one key. */
struct domain_counts {
  const struct topo_index *topo;
  int64_t *counts;
};

struct affinity_state {
  struct domain_counts *affinity; /* per required affinity term */
  int64_t affinity_total;
  struct domain_counts *anti;     /* per required anti-affinity term */
  struct domain_counts *existing; /* per topology key of existing pods' anti-affinity */
  size_t nexisting;
  size_t naffinity, nanti;
};

static void
affinity_state_free(void *p)
{
  struct affinity_state *s = p;
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->naffinity; i++)
    free(s->affinity[i].counts);
  for (size_t i = 0; i < s->nanti; i++)
    free(s->anti[i].counts);
  for (size_t i = 0; i < s->nexisting; i++)
    free(s->existing[i].counts);
  free(s->affinity);
  free(s->anti);
  free(s->existing);
  free(s);
}

static void
domain_counts_init(struct domain_counts *dc, struct sched_cache *c, const char *key)
{
  dc->topo = sched_cache_topology(c, key);
  dc->counts = xcalloc(dc->topo->ndomains + 1, sizeof *dc->counts);
}

static bool
matches_all_terms(const struct pod_term *terms, size_t n, const struct pod_info *p)
{
  for (size_t i = 0; i < n; i++)
    if (!pod_term_matches(&terms[i], p->ns, p->labels))
      return false;
  return true;
}

static struct domain_counts *
existing_for_key(struct affinity_state *s, struct sched_cache *c, const char *key)
{
  for (size_t i = 0; i < s->nexisting; i++)
    if (strcmp(s->existing[i].topo->key, key) == 0)
      return &s->existing[i];
  s->existing = xrealloc(s->existing, (s->nexisting + 1) * sizeof *s->existing);
  struct domain_counts *dc = &s->existing[s->nexisting++];
  domain_counts_init(dc, c, key);
  return dc;
}

static void
count_affinity(struct sched_cycle *cy, struct affinity_state *s)
{
  struct pod_info *pod = cy->pod;
  struct sched_cache *c = cy->cache;
  struct pod_memo *memo = pod->naffinity == 1 ? sched_cache_memo(c, pod, &pod->affinity[0]) : NULL;
  for (size_t i = 0; i < c->nnodes; i++) {
    const struct node_info *n = c->nodes[i];
    int64_t count = 0;
    if (memo) {
      count = memo->counts[n->slot];
    } else { /* several terms: an existing pod must match all of them */
      for (size_t j = 0; j < n->npods; j++)
        if (!n->pods[j]->terminating &&
            matches_all_terms(pod->affinity, pod->naffinity, n->pods[j]))
          count++;
    }
    if (count == 0)
      continue;
    for (size_t t = 0; t < pod->naffinity; t++) {
      int d = s->affinity[t].topo->domain_of[n->slot];
      if (d >= 0) {
        s->affinity[t].counts[d] += count;
        s->affinity_total += count;
      }
    }
  }
}

static bool
affinity_pre_filter(struct sched_cycle *cy, void **state, struct sched_status *st)
{
  (void)st;
  struct pod_info *pod = cy->pod;
  struct sched_cache *c = cy->cache;
  if (pod->naffinity == 0 && pod->nanti_affinity == 0 && hashmap_count(c->anti_groups) == 0)
    return true;
  struct affinity_state *s = xcalloc(1, sizeof *s);
  *state = s;
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(c->anti_groups, &it, &k, &v)) {
    struct anti_group *g = v;
    if (g->total <= 0 || !pod_term_matches(g->term, pod->ns, pod->labels))
      continue;
    struct domain_counts *dc = existing_for_key(s, c, g->term->topology_key);
    const int *domain_of = dc->topo->domain_of;
    for (size_t i = 0; i < c->nnodes; i++) {
      size_t slot = c->node_slots[i];
      if (g->counts[slot] && domain_of[slot] >= 0)
        dc->counts[domain_of[slot]] += g->counts[slot];
    }
  }
  s->naffinity = pod->naffinity;
  s->affinity = xcalloc(pod->naffinity + 1, sizeof *s->affinity);
  for (size_t t = 0; t < pod->naffinity; t++)
    domain_counts_init(&s->affinity[t], c, pod->affinity[t].topology_key);
  if (pod->naffinity)
    count_affinity(cy, s);
  s->nanti = pod->nanti_affinity;
  s->anti = xcalloc(pod->nanti_affinity + 1, sizeof *s->anti);
  for (size_t t = 0; t < pod->nanti_affinity; t++) {
    const struct pod_term *term = &pod->anti_affinity[t];
    struct domain_counts *dc = &s->anti[t];
    domain_counts_init(dc, c, term->topology_key);
    struct pod_memo *memo = sched_cache_memo(c, pod, term);
    const int *domain_of = dc->topo->domain_of;
    for (size_t i = 0; i < c->nnodes; i++) {
      size_t slot = c->node_slots[i];
      if (memo->counts[slot] && domain_of[slot] >= 0)
        dc->counts[domain_of[slot]] += memo->counts[slot];
    }
  }
  return true;
}

static void
affinity_filter(struct sched_cycle *cy, void *state, const struct node_info *n,
                struct sched_status *st)
{
  struct affinity_state *s = state;
  const struct pod_info *pod = cy->pod;
  if (s == NULL)
    return;
  if (s->naffinity) {
    bool keys = true, pods_exist = true;
    for (size_t t = 0; t < s->naffinity && keys; t++) {
      int d = s->affinity[t].topo->domain_of[n->slot];
      if (d < 0)
        keys = false;
      else if (s->affinity[t].counts[d] <= 0)
        pods_exist = false;
    }
    bool ok = keys && (pods_exist || (s->affinity_total == 0 &&
                                      matches_all_terms(pod->affinity, pod->naffinity, pod)));
    if (!ok) {
      sched_status_fail(st, SCHED_UNRESOLVABLE, "node(s) didn't match pod affinity rules");
      return;
    }
  }
  for (size_t t = 0; t < s->nanti; t++) {
    int d = s->anti[t].topo->domain_of[n->slot];
    if (d >= 0 && s->anti[t].counts[d] > 0) {
      sched_status_fail(st, SCHED_UNSCHEDULABLE, "node(s) didn't match pod anti-affinity rules");
      return;
    }
  }
  for (size_t i = 0; i < s->nexisting; i++) {
    int d = s->existing[i].topo->domain_of[n->slot];
    if (d >= 0 && s->existing[i].counts[d] > 0) {
      sched_status_fail(st, SCHED_UNSCHEDULABLE,
                        "node(s) didn't satisfy existing pods anti-affinity rules");
      return;
    }
  }
}

/* Pair maps for scoring: "key\x01value" -> (intptr) score. */
static void
pair_add(hashmap *m, const char *key, const char *value, intptr_t delta)
{
  char buf[512];
  snprintf(buf, sizeof buf, "%s\x01%s", key, value);
  intptr_t have = (intptr_t)hashmap_get(m, buf);
  hashmap_put(m, buf, (void *)(have + delta));
}

static intptr_t
pair_get(hashmap *m, const char *key, const char *value)
{
  char buf[512];
  snprintf(buf, sizeof buf, "%s\x01%s", key, value);
  return (intptr_t)hashmap_get(m, buf);
}

/* ---------- score ---------- */

struct affinity_score {
  hashmap *scores; /* "key\x01value" -> (intptr) score */
  char **keys;
  size_t nkeys;
};

static void
affinity_score_free(void *p)
{
  struct affinity_score *s = p;
  if (s == NULL)
    return;
  hashmap_free(s->scores, NULL);
  for (size_t i = 0; i < s->nkeys; i++)
    free(s->keys[i]);
  free(s->keys);
  free(s);
}

static void
score_term(struct affinity_score *s, const struct pod_term *t, const struct pod_info *target,
           const struct node_info *n, intptr_t delta)
{
  if (delta == 0 || !pod_term_matches(t, target->ns, target->labels))
    return;
  const char *value = node_label(n, t->topology_key);
  if (value == NULL)
    return;
  pair_add(s->scores, t->topology_key, value, delta);
  for (size_t i = 0; i < s->nkeys; i++)
    if (strcmp(s->keys[i], t->topology_key) == 0)
      return;
  s->keys = xrealloc(s->keys, (s->nkeys + 1) * sizeof *s->keys);
  s->keys[s->nkeys++] = xstrdup(t->topology_key);
}

static bool
affinity_pre_score(struct sched_cycle *cy, void **state, struct node_info **nodes, size_t nn)
{
  (void)nodes, (void)nn;
  struct pod_info *pod = cy->pod;
  struct sched_cache *c = cy->cache;
  bool own = pod->npref_affinity || pod->npref_anti_affinity;
  if (!own && c->pods_scoring_affinity == 0)
    return false;
  struct affinity_score *s = xcalloc(1, sizeof *s);
  s->scores = hashmap_new();
  *state = s;
  for (size_t i = 0; i < c->nnodes; i++) {
    const struct node_info *n = c->nodes[i];
    if (!own && n->pods_scoring_affinity == 0)
      continue;
    for (size_t j = 0; j < n->npods; j++) {
      const struct pod_info *e = n->pods[j];
      for (size_t t = 0; t < pod->npref_affinity; t++)
        score_term(s, &pod->pref_affinity[t], e, n, pod->pref_affinity[t].weight);
      for (size_t t = 0; t < pod->npref_anti_affinity; t++)
        score_term(s, &pod->pref_anti_affinity[t], e, n, -pod->pref_anti_affinity[t].weight);
      for (size_t t = 0; t < e->naffinity; t++) /* hardPodAffinityWeight 1 */
        score_term(s, &e->affinity[t], pod, n, 1);
      for (size_t t = 0; t < e->npref_affinity; t++)
        score_term(s, &e->pref_affinity[t], pod, n, e->pref_affinity[t].weight);
      for (size_t t = 0; t < e->npref_anti_affinity; t++)
        score_term(s, &e->pref_anti_affinity[t], pod, n, -e->pref_anti_affinity[t].weight);
    }
  }
  return true;
}

static int64_t
affinity_score(struct sched_cycle *cy, void *state, const struct node_info *n)
{
  (void)cy;
  struct affinity_score *s = state;
  int64_t score = 0;
  for (size_t i = 0; i < s->nkeys; i++) {
    const char *value = node_label(n, s->keys[i]);
    if (value)
      score += pair_get(s->scores, s->keys[i], value);
  }
  return score;
}

static void
affinity_normalize(struct sched_cycle *cy, void *state, struct node_info **nodes, int64_t *scores,
                   size_t nn)
{
  (void)cy, (void)state, (void)nodes;
  int64_t min = INT64_MAX, max = INT64_MIN;
  for (size_t i = 0; i < nn; i++) {
    if (scores[i] < min)
      min = scores[i];
    if (scores[i] > max)
      max = scores[i];
  }
  for (size_t i = 0; i < nn; i++)
    scores[i] = max > min ? SCHED_MAX_NODE_SCORE * (scores[i] - min) / (max - min) : 0;
}

const struct sched_plugin plugin_inter_pod_affinity = {
    .name = "InterPodAffinity",
    .weight = 2,
    .pre_filter = affinity_pre_filter,
    .filter = affinity_filter,
    .pre_score = affinity_pre_score,
    .score = affinity_score,
    .normalize = affinity_normalize,
    .free_state = affinity_state_free,
    .free_score_state = affinity_score_free,
};
