/* framework.c — one scheduling cycle: PreFilter, Filter over a rotating sample of nodes,
 * PreScore/Score/NormalizeScore on the feasible ones, weighted sum, best node; or the
 * FitError message with upstream's reason histogram and preemption summary. */
#include "scheduler/framework.h"

#include "scheduler/preemption.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLUGINS 32
#define MIN_FEASIBLE_NODES_TO_FIND 100
#define MIN_FEASIBLE_NODES_PERCENTAGE 5

void
sched_status_fail(struct sched_status *st, enum sched_code code, const char *fmt, ...)
{
  if (code > st->code)
    st->code = code;
  if (st->codes_only || st->nreasons >= SCHED_MAX_REASONS)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->reasons[st->nreasons++], sizeof st->reasons[0], fmt, ap);
  va_end(ap);
}

size_t
sched_nodes_to_find(int percentage, size_t n)
{
  if (n < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100)
    return n;
  long pct = percentage;
  if (pct <= 0) {
    pct = 50 - (long)n / 125;
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE)
      pct = MIN_FEASIBLE_NODES_PERCENTAGE;
  }
  size_t want = n * (size_t)pct / 100;
  return want < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : want;
}

void
sched_default_normalize(int64_t *scores, size_t n, bool reverse)
{
  int64_t max = 0;
  for (size_t i = 0; i < n; i++)
    if (scores[i] > max)
      max = scores[i];
  if (max == 0) {
    if (reverse)
      for (size_t i = 0; i < n; i++)
        scores[i] = SCHED_MAX_NODE_SCORE;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    scores[i] = SCHED_MAX_NODE_SCORE * scores[i] / max;
    if (reverse)
      scores[i] = SCHED_MAX_NODE_SCORE - scores[i];
  }
}

/* ---------- the failure message ---------- */

struct failed_node {
  struct node_info *node;
  enum sched_code code;
};

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "N reason" entries of a histogram, sorted as strings (upstream sorts them so). */
static char *
histogram_text(hashmap *h)
{
  size_t n = hashmap_count(h), i = 0;
  char **items = xcalloc(n + 1, sizeof *items);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(h, &it, &k, &v))
    items[i++] = xasprintf("%ld %s", (long)(intptr_t)v, k);
  qsort(items, n, sizeof *items, cmp_str);
  size_t len = 1;
  for (i = 0; i < n; i++)
    len += strlen(items[i]) + 2;
  char *out = xcalloc(1, len);
  for (i = 0; i < n; i++) {
    if (i)
      strcat(out, ", ");
    strcat(out, items[i]);
    free(items[i]);
  }
  free(items);
  return out;
}

static void
histogram_add(hashmap *h, const char *reason)
{
  intptr_t count = (intptr_t)hashmap_get(h, reason);
  hashmap_put(h, reason, (void *)(count + 1));
}

static char *
fit_error_text(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod, size_t nall,
               struct failed_node *failed, struct sched_status *sts, size_t nfailed,
               struct sched_result *out)
{
  hashmap *h = hashmap_new();
  for (size_t i = 0; i < nfailed; i++)
    for (int r = 0; r < sts[i].nreasons; r++)
      histogram_add(h, sts[i].reasons[r]);
  cleanup_free char *hist = histogram_text(h);
  hashmap_free(h, NULL);
  struct sched_node_failure *nf = xcalloc(nfailed + 1, sizeof *nf);
  for (size_t i = 0; i < nfailed; i++)
    nf[i] = (struct sched_node_failure){failed[i].node, failed[i].code};
  struct preemption_result pr;
  sched_preempt(fw, c, pod, nf, nfailed, nall, fw->pdbs, fw->npdbs, &pr);
  free(nf);
  char *text;
  if (pr.node) { /* upstream: a successful PostFilter adds nothing to the message */
    text = xasprintf("0/%zu nodes are available: %s.", nall, hist);
    out->nominated = pr.node;
    out->victims = steal_ptr(pr.victims);
    out->nvictims = pr.nvictims;
    pr.nvictims = 0;
  } else {
    text = xasprintf("0/%zu nodes are available: %s. preemption: %s", nall, hist, pr.message);
  }
  preemption_result_clear(&pr);
  return text;
}

/* ---------- the cycle ---------- */

static size_t
plugin_count(const struct sched_framework *fw)
{
  size_t n = 0;
  while (fw->plugins[n] && n < MAX_PLUGINS)
    n++;
  return n;
}

/* codes_only: the first pass over the nodes wants only pass/fail and the code; the
 * reasons are formatted (a vsnprintf per failing node) only when no node fits. */
static void
run_filters(const struct sched_framework *fw, size_t np, struct sched_cycle *cy, void **state,
            const struct node_info *n, struct sched_status *st, bool codes_only)
{
  memset(st, 0, offsetof(struct sched_status, reasons));
  st->codes_only = codes_only;
  st->reasons[0][0] = '\0';
  for (size_t p = 0; p < np && st->code == SCHED_SUCCESS; p++)
    if (fw->plugins[p]->filter)
      fw->plugins[p]->filter(cy, state[p], n, st);
}

