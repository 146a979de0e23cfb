/* nodenet.c — the node networking component's life cycle (see nodenet.h). The design
 * idea: nothing is programmed before the node knows who it is on the network (its pod
 * CIDR and InternalIP, from its own Node object), and the components then start in the
 * order traffic depends on them: forwarding and masquerade, routes, proxy, DNS, policy. */
#include "nodenet/nodenet.h"

#include "client/informer.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "netpol/netpol.h"
#include "nodenet/hostgw.h"
#include "nodenet/node_dns.h"
#include "nodenet/podnet.h"
#include "proxy/proxy.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nodenet {
  k8c_client *client;
  struct nodenet_config cfg; /* strings owned */
  informer_factory *informers;
  informer *nodes;
  pthread_t thread;
  bool thread_started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stopping, ready;
  /* set by the thread, read after it is joined */
  struct hostgw *hostgw;
  struct service_proxy *proxy;
  struct node_dns *dns;
  struct netpol_enforcer *netpol;
};

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

/* Sleeps up to ms; false when stopping. */
static bool
nodenet_sleep(struct nodenet *n, int ms)
{
  struct timespec ts;
  deadline_after(&ts, ms);
  pthread_mutex_lock(&n->lock);
  while (!n->stopping)
    if (pthread_cond_timedwait(&n->cond, &n->lock, &ts) == ETIMEDOUT)
      break;
  bool go_on = !n->stopping;
  pthread_mutex_unlock(&n->lock);
  return go_on;
}

/* This node's InternalIP (IPv4) into ip, once its Node has a pod CIDR and one. */
static bool
node_identity(struct nodenet *n, char *ip, size_t cap)
{
  json_t *node = informer_get(n->nodes, n->cfg.node_name);
  bool found = false;
  const char *cidr = json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR"));
  json_t *addrs = json_object_get(json_object_get(node, "status"), "addresses");
  size_t i;
  json_t *a;
  json_array_foreach (addrs, i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    const char *addr = json_string_value(json_object_get(a, "address"));
    if (cidr && type && addr && strcmp(type, "InternalIP") == 0 && strchr(addr, ':') == NULL &&
        strlen(addr) < cap) {
      snprintf(ip, cap, "%s", addr);
      found = true;
      break;
    }
  }
  json_decref(node);
  return found;
}

static void
log_err(const char *what, k8c_err *err)
{
  log_error("nodenet: %s: %s", what, err->message);
  k8c_err_clear(err);
}

static void
start_components(struct nodenet *n, const char *node_ip)
{
  k8c_err err = {0};
  if (podnet_enable_forwarding(&err) < 0)
    log_err("forwarding", &err);
  if (podnet_masquerade_sync(NULL, n->cfg.cluster_cidr, &err) < 0)
    log_err("masquerade", &err);
  struct hostgw_config gcfg = {.node_name = n->cfg.node_name};
  n->hostgw = hostgw_start(n->nodes, &gcfg, &err);
  if (n->hostgw == NULL)
    log_err("routes", &err);
  if (!n->cfg.disable_kube_proxy) {
    const char *ips[] = {node_ip, NULL};
    struct proxy_config pcfg = {.node_name = n->cfg.node_name,
                                .node_ips = ips,
                                .cluster_cidr = n->cfg.cluster_cidr,
                                .service_cidr = n->cfg.service_cidr,
                                .local_service_ip =
                                    n->cfg.disable_cluster_dns ? NULL : n->cfg.cluster_dns};
    n->proxy = proxy_start(n->client, n->informers, &pcfg, &err);
    if (n->proxy == NULL)
      log_err("service proxy", &err);
  }
  if (!n->cfg.disable_cluster_dns) {
    struct node_dns_config dcfg = {.ip = n->cfg.cluster_dns,
                                   .interface = n->cfg.dns_interface,
                                   .cluster_domain = n->cfg.cluster_domain,
                                   .resolv_conf = n->cfg.resolv_conf};
    n->dns = node_dns_start(n->client, n->informers, &dcfg, &err);
    if (n->dns == NULL)
      log_err("cluster DNS", &err);
  }
  if (!n->cfg.disable_network_policy) {
    struct netpol_config ncfg = {.node_name = n->cfg.node_name};
    n->netpol = netpol_start(n->client, n->informers, &ncfg, &err);
    if (n->netpol == NULL)
      log_err("network policy", &err);
  }
}

