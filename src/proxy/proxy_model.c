/* proxy_model.c — Service + EndpointSlices → struct proxy_service, the desired state of
 * one Service on this node. Endpoints of every slice are merged per Service port (the
 * slice port with the same name and protocol) and sorted, so the same inputs always
 * give the same model and the renderer's output stays stable across syncs. */
#include "proxy/proxy_model.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_NAME_LABEL "service.kubernetes.io/service-proxy-name"
#define DEFAULT_AFFINITY_TIMEOUT 10800

static const char *
str_at(const json_t *obj, const char *field)
{
  return json_string_value(json_object_get(obj, field));
}

bool
proxy_is_ipv4(const char *s)
{
  struct in_addr a;
  return s != NULL && strlen(s) < PROXY_IP_LEN && inet_pton(AF_INET, s, &a) == 1;
}

/* "tcp"/"udp"/"sctp" for a Service protocol (default TCP), NULL if unknown. */
static const char *
protocol_name(const char *proto)
{
  if (proto == NULL || strcmp(proto, "TCP") == 0)
    return "tcp";
  if (strcmp(proto, "UDP") == 0)
    return "udp";
  if (strcmp(proto, "SCTP") == 0)
    return "sctp";
  return NULL;
}

static bool
bool_or(const json_t *v, bool dflt)
{
  return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static int
endpoint_cmp(const void *a, const void *b)
{
  const struct proxy_endpoint *x = a, *y = b;
  struct in_addr ax, ay;
  inet_pton(AF_INET, x->ip, &ax);
  inet_pton(AF_INET, y->ip, &ay);
  uint32_t hx = ntohl(ax.s_addr), hy = ntohl(ay.s_addr);
  if (hx != hy)
    return hx < hy ? -1 : 1;
  return x->port - y->port;
}

/* The port number a slice offers for the Service port (name, protocol), or 0. */
static int
slice_port_for(const json_t *slice, const char *port_name, const char *proto)
{
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(slice, "ports"), i, p) {
    const char *name = str_at(p, "name");
    const char *pr = protocol_name(str_at(p, "protocol"));
    if (strcmp(name ? name : "", port_name) == 0 && pr && strcmp(pr, proto) == 0)
      return (int)json_integer_value(json_object_get(p, "port"));
  }
  return 0;
}

static void
add_slice_endpoints(struct proxy_service_port *sp, const json_t *slice, int port,
                    const char *node_name, size_t *cap)
{
  size_t i;
  json_t *ep;
  json_array_foreach (json_object_get(slice, "endpoints"), i, ep) {
    const char *ip = json_string_value(json_array_get(json_object_get(ep, "addresses"), 0));
    if (!proxy_is_ipv4(ip))
      continue;
    json_t *cond = json_object_get(ep, "conditions");
    bool ready = bool_or(json_object_get(cond, "ready"), true);
    const char *ep_node = str_at(ep, "nodeName");
    if (*cap == sp->n_endpoints) {
      *cap = *cap ? *cap * 2 : 8;
      sp->endpoints = xrealloc(sp->endpoints, *cap * sizeof *sp->endpoints);
    }
    struct proxy_endpoint *e = &sp->endpoints[sp->n_endpoints++];
    memset(e, 0, sizeof *e);
    strcpy(e->ip, ip);
    e->port = port;
    e->ready = ready;
    e->serving = bool_or(json_object_get(cond, "serving"), ready);
    e->terminating = bool_or(json_object_get(cond, "terminating"), false);
    e->local = node_name == NULL || ep_node == NULL || strcmp(ep_node, node_name) == 0;
  }
}

/* Sorts and drops duplicates (the same ip:port in two slices: the first, by order, wins). */
static void
normalize_endpoints(struct proxy_service_port *sp)
{
  if (sp->n_endpoints < 2)
    return;
  qsort(sp->endpoints, sp->n_endpoints, sizeof *sp->endpoints, endpoint_cmp);
  size_t out = 1;
  for (size_t i = 1; i < sp->n_endpoints; i++)
    if (endpoint_cmp(&sp->endpoints[i], &sp->endpoints[out - 1]) != 0)
      sp->endpoints[out++] = sp->endpoints[i];
  sp->n_endpoints = out;
}

static void
add_external_ip(struct proxy_service_port *sp, const char *ip, size_t *cap)
{
  if (!proxy_is_ipv4(ip) || strcmp(ip, sp->cluster_ip) == 0)
    return;
  for (size_t i = 0; i < sp->n_external_ips; i++)
    if (strcmp(sp->external_ips[i], ip) == 0)
      return;
  if (*cap == sp->n_external_ips) {
    *cap = *cap ? *cap * 2 : 4;
    sp->external_ips = xrealloc(sp->external_ips, *cap * sizeof *sp->external_ips);
  }
  strcpy(sp->external_ips[sp->n_external_ips++], ip);
}

