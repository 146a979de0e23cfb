/* simnodes.c — a simulation's life: configuration and pod-CIDR planning, the node table,
 * start and stop of the heartbeat thread and pod workers, and the two ways to stop a
 * node's heartbeats (an API for tests, a label watched through a selector-narrowed
 * informer so the agent caches only the few stopped nodes, not all of them). */
#include "agent/simnodes_internal.h"
#include "apimachinery/meta.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FAKE_NODE_IP_BASE 0xC6120002u /* 198.18.0.2: RFC 2544's benchmarking range */
#define MAX_NODES 65536

static void apply_defaults(struct simnodes_config *c);
static void stopped_label_add(void *ctx, json_t *node);
static void stopped_label_update(void *ctx, json_t *old_node, json_t *node);
static void stopped_label_delete(void *ctx, json_t *node);
static void heartbeat_control(simnodes *s, const char *node, bool stop, bool by_api);

int
simnodes_pod_cidr_plan(const char *cluster_cidr, int count, unsigned *block_base, int *block_prefix,
                       k8c_err *err)
{
  char addr[32];
  const char *slash = cluster_cidr ? strchr(cluster_cidr, '/') : NULL;
  if (slash == NULL || (size_t)(slash - cluster_cidr) >= sizeof addr)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "cluster CIDR \"%s\" is not an IPv4 CIDR",
                     cluster_cidr ? cluster_cidr : "");
  memcpy(addr, cluster_cidr, (size_t)(slash - cluster_cidr));
  addr[slash - cluster_cidr] = '\0';
  struct in_addr in;
  char *end = NULL;
  long prefix = strtol(slash + 1, &end, 10);
  if (inet_pton(AF_INET, addr, &in) != 1 || end == slash + 1 || *end || prefix < 1 || prefix > 26)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "cluster CIDR \"%s\" is not an IPv4 CIDR of at most /26", cluster_cidr);
  int bits = 0;
  while ((1L << bits) < count)
    bits++;
  int block = (int)prefix + bits;
  if (block < 24)
    block = 24;
  if (block < prefix)
    block = (int)prefix;
  if (block > 26)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "cluster CIDR %s cannot give %d nodes a pod CIDR of at least /26 each (room "
                     "for %ld); use a larger --cluster-cidr",
                     cluster_cidr, count, 1L << (26 - prefix));
  uint32_t mask = 0xFFFFFFFFu << (32 - prefix);
  *block_base = ntohl(in.s_addr) & mask;
  *block_prefix = block;
  return 0;
}

simnodes *
simnodes_start(k8c_client *client, const struct simnodes_config *cfg, k8c_err *err)
{
  struct simnodes_config c = *cfg;
  apply_defaults(&c);
  if (c.count < 1 || c.first_index < 0 || c.first_index + c.count > MAX_NODES) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "can simulate 1 to %d nodes, not %d from %d",
              MAX_NODES, c.count, c.first_index);
    return NULL;
  }
  unsigned base;
  int prefix;
  if (simnodes_pod_cidr_plan(c.cluster_cidr, c.first_index + c.count, &base, &prefix, err) < 0)
    return NULL;
  simnodes *s = xcalloc(1, sizeof *s);
  s->cfg = c;
  s->cfg.cluster_cidr = NULL; /* not kept: the plan is all we need */
  s->client = client;
  s->nodes_res = api_resource_find("", "v1", "nodes");
  s->leases_res = api_resource_find("coordination.k8s.io", "v1", "leases");
  s->pods_res = api_resource_find("", "v1", "pods");
  s->block_prefix = prefix;
  s->block_size = 1u << (32 - prefix);
  s->nodes = xcalloc((size_t)c.count, sizeof *s->nodes);
  s->by_name = hashmap_new();
  s->pods = hashmap_new();
  pthread_mutex_init(&s->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s->changed, &attr);
  pthread_condattr_destroy(&attr);
  time_t now = time(NULL);
  for (int i = 0; i < c.count; i++) {
    struct simnode *n = &s->nodes[i];
    unsigned global = (unsigned)(c.first_index + i);
    snprintf(n->name, sizeof n->name, "sim-node-%04u", global);
    n->pod_block = base + global * s->block_size;
    n->internal_ip = FAKE_NODE_IP_BASE + global;
    n->ready_since = now;
    hashmap_put(s->by_name, n->name, (void *)(intptr_t)(i + 1));
  }

  s->informers = c.informers ? c.informers : informer_factory_new(client, 0);
  s->stopped_informer = informer_factory_get(s->informers, s->nodes_res, "",
                                             SIMNODES_HEARTBEAT_LABEL "=stopped", NULL);
  struct informer_handlers h = {.on_add = stopped_label_add,
                                .on_update = stopped_label_update,
                                .on_delete = stopped_label_delete,
                                .ctx = s,
                                .resync_period_ms = -1};
  informer_add_handlers(s->stopped_informer, &h);
  if (simnodes_pods_start(s, err) < 0 || simnodes_heartbeat_start(s, err) < 0 ||
      informer_factory_start(s->informers, err) < 0) {
    simnodes_stop(s);
    return NULL;
  }
  log_info("simnodes: simulating %d nodes (%s .. %s), pod CIDR /%d each", c.count, s->nodes[0].name,
           s->nodes[c.count - 1].name, prefix);
  return s;
}

