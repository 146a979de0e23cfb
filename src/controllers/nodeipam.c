/* nodeipam.c — the node IPAM controller (upstream's range allocator): gives every Node
 * without spec.podCIDR the lowest free block of --cluster-cidr (a /24 by default), so the
 * node agents and their CNI bridge know which pod addresses are theirs. Blocks already
 * named by nodes (e.g. simulated nodes, which choose their own) are marked used as the
 * informer sees them, and freed when their node goes. */
#include "controllers/controller.h"

#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/keyed_controller.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define IPAM_MAX_RETRIES 15

struct ipam_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *nodes_res;
  informer *nodes;
  struct event_recorder *events;
  uint32_t base;    /* cluster CIDR network address, host order */
  int cluster_bits; /* its prefix length */
  int node_bits;    /* each node's prefix length */
  size_t nblocks;   /* 2^(node_bits - cluster_bits) */
  pthread_mutex_t lock;
  uint8_t *used; /* one byte per block, under lock */
};

static void *ipam_start(struct controller_context *ctx, k8c_err *err);
static void ipam_stop(void *state);

const struct controller_def nodeipam_controller_def = {
    .name = "nodeipam",
    .start = ipam_start,
    .stop = ipam_stop,
};

/* ---------- blocks ---------- */

static int
parse_cidr(const char *cidr, uint32_t *addr, int *bits)
{
  char ip[INET_ADDRSTRLEN];
  const char *slash = cidr ? strchr(cidr, '/') : NULL;
  if (slash == NULL || (size_t)(slash - cidr) >= sizeof ip)
    return -1;
  memcpy(ip, cidr, (size_t)(slash - cidr));
  ip[slash - cidr] = '\0';
  struct in_addr a;
  char *end;
  long b = strtol(slash + 1, &end, 10);
  if (inet_pton(AF_INET, ip, &a) != 1 || *end != '\0' || b < 0 || b > 32)
    return -1;
  *addr = ntohl(a.s_addr);
  *bits = (int)b;
  return 0;
}

/* The block index of a node's podCIDR, or -1 when it is not one of ours. */
static long
block_of(struct ipam_controller *c, const char *cidr)
{
  uint32_t addr;
  int bits;
  if (parse_cidr(cidr, &addr, &bits) < 0 || bits != c->node_bits)
    return -1;
  uint32_t mask = c->cluster_bits ? ~0u << (32 - c->cluster_bits) : 0;
  if ((addr & mask) != c->base)
    return -1;
  return (long)((addr - c->base) >> (32 - c->node_bits));
}

static char *
block_cidr(struct ipam_controller *c, size_t i)
{
  struct in_addr a = {.s_addr = htonl(c->base + ((uint32_t)i << (32 - c->node_bits)))};
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, ip, sizeof ip);
  return xasprintf("%s/%d", ip, c->node_bits);
}

static const char *
node_pod_cidr(const json_t *node)
{
  const char *cidr = json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR"));
  return cidr && cidr[0] ? cidr : NULL;
}

static void
mark(struct ipam_controller *c, const json_t *node, bool used)
{
  long b = block_of(c, node_pod_cidr(node));
  if (b < 0)
    return;
  pthread_mutex_lock(&c->lock);
  c->used[b] = used;
  pthread_mutex_unlock(&c->lock);
}

/* Takes the lowest free block; -1 when the cluster CIDR is full. */
static long
take_block(struct ipam_controller *c)
{
  long found = -1;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->nblocks; i++) {
    if (!c->used[i]) {
      c->used[i] = 1;
      found = (long)i;
      break;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return found;
}

/* ---------- the sync ---------- */

static int
sync_node(void *arg, const char *name, k8c_err *err)
{
  struct ipam_controller *c = arg;
  cleanup_json json_t *node = informer_get(c->nodes, name);
  if (node == NULL || node_pod_cidr(node))
    return 0;
  long b = take_block(c);
  if (b < 0) {
    event_record(c->events, node, "Normal", "CIDRNotAvailable",
                 "Node %s status is now: CIDRNotAvailable", name);
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "no pod CIDR left for node %s", name);
  }
  cleanup_free char *cidr = block_cidr(c, (size_t)b);
  cleanup_json json_t *patch =
      json_pack("{s:{s:s,s:[s]}}", "spec", "podCIDR", cidr, "podCIDRs", cidr);
  struct client_write_opts o = {0};
  if (client_patch(c->client, c->nodes_res, "", name, "application/strategic-merge-patch+json",
                   patch, &o, NULL, err) < 0) {
    pthread_mutex_lock(&c->lock);
    c->used[b] = 0;
    pthread_mutex_unlock(&c->lock);
    return err->status == 404 ? (k8c_err_clear(err), 0) : -1;
  }
  event_record(c->events, node, "Normal", "CIDRAssignmentSucceeded",
               "Node %s was assigned pod CIDR %s", name, cidr);
  log_info("nodeipam: node %s gets pod CIDR %s", name, cidr);
  return 0;
}

static void
on_add(void *ctx, json_t *obj)
{
  struct ipam_controller *c = ctx;
  if (node_pod_cidr(obj))
    mark(c, obj, true);
  else if (meta_name(obj))
    workqueue_add(c->kc.queue, meta_name(obj));
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  on_add(ctx, new_obj);
}

static void
on_delete(void *ctx, json_t *obj)
{
  mark(ctx, obj, false);
}

static void *
ipam_start(struct controller_context *ctx, k8c_err *err)
{
  const char *cidr = ctx->cfg.cluster_cidr ? ctx->cfg.cluster_cidr : "10.42.0.0/16";
  int node_bits = ctx->cfg.node_cidr_mask_size ? ctx->cfg.node_cidr_mask_size : 24;
  uint32_t base;
  int bits;
  if (parse_cidr(cidr, &base, &bits) < 0 || node_bits < bits || node_bits > 30 ||
      node_bits - bits > 20) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
              "nodeipam: cluster CIDR %s cannot be split into /%d node blocks", cidr, node_bits);
    return NULL;
  }
  struct ipam_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->base = bits ? base & (~0u << (32 - bits)) : 0;
  c->cluster_bits = bits;
  c->node_bits = node_bits;
  c->nblocks = (size_t)1 << (node_bits - bits);
  c->used = xcalloc(c->nblocks, 1);
  pthread_mutex_init(&c->lock, NULL);
  keyed_controller_init(&c->kc, &(struct keyed_controller_spec){.name = "nodeipam",
                                                                .sync = sync_node,
                                                                .arg = c,
                                                                .max_retries = IPAM_MAX_RETRIES});
  c->events = event_recorder_new(ctx->client, "node-controller", NULL);
  c->nodes_res = api_resource_find("", "v1", "nodes");
  c->nodes = informer_factory_get(ctx->informers, c->nodes_res, "", NULL, NULL);
  struct informer_handlers h = {.on_add = on_add,
                                .on_update = on_update,
                                .on_delete = on_delete,
                                .ctx = c,
                                .resync_period_ms = -1};
  keyed_controller_watch(&c->kc, c->nodes, &h);
  if (keyed_controller_run(&c->kc, 1, err) < 0) {
    ipam_stop(c);
    return NULL;
  }
  return c;
}

static void
ipam_stop(void *state)
{
  struct ipam_controller *c = state;
  keyed_controller_stop(&c->kc);
  event_recorder_free(c->events);
  pthread_mutex_destroy(&c->lock);
  free(c->used);
  free(c);
}
