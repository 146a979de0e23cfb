/* netpol.c — the enforcer component: informer handlers record what changed (policy keys,
 * namespaces whose pods changed, whether namespace labels or any pod changed); one sync
 * thread waits a short debounce, takes everything recorded at once, rebuilds only the
 * policies those changes can affect from the informer caches and hands them to the
 * syncer in one transaction. Changes arriving meanwhile go into the next round. */
#include "netpol/netpol.h"

#include "apimachinery/meta.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "netpol/netpol_model.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_FULL_MS 1000
/* The nft context is kept while changes keep coming and released after this long
 * without one (see netpol_syncer_release_nft). */
#define NFT_IDLE_MS 1000
#define DEFAULT_DEBOUNCE_MS 10

struct netpol_enforcer {
  informer_factory *own_factory; /* NULL when the caller's factory is used */
  informer *policies;
  informer *pods;
  informer *namespaces;
  netpol_syncer *syncer;
  char *node_name;
  int debounce_ms;

  pthread_mutex_t mu;         /* guards everything below */
  pthread_cond_t wake;        /* something changed, or stop */
  pthread_cond_t applied;     /* a round was applied */
  hashmap *dirty_policies;    /* policy key → 1 */
  hashmap *dirty_ns;          /* namespace whose pods changed → 1 */
  bool cross_dirty;           /* some pod or namespace changed: rebuild cross-namespace policies */
  bool pending;               /* any event not yet taken by a round */
  unsigned long long seen_rv; /* newest resourceVersion among events not yet taken */
  unsigned long long applied_rv; /* newest resourceVersion whose round is in the kernel */
  bool synced;
  bool stopping;
  struct netpol_sync_stats stats;
  pthread_t thread;
};

/* ---------- informer handlers ---------- */

static unsigned long long
rv_of(const json_t *obj)
{
  const char *rv = meta_resource_version(obj);
  return rv ? strtoull(rv, NULL, 10) : 0;
}

/* Records an event (with e->mu held by the caller) and wakes the sync thread. */
static void
note_event(struct netpol_enforcer *e, const json_t *obj)
{
  if (rv_of(obj) > e->seen_rv)
    e->seen_rv = rv_of(obj);
  e->pending = true;
  pthread_cond_signal(&e->wake);
}

static void
policy_changed(void *ctx, json_t *obj)
{
  struct netpol_enforcer *e = ctx;
  char *key = client_object_key(obj);
  pthread_mutex_lock(&e->mu);
  if (key)
    hashmap_put(e->dirty_policies, key, (void *)1);
  note_event(e, obj);
  pthread_mutex_unlock(&e->mu);
  free(key);
}

static void
policy_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  policy_changed(ctx, new_obj);
}

static void
pod_changed_in(struct netpol_enforcer *e, const json_t *pod, bool relevant)
{
  const char *ns = meta_namespace(pod);
  pthread_mutex_lock(&e->mu);
  if (relevant) {
    if (ns)
      hashmap_put(e->dirty_ns, ns, (void *)1);
    e->cross_dirty = true;
  }
  note_event(e, pod);
  pthread_mutex_unlock(&e->mu);
}

static void
pod_changed(void *ctx, json_t *pod)
{
  pod_changed_in(ctx, pod, true);
}

static const json_t *
at(const json_t *obj, const char *a, const char *b)
{
  return json_object_get(json_object_get(obj, a), b);
}

/* Whether a pod update can change any policy's result: its address, node, labels or
 * container ports (named ports). Status-only churn (conditions, restarts) cannot. */
static bool
pod_update_matters(const json_t *old_pod, const json_t *new_pod)
{
  if (old_pod == new_pod)
    return false;
  const char *a = json_string_value(at(old_pod, "spec", "nodeName"));
  const char *b = json_string_value(at(new_pod, "spec", "nodeName"));
  return netpol_pod_ipv4(old_pod) != netpol_pod_ipv4(new_pod) || (a == NULL) != (b == NULL) ||
         (a && strcmp(a, b) != 0) || !json_equal(meta_labels(old_pod), meta_labels(new_pod)) ||
         !json_equal(at(old_pod, "spec", "containers"), at(new_pod, "spec", "containers"));
}

static void
pod_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  pod_changed_in(ctx, new_obj, pod_update_matters(old_obj, new_obj));
}

static void
namespace_changed_in(struct netpol_enforcer *e, const json_t *ns, bool relevant)
{
  pthread_mutex_lock(&e->mu);
  if (relevant)
    e->cross_dirty = true;
  note_event(e, ns);
  pthread_mutex_unlock(&e->mu);
}

static void
namespace_changed(void *ctx, json_t *ns)
{
  namespace_changed_in(ctx, ns, true);
}

