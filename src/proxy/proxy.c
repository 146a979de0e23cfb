/* proxy.c — the service proxy component: informers on Services and EndpointSlices mark
 * Service keys dirty; one sync thread takes every dirty key at once, rebuilds their
 * models from the informer caches and hands them to the syncer in one transaction.
 * Changes that arrive while a transaction runs are batched into the next one, so the
 * thread never falls behind by more than one round. */
#include "proxy/proxy.h"

#include "apimachinery/meta.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define SLICE_INDEX "k8c-proxy-service"
#define RETRY_FULL_MS 1000
/* The nft context is kept while changes keep coming and released after this long
 * without one (see proxy_syncer_release_nft). */
#define NFT_IDLE_MS 1000

struct service_proxy {
  informer_factory *own_factory; /* NULL when the caller's factory is used */
  informer *services;
  informer *slices;
  proxy_syncer *syncer;
  char *node_name;

  pthread_mutex_t mu;     /* guards everything below */
  pthread_cond_t wake;    /* dirty keys, stop */
  pthread_cond_t applied; /* a round was applied */
  hashmap *dirty;         /* svc key → (void*)1 */
  hashmap *applied_rv;    /* svc key → (void*)(uintptr_t) max input resourceVersion */
  bool synced;
  bool stopping;
  struct proxy_sync_stats stats;
  pthread_t thread;
};

/* ---------- informer handlers ---------- */

static json_t *
slice_service_index(void *ctx, json_t *slice)
{
  (void)ctx;
  const char *svc = json_string_value(json_object_get(meta_labels(slice), SERVICE_NAME_LABEL));
  const char *ns = meta_namespace(slice);
  if (svc == NULL || ns == NULL)
    return NULL;
  char *key = xasprintf("%s/%s", ns, svc);
  json_t *v = json_string(key);
  free(key);
  return v;
}

static void
mark_dirty_key(struct service_proxy *p, const char *key)
{
  pthread_mutex_lock(&p->mu);
  hashmap_put(p->dirty, key, (void *)1);
  pthread_cond_signal(&p->wake);
  pthread_mutex_unlock(&p->mu);
}

static void
service_changed(void *ctx, json_t *svc)
{
  char *key = client_object_key(svc);
  if (key)
    mark_dirty_key(ctx, key);
  free(key);
}

static void
service_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  service_changed(ctx, new_obj);
}

static void
slice_changed(void *ctx, json_t *slice)
{
  json_t *key = slice_service_index(NULL, slice);
  if (key)
    mark_dirty_key(ctx, json_string_value(key));
  json_decref(key);
}

static void
slice_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (old_obj != new_obj)
    slice_changed(ctx, old_obj); /* the label may have moved it to another Service */
  slice_changed(ctx, new_obj);
}

/* ---------- building models from the caches ---------- */

static unsigned long long
rv_of(const json_t *obj)
{
  const char *rv = meta_resource_version(obj);
  return rv ? strtoull(rv, NULL, 10) : 0;
}

/* The model of Service key (no ports if it is gone) and the newest resourceVersion of
 * its inputs; 0 while the Service is not in the cache (the services and slices informers
 * run apart: a slice may arrive first, and its Service's rules are not there yet). */
static void
build_service(struct service_proxy *p, const char *key, struct proxy_service *out,
              unsigned long long *rv)
{
  json_t *svc = informer_get(p->services, key);
  json_t **slices = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(p->slices, SLICE_INDEX, key, &slices, &n, &err) < 0)
    k8c_err_clear(&err);
  *rv = 0;
  for (size_t i = 0; svc && i < n; i++)
    if (rv_of(slices[i]) > *rv)
      *rv = rv_of(slices[i]);
  if (svc) {
    if (rv_of(svc) > *rv)
      *rv = rv_of(svc);
    proxy_service_build(svc, slices, n, p->node_name, out);
  } else {
    memset(out, 0, sizeof *out);
    out->key = xstrdup(key);
  }
  informer_objs_free(slices, n);
  json_decref(svc);
}

static void
record_applied(struct service_proxy *p, char **keys, const struct proxy_service *svcs,
               const unsigned long long *rvs, size_t n)
{
  pthread_mutex_lock(&p->mu);
  for (size_t i = 0; i < n; i++)
    if (rvs[i] == 0 && svcs[i].n_ports == 0) /* gone: nothing to remember */
      hashmap_remove(p->applied_rv, keys[i]);
    else
      hashmap_put(p->applied_rv, keys[i], (void *)(uintptr_t)rvs[i]);
  proxy_syncer_stats(p->syncer, &p->stats);
  pthread_cond_broadcast(&p->applied);
  pthread_mutex_unlock(&p->mu);
}

