/* proxy_sync.c — fragments in, one nft transaction out. The syncer remembers the
 * fragment it last applied for every Service, which entry points each Service owns
 * (the first to claim one keeps it; others retry when it is released), the shared
 * chains that exist and the reference counts of shared set elements. */
#include "proxy/proxy_sync.h"

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proxy/proxy_nftnl.h"

#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct proxy_syncer {
  struct proxy_render_config cfg; /* strings owned (below) */
  char *table;
  char *cluster_cidr;
  char *service_cidr;
  char **node_ips;
  char *local_service_ip;
  bool apply;
  struct nft_ctx *nft; /* kept between transactions until proxy_syncer_release_nft */
  bool in_sync;
  hashmap *applied;       /* svc key → struct proxy_fragment* */
  hashmap *shared_chains; /* name → (void*)1 */
  hashmap *set_refs;      /* "<map>:<key>" → count */
  hashmap *claims;        /* entry → owning svc key (owned string) */
  hashmap *retries;       /* svc key → (void*)1: lost a claim */
  bool released;          /* some claim was released since the last take_retries */
  buf last_batch;
  struct proxy_sync_stats stats;
};

proxy_syncer *
proxy_syncer_new(const struct proxy_render_config *cfg, bool apply)
{
  proxy_syncer *s = xcalloc(1, sizeof *s);
  s->table = xstrdup(cfg->table && *cfg->table ? cfg->table : "k8c");
  s->cluster_cidr = cfg->cluster_cidr ? xstrdup(cfg->cluster_cidr) : NULL;
  s->service_cidr = cfg->service_cidr ? xstrdup(cfg->service_cidr) : NULL;
  s->local_service_ip = cfg->local_service_ip ? xstrdup(cfg->local_service_ip) : NULL;
  size_t n = 0;
  while (cfg->node_ips && cfg->node_ips[n])
    n++;
  s->node_ips = xcalloc(n + 1, sizeof *s->node_ips);
  for (size_t i = 0; i < n; i++)
    s->node_ips[i] = xstrdup(cfg->node_ips[i]);
  s->cfg = (struct proxy_render_config){
      .table = s->table,
      .cluster_cidr = s->cluster_cidr,
      .service_cidr = s->service_cidr,
      .masquerade_mark = cfg->masquerade_mark ? cfg->masquerade_mark : 0x4000,
      .node_ips = (const char *const *)s->node_ips,
      .local_service_ip = s->local_service_ip,
  };
  s->apply = apply;
  s->applied = hashmap_new();
  s->shared_chains = hashmap_new();
  s->set_refs = hashmap_new();
  s->claims = hashmap_new();
  s->retries = hashmap_new();
  buf_init(&s->last_batch);
  return s;
}

static void
fragment_free(void *p)
{
  struct proxy_fragment *f = p;
  if (f == NULL)
    return;
  proxy_fragment_clear(f);
  free(f);
}

static void
reset_state(proxy_syncer *s)
{
  hashmap_free(s->applied, fragment_free);
  hashmap_free(s->shared_chains, NULL);
  hashmap_free(s->set_refs, NULL);
  hashmap_free(s->claims, free);
  s->applied = hashmap_new();
  s->shared_chains = hashmap_new();
  s->set_refs = hashmap_new();
  s->claims = hashmap_new();
}

void
proxy_syncer_free(proxy_syncer *s)
{
  if (s == NULL)
    return;
  hashmap_free(s->applied, fragment_free);
  hashmap_free(s->shared_chains, NULL);
  hashmap_free(s->set_refs, NULL);
  hashmap_free(s->claims, free);
  hashmap_free(s->retries, NULL);
  proxy_syncer_release_nft(s);
  buf_free(&s->last_batch);
  for (char **ip = s->node_ips; *ip; ip++)
    free(*ip);
  free(s->node_ips);
  free(s->table);
  free(s->cluster_cidr);
  free(s->service_cidr);
  free(s->local_service_ip);
  free(s);
}

/* ---------- entry-point claims ---------- */

static bool
claim_entry(void *ctx, const char *svc_key, const char *entry)
{
  proxy_syncer *s = ctx;
  const char *owner = hashmap_get(s->claims, entry);
  if (owner == NULL) {
    hashmap_put(s->claims, entry, xstrdup(svc_key));
    return true;
  }
  if (strcmp(owner, svc_key) == 0)
    return true;
  if (hashmap_put(s->retries, svc_key, (void *)1) == NULL)
    log_warn("proxy: service %s: %s is already served by %s", svc_key, entry, owner);
  return false;
}

/* Drops the claims old held that new (may be NULL) no longer does. */
static void
release_entries(proxy_syncer *s, const char *svc_key, const struct proxy_fragment *old,
                const struct proxy_fragment *new)
{
  if (old == NULL)
    return;
  hashmap_iter it = {0};
  const char *entry;
  void *v;
  while (hashmap_next(old->entries, &it, &entry, &v)) {
    if (new &&hashmap_get(new->entries, entry))
      continue;
    const char *owner = hashmap_get(s->claims, entry);
    if (owner && strcmp(owner, svc_key) == 0) {
      free(hashmap_remove(s->claims, entry));
      s->released = true;
    }
  }
}