static struct node_info *
select_host(struct sched_framework *fw, struct node_info **feasible, const int64_t *total, size_t n)
{
  size_t best = 0, ties = 1;
  for (size_t i = 1; i < n; i++) {
    if (total[i] > total[best]) {
      best = i;
      ties = 1;
    } else if (total[i] == total[best]) {
      ties++;
      if ((size_t)rand_r(&fw->rng) % ties == 0) /* reservoir sampling among ties */
        best = i;
    }
  }
  return feasible[best];
}

static void
score_nodes(struct sched_framework *fw, size_t np, struct sched_cycle *cy,
            struct node_info **feasible, size_t nf, int64_t *total)
{
  int64_t *scores = xcalloc(nf, sizeof *scores);
  for (size_t p = 0; p < np; p++) {
    const struct sched_plugin *pl = fw->plugins[p];
    if (pl->weight <= 0 || pl->score == NULL)
      continue;
    void *state = NULL;
    void (*free_state)(void *) = pl->free_score_state ? pl->free_score_state : pl->free_state;
    if (pl->pre_score && !pl->pre_score(cy, &state, feasible, nf)) {
      if (state && free_state)
        free_state(state);
      continue;
    }
    for (size_t i = 0; i < nf; i++)
      scores[i] = pl->score(cy, state, feasible[i]);
    if (pl->normalize)
      pl->normalize(cy, state, feasible, scores, nf);
    for (size_t i = 0; i < nf; i++)
      total[i] += scores[i] * pl->weight;
    if (state && free_state)
      free_state(state);
  }
  free(scores);
}

void
sched_schedule_one(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pod,
                   struct sched_result *out)
{
  memset(out, 0, sizeof *out);
  struct sched_cycle cy = {.cache = c, .pod = pod};
  size_t np = plugin_count(fw);
  void *state[MAX_PLUGINS] = {0};
  size_t nall = c->nnodes;
  struct sched_status st;
  bool rejected = false, run_post_filter = false;
  struct failed_node *failed = NULL;
  struct sched_status *sts = NULL;
  size_t nfailed = 0, cap_failed = 0;
  for (size_t p = 0; p < np && !rejected; p++) {
    const struct sched_plugin *pl = fw->plugins[p];
    memset(&st, 0, offsetof(struct sched_status, reasons));
    if (pl->pre_filter && !pl->pre_filter(&cy, &state[p], &st))
      rejected = true;
  }
  if (rejected) {
    char joined[SCHED_MAX_REASONS * 386] = "";
    for (int r = 0; r < st.nreasons; r++)
      snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", r ? ", " : "",
               st.reasons[r]);
    out->message = xasprintf("0/%zu nodes are available: %s. preemption: 0/%zu nodes are "
                             "available: %zu Preemption is not helpful for scheduling.",
                             nall, joined, nall, nall);
    goto done;
  }
  if (nall == 0) { /* upstream's ErrNoNodesAvailable */
    out->message = xstrdup("no nodes available to schedule pods");
    goto done;
  }
  size_t want = sched_nodes_to_find(fw->percentage_of_nodes_to_score, nall);
  struct node_info **feasible = xcalloc(want + 1, sizeof *feasible);
  size_t nf = 0, i = 0;
  size_t start = nall ? fw->next_start_index % nall : 0;
  for (; i < nall && nf < want; i++) {
    struct node_info *n = c->nodes[(start + i) % nall];
    /* Node infos are scattered over the heap: fetching a few ahead hides the misses. */
    __builtin_prefetch(c->nodes[(start + i + 4) % nall]);
    run_filters(fw, np, &cy, state, n, &st, true);
    if (st.code == SCHED_SUCCESS) {
      feasible[nf++] = n;
      continue;
    }
    if (nfailed == cap_failed) {
      cap_failed = cap_failed ? cap_failed * 2 : 16;
      failed = xrealloc(failed, cap_failed * sizeof *failed);
    }
    failed[nfailed++] = (struct failed_node){n, st.code};
  }
  out->evaluated = i;
  out->feasible = nf;
  if (nall)
    fw->next_start_index = (start + i) % nall;
  if (nf == 0) {
    /* The reasons, for the message: only now that they are needed (a status is over a
     * kilobyte, and most cycles fail on many nodes yet find enough others). The filters
     * are pure, so running them again gives the same answers. */
    sts = xcalloc(nfailed + 1, sizeof *sts);
    for (size_t k = 0; k < nfailed; k++)
      run_filters(fw, np, &cy, state, failed[k].node, &sts[k], false);
    run_post_filter = true; /* after the cycle's states are gone: the dry run edits the cache */
  } else if (nf == 1) {
    out->node = feasible[0];
  } else {
    int64_t *total = xcalloc(nf, sizeof *total);
    score_nodes(fw, np, &cy, feasible, nf, total);
    out->node = select_host(fw, feasible, total, nf);
    free(total);
  }
  free(feasible);
done:
  for (size_t p = 0; p < np; p++)
    if (state[p] && fw->plugins[p]->free_state)
      fw->plugins[p]->free_state(state[p]);
  if (run_post_filter)
    out->message = fit_error_text(fw, c, pod, nall, failed, sts, nfailed, out);
  free(failed);
  free(sts);
}