static void
namespace_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  namespace_changed_in(
      ctx, new_obj, old_obj != new_obj && !json_equal(meta_labels(old_obj), meta_labels(new_obj)));
}

/* ---------- one round ---------- */

/* What a round works on, taken from the handlers' records at once. */
struct round {
  hashmap *dirty_policies;
  hashmap *dirty_ns;
  bool cross;
  unsigned long long rv;
};

/* A snapshot of the caches for the model. */
struct snapshot {
  json_t **pods;
  size_t n_pods;
  json_t **namespaces;
  size_t n_namespaces;
  json_t **policies;
  size_t n_policies;
  hashmap *ns_labels;
  struct netpol_world world;
};

static void
snapshot_take(struct netpol_enforcer *e, struct snapshot *s)
{
  informer_list(e->pods, &s->pods, &s->n_pods);
  informer_list(e->namespaces, &s->namespaces, &s->n_namespaces);
  informer_list(e->policies, &s->policies, &s->n_policies);
  s->ns_labels = hashmap_new();
  for (size_t i = 0; i < s->n_namespaces; i++) {
    const char *name = meta_name(s->namespaces[i]);
    json_t *labels = meta_labels(s->namespaces[i]);
    if (name && labels)
      hashmap_put(s->ns_labels, name, labels);
  }
  s->world = (struct netpol_world){
      .pods = s->pods, .n_pods = s->n_pods, .ns_labels = s->ns_labels, .node_name = e->node_name};
}

static void
snapshot_release(struct snapshot *s)
{
  informer_objs_free(s->pods, s->n_pods);
  informer_objs_free(s->namespaces, s->n_namespaces);
  informer_objs_free(s->policies, s->n_policies);
  hashmap_free(s->ns_labels, NULL);
}

static int
u32_cmp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

static uint32_t *
local_ips(struct netpol_enforcer *e, const struct snapshot *s, size_t *n)
{
  uint32_t *ips = xcalloc(s->n_pods + 1, sizeof *ips);
  *n = 0;
  for (size_t i = 0; i < s->n_pods; i++) {
    uint32_t ip = netpol_pod_ipv4(s->pods[i]);
    if (ip && netpol_pod_is_local(s->pods[i], e->node_name))
      ips[(*n)++] = ip;
  }
  qsort(ips, *n, sizeof *ips, u32_cmp);
  return ips;
}

static bool
policy_is_dirty(const struct round *r, const json_t *policy, const char *key)
{
  const char *ns = meta_namespace(policy);
  return r == NULL || hashmap_get(r->dirty_policies, key) || (ns && hashmap_get(r->dirty_ns, ns)) ||
         (r->cross && netpol_policy_crosses_namespaces(policy));
}

/* Builds the models a round needs (r NULL: every policy, for a full sync) and syncs them.
 * 0 or -1. */
static int
sync_round(struct netpol_enforcer *e, const struct round *r)
{
  struct snapshot s;
  snapshot_take(e, &s);
  size_t cap = s.n_policies + (r ? hashmap_count(r->dirty_policies) : 0) + 1;
  struct netpol_policy *models = xcalloc(cap, sizeof *models);
  size_t n = 0;
  hashmap *present = hashmap_new();
  for (size_t i = 0; i < s.n_policies; i++) {
    char *key = client_object_key(s.policies[i]);
    if (key == NULL)
      continue;
    hashmap_put(present, key, (void *)1);
    if (policy_is_dirty(r, s.policies[i], key))
      netpol_policy_build(key, s.policies[i], &s.world, &models[n++]);
    free(key);
  }
  if (r) { /* dirty keys no longer cached: deleted policies */
    hashmap_iter it = {0};
    const char *key;
    void *v;
    while (hashmap_next(r->dirty_policies, &it, &key, &v))
      if (!hashmap_get(present, key))
        netpol_policy_build(key, NULL, &s.world, &models[n++]);
  }
  hashmap_free(present, NULL);
  size_t n_local;
  uint32_t *ips = local_ips(e, &s, &n_local);

  k8c_err err = {0};
  int rc = r ? netpol_syncer_update(e->syncer, models, n, ips, n_local, &err)
             : netpol_syncer_full(e->syncer, models, n, ips, n_local, &err);
  if (rc < 0)
    log_error("netpol: %s sync failed: %s", r ? "incremental" : "full", err.message);
  k8c_err_clear(&err);
  for (size_t i = 0; i < n; i++)
    netpol_policy_clear(&models[i]);
  free(models);
  free(ips);
  snapshot_release(&s);
  return rc;
}

/* ---------- the sync thread ---------- */