/* Syncs keys (full: every Service in the cache, the table replaced). 0 or -1. */
static int
sync_round(struct service_proxy *p, char **keys, size_t n, bool full)
{
  struct proxy_service *svcs = xcalloc(n + 1, sizeof *svcs);
  unsigned long long *rvs = xcalloc(n + 1, sizeof *rvs);
  for (size_t i = 0; i < n; i++)
    build_service(p, keys[i], &svcs[i], &rvs[i]);
  k8c_err err = {0};
  int rc = full ? proxy_syncer_full(p->syncer, svcs, n, &err)
                : proxy_syncer_update(p->syncer, svcs, n, &err);
  if (rc < 0)
    log_error("proxy: %s sync failed: %s", full ? "full" : "incremental", err.message);
  else
    record_applied(p, keys, svcs, rvs, n);
  k8c_err_clear(&err);
  for (size_t i = 0; i < n; i++)
    proxy_service_clear(&svcs[i]);
  free(svcs);
  free(rvs);
  return rc;
}

static char **
all_service_keys(struct service_proxy *p, size_t *n)
{
  json_t **objs;
  informer_list(p->services, &objs, n);
  char **keys = xcalloc(*n + 1, sizeof *keys);
  for (size_t i = 0; i < *n; i++)
    keys[i] = client_object_key(objs[i]);
  informer_objs_free(objs, *n);
  return keys;
}

static void
free_keys(char **keys, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(keys[i]);
  free(keys);
}

/* Takes the dirty set (with p->mu held). */
static char **
take_dirty(struct service_proxy *p, size_t *n)
{
  *n = hashmap_count(p->dirty);
  char **keys = xcalloc(*n + 1, sizeof *keys);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  size_t i = 0;
  while (hashmap_next(p->dirty, &it, &k, &v))
    keys[i++] = xstrdup(k);
  hashmap_free(p->dirty, NULL);
  p->dirty = hashmap_new();
  return keys;
}

static struct timespec
deadline_in_ms(int ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return ts;
}

static void
wait_ms(struct service_proxy *p, int ms)
{
  struct timespec ts = deadline_in_ms(ms);
  pthread_mutex_lock(&p->mu);
  if (!p->stopping)
    pthread_cond_timedwait(&p->wake, &p->mu, &ts);
  pthread_mutex_unlock(&p->mu);
}

/* Waits (p->mu held) for dirty keys or stop. The syncer's nft context is released once
 * nothing came for NFT_IDLE_MS, with p->mu dropped meanwhile (closing it can take ms). */
static void
wait_for_work(struct service_proxy *p)
{
  while (!p->stopping && hashmap_count(p->dirty) == 0) {
    if (!proxy_syncer_holds_nft(p->syncer)) {
      pthread_cond_wait(&p->wake, &p->mu);
      continue;
    }
    struct timespec ts = deadline_in_ms(NFT_IDLE_MS);
    if (pthread_cond_timedwait(&p->wake, &p->mu, &ts) == ETIMEDOUT &&
        hashmap_count(p->dirty) == 0) {
      pthread_mutex_unlock(&p->mu);
      proxy_syncer_release_nft(p->syncer);
      pthread_mutex_lock(&p->mu);
      proxy_syncer_stats(p->syncer, &p->stats);
    }
  }
}

static bool
stopping(struct service_proxy *p)
{
  pthread_mutex_lock(&p->mu);
  bool s = p->stopping;
  pthread_mutex_unlock(&p->mu);
  return s;
}

static void *
sync_main(void *arg)
{
  struct service_proxy *p = arg;
  while (!stopping(p) &&
         !(informer_wait_synced(p->services, 100) && informer_wait_synced(p->slices, 100)))
    ;
  bool need_full = true;
  while (!stopping(p)) {
    if (need_full) {
      pthread_mutex_lock(&p->mu); /* the full sync covers everything dirty so far */
      hashmap_free(p->dirty, NULL);
      p->dirty = hashmap_new();
      pthread_mutex_unlock(&p->mu);
      size_t n;
      char **keys = all_service_keys(p, &n);
      need_full = sync_round(p, keys, n, true) < 0;
      free_keys(keys, n);
      if (need_full) {
        wait_ms(p, RETRY_FULL_MS);
        continue;
      }
      pthread_mutex_lock(&p->mu);
      p->synced = true;
      pthread_cond_broadcast(&p->applied);
      pthread_mutex_unlock(&p->mu);
    }
    char **retries = proxy_syncer_take_retries(p->syncer);
    for (char **r = retries; r && *r; r++) {
      mark_dirty_key(p, *r);
      free(*r);
    }
    free(retries);

    pthread_mutex_lock(&p->mu);
    wait_for_work(p);
    size_t n = 0;
    char **keys = p->stopping ? NULL : take_dirty(p, &n);
    pthread_mutex_unlock(&p->mu);
    if (keys == NULL)
      break;
    need_full = sync_round(p, keys, n, false) < 0;
    free_keys(keys, n);
  }
  return NULL;
}

