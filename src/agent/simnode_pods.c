/* simnode_pods.c — the kubelet side of every simulated node at once: one informer on
 * bound pods (indexed by spec.nodeName), one work queue, a few workers. A worker takes a
 * pod's key and makes its status what a kubelet would report (Running, Ready after the
 * configured delay, an IP from the node's block), finishes deletions with a zero grace
 * period, and frees the pod's IP when it is gone. The only per-pod state kept is a
 * small record (uid, node, IP offset, when first seen). */
#include "agent/simnodes_internal.h"
#include "apimachinery/meta.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#define NODE_INDEX "spec.nodeName" /* the same index as the node lifecycle controller's */

static void pod_event(void *ctx, json_t *pod);
static void pod_updated(void *ctx, json_t *old_pod, json_t *pod);
static void *pod_worker(void *arg);
static int sync_pod(simnodes *s, const char *key);

int
simnodes_pods_start(simnodes *s, k8c_err *err)
{
  s->pod_queue = workqueue_new(NULL);
  /* Unbound pods are none of a kubelet's business: the server filters them out, unless
   * the informer is shared with a scheduler, which needs them all anyway (the handlers
   * skip pods on no node of ours). */
  s->pod_informer = informer_factory_get(s->informers, s->pods_res, "", NULL,
                                         s->cfg.informers ? NULL : "spec.nodeName!=");
  if (informer_add_index(s->pod_informer, NODE_INDEX, informer_index_by_path,
                         (void *)"spec.nodeName") < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "simnodes: pod index already taken");
  struct informer_handlers h = {.on_add = pod_event,
                                .on_update = pod_updated,
                                .on_delete = pod_event,
                                .ctx = s,
                                .resync_period_ms = -1};
  informer_add_handlers(s->pod_informer, &h);
  s->workers = xcalloc((size_t)s->cfg.pod_workers, sizeof *s->workers);
  for (int i = 0; i < s->cfg.pod_workers; i++) {
    if (pthread_create(&s->workers[i], NULL, pod_worker, s) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "simnodes: cannot start pod workers");
    s->worker_count++;
  }
  return 0;
}

void
simnodes_pods_requeue_node(simnodes *s, int i)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(s->pod_informer, NODE_INDEX, s->nodes[i].name, &pods, &n, NULL) < 0)
    return;
  for (size_t k = 0; k < n; k++) {
    cleanup_free char *key = client_object_key(pods[k]);
    if (key)
      workqueue_add(s->pod_queue, key);
  }
  informer_objs_free(pods, n);
}

void
simnodes_pods_stop(simnodes *s)
{
  if (s->pod_queue)
    workqueue_shutdown(s->pod_queue);
  for (int i = 0; i < s->worker_count; i++)
    pthread_join(s->workers[i], NULL);
  s->worker_count = 0;
}

void
simnodes_pods_free(simnodes *s)
{
  free(s->workers);
  s->workers = NULL;
  if (s->pod_queue)
    workqueue_free(s->pod_queue);
  s->pod_queue = NULL;
}

/* ---------- informer handlers: queue keys of pods on our nodes ---------- */

static void
pod_event(void *ctx, json_t *pod)
{
  simnodes *s = ctx;
  const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
  if (simnodes_find(s, node) < 0)
    return;
  cleanup_free char *key = client_object_key(pod);
  if (key)
    workqueue_add(s->pod_queue, key);
}

static void
pod_updated(void *ctx, json_t *old_pod, json_t *pod)
{
  (void)old_pod;
  pod_event(ctx, pod);
}

/* ---------- workers ---------- */

static void *
pod_worker(void *arg)
{
  pthread_setname_np(pthread_self(), "sim-pods");
  simnodes *s = arg;
  char *key;
  while (workqueue_get(s->pod_queue, &key)) {
    if (sync_pod(s, key) < 0)
      workqueue_add_rate_limited(s->pod_queue, key);
    else
      workqueue_forget(s->pod_queue, key);
    workqueue_done(s->pod_queue, key);
    free(key);
  }
  return NULL;
}

/* ---------- IP allocation (caller holds s->lock) ---------- */

static bool
ip_taken(const struct simnode *n, unsigned off)
{
  return (n->ip_used[off / 64] >> (off % 64)) & 1u;
}

static void
ip_mark(struct simnode *n, unsigned off, bool used)
{
  if (used)
    n->ip_used[off / 64] |= (uint64_t)1 << (off % 64);
  else
    n->ip_used[off / 64] &= ~((uint64_t)1 << (off % 64));
}

/* An offset in node's block: preferred (the IP the pod already reports, after a restart)
 * if it is free, else the lowest free one; 0 if the block is full. The network address,
 * the gateway (.1) and the broadcast address are never handed out. */
static int
ip_allocate(simnodes *s, struct simnode *n, const char *preferred)
{
  struct in_addr in;
  if (preferred && inet_pton(AF_INET, preferred, &in) == 1) {
    uint32_t addr = ntohl(in.s_addr);
    if (addr - n->pod_block >= 2 && addr - n->pod_block < s->block_size - 1 &&
        !ip_taken(n, addr - n->pod_block)) {
      ip_mark(n, addr - n->pod_block, true);
      return (int)(addr - n->pod_block);
    }
  }
  for (unsigned off = 2; off < s->block_size - 1; off++)
    if (!ip_taken(n, off)) {
      ip_mark(n, off, true);
      return (int)off;
    }
  return 0;
}