/* ---------- running a transaction ---------- */

static int
run_batch(proxy_syncer *s, k8c_err *err)
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
proxy_syncer_release_nft(proxy_syncer *s)
{
  if (s->nft == NULL)
    return;
  nft_ctx_free(s->nft);
  s->nft = NULL;
}

bool
proxy_syncer_holds_nft(const proxy_syncer *s)
{
  return s->nft != NULL;
}

int
proxy_syncer_full(proxy_syncer *s, const struct proxy_service *svcs, size_t n, k8c_err *err)
{
  double t0 = clock_monotonic_ms_frac();
  reset_state(s);
  hashmap_free(s->retries, NULL);
  s->retries = hashmap_new();
  struct proxy_batch b;
  proxy_batch_init(&b);
  for (size_t i = 0; i < n; i++) {
    struct proxy_fragment *f = xmalloc(sizeof *f);
    proxy_fragment_init(f);
    proxy_render_service(&svcs[i], &s->cfg, claim_entry, s, f);
    proxy_batch_diff(&b, s->table, NULL, f, s->shared_chains, s->set_refs);
    fragment_free(hashmap_put(s->applied, svcs[i].key, f));
  }
  buf_reset(&s->last_batch);
  proxy_render_base(&s->cfg, &s->last_batch);
  /* The elements are the bulk: with libnftnl they skip nft's parser (see proxy_nftnl.h). */
  bool bulk_nftnl = s->apply && proxy_nftnl_available();
  if (bulk_nftnl)
    proxy_batch_text_without_adds(&b, s->table, &s->last_batch);
  else
    proxy_batch_text(&b, s->table, &s->last_batch);
  int rc = run_batch(s, err);
  if (rc == 0 && bulk_nftnl) {
    if (proxy_nftnl_add_elements(s->table, b.elem_add, err) < 0) {
      s->stats.failures++;
      rc = -1;
    }
    proxy_batch_text_adds(&b, s->table, &s->last_batch); /* the record of what was sent */
    s->stats.last_batch_bytes = s->last_batch.len;
  }
  proxy_batch_free(&b);
  s->in_sync = rc == 0;
  s->released = true; /* whoever lost a claim may win it against the new state */
  s->stats.full_syncs++;
  s->stats.last_full_ms = clock_monotonic_ms_frac() - t0;
  return rc;
}

int
proxy_syncer_update(proxy_syncer *s, const struct proxy_service *svcs, size_t n, k8c_err *err)
{
  if (!s->in_sync && s->apply)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "proxy table %s needs a full sync", s->table);
  double t0 = clock_monotonic_ms_frac();
  struct proxy_batch b;
  proxy_batch_init(&b);
  for (size_t i = 0; i < n; i++) {
    const char *key = svcs[i].key;
    struct proxy_fragment *old = hashmap_get(s->applied, key);
    struct proxy_fragment *f = NULL;
    hashmap_remove(s->retries, key);
    if (svcs[i].n_ports > 0) {
      f = xmalloc(sizeof *f);
      proxy_fragment_init(f);
      proxy_render_service(&svcs[i], &s->cfg, claim_entry, s, f);
    }
    release_entries(s, key, old, f);
    proxy_batch_diff(&b, s->table, old, f, s->shared_chains, s->set_refs);
    if (f)
      hashmap_put(s->applied, key, f);
    else
      hashmap_remove(s->applied, key);
    if (old)
      fragment_free(old);
  }
  buf_reset(&s->last_batch);
  proxy_batch_text(&b, s->table, &s->last_batch);
  proxy_batch_free(&b);
  int rc = run_batch(s, err);
  s->stats.updates++;
  s->stats.last_update_ms = clock_monotonic_ms_frac() - t0;
  return rc;
}

bool
proxy_syncer_in_sync(const proxy_syncer *s)
{
  return s->in_sync;
}

char **
proxy_syncer_take_retries(proxy_syncer *s)
{
  if (!s->released)
    return NULL;
  s->released = false;
  if (hashmap_count(s->retries) == 0)
    return NULL;
  char **keys = xcalloc(hashmap_count(s->retries) + 1, sizeof *keys);
  size_t i = 0;
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(s->retries, &it, &k, &v))
    keys[i++] = xstrdup(k);
  hashmap_free(s->retries, NULL);
  s->retries = hashmap_new();
  return keys;
}

const char *
proxy_syncer_last_batch(const proxy_syncer *s)
{
  return s->last_batch.len ? s->last_batch.data : "";
}

void
proxy_syncer_stats(const proxy_syncer *s, struct proxy_sync_stats *out)
{
  *out = s->stats;
  out->nft_open = s->nft != NULL;
}