static bool
service_is_programmed(const json_t *svc, const json_t *spec)
{
  if (json_object_get(json_object_get(json_object_get(svc, "metadata"), "labels"),
                      PROXY_NAME_LABEL))
    return false;
  const char *type = str_at(spec, "type");
  if (type && strcmp(type, "ExternalName") == 0)
    return false;
  return proxy_is_ipv4(str_at(spec, "clusterIP")); /* "None" (headless), "", IPv6: no rules */
}

static void
build_port(struct proxy_service_port *sp, const char *key, const json_t *spec, const json_t *status,
           const json_t *sport, json_t *const *slices, size_t n_slices, const char *node_name)
{
  const char *type = str_at(spec, "type");
  bool external = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
  const char *etp = str_at(spec, "externalTrafficPolicy");
  const char *itp = str_at(spec, "internalTrafficPolicy");
  const char *port_name = str_at(sport, "name");
  port_name = port_name ? port_name : "";

  strcpy(sp->cluster_ip, str_at(spec, "clusterIP"));
  sp->port = (int)json_integer_value(json_object_get(sport, "port"));
  sp->node_port = external ? (int)json_integer_value(json_object_get(sport, "nodePort")) : 0;
  sp->name = xasprintf("%s/%s/%d", key, sp->protocol, sp->port);
  sp->internal_local = itp && strcmp(itp, "Local") == 0;

  size_t cap = 0;
  size_t i;
  json_t *ip;
  json_array_foreach (json_object_get(spec, "externalIPs"), i, ip)
    add_external_ip(sp, json_string_value(ip), &cap);
  if (type && strcmp(type, "LoadBalancer") == 0) {
    json_t *ing;
    json_array_foreach (json_object_get(json_object_get(status, "loadBalancer"), "ingress"), i, ing)
      add_external_ip(sp, str_at(ing, "ip"), &cap);
  }
  /* Local only means something for traffic that enters from outside. */
  sp->external_local = etp && strcmp(etp, "Local") == 0 && (external || sp->n_external_ips > 0);

  const char *affinity = str_at(spec, "sessionAffinity");
  if (affinity && strcmp(affinity, "ClientIP") == 0) {
    json_t *t =
        json_object_get(json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
                        "timeoutSeconds");
    long long secs = json_is_integer(t) ? json_integer_value(t) : DEFAULT_AFFINITY_TIMEOUT;
    sp->affinity_timeout = secs > 0 && secs <= 86400 ? (int)secs : DEFAULT_AFFINITY_TIMEOUT;
  }

  size_t ep_cap = 0;
  for (size_t s = 0; s < n_slices; s++) {
    const char *family = str_at(slices[s], "addressType");
    if (family && strcmp(family, "IPv4") != 0)
      continue;
    int port = slice_port_for(slices[s], port_name, sp->protocol);
    if (port > 0 && port < 65536)
      add_slice_endpoints(sp, slices[s], port, node_name, &ep_cap);
  }
  normalize_endpoints(sp);
}

void
proxy_service_build(const json_t *svc, json_t *const *slices, size_t n_slices,
                    const char *node_name, struct proxy_service *out)
{
  memset(out, 0, sizeof *out);
  const json_t *md = json_object_get(svc, "metadata");
  const char *ns = str_at(md, "namespace"), *name = str_at(md, "name");
  out->key = xasprintf("%s/%s", ns ? ns : "", name ? name : "");
  const json_t *spec = json_object_get(svc, "spec");
  if (!service_is_programmed(svc, spec))
    return;
  json_t *ports = json_object_get(spec, "ports");
  out->ports = xcalloc(json_array_size(ports) + 1, sizeof *out->ports);
  size_t i;
  json_t *sport;
  json_array_foreach (ports, i, sport) {
    const char *proto = protocol_name(str_at(sport, "protocol"));
    json_int_t port = json_integer_value(json_object_get(sport, "port"));
    if (proto == NULL || port <= 0 || port > 65535)
      continue;
    struct proxy_service_port *sp = &out->ports[out->n_ports++];
    sp->protocol = proto;
    build_port(sp, out->key, spec, json_object_get(svc, "status"), sport, slices, n_slices,
               node_name);
  }
}

void
proxy_service_clear(struct proxy_service *s)
{
  for (size_t i = 0; i < s->n_ports; i++) {
    free(s->ports[i].name);
    free(s->ports[i].external_ips);
    free(s->ports[i].endpoints);
  }
  free(s->ports);
  free(s->key);
  memset(s, 0, sizeof *s);
}

size_t
proxy_pick_endpoints(const struct proxy_service_port *p, bool local_only, size_t *idx)
{
  size_t n = 0;
  for (size_t i = 0; i < p->n_endpoints; i++)
    if (p->endpoints[i].ready && (!local_only || p->endpoints[i].local))
      idx[n++] = i;
  if (n > 0)
    return n;
  for (size_t i = 0; i < p->n_endpoints; i++) {
    const struct proxy_endpoint *e = &p->endpoints[i];
    if (e->serving && e->terminating && (!local_only || e->local))
      idx[n++] = i;
  }
  return n;
}
