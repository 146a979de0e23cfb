/* preemption.c — DefaultPreemption (see preemption.h). The dry run edits the real cache
 * under its lock (victims out, reprieved ones back) and restores it before returning, so
 * every filter sees exactly what the node would hold after the evictions. */
#include "scheduler/preemption.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CANDIDATE_NODES_PERCENTAGE 10
#define MIN_CANDIDATE_NODES_ABSOLUTE 100

struct held_pod {
  struct pod_info *pi;
  bool assumed;
  bool violating;
};

struct candidate {
  struct node_info *node;
  struct pod_info **victims;
  size_t nvictims;
  size_t violations;
};

bool
sched_pdb_selects(const struct sched_pdb *pdb, const struct pod_info *pod)
{
  if (pdb->sel == NULL || label_selector_is_empty(pdb->sel) || strcmp(pdb->ns, pod->ns) != 0)
    return false;
  return label_selector_matches(pdb->sel, pod->labels);
}

bool
sched_fits_on_node(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
                   const struct node_info *n, struct sched_status *st)
{
  struct sched_cycle cy = {.cache = c, .pod = pod};
  void *state[32] = {0};
  size_t np = 0;
  while (fw->plugins[np] && np < 32)
    np++;
  memset(st, 0, sizeof *st);
  bool ok = true;
  for (size_t p = 0; p < np && ok; p++)
    if (fw->plugins[p]->pre_filter && !fw->plugins[p]->pre_filter(&cy, &state[p], st))
      ok = false;
  for (size_t p = 0; p < np && ok; p++) {
    if (fw->plugins[p]->filter)
      fw->plugins[p]->filter(&cy, state[p], n, st);
    ok = st->code == SCHED_SUCCESS;
  }
  for (size_t p = 0; p < np; p++)
    if (state[p] && fw->plugins[p]->free_state)
      fw->plugins[p]->free_state(state[p]);
  return ok;
}

static const char *
start_time(const struct pod_info *pi)
{
  const char *t =
      json_string_value(json_object_get(json_object_get(pi->obj, "status"), "startTime"));
  return t ? t : "";
}

/* More important first: higher priority, then the one started earlier. */
static int
cmp_importance(const void *a, const void *b)
{
  const struct held_pod *x = a, *y = b;
  if (x->pi->priority != y->pi->priority)
    return x->pi->priority > y->pi->priority ? -1 : 1;
  return strcmp(start_time(x->pi), start_time(y->pi));
}

static void
put_back(struct sched_cache *c, const struct node_info *n, struct held_pod *h)
{
  sched_cache_add_pod(c, h->pi, n->name, h->assumed);
}

/* upstream's selectVictimsOnNode. Returns false with st set when no eviction helps. */
static bool
select_victims(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
               struct node_info *n, const struct sched_pdb *pdbs, size_t npdbs,
               struct candidate *out, struct sched_status *st)
{
  memset(out, 0, sizeof *out);
  size_t np = 0;
  struct held_pod *held = xcalloc(n->npods + 1, sizeof *held);
  for (size_t i = 0; i < n->npods; i++)
    if (n->pods[i]->priority < pod->priority) {
      held[np].pi = pod_info_ref(n->pods[i]);
      held[np].assumed = sched_cache_pod_assumed(c, n->pods[i]->key);
      np++;
    }
  if (np == 0) {
    memset(st, 0, sizeof *st);
    sched_status_fail(st, SCHED_UNRESOLVABLE, "No preemption victims found for incoming pod");
    free(held);
    return false;
  }
  for (size_t i = 0; i < np; i++)
    sched_cache_remove_pod(c, held[i].pi->key);
  bool fits = sched_fits_on_node(fw, c, pod, n, st);
  if (fits) {
    qsort(held, np, sizeof *held, cmp_importance);
    int *allowed = xcalloc(npdbs + 1, sizeof *allowed);
    for (size_t j = 0; j < npdbs; j++)
      allowed[j] = pdbs[j].disruptions_allowed;
    for (size_t i = 0; i < np; i++)
      for (size_t j = 0; j < npdbs; j++) {
        if (!sched_pdb_selects(&pdbs[j], held[i].pi))
          continue;
        if (json_object_get(pdbs[j].disrupted_pods, held[i].pi->name))
          continue; /* already being disrupted: counted in the budget */
        if (--allowed[j] < 0)
          held[i].violating = true;
      }
    free(allowed);
    out->node = n;
    out->victims = xcalloc(np, sizeof *out->victims);
    /* Reprieve as many as possible: PDB-violating pods first, most important first. */
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = 0; i < np; i++) {
        if (held[i].violating != (pass == 0))
          continue;
        put_back(c, n, &held[i]);
        struct sched_status tmp;
        if (sched_fits_on_node(fw, c, pod, n, &tmp))
          continue;
        sched_cache_remove_pod(c, held[i].pi->key);
        out->victims[out->nvictims++] = pod_info_ref(held[i].pi);
        if (held[i].violating)
          out->violations++;
      }
  }
  for (size_t i = 0; i < np; i++) {
    if (!sched_cache_has_pod(c, held[i].pi->key))
      put_back(c, n, &held[i]);
    pod_info_unref(held[i].pi);
  }
  free(held);
  return fits;
}

static void
candidate_clear(struct candidate *cd)
{
  for (size_t i = 0; i < cd->nvictims; i++)
    pod_info_unref(cd->victims[i]);
  free(cd->victims);
  memset(cd, 0, sizeof *cd);
}