/* ---------- start / stop ---------- */

struct service_proxy *
proxy_start(k8c_client *client, informer_factory *informers, const struct proxy_config *cfg,
            k8c_err *err)
{
  struct service_proxy *p = xcalloc(1, sizeof *p);
  struct proxy_render_config rc = {
      .table = cfg->table && *cfg->table ? cfg->table : "k8c",
      .cluster_cidr = cfg->cluster_cidr,
      .service_cidr = cfg->service_cidr,
      .masquerade_mark = cfg->masquerade_mark ? cfg->masquerade_mark : 0x4000,
      .node_ips = cfg->node_ips,
      .local_service_ip = cfg->local_service_ip,
  };
  p->syncer = proxy_syncer_new(&rc, true);
  p->node_name = cfg->node_name ? xstrdup(cfg->node_name) : NULL;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->applied, NULL);
  p->dirty = hashmap_new();
  p->applied_rv = hashmap_new();

  informer_factory *f = informers;
  if (f == NULL)
    f = p->own_factory = informer_factory_new(client, 0);
  p->services = informer_factory_get(f, api_resource_find("", "v1", "services"), "", NULL, NULL);
  p->slices = informer_factory_get(f, api_resource_find("discovery.k8s.io", "v1", "endpointslices"),
                                   "", NULL, NULL);
  /* -1: a proxy sharing this factory already added the same index. */
  (void)informer_add_index(p->slices, SLICE_INDEX, slice_service_index, NULL);
  informer_add_handlers(p->services, &(struct informer_handlers){.on_add = service_changed,
                                                                 .on_update = service_updated,
                                                                 .on_delete = service_changed,
                                                                 .ctx = p,
                                                                 .resync_period_ms = -1});
  informer_add_handlers(p->slices, &(struct informer_handlers){.on_add = slice_changed,
                                                               .on_update = slice_updated,
                                                               .on_delete = slice_changed,
                                                               .ctx = p,
                                                               .resync_period_ms = -1});
  if (informer_start(p->services, err) < 0 || informer_start(p->slices, err) < 0)
    goto fail;
  int rc_thread = pthread_create(&p->thread, NULL, sync_main, p);
  if (rc_thread != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "starting the proxy's sync thread: %s",
              strerror(rc_thread));
    goto fail;
  }
  return p;

fail:
  if (p->own_factory) {
    informer_factory_stop(p->own_factory);
    informer_factory_free(p->own_factory);
  }
  proxy_syncer_free(p->syncer);
  hashmap_free(p->dirty, NULL);
  hashmap_free(p->applied_rv, NULL);
  free(p->node_name);
  free(p);
  return NULL;
}

void
proxy_stop(struct service_proxy *p)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->wake);
  pthread_cond_broadcast(&p->applied);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  if (p->own_factory) {
    informer_factory_stop(p->own_factory);
    informer_factory_free(p->own_factory);
  }
  proxy_syncer_free(p->syncer);
  hashmap_free(p->dirty, NULL);
  hashmap_free(p->applied_rv, NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->applied);
  free(p->node_name);
  free(p);
}

/* ---------- waiting, for tests and benchmarks ---------- */

static bool
wait_until(struct service_proxy *p, bool (*done)(struct service_proxy *, const void *),
           const void *arg, int timeout_ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&p->mu);
  bool ok;
  while (!(ok = done(p, arg)) && !p->stopping)
    if (pthread_cond_timedwait(&p->applied, &p->mu, &ts) == ETIMEDOUT) {
      ok = done(p, arg);
      break;
    }
  pthread_mutex_unlock(&p->mu);
  return ok;
}

static bool
is_synced(struct service_proxy *p, const void *arg)
{
  (void)arg;
  return p->synced;
}

bool
proxy_wait_synced(struct service_proxy *p, int timeout_ms)
{
  return wait_until(p, is_synced, NULL, timeout_ms);
}

struct applied_query {
  const char *key;
  unsigned long long rv;
};

static bool
is_applied(struct service_proxy *p, const void *arg)
{
  const struct applied_query *q = arg;
  return p->synced && (uintptr_t)hashmap_get(p->applied_rv, q->key) >= q->rv;
}

bool
proxy_wait_applied(struct service_proxy *p, const char *key, const char *resource_version,
                   int timeout_ms)
{
  struct applied_query q = {key, strtoull(resource_version, NULL, 10)};
  return wait_until(p, is_applied, &q, timeout_ms);
}

void
proxy_stats(struct service_proxy *p, struct proxy_sync_stats *out)
{
  pthread_mutex_lock(&p->mu);
  *out = p->stats;
  pthread_mutex_unlock(&p->mu);
}
