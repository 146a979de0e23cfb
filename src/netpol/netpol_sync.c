/* netpol_sync.c — fragments in, one nft transaction out. Commands are collected in the
 * order the kernel needs them (declarations, element deletes, chain bodies, element adds,
 * then removal of chains and sets nothing refers to any more) and keys are emitted sorted,
 * so the text is reproducible. Elements of the shared base sets are reference-counted:
 * two policies selecting the same pod add it to ingress-isolated once. */
#include "netpol/netpol_sync.h"

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/hashmap.h"
#include "lib/mem.h"
#include "netpol/netpol_render.h"

#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCAL_KEY "" /* the node's own fragment (never a policy key) */

struct netpol_syncer {
  char *table;
  bool apply;
  struct nft_ctx *nft; /* kept between transactions until netpol_syncer_release_nft */
  bool in_sync;
  hashmap *applied;  /* key → struct netpol_fragment* */
  hashmap *prefixes; /* policy key → its name prefix ("np3"), owned */
  unsigned long next_id;
  hashmap *refs;           /* "<set> <element>" → count, for the shared sets */
  char *dispatch[NP_DIRS]; /* rules now in ingress-policies / egress-policies */
  buf last_batch;
  struct netpol_sync_stats stats;
};

struct batch {
  buf declare;
  hashmap *elem_del; /* set → buf* of ", "-separated elements */
  buf bodies;
  hashmap *elem_add;
  buf remove_chains;
  buf remove_sets;
};

/* ---------- life cycle ---------- */

static void
fragment_free(void *p)
{
  if (p == NULL)
    return;
  netpol_fragment_clear(p);
  free(p);
}

netpol_syncer *
netpol_syncer_new(const char *table, bool apply)
{
  netpol_syncer *s = xcalloc(1, sizeof *s);
  s->table = xstrdup(table && *table ? table : "k8c-netpol");
  s->apply = apply;
  s->applied = hashmap_new();
  s->prefixes = hashmap_new();
  s->refs = hashmap_new();
  for (int d = 0; d < NP_DIRS; d++)
    s->dispatch[d] = xstrdup("");
  buf_init(&s->last_batch);
  return s;
}

static void
reset_state(netpol_syncer *s)
{
  hashmap_free(s->applied, fragment_free);
  hashmap_free(s->prefixes, free);
  hashmap_free(s->refs, NULL);
  s->applied = hashmap_new();
  s->prefixes = hashmap_new();
  s->refs = hashmap_new();
  s->next_id = 0;
  for (int d = 0; d < NP_DIRS; d++) {
    free(s->dispatch[d]);
    s->dispatch[d] = xstrdup("");
  }
}

void
netpol_syncer_free(netpol_syncer *s)
{
  if (s == NULL)
    return;
  hashmap_free(s->applied, fragment_free);
  hashmap_free(s->prefixes, free);
  hashmap_free(s->refs, NULL);
  for (int d = 0; d < NP_DIRS; d++)
    free(s->dispatch[d]);
  netpol_syncer_release_nft(s);
  buf_free(&s->last_batch);
  free(s->table);
  free(s);
}

/* ---------- batches ---------- */

static void
batch_init(struct batch *b)
{
  buf_init(&b->declare);
  buf_init(&b->bodies);
  buf_init(&b->remove_chains);
  buf_init(&b->remove_sets);
  b->elem_del = hashmap_new();
  b->elem_add = hashmap_new();
}

static void
buf_ptr_free(void *p)
{
  buf_free(p);
  free(p);
}

static void
batch_free(struct batch *b)
{
  buf_free(&b->declare);
  buf_free(&b->bodies);
  buf_free(&b->remove_chains);
  buf_free(&b->remove_sets);
  hashmap_free(b->elem_del, buf_ptr_free);
  hashmap_free(b->elem_add, buf_ptr_free);
}

static void
list_add(hashmap *lists, const char *set, const char *element)
{
  buf *l = hashmap_get(lists, set);
  if (l == NULL) {
    l = xmalloc(sizeof *l);
    buf_init(l);
    hashmap_put(lists, set, l);
  }
  if (l->len)
    buf_puts(l, ", ");
  buf_puts(l, element);
}