static int32_t
highest_priority(const struct candidate *cd)
{
  int32_t h = INT32_MIN;
  for (size_t i = 0; i < cd->nvictims; i++)
    if (cd->victims[i]->priority > h)
      h = cd->victims[i]->priority;
  return h;
}

static long long
priority_sum(const struct candidate *cd)
{
  long long s = 0;
  for (size_t i = 0; i < cd->nvictims; i++) /* shifted so that every term is positive */
    s += (long long)cd->victims[i]->priority + (long long)INT32_MAX + 1;
  return s;
}

/* The earliest start time among the highest-priority victims. */
static const char *
earliest_top_start(const struct candidate *cd)
{
  int32_t h = highest_priority(cd);
  const char *best = NULL;
  for (size_t i = 0; i < cd->nvictims; i++) {
    if (cd->victims[i]->priority != h)
      continue;
    const char *t = start_time(cd->victims[i]);
    if (best == NULL || strcmp(t, best) < 0)
      best = t;
  }
  return best ? best : "";
}

/* upstream's pickOneNodeForPreemption: negative when a is the better choice. */
static int
cmp_candidates(const struct candidate *a, const struct candidate *b)
{
  if (a->violations != b->violations)
    return a->violations < b->violations ? -1 : 1;
  int32_t ha = highest_priority(a), hb = highest_priority(b);
  if (ha != hb)
    return ha < hb ? -1 : 1;
  long long sa = priority_sum(a), sb = priority_sum(b);
  if (sa != sb)
    return sa < sb ? -1 : 1;
  if (a->nvictims != b->nvictims)
    return a->nvictims < b->nvictims ? -1 : 1;
  return -strcmp(earliest_top_start(a), earliest_top_start(b)); /* later start wins */
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
histogram_message(hashmap *h, size_t nall)
{
  size_t n = hashmap_count(h), i = 0, len = 64;
  char **items = xcalloc(n + 1, sizeof *items);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(h, &it, &k, &v)) {
    items[i] = xasprintf("%ld %s", (long)(intptr_t)v, k);
    len += strlen(items[i++]) + 2;
  }
  qsort(items, n, sizeof *items, cmp_str);
  char *out = xcalloc(1, len);
  int off = snprintf(out, len, "0/%zu nodes are available: ", nall);
  for (i = 0; i < n; i++) {
    off += snprintf(out + off, len - (size_t)off, "%s%s", i ? ", " : "", items[i]);
    free(items[i]);
  }
  snprintf(out + off, len - (size_t)off, ".");
  free(items);
  return out;
}

static void
count_reason(hashmap *h, const char *reason)
{
  intptr_t count = (intptr_t)hashmap_get(h, reason);
  hashmap_put(h, reason, (void *)(count + 1));
}

static bool
terminating_victims_on(struct sched_cache *c, const struct pod_info *pod, const char *node)
{
  struct node_info *n = node && node[0] ? sched_cache_node(c, node) : NULL;
  if (n == NULL)
    return false;
  for (size_t i = 0; i < n->npods; i++)
    if (n->pods[i]->terminating && n->pods[i]->priority < pod->priority)
      return true;
  return false;
}

void
sched_preempt(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
              const struct sched_node_failure *failed, size_t nfailed, size_t nall,
              const struct sched_pdb *pdbs, size_t npdbs, struct preemption_result *out)
{
  memset(out, 0, sizeof *out);
  if (pod->preempt_never) {
    out->message = xstrdup("not eligible due to preemptionPolicy=Never.");
    return;
  }
  if (terminating_victims_on(c, pod, fw->nominated_node)) {
    out->message = xstrdup("not eligible due to a terminating pod on the nominated node.");
    return;
  }
  hashmap *h = hashmap_new();
  size_t npotential = 0;
  for (size_t i = 0; i < nfailed; i++)
    if (failed[i].code != SCHED_UNRESOLVABLE)
      npotential++;
  size_t want = npotential * MIN_CANDIDATE_NODES_PERCENTAGE / 100;
  if (want < MIN_CANDIDATE_NODES_ABSOLUTE)
    want = MIN_CANDIDATE_NODES_ABSOLUTE;
  struct candidate best = {0};
  size_t ncandidates = 0;
  size_t offset = nfailed ? (size_t)rand_r(&fw->rng) % nfailed : 0;
  for (size_t k = 0; k < nfailed; k++) {
    const struct sched_node_failure *f = &failed[(offset + k) % nfailed];
    if (f->code == SCHED_UNRESOLVABLE) {
      count_reason(h, "Preemption is not helpful for scheduling");
      continue;
    }
    if (ncandidates >= want)
      continue;
    struct candidate cd;
    struct sched_status st;
    if (!select_victims(fw, c, pod, f->node, pdbs, npdbs, &cd, &st)) {
      for (int r = 0; r < st.nreasons; r++)
        count_reason(h, st.reasons[r]);
      continue;
    }
    ncandidates++;
    if (best.node == NULL || cmp_candidates(&cd, &best) < 0) {
      candidate_clear(&best);
      best = cd;
    } else {
      candidate_clear(&cd);
    }
  }
  if (best.node) {
    out->node = best.node;
    out->victims = best.victims;
    out->nvictims = best.nvictims;
  } else {
    out->message = histogram_message(h, nall);
  }
  hashmap_free(h, NULL);
}

void
preemption_result_clear(struct preemption_result *r)
{
  for (size_t i = 0; i < r->nvictims; i++)
    pod_info_unref(r->victims[i]);
  free(r->victims);
  free(r->message);
  memset(r, 0, sizeof *r);
}