/* Forgets key's record and frees its IP; only if its uid is uid (NULL: any). */
static void
release_pod(simnodes *s, const char *key, const char *uid)
{
  pthread_mutex_lock(&s->lock);
  struct simpod *p = hashmap_get(s->pods, key);
  if (p && (uid == NULL || strcmp(p->uid, uid) == 0)) {
    hashmap_remove(s->pods, key);
    if (p->ip_offset)
      ip_mark(&s->nodes[p->node], (unsigned)p->ip_offset, false);
    free(p);
  }
  pthread_mutex_unlock(&s->lock);
}

/* key's record (created with an IP on first sight); a copy in *out. -1 if the node's
 * block is full. */
static int
track_pod(simnodes *s, const char *key, const json_t *pod, int node, struct simpod *out)
{
  const char *uid = meta_uid(pod);
  uid = uid ? uid : "";
  pthread_mutex_lock(&s->lock);
  struct simpod *p = hashmap_get(s->pods, key);
  if (p && (strcmp(p->uid, uid) != 0 || p->node != node)) { /* a new pod of the same name */
    hashmap_remove(s->pods, key);
    if (p->ip_offset)
      ip_mark(&s->nodes[p->node], (unsigned)p->ip_offset, false);
    free(p);
    p = NULL;
  }
  if (p == NULL) {
    const char *old_ip =
        json_string_value(json_object_get(json_object_get(pod, "status"), "podIP"));
    int off = ip_allocate(s, &s->nodes[node], old_ip);
    if (off == 0) {
      pthread_mutex_unlock(&s->lock);
      return -1;
    }
    p = xcalloc(1, sizeof *p);
    snprintf(p->uid, sizeof p->uid, "%s", uid);
    p->node = node;
    p->ip_offset = off;
    p->seen_ms = clock_monotonic_ms();
    hashmap_put(s->pods, key, p);
  }
  *out = *p;
  pthread_mutex_unlock(&s->lock);
  return 0;
}

/* ---------- one pod ---------- */

/* Ends a pod being deleted, as a kubelet does once its containers are gone. */
static int
finish_deletion(simnodes *s, const char *key, const json_t *pod)
{
  const char *uid = meta_uid(pod);
  cleanup_json json_t *opts =
      json_pack("{s:i,s:{s:s}}", "gracePeriodSeconds", 0, "preconditions", "uid", uid ? uid : "");
  k8c_err err = {0};
  int rc = client_delete(s->client, s->pods_res, meta_namespace(pod), meta_name(pod), opts, NULL,
                         NULL, &err);
  if (rc < 0 && err.status != 404 && err.status != 409) {
    log_warn("simnodes: deleting pod %s: %s", key, err.message);
    k8c_err_clear(&err);
    return -1;
  }
  k8c_err_clear(&err);
  release_pod(s, key, uid);
  return 0;
}

static int
sync_pod(simnodes *s, const char *key)
{
  cleanup_json json_t *pod = informer_get(s->pod_informer, key);
  const char *node_name =
      json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
  int node = pod ? simnodes_find(s, node_name) : -1;
  if (node < 0) {
    release_pod(s, key, NULL);
    return 0;
  }
  pthread_mutex_lock(&s->lock);
  bool alive = simnodes_alive_locked(s, node);
  pthread_mutex_unlock(&s->lock);
  if (!alive) /* a dead kubelet does nothing; requeued when it comes back */
    return 0;
  if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
    return finish_deletion(s, key, pod);
  const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
  if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) {
    release_pod(s, key, meta_uid(pod)); /* its sandbox is gone, and its IP with it */
    return 0;
  }
  struct simpod rec;
  if (track_pod(s, key, pod, node, &rec) < 0) {
    log_warn("simnodes: no free pod IP on %s for %s", s->nodes[node].name, key);
    return -1;
  }
  long long now = clock_monotonic_ms(), exit_after;
  int exit_code;
  simpod_exit_plan(pod, &exit_after, &exit_code);
  char pod_ip[16], host_ip[16];
  simnodes_ipv4(s->nodes[node].pod_block + (uint32_t)rec.ip_offset, pod_ip);
  simnodes_ipv4(s->nodes[node].internal_ip, host_ip);
  struct simpod_outcome o = {
      .pod_ip = pod_ip,
      .host_ip = host_ip,
      .ready = now >= rec.seen_ms + s->cfg.ready_delay_ms,
      .exited = exit_after >= 0 && now >= rec.seen_ms + exit_after,
      .exit_code = exit_code,
  };
  cleanup_json json_t *status = simpod_status(pod, &o);
  if (!simpod_status_current(pod, status)) {
    /* A shallow copy with the new status: the client borrows bodies without modifying
     * them, so the cached pod's other members can be shared, not copied. */
    cleanup_json json_t *copy = json_copy(pod);
    json_object_set(copy, "status", status);
    k8c_err err = {0};
    if (client_update_status(s->client, s->pods_res, meta_namespace(pod), meta_name(pod), copy,
                             NULL, NULL, &err) < 0) {
      int code = err.status;
      if (code != 409)
        log_warn("simnodes: pod %s status: %s", key, err.message);
      k8c_err_clear(&err);
      if (code == 404) {
        release_pod(s, key, meta_uid(pod));
        return 0;
      }
      return -1; /* a conflict: the informer will hand us the newer pod */
    }
  }
  if (!o.exited && !o.ready)
    workqueue_add_after(s->pod_queue, key, rec.seen_ms + s->cfg.ready_delay_ms - now);
  if (!o.exited && exit_after >= 0)
    workqueue_add_after(s->pod_queue, key, rec.seen_ms + exit_after - now);
  return 0;
}