static int
str_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of m, sorted (the array is the caller's; the strings stay the map's). */
static const char **
sorted_keys(const hashmap *m, size_t *n)
{
  *n = m ? hashmap_count(m) : 0;
  const char **keys = xcalloc(*n + 1, sizeof *keys);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  size_t i = 0;
  while (m && hashmap_next(m, &it, &k, &v))
    keys[i++] = k;
  qsort(keys, *n, sizeof *keys, str_cmp);
  return keys;
}

static void
add_rules(buf *out, const char *table, const char *chain, const char *rules)
{
  while (*rules) {
    size_t len = strcspn(rules, "\n");
    if (len)
      buf_printf(out, "add rule ip %s %s %.*s\n", table, chain, (int)len, rules);
    rules += len + (rules[len] == '\n');
  }
}

/* For a shared set: whether the element really comes (delta +1: first holder) or goes
 * (delta -1: last holder). */
static bool
count_ref(hashmap *refs, const char *set, const char *element, int delta)
{
  char *rk = xasprintf("%s %s", set, element);
  intptr_t n = (intptr_t)hashmap_get(refs, rk) + delta;
  if (n > 0)
    hashmap_put(refs, rk, (void *)n);
  else
    hashmap_remove(refs, rk);
  free(rk);
  return delta > 0 ? n == 1 : n == 0;
}

static void
diff_elements(struct batch *b, const char *set, const hashmap *old, const hashmap *new,
              bool set_removed, hashmap *refs)
{
  bool shared = netpol_set_is_shared(set);
  size_t n;
  const char **keys = sorted_keys(old, &n);
  for (size_t i = 0; i < n && !set_removed; i++) {
    if (new &&hashmap_get(new, keys[i]))
      continue;
    if (shared && !count_ref(refs, set, keys[i], -1))
      continue;
    list_add(b->elem_del, set, keys[i]);
  }
  free(keys);
  keys = sorted_keys(new, &n);
  for (size_t i = 0; i < n; i++) {
    if (old && hashmap_get(old, keys[i]))
      continue;
    if (shared && !count_ref(refs, set, keys[i], +1))
      continue;
    list_add(b->elem_add, set, keys[i]);
  }
  free(keys);
}

/* Adds what turns old (NULL = nothing) into new (NULL = nothing) to b. */
static void
diff_fragment(struct batch *b, netpol_syncer *s, const struct netpol_fragment *old,
              const struct netpol_fragment *new)
{
  const char *t = s->table;
  size_t n;
  const char **keys;

  keys = sorted_keys(new ? new->sets : NULL, &n);
  for (size_t i = 0; i < n; i++)
    if (!old || !hashmap_get(old->sets, keys[i]))
      buf_printf(&b->declare, "add set ip %s %s { %s }\n", t, keys[i],
                 (const char *)hashmap_get(new->sets, keys[i]));
  free(keys);
  keys = sorted_keys(old ? old->sets : NULL, &n);
  for (size_t i = 0; i < n; i++)
    if (!new || !hashmap_get(new->sets, keys[i]))
      buf_printf(&b->remove_sets, "delete set ip %s %s\n", t, keys[i]);
  free(keys);

  keys = sorted_keys(new ? new->chains : NULL, &n);
  for (size_t i = 0; i < n; i++) {
    const char *rules = hashmap_get(new->chains, keys[i]);
    const char *before = old ? hashmap_get(old->chains, keys[i]) : NULL;
    if (before && strcmp(before, rules) == 0)
      continue;
    if (before)
      buf_printf(&b->bodies, "flush chain ip %s %s\n", t, keys[i]);
    else
      buf_printf(&b->declare, "add chain ip %s %s\n", t, keys[i]);
    add_rules(&b->bodies, t, keys[i], rules);
  }
  free(keys);
  keys = sorted_keys(old ? old->chains : NULL, &n);
  for (size_t i = 0; i < n; i++)
    if (!new || !hashmap_get(new->chains, keys[i]))
      buf_printf(&b->remove_chains, "flush chain ip %s %s\ndelete chain ip %s %s\n", t, keys[i], t,
                 keys[i]);
  free(keys);

  /* Elements of every set either side knows. */
  hashmap *sets = hashmap_new();
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (old && hashmap_next(old->elems, &it, &k, &v))
    hashmap_put(sets, k, (void *)1);
  it = (hashmap_iter){0};
  while (new &&hashmap_next(new->elems, &it, &k, &v))
    hashmap_put(sets, k, (void *)1);
  keys = sorted_keys(sets, &n);
  for (size_t i = 0; i < n; i++) {
    bool removed = !netpol_set_is_shared(keys[i]) && (!new || !hashmap_get(new->sets, keys[i]));
    diff_elements(b, keys[i], old ? hashmap_get(old->elems, keys[i]) : NULL,
                  new ? hashmap_get(new->elems, keys[i]) : NULL, removed, s->refs);
  }
  free(keys);
  hashmap_free(sets, NULL);
}

