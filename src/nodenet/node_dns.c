/* node_dns.c — a node's cluster DNS: the service IP on a dummy interface plus the DNS
 * server bound to it. The interface is this component's alone: it is created at start
 * and deleted at stop, so two agents started one after another on one host never see
 * each other's address. */
#include "nodenet/node_dns.h"

#include "dns/dns_server.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "nodenet/nl.h"

#include <stdlib.h>

struct node_dns {
  struct dns_server *server;
  char *interface;
};

int
node_dns_iface_setup(const char *ifname, const char *ip, k8c_err *err)
{
  if (nl_dummy_ensure(ifname, err) < 0 || nl_addr4_add(ifname, ip, 32, err) < 0)
    return -1;
  return 0;
}

int
node_dns_iface_teardown(const char *ifname, k8c_err *err)
{
  return nl_link_delete(ifname, err);
}

struct node_dns *
node_dns_start(k8c_client *client, informer_factory *informers, const struct node_dns_config *cfg,
               k8c_err *err)
{
  if (node_dns_iface_setup(cfg->interface, cfg->ip, err) < 0)
    return NULL;
  char **upstreams = node_dns_upstreams(cfg->resolv_conf, cfg->ip);
  if (upstreams[0] == NULL)
    log_warn("nodenet: no usable nameserver in %s: names outside %s will not resolve",
             cfg->resolv_conf, cfg->cluster_domain);
  char *listen = xasprintf("%s:53", cfg->ip);
  const char *listen_list[] = {listen, NULL};
  struct dns_config dcfg = {.listen = listen_list,
                            .cluster_domain = cfg->cluster_domain,
                            .upstreams = (const char *const *)upstreams,
                            .udp_workers = 1};
  struct dns_server *server = dns_server_start(client, informers, &dcfg, err);
  free(listen);
  node_dns_strv_free(upstreams);
  if (server == NULL) {
    k8c_err ignored = {0};
    if (node_dns_iface_teardown(cfg->interface, &ignored) < 0)
      k8c_err_clear(&ignored);
    return NULL;
  }
  struct node_dns *d = xcalloc(1, sizeof *d);
  d->server = server;
  d->interface = xstrdup(cfg->interface);
  return d;
}

void
node_dns_stop(struct node_dns *d)
{
  if (d == NULL)
    return;
  dns_server_stop(d->server);
  k8c_err err = {0};
  if (node_dns_iface_teardown(d->interface, &err) < 0) {
    log_warn("nodenet: %s", err.message);
    k8c_err_clear(&err);
  }
  free(d->interface);
  free(d);
}