static void *
nodenet_main(void *arg)
{
  struct nodenet *n = arg;
  char node_ip[64];
  int waited_ms = 0;
  while (!node_identity(n, node_ip, sizeof node_ip)) {
    if (!nodenet_sleep(n, 200))
      return NULL;
    if ((waited_ms += 200) % 30000 == 0)
      log_info("nodenet: node %s has no pod CIDR and InternalIP yet", n->cfg.node_name);
  }
  start_components(n, node_ip);
  log_info("nodenet: node %s (%s) networking started%s%s%s", n->cfg.node_name, node_ip,
           n->proxy ? ", service proxy" : "", n->dns ? ", cluster DNS" : "",
           n->netpol ? ", network policy" : "");
  pthread_mutex_lock(&n->lock);
  n->ready = true;
  pthread_cond_broadcast(&n->cond);
  pthread_mutex_unlock(&n->lock);
  return NULL;
}

/* ---------- configuration ---------- */

static char *
dup_or(const char *v, const char *def)
{
  return xstrdup(v && *v ? v : def);
}

static void
free_config(struct nodenet_config *c)
{
  free((char *)c->node_name);
  free((char *)c->cluster_cidr);
  free((char *)c->service_cidr);
  free((char *)c->cluster_dns);
  free((char *)c->cluster_domain);
  free((char *)c->resolv_conf);
  free((char *)c->dns_interface);
}

static void
nodenet_free(struct nodenet *n)
{
  if (n->informers) {
    informer_factory_stop(n->informers);
    informer_factory_free(n->informers);
  }
  pthread_mutex_destroy(&n->lock);
  pthread_cond_destroy(&n->cond);
  free_config(&n->cfg);
  free(n);
}

struct nodenet *
nodenet_start(k8c_client *client, const struct nodenet_config *cfg, k8c_err *err)
{
  if (cfg->node_name == NULL || cfg->node_name[0] == '\0') {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "nodenet: a node name is required");
    return NULL;
  }
  struct nodenet *n = xcalloc(1, sizeof *n);
  n->client = client;
  n->cfg = *cfg;
  n->cfg.node_name = xstrdup(cfg->node_name);
  n->cfg.cluster_cidr = dup_or(cfg->cluster_cidr, "10.42.0.0/16");
  n->cfg.service_cidr = dup_or(cfg->service_cidr, "10.43.0.0/16");
  n->cfg.cluster_dns = dup_or(cfg->cluster_dns, "10.43.0.10");
  n->cfg.cluster_domain = dup_or(cfg->cluster_domain, "cluster.local");
  n->cfg.resolv_conf = dup_or(cfg->resolv_conf, "/etc/resolv.conf");
  n->cfg.dns_interface = dup_or(cfg->dns_interface, "k8c-dns");
  pthread_mutex_init(&n->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&n->cond, &ca);
  pthread_condattr_destroy(&ca);
  n->informers = informer_factory_new(client, 0);
  n->nodes =
      informer_factory_get(n->informers, api_resource_find("", "v1", "nodes"), "", NULL, NULL);
  if (informer_factory_start(n->informers, err) < 0) {
    nodenet_free(n);
    return NULL;
  }
  if (pthread_create(&n->thread, NULL, nodenet_main, n) != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "nodenet: cannot start its thread");
    nodenet_free(n);
    return NULL;
  }
  n->thread_started = true;
  return n;
}

bool
nodenet_wait_ready(struct nodenet *n, int timeout_ms)
{
  struct timespec ts;
  deadline_after(&ts, timeout_ms);
  pthread_mutex_lock(&n->lock);
  while (!n->ready && !n->stopping)
    if (pthread_cond_timedwait(&n->cond, &n->lock, &ts) == ETIMEDOUT)
      break;
  bool ready = n->ready;
  pthread_mutex_unlock(&n->lock);
  return ready;
}

void
nodenet_stop(struct nodenet *n)
{
  if (n == NULL)
    return;
  pthread_mutex_lock(&n->lock);
  n->stopping = true;
  pthread_cond_broadcast(&n->cond);
  pthread_mutex_unlock(&n->lock);
  if (n->thread_started)
    pthread_join(n->thread, NULL);
  /* no handler may run on a stopped component */
  informer_factory_stop(n->informers);
  netpol_stop(n->netpol);
  node_dns_stop(n->dns);
  proxy_stop(n->proxy);
  hostgw_stop(n->hostgw, true);
  nodenet_free(n);
}