bool
simnodes_wait_registered(simnodes *s, int timeout_ms)
{
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->lock);
  while (s->registered_count < (size_t)s->cfg.count && !s->stopping) {
    if (timeout_ms < 0)
      pthread_cond_wait(&s->changed, &s->lock);
    else if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) != 0)
      break;
  }
  bool done = s->registered_count == (size_t)s->cfg.count;
  pthread_mutex_unlock(&s->lock);
  return done;
}

void
simnodes_stop(simnodes *s)
{
  if (s == NULL)
    return;
  pthread_mutex_lock(&s->lock);
  s->stopping = true;
  pthread_cond_broadcast(&s->changed);
  pthread_mutex_unlock(&s->lock);
  simnodes_heartbeat_join(s);
  /* Workers read the informers' caches, and handlers queue keys (ignored once the queue
   * is shut down): queue and workers first, then the informers, then the queue's memory. */
  simnodes_pods_stop(s);
  if (s->cfg.informers) { /* shared: they run on, without us */
    informer_remove_handlers(s->pod_informer, s);
    informer_remove_handlers(s->stopped_informer, s);
  } else {
    informer_factory_free(s->informers);
  }
  simnodes_pods_free(s);
  hashmap_free(s->pods, free);
  hashmap_free(s->by_name, NULL);
  free(s->nodes);
  pthread_cond_destroy(&s->changed);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

size_t
simnodes_count(const simnodes *s)
{
  return (size_t)s->cfg.count;
}

const char *
simnodes_node_name(const simnodes *s, size_t i)
{
  return i < (size_t)s->cfg.count ? s->nodes[i].name : NULL;
}

int
simnodes_set_heartbeat(simnodes *s, const char *node, bool enabled, k8c_err *err)
{
  if (simnodes_find(s, node) < 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "nodes \"%s\" is not simulated here", node);
  heartbeat_control(s, node, !enabled, true);
  return 0;
}

int
simnodes_find(const simnodes *s, const char *name)
{
  if (name == NULL)
    return -1;
  intptr_t v = (intptr_t)hashmap_get(s->by_name, name);
  return (int)v - 1;
}

bool
simnodes_alive_locked(const simnodes *s, int i)
{
  return !s->nodes[i].stopped_by_api && !s->nodes[i].stopped_by_label;
}

/* ---------- helpers ---------- */

static void
apply_defaults(struct simnodes_config *c)
{
  if (c->cluster_cidr == NULL || c->cluster_cidr[0] == '\0')
    c->cluster_cidr = "10.42.0.0/16";
  if (c->ready_delay_ms < 0)
    c->ready_delay_ms = 0;
  if (c->lease_renew_ms <= 0)
    c->lease_renew_ms = 10000;
  if (c->lease_duration_s <= 0)
    c->lease_duration_s = 40;
  if (c->status_update_ms <= 0)   /* upstream's nodeStatusReportFrequency: the Lease is the */
    c->status_update_ms = 300000; /* heartbeat, an unchanged status is re-posted every 5 min */
  if (c->pod_workers <= 0)
    c->pod_workers = 8;
  if (c->heartbeat_threads <= 0) /* one per 100 nodes, 1 to 8 */
    c->heartbeat_threads = c->count / 100 < 1 ? 1 : c->count / 100 > 8 ? 8 : c->count / 100;
}

/* Stops or resumes node's heartbeats on behalf of the API or the label; a node resumed
 * by both posts Ready at once and catches up with its pods. */
static void
heartbeat_control(simnodes *s, const char *node, bool stop, bool by_api)
{
  int i = simnodes_find(s, node);
  if (i < 0)
    return;
  pthread_mutex_lock(&s->lock);
  struct simnode *n = &s->nodes[i];
  bool was_alive = simnodes_alive_locked(s, i);
  if (by_api)
    n->stopped_by_api = stop;
  else
    n->stopped_by_label = stop;
  bool alive = simnodes_alive_locked(s, i);
  if (alive && !was_alive) {
    n->ready_since = time(NULL);
    n->status_due = true;
    s->resume_gen++;
  }
  pthread_mutex_unlock(&s->lock);
  if (alive != was_alive)
    log_info("simnodes: %s heartbeats %s", node, alive ? "resumed" : "stopped");
  if (alive && !was_alive)
    simnodes_pods_requeue_node(s, i);
}

static void
stopped_label_add(void *ctx, json_t *node)
{
  heartbeat_control(ctx, meta_name(node), true, false);
}

static void
stopped_label_update(void *ctx, json_t *old_node, json_t *node)
{
  (void)old_node;
  heartbeat_control(ctx, meta_name(node), true, false);
}

static void
stopped_label_delete(void *ctx, json_t *node)
{
  heartbeat_control(ctx, meta_name(node), false, false);
}