/* 0, or ETIMEDOUT once ms passed without a signal. */
static int
timed_wait(struct netpol_enforcer *e, pthread_cond_t *cond, int ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return pthread_cond_timedwait(cond, &e->mu, &ts);
}

/* Waits (e->mu held) for a pending change or stop. The syncer's nft context is released
 * once nothing came for NFT_IDLE_MS, with e->mu dropped meanwhile (closing takes ms). */
static void
wait_for_work(struct netpol_enforcer *e)
{
  while (!e->stopping && !e->pending) {
    if (!netpol_syncer_holds_nft(e->syncer)) {
      pthread_cond_wait(&e->wake, &e->mu);
      continue;
    }
    if (timed_wait(e, &e->wake, NFT_IDLE_MS) == ETIMEDOUT && !e->pending) {
      pthread_mutex_unlock(&e->mu);
      netpol_syncer_release_nft(e->syncer);
      pthread_mutex_lock(&e->mu);
      netpol_syncer_stats(e->syncer, &e->stats);
    }
  }
}

/* Takes the handlers' records (with e->mu held). */
static void
take_round(struct netpol_enforcer *e, struct round *r)
{
  r->dirty_policies = e->dirty_policies;
  r->dirty_ns = e->dirty_ns;
  r->cross = e->cross_dirty;
  r->rv = e->seen_rv;
  e->dirty_policies = hashmap_new();
  e->dirty_ns = hashmap_new();
  e->cross_dirty = false;
  e->pending = false;
}

static void
round_free(struct round *r)
{
  hashmap_free(r->dirty_policies, NULL);
  hashmap_free(r->dirty_ns, NULL);
}

static void
mark_applied(struct netpol_enforcer *e, unsigned long long rv, bool first)
{
  pthread_mutex_lock(&e->mu);
  if (rv > e->applied_rv)
    e->applied_rv = rv;
  if (first)
    e->synced = true;
  netpol_syncer_stats(e->syncer, &e->stats);
  pthread_cond_broadcast(&e->applied);
  pthread_mutex_unlock(&e->mu);
}

static void *
sync_main(void *arg)
{
  struct netpol_enforcer *e = arg;
  for (;;) {
    pthread_mutex_lock(&e->mu);
    bool stop = e->stopping;
    pthread_mutex_unlock(&e->mu);
    if (stop)
      return NULL;
    if (informer_wait_synced(e->policies, 100) && informer_wait_synced(e->pods, 100) &&
        informer_wait_synced(e->namespaces, 100))
      break;
  }
  bool need_full = true;
  for (;;) {
    pthread_mutex_lock(&e->mu);
    if (need_full) { /* the full sync covers everything recorded so far */
      struct round all;
      take_round(e, &all);
      pthread_mutex_unlock(&e->mu);
      need_full = sync_round(e, NULL) < 0;
      round_free(&all);
      if (!need_full)
        mark_applied(e, all.rv, true);
      pthread_mutex_lock(&e->mu);
      if (need_full && !e->stopping)
        (void)timed_wait(e, &e->wake, RETRY_FULL_MS);
      bool stop = e->stopping;
      pthread_mutex_unlock(&e->mu);
      if (stop)
        return NULL;
      continue;
    }
    wait_for_work(e);
    if (!e->stopping) /* debounce (only stop signals `applied` meanwhile) */
      (void)timed_wait(e, &e->applied, e->debounce_ms);
    if (e->stopping) {
      pthread_mutex_unlock(&e->mu);
      return NULL;
    }
    struct round r;
    take_round(e, &r);
    pthread_mutex_unlock(&e->mu);
    /* Status-only pod churn records nothing to rebuild: no snapshot, no transaction. */
    bool idle = !r.cross && hashmap_count(r.dirty_policies) == 0 && hashmap_count(r.dirty_ns) == 0;
    need_full = !idle && sync_round(e, &r) < 0;
    if (!need_full)
      mark_applied(e, r.rv, false);
    round_free(&r);
  }
}

/* ---------- start / stop ---------- */

static void
warn_if_bridged_traffic_bypasses(void)
{
  FILE *f = fopen("/proc/sys/net/bridge/bridge-nf-call-iptables", "r");
  int value = 0;
  if (f == NULL || fscanf(f, "%d", &value) != 1 || value != 1)
    log_warn("netpol: bridge-nf-call-iptables is not 1 (br_netfilter): traffic between pods "
             "on the same bridge bypasses NetworkPolicy");
  if (f)
    fclose(f);
}

static void
enforcer_free(struct netpol_enforcer *e)
{
  if (e->own_factory) {
    informer_factory_stop(e->own_factory);
    informer_factory_free(e->own_factory);
  }
  netpol_syncer_free(e->syncer);
  hashmap_free(e->dirty_policies, NULL);
  hashmap_free(e->dirty_ns, NULL);
  pthread_mutex_destroy(&e->mu);
  pthread_cond_destroy(&e->wake);
  pthread_cond_destroy(&e->applied);
  free(e->node_name);
  free(e);
}

