/* hostgw.c — the host-gw route reconciler (see hostgw.h): informer handlers only mark
 * the state dirty; one thread computes the wanted routes from the cached Nodes and makes
 * the kernel's k8c-tagged routes equal to them. */
#include "nodenet/hostgw.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "nodenet/nl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hostgw {
  informer *nodes;
  char *node_name;
  unsigned char protocol;
  int resync_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool dirty, stopping;
  unsigned long started, done; /* reconciles begun and finished */
  int retry_ms;                /* after a failed reconcile: 1 s doubling up to resync_ms */
};

static const char *internal_ip(json_t *node);

/* ---------- informer handlers ---------- */

static void
mark_dirty(struct hostgw *g)
{
  pthread_mutex_lock(&g->lock);
  g->dirty = true;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->lock);
}

static void
on_add(void *ctx, json_t *obj)
{
  (void)obj;
  mark_dirty(ctx);
}

static bool
same_string(const char *a, const char *b)
{
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static const char *
pod_cidr(json_t *node)
{
  return json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR"));
}

/* Heartbeats update every Node every few seconds: only what a route depends on counts. */
static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  bool old_deleting = json_object_get(json_object_get(old_obj, "metadata"), "deletionTimestamp");
  bool new_deleting = json_object_get(json_object_get(new_obj, "metadata"), "deletionTimestamp");
  if (old_obj == new_obj ||
      (same_string(pod_cidr(old_obj), pod_cidr(new_obj)) &&
       same_string(internal_ip(old_obj), internal_ip(new_obj)) && old_deleting == new_deleting))
    return;
  mark_dirty(ctx);
}

static void
on_delete(void *ctx, json_t *obj)
{
  (void)obj;
  mark_dirty(ctx);
}

/* ---------- reconcile ---------- */

/* The InternalIP of node (borrowed from it), or NULL. */
static const char *
internal_ip(json_t *node)
{
  json_t *addrs = json_object_get(json_object_get(node, "status"), "addresses");
  size_t i;
  json_t *a;
  json_array_foreach (addrs, i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    const char *ip = json_string_value(json_object_get(a, "address"));
    if (type && ip && strcmp(type, "InternalIP") == 0 && strchr(ip, ':') == NULL)
      return ip;
  }
  return NULL;
}

/* The kernel's canonical spelling of a CIDR (the network address), for comparison. */
static bool
canonical_cidr(const char *cidr, char *out, size_t cap)
{
  char ip[16];
  unsigned a, b, c, d, len;
  if (sscanf(cidr, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &len) != 5 || a > 255 || b > 255 || c > 255 ||
      d > 255 || len > 32)
    return false;
  unsigned long v = ((unsigned long)a << 24) | (b << 16) | (c << 8) | d;
  unsigned long mask = len == 0 ? 0 : (0xffffffffUL << (32 - len)) & 0xffffffffUL;
  v &= mask;
  snprintf(ip, sizeof ip, "%lu.%lu.%lu.%lu", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
  snprintf(out, cap, "%s/%u", ip, len);
  return true;
}

/* The routes the Nodes ask for: *n entries in a new array. */
static struct nl_route4 *
wanted_routes(struct hostgw *g, size_t *n)
{
  json_t **nodes = NULL;
  size_t count = 0;
  informer_list(g->nodes, &nodes, &count);
  struct nl_route4 *want = xcalloc(count ? count : 1, sizeof *want);
  *n = 0;
  for (size_t i = 0; i < count; i++) {
    json_t *meta = json_object_get(nodes[i], "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *cidr = pod_cidr(nodes[i]);
    const char *ip = internal_ip(nodes[i]);
    const char *simulated = json_string_value(
        json_object_get(json_object_get(meta, "annotations"), "k8c.io/simulated"));
    /* simulated nodes (k8c agent --simulate) have no network to route to */
    if (name == NULL || strcmp(name, g->node_name) == 0 || cidr == NULL || ip == NULL ||
        json_object_get(meta, "deletionTimestamp") != NULL ||
        (simulated && strcmp(simulated, "true") == 0))
      continue;
    struct nl_route4 *r = &want[*n];
    if (!canonical_cidr(cidr, r->dst, sizeof r->dst) || strlen(ip) >= sizeof r->via)
      continue;
    snprintf(r->via, sizeof r->via, "%s", ip);
    (*n)++;
  }
  informer_objs_free(nodes, count);
  return want;
}

static const struct nl_route4 *
find_route(const struct nl_route4 *list, size_t n, const char *dst)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i].dst, dst) == 0)
      return &list[i];
  return NULL;
}

/* Makes the kernel's k8c routes equal to want (n_want entries). 0, or -1 if any
 * change failed (the next round retries). */