/* Rewrites the dispatch chains if the set of policy chains changed. */
static void
diff_dispatch(struct batch *b, netpol_syncer *s)
{
  static const char *const dispatch_chain[NP_DIRS] = {NP_CHAIN_INGRESS_POLICIES,
                                                      NP_CHAIN_EGRESS_POLICIES};
  size_t n;
  const char **keys = sorted_keys(s->prefixes, &n);
  for (int d = 0; d < NP_DIRS; d++) {
    buf rules;
    buf_init(&rules);
    for (size_t i = 0; i < n; i++) {
      struct netpol_fragment *f = hashmap_get(s->applied, keys[i]);
      char *chain = netpol_policy_chain(hashmap_get(s->prefixes, keys[i]), d);
      if (f && hashmap_get(f->chains, chain))
        buf_printf(&rules, "jump %s\n", chain);
      free(chain);
    }
    const char *text = buf_cstr(&rules);
    if (strcmp(text, s->dispatch[d]) != 0) {
      buf_printf(&b->bodies, "flush chain ip %s %s\n", s->table, dispatch_chain[d]);
      add_rules(&b->bodies, s->table, dispatch_chain[d], text);
      free(s->dispatch[d]);
      s->dispatch[d] = xstrdup(text);
    }
    buf_free(&rules);
  }
  free(keys);
}

static void
element_commands(buf *out, const char *verb, const char *table, const hashmap *lists)
{
  size_t n;
  const char **keys = sorted_keys(lists, &n);
  for (size_t i = 0; i < n; i++) {
    buf *l = hashmap_get(lists, keys[i]);
    buf_printf(out, "%s element ip %s %s { %s }\n", verb, table, keys[i], buf_cstr(l));
  }
  free(keys);
}

static void
batch_text(struct batch *b, const char *table, buf *out)
{
  buf_puts(out, buf_cstr(&b->declare));
  element_commands(out, "delete", table, b->elem_del);
  buf_puts(out, buf_cstr(&b->bodies));
  element_commands(out, "add", table, b->elem_add);
  buf_puts(out, buf_cstr(&b->remove_chains));
  buf_puts(out, buf_cstr(&b->remove_sets));
}

/* ---------- applying ---------- */

static int
run_batch(netpol_syncer *s, k8c_err *err)
{
  s->stats.last_batch_bytes = s->last_batch.len;
  if (!s->apply || s->last_batch.len == 0)
    return 0;
  /* The context stays open for the transactions that follow: closing its netlink socket
   * waits for the kernel to destroy what the last transaction removed (an RCU grace
   * period, 5-20 ms), so the sync loop closes it only once it is idle. */
  if (s->nft == NULL) {
    s->nft = nft_ctx_new(NFT_CTX_DEFAULT);
    if (s->nft == NULL)
      abort(); /* only fails on allocation */
    if (nft_ctx_buffer_output(s->nft) != 0 || nft_ctx_buffer_error(s->nft) != 0)
      abort();
  }
  int rc = 0;
  if (nft_run_cmd_from_buffer(s->nft, buf_cstr(&s->last_batch)) != 0) {
    const char *msg = nft_ctx_get_error_buffer(s->nft);
    s->stats.failures++;
    s->in_sync = false;
    rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "nft transaction on table %s failed: %.600s",
                   s->table, msg ? msg : "");
  }
  return rc;
}