struct netpol_enforcer *
netpol_start(k8c_client *client, informer_factory *informers, const struct netpol_config *cfg,
             k8c_err *err)
{
  struct netpol_enforcer *e = xcalloc(1, sizeof *e);
  e->syncer = netpol_syncer_new(cfg->table, true);
  e->node_name = cfg->node_name ? xstrdup(cfg->node_name) : NULL;
  e->debounce_ms = cfg->debounce_ms > 0 ? cfg->debounce_ms : DEFAULT_DEBOUNCE_MS;
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->wake, NULL);
  pthread_cond_init(&e->applied, NULL);
  e->dirty_policies = hashmap_new();
  e->dirty_ns = hashmap_new();
  warn_if_bridged_traffic_bypasses();

  informer_factory *f = informers;
  if (f == NULL)
    f = e->own_factory = informer_factory_new(client, 0);
  e->policies = informer_factory_get(
      f, api_resource_find("networking.k8s.io", "v1", "networkpolicies"), "", NULL, NULL);
  e->pods = informer_factory_get(f, api_resource_find("", "v1", "pods"), "", NULL, NULL);
  e->namespaces =
      informer_factory_get(f, api_resource_find("", "v1", "namespaces"), "", NULL, NULL);
  informer_add_handlers(e->policies, &(struct informer_handlers){.on_add = policy_changed,
                                                                 .on_update = policy_updated,
                                                                 .on_delete = policy_changed,
                                                                 .ctx = e,
                                                                 .resync_period_ms = -1});
  informer_add_handlers(e->pods, &(struct informer_handlers){.on_add = pod_changed,
                                                             .on_update = pod_updated,
                                                             .on_delete = pod_changed,
                                                             .ctx = e,
                                                             .resync_period_ms = -1});
  informer_add_handlers(e->namespaces, &(struct informer_handlers){.on_add = namespace_changed,
                                                                   .on_update = namespace_updated,
                                                                   .on_delete = namespace_changed,
                                                                   .ctx = e,
                                                                   .resync_period_ms = -1});
  if (informer_start(e->policies, err) < 0 || informer_start(e->pods, err) < 0 ||
      informer_start(e->namespaces, err) < 0) {
    enforcer_free(e);
    return NULL;
  }
  int rc = pthread_create(&e->thread, NULL, sync_main, e);
  if (rc != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "starting the netpol sync thread: %s", strerror(rc));
    enforcer_free(e);
    return NULL;
  }
  return e;
}

void
netpol_stop(struct netpol_enforcer *e)
{
  if (e == NULL)
    return;
  pthread_mutex_lock(&e->mu);
  e->stopping = true;
  pthread_cond_broadcast(&e->wake);
  pthread_cond_broadcast(&e->applied);
  pthread_mutex_unlock(&e->mu);
  pthread_join(e->thread, NULL);
  enforcer_free(e);
}

int
netpol_delete_table(const char *table, k8c_err *err)
{
  struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (nft == NULL || nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0)
    abort(); /* only fails on allocation */
  char *cmd = xasprintf("delete table ip %s", table && *table ? table : "k8c-netpol");
  int rc = 0;
  if (nft_run_cmd_from_buffer(nft, cmd) != 0)
    rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "%s: %.300s", cmd, nft_ctx_get_error_buffer(nft));
  free(cmd);
  nft_ctx_free(nft);
  return rc;
}

/* ---------- waiting, for tests and benchmarks ---------- */

static bool
wait_for(struct netpol_enforcer *e, unsigned long long rv, int timeout_ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&e->mu);
  bool ok;
  while (!(ok = e->synced && e->applied_rv >= rv) && !e->stopping)
    if (pthread_cond_timedwait(&e->applied, &e->mu, &ts) == ETIMEDOUT) {
      ok = e->synced && e->applied_rv >= rv;
      break;
    }
  pthread_mutex_unlock(&e->mu);
  return ok;
}

bool
netpol_wait_synced(struct netpol_enforcer *e, int timeout_ms)
{
  return wait_for(e, 0, timeout_ms);
}

bool
netpol_wait_applied(struct netpol_enforcer *e, const char *resource_version, int timeout_ms)
{
  return wait_for(e, strtoull(resource_version, NULL, 10), timeout_ms);
}

void
netpol_stats(struct netpol_enforcer *e, struct netpol_sync_stats *out)
{
  pthread_mutex_lock(&e->mu);
  *out = e->stats;
  pthread_mutex_unlock(&e->mu);
}