static int
apply_routes(unsigned char proto, const struct nl_route4 *want, size_t n_want)
{
  k8c_err err = {0};
  struct nl_route4 *have = NULL;
  size_t n_have = 0;
  if (nl_route4_list(proto, &have, &n_have, &err) < 0) {
    log_warn("hostgw: %s", err.message);
    k8c_err_clear(&err);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < n_want; i++) {
    const struct nl_route4 *h = find_route(have, n_have, want[i].dst);
    if (h && strcmp(h->via, want[i].via) == 0)
      continue;
    if (nl_route4_replace(want[i].dst, want[i].via, proto, &err) < 0) {
      log_warn("hostgw: %s", err.message);
      k8c_err_clear(&err);
      rc = -1;
    } else {
      log_info("hostgw: route %s via %s", want[i].dst, want[i].via);
    }
  }
  for (size_t i = 0; i < n_have; i++) {
    if (find_route(want, n_want, have[i].dst))
      continue;
    if (nl_route4_delete(have[i].dst, proto, &err) < 0) {
      log_warn("hostgw: %s", err.message);
      k8c_err_clear(&err);
      rc = -1;
    } else {
      log_info("hostgw: route %s removed", have[i].dst);
    }
  }
  free(have);
  return rc;
}

static int
reconcile(struct hostgw *g)
{
  size_t n = 0;
  struct nl_route4 *want = wanted_routes(g, &n);
  int rc = apply_routes(g->protocol, want, n);
  free(want);
  return rc;
}

/* ---------- the thread ---------- */

static void
deadline_after(struct timespec *ts, int ms)
{
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

static void *
hostgw_main(void *arg)
{
  struct hostgw *g = arg;
  pthread_mutex_lock(&g->lock);
  while (!g->stopping) {
    /* only the informer's view after its first list means anything: an empty cache
     * would delete every route */
    bool synced = informer_has_synced(g->nodes);
    int wait_ms = 100;
    if (synced) {
      g->dirty = false;
      g->started++;
      pthread_mutex_unlock(&g->lock);
      int rc = reconcile(g);
      pthread_mutex_lock(&g->lock);
      g->done++;
      pthread_cond_broadcast(&g->cond);
      /* a failure (a gateway not reachable yet ...) is retried with a back-off */
      if (rc == 0)
        g->retry_ms = 0;
      else
        g->retry_ms = g->retry_ms == 0 ? 1000 : g->retry_ms * 2;
      if (g->retry_ms > g->resync_ms)
        g->retry_ms = g->resync_ms;
      wait_ms = g->retry_ms ? g->retry_ms : g->resync_ms;
    }
    struct timespec ts;
    deadline_after(&ts, wait_ms);
    while (!g->stopping && (!g->dirty || !synced)) {
      if (pthread_cond_timedwait(&g->cond, &g->lock, &ts) == ETIMEDOUT)
        break;
    }
    if (g->dirty && synced && !g->stopping) {
      /* batch a burst of changes */
      pthread_mutex_unlock(&g->lock);
      struct timespec pause = {0, 20 * 1000000L};
      nanosleep(&pause, NULL);
      pthread_mutex_lock(&g->lock);
    }
  }
  pthread_mutex_unlock(&g->lock);
  return NULL;
}

struct hostgw *
hostgw_start(informer *nodes, const struct hostgw_config *cfg, k8c_err *err)
{
  struct hostgw *g = xcalloc(1, sizeof *g);
  g->nodes = nodes;
  g->node_name = xstrdup(cfg->node_name ? cfg->node_name : "");
  g->protocol = cfg->protocol ? cfg->protocol : NODENET_RTPROT;
  g->resync_ms = cfg->resync_ms > 0 ? cfg->resync_ms : 30000;
  g->dirty = true;
  pthread_mutex_init(&g->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&g->cond, &ca);
  pthread_condattr_destroy(&ca);
  struct informer_handlers h = {
      .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = g};
  informer_add_handlers(nodes, &h);
  if (pthread_create(&g->thread, NULL, hostgw_main, g) != 0) {
    informer_remove_handlers(nodes, g);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "hostgw: cannot start its thread");
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    free(g->node_name);
    free(g);
    return NULL;
  }
  return g;
}

void
hostgw_stop(struct hostgw *g, bool remove_routes)
{
  if (g == NULL)
    return;
  informer_remove_handlers(g->nodes, g);
  pthread_mutex_lock(&g->lock);
  g->stopping = true;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->lock);
  pthread_join(g->thread, NULL);
  if (remove_routes && apply_routes(g->protocol, NULL, 0) < 0)
    log_warn("hostgw: not every route could be removed");
  pthread_mutex_destroy(&g->lock);
  pthread_cond_destroy(&g->cond);
  free(g->node_name);
  free(g);
}

unsigned long
hostgw_generation(struct hostgw *g)
{
  pthread_mutex_lock(&g->lock);
  unsigned long n = g->done;
  pthread_mutex_unlock(&g->lock);
  return n;
}

bool
hostgw_wait_reconciled(struct hostgw *g, int timeout_ms)
{
  struct timespec ts;
  deadline_after(&ts, timeout_ms);
  pthread_mutex_lock(&g->lock);
  unsigned long target = g->started + 1; /* a round that begins after now */
  g->dirty = true;
  pthread_cond_broadcast(&g->cond);
  while (g->done < target && !g->stopping)
    if (pthread_cond_timedwait(&g->cond, &g->lock, &ts) == ETIMEDOUT)
      break;
  bool ok = g->done >= target;
  pthread_mutex_unlock(&g->lock);
  return ok;
}