void
netpol_syncer_release_nft(netpol_syncer *s)
{
  if (s->nft == NULL)
    return;
  nft_ctx_free(s->nft);
  s->nft = NULL;
}

bool
netpol_syncer_holds_nft(const netpol_syncer *s)
{
  return s->nft != NULL;
}

/* The fragment of policy p, with its prefix allocated on first sight; NULL if gone. */
static struct netpol_fragment *
render(netpol_syncer *s, const struct netpol_policy *p)
{
  if (!p->types[NP_INGRESS] && !p->types[NP_EGRESS])
    return NULL;
  const char *prefix = hashmap_get(s->prefixes, p->key);
  if (prefix == NULL) {
    char *fresh = xasprintf("np%lu", s->next_id++);
    hashmap_put(s->prefixes, p->key, fresh);
    prefix = fresh;
  }
  struct netpol_fragment *f = xmalloc(sizeof *f);
  netpol_fragment_init(f);
  netpol_render_policy(p, prefix, f);
  return f;
}

static void
apply_one(struct batch *b, netpol_syncer *s, const char *key, struct netpol_fragment *f)
{
  struct netpol_fragment *old = hashmap_get(s->applied, key);
  diff_fragment(b, s, old, f);
  if (f)
    hashmap_put(s->applied, key, f);
  else {
    hashmap_remove(s->applied, key);
    free(hashmap_remove(s->prefixes, key));
  }
  fragment_free(old);
}

static void
collect(struct batch *b, netpol_syncer *s, const struct netpol_policy *pols, size_t n,
        const uint32_t *local_ips, size_t n_local)
{
  struct netpol_fragment *local = xmalloc(sizeof *local);
  netpol_fragment_init(local);
  netpol_render_local(local_ips, n_local, local);
  apply_one(b, s, LOCAL_KEY, local);
  for (size_t i = 0; i < n; i++)
    apply_one(b, s, pols[i].key, render(s, &pols[i]));
  diff_dispatch(b, s);
}

int
netpol_syncer_full(netpol_syncer *s, const struct netpol_policy *pols, size_t n,
                   const uint32_t *local_ips, size_t n_local, k8c_err *err)
{
  double t0 = clock_monotonic_ms_frac();
  reset_state(s);
  struct batch b;
  batch_init(&b);
  collect(&b, s, pols, n, local_ips, n_local);
  buf_reset(&s->last_batch);
  netpol_render_base(s->table, &s->last_batch);
  batch_text(&b, s->table, &s->last_batch);
  batch_free(&b);
  int rc = run_batch(s, err);
  s->in_sync = rc == 0;
  s->stats.full_syncs++;
  s->stats.last_full_ms = clock_monotonic_ms_frac() - t0;
  return rc;
}

int
netpol_syncer_update(netpol_syncer *s, const struct netpol_policy *pols, size_t n,
                     const uint32_t *local_ips, size_t n_local, k8c_err *err)
{
  if (!s->in_sync && s->apply)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "netpol table %s needs a full sync", s->table);
  double t0 = clock_monotonic_ms_frac();
  struct batch b;
  batch_init(&b);
  collect(&b, s, pols, n, local_ips, n_local);
  buf_reset(&s->last_batch);
  batch_text(&b, s->table, &s->last_batch);
  batch_free(&b);
  int rc = run_batch(s, err);
  s->stats.updates++;
  s->stats.last_update_ms = clock_monotonic_ms_frac() - t0;
  return rc;
}

bool
netpol_syncer_in_sync(const netpol_syncer *s)
{
  return s->in_sync;
}

const char *
netpol_syncer_last_batch(const netpol_syncer *s)
{
  return s->last_batch.len ? s->last_batch.data : "";
}

void
netpol_syncer_stats(const netpol_syncer *s, struct netpol_sync_stats *out)
{
  *out = s->stats;
  out->nft_open = s->nft != NULL;
}
