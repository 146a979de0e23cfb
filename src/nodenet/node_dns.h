/* node_dns.h — the cluster DNS of one node: the service IP (10.43.0.10) on a dummy
 * interface of the node's network namespace, the DNS server (src/dns) answering there,
 * and the choice of the resolvers it forwards outside names to. */
#ifndef K8C_NODENET_NODE_DNS_H
#define K8C_NODENET_NODE_DNS_H

#include "client/client.h"
#include "client/informer.h"
#include "lib/err.h"

struct node_dns_config {
  const char *ip;             /* the cluster DNS IP, e.g. "10.43.0.10" */
  const char *interface;      /* the dummy interface holding it, e.g. "k8c-dns" */
  const char *cluster_domain; /* "cluster.local" */
  const char *resolv_conf;    /* the node's resolvers, e.g. "/etc/resolv.conf" */
};

/* Puts ip/32 on dummy interface ifname (created, or reused if present) and sets it up. */
int node_dns_iface_setup(const char *ifname, const char *ip, k8c_err *err);
/* Deletes interface ifname (absent is fine). */
int node_dns_iface_teardown(const char *ifname, k8c_err *err);

/* The resolvers to forward to, from the nameservers of resolv_conf: the cluster DNS IP
 * itself is skipped, and a loopback resolver (a local stub such as systemd-resolved's
 * 127.0.0.53) is kept only if something listens on its port in this network namespace
 * (the DNS server runs here, so a live stub is reachable; a node namespace that merely
 * shares the host's file is not). If none is left and resolv_conf is /etc/resolv.conf,
 * systemd-resolved's /run/systemd/resolve/resolv.conf is tried, as k3s does. A
 * NULL-terminated array (possibly empty) the caller frees with node_dns_strv_free. */
char **node_dns_upstreams(const char *resolv_conf, const char *cluster_dns);
void node_dns_strv_free(char **v);

struct node_dns;

/* Sets up the interface and starts the DNS server on ip:53 with informers (a started
 * factory the caller stops before node_dns_stop). NULL with err. */
struct node_dns *node_dns_start(k8c_client *client, informer_factory *informers,
                                const struct node_dns_config *cfg, k8c_err *err);
/* Stops the server and removes the interface. NULL is fine. */
void node_dns_stop(struct node_dns *d);

#endif
