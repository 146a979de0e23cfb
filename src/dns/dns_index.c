/* dns_index.c — building the immutable record snapshot (see dns_index.h). Names are
 * derived exactly as the DNS specification and CoreDNS's kubernetes plugin derive them:
 * Services by ClusterIP (or ready endpoints when headless), endpoints by hostname or
 * dashed IP, SRV per named port, PTR for every ClusterIP and ready endpoint address. */
#include "dns/dns_index.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct dns_index {
  char *zone;
  hashmap *names; /* lowercase name -> struct dns_node* */
  uint32_t serial;
};

/* ---------- nodes ---------- */

static void
node_free(void *p)
{
  struct dns_node *n = p;
  for (size_t i = 0; i < n->n_srv; i++)
    free(n->srv[i].target);
  for (size_t i = 0; i < n->n_ptr; i++)
    free(n->ptr[i]);
  free(n->a);
  free(n->aaaa);
  free(n->srv);
  free(n->ptr);
  free(n->cname);
  free(n);
}

static bool
in_zone(const char *name, const char *zone)
{
  size_t n = strlen(name), z = strlen(zone);
  return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

/* The node for name, created with its empty ancestors (up to the zone) if missing. */
static struct dns_node *
node_get(struct dns_index *idx, const char *name)
{
  struct dns_node *n = hashmap_get(idx->names, name);
  if (n != NULL)
    return n;
  n = xcalloc(1, sizeof *n);
  hashmap_put(idx->names, name, n);
  if (in_zone(name, idx->zone)) {
    const char *dot = strchr(name, '.');
    if (dot != NULL && in_zone(dot + 1, idx->zone))
      node_get(idx, dot + 1);
  }
  return n;
}

static void
add_addr(struct dns_node *n, int family, const void *addr)
{
  if (family == AF_INET) {
    for (size_t i = 0; i < n->n_a; i++)
      if (memcmp(n->a[i], addr, 4) == 0)
        return;
    n->a = xrealloc(n->a, (n->n_a + 1) * sizeof *n->a);
    memcpy(n->a[n->n_a++], addr, 4);
  } else {
    for (size_t i = 0; i < n->n_aaaa; i++)
      if (memcmp(n->aaaa[i], addr, 16) == 0)
        return;
    n->aaaa = xrealloc(n->aaaa, (n->n_aaaa + 1) * sizeof *n->aaaa);
    memcpy(n->aaaa[n->n_aaaa++], addr, 16);
  }
}

static void
add_srv(struct dns_node *n, uint16_t port, const char *target)
{
  for (size_t i = 0; i < n->n_srv; i++)
    if (n->srv[i].port == port && strcmp(n->srv[i].target, target) == 0)
      return;
  n->srv = xrealloc(n->srv, (n->n_srv + 1) * sizeof *n->srv);
  n->srv[n->n_srv++] =
      (struct dns_srv){.priority = 0, .weight = 100, .port = port, .target = xstrdup(target)};
}

static void
add_ptr(struct dns_node *n, const char *target)
{
  for (size_t i = 0; i < n->n_ptr; i++)
    if (strcmp(n->ptr[i], target) == 0)
      return;
  n->ptr = xrealloc(n->ptr, (n->n_ptr + 1) * sizeof *n->ptr);
  n->ptr[n->n_ptr++] = xstrdup(target);
}

/* ---------- names ---------- */

static void
reverse_name(int family, const uint8_t *a, char *out, size_t cap)
{
  if (family == AF_INET) {
    snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    return;
  }
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int i = 15; i >= 0; i--) {
    out[o++] = hex[a[i] & 0xf];
    out[o++] = '.';
    out[o++] = hex[a[i] >> 4];
    out[o++] = '.';
  }
  snprintf(out + o, cap - o, "ip6.arpa");
}

/* "10-42-0-5" or, for IPv6, the address with ':' replaced by '-' (CoreDNS's form). */
static void
dashed_ip(const char *ip, char *out, size_t cap)
{
  snprintf(out, cap, "%s", ip);
  for (char *p = out; *p; p++)
    if (*p == '.' || *p == ':')
      *p = '-';
}

static void
lower_copy(char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
}

static const char *
str_at(const json_t *obj, const char *a, const char *b)
{
  const json_t *v = json_object_get(obj, a);
  if (b != NULL)
    v = json_object_get(v, b);
  return json_string_value(v);
}

static bool
valid_label_text(const char *s)
{
  size_t n = strlen(s);
  return n > 0 && n <= 63 && strchr(s, '.') == NULL;
}

static bool
valid_name_text(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
    return false;
  size_t l = 0;
  for (const char *p = s; *p; p++) {
    l = *p == '.' ? 0 : l + 1;
    if (l > 63)
      return false;
  }
  return true;
}

/* ---------- services ---------- */

static void
add_ip_record(struct dns_index *idx, const char *name, const char *ip, const char *ptr_target)
{
  uint8_t addr[16];
  char rev[80];
  int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(family, ip, addr) != 1)
    return;
  add_addr(node_get(idx, name), family, addr);
  if (ptr_target != NULL) {
    reverse_name(family, addr, rev, sizeof rev);
    add_ptr(node_get(idx, rev), ptr_target);
  }
}

static void
add_service_ports(struct dns_index *idx, const json_t *svc, const char *svc_name,
                  const char *target)
{
  size_t i;
  json_t *port;
  char name[512];
  json_array_foreach (json_object_get(json_object_get(svc, "spec"), "ports"), i, port) {
    const char *pname = json_string_value(json_object_get(port, "name"));
    const char *proto = json_string_value(json_object_get(port, "protocol"));
    json_int_t num = json_integer_value(json_object_get(port, "port"));
    if (pname == NULL || !valid_label_text(pname) || num <= 0 || num > 65535)
      continue;
    snprintf(name, sizeof name, "_%s._%s.%s", pname, proto ? proto : "TCP", svc_name);
    lower_copy(name);
    if (valid_name_text(name))
      add_srv(node_get(idx, name), (uint16_t)num, target);
  }
}

static void
add_service(struct dns_index *idx, const json_t *svc, const char *svc_name)
{
  const json_t *spec = json_object_get(svc, "spec");
  const char *type = json_string_value(json_object_get(spec, "type"));
  if (type != NULL && strcmp(type, "ExternalName") == 0) {
    const char *ext = json_string_value(json_object_get(spec, "externalName"));
    if (ext == NULL)
      return;
    char target[256];
    snprintf(target, sizeof target, "%s", ext);
    size_t n = strlen(target);
    if (n > 0 && target[n - 1] == '.')
      target[n - 1] = '\0';
    lower_copy(target);
    if (!valid_name_text(target))
      return;
    struct dns_node *node = node_get(idx, svc_name);
    free(node->cname);
    node->cname = xstrdup(target);
    add_service_ports(idx, svc, svc_name, target);
    return;
  }
  const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
  if (cip == NULL || cip[0] == '\0' || strcmp(cip, "None") == 0)
    return; /* headless (or not allocated yet): named by its endpoints */
  const json_t *ips = json_object_get(spec, "clusterIPs");
  if (json_array_size(ips) > 0) {
    size_t i;
    json_t *ip;
    json_array_foreach (ips, i, ip) {
      if (json_is_string(ip))
        add_ip_record(idx, svc_name, json_string_value(ip), svc_name);
    }
  } else {
    add_ip_record(idx, svc_name, cip, svc_name);
  }
  add_service_ports(idx, svc, svc_name, svc_name);
}

/* ---------- endpoint slices ---------- */

static bool
endpoint_ready(const json_t *ep, bool publish_not_ready)
{
  if (publish_not_ready)
    return true;
  const json_t *ready = json_object_get(json_object_get(ep, "conditions"), "ready");
  return ready == NULL || json_is_null(ready) || json_is_true(ready); /* nil = ready */
}

static void
add_slice(struct dns_index *idx, const json_t *slice, const json_t *svc, const char *svc_name)
{
  const json_t *spec = json_object_get(svc, "spec");
  const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
  const char *type = json_string_value(json_object_get(spec, "type"));
  if (type != NULL && strcmp(type, "ExternalName") == 0)
    return;
  bool headless = cip != NULL && strcmp(cip, "None") == 0;
  bool publish = json_is_true(json_object_get(spec, "publishNotReadyAddresses"));
  const json_t *ports = json_object_get(slice, "ports");
  size_t i, j, k;
  json_t *ep, *addr, *port;
  json_array_foreach (json_object_get(slice, "endpoints"), i, ep) {
    if (!endpoint_ready(ep, publish))
      continue;
    const char *host = json_string_value(json_object_get(ep, "hostname"));
    json_array_foreach (json_object_get(ep, "addresses"), j, addr) {
      const char *ip = json_string_value(addr);
      if (ip == NULL)
        continue;
      char label[64], ep_name[512];
      if (host != NULL && valid_label_text(host))
        snprintf(label, sizeof label, "%s", host);
      else
        dashed_ip(ip, label, sizeof label);
      snprintf(ep_name, sizeof ep_name, "%s.%s", label, svc_name);
      lower_copy(ep_name);
      if (!valid_name_text(ep_name))
        continue;
      add_ip_record(idx, ep_name, ip, ep_name);
      if (!headless)
        continue;
      add_ip_record(idx, svc_name, ip, NULL);
      json_array_foreach (ports, k, port) {
        const char *pname = json_string_value(json_object_get(port, "name"));
        const char *proto = json_string_value(json_object_get(port, "protocol"));
        json_int_t num = json_integer_value(json_object_get(port, "port"));
        if (pname == NULL || !valid_label_text(pname) || num <= 0 || num > 65535)
          continue;
        char srv_name[600];
        snprintf(srv_name, sizeof srv_name, "_%s._%s.%s", pname, proto ? proto : "TCP", svc_name);
        lower_copy(srv_name);
        if (valid_name_text(srv_name))
          add_srv(node_get(idx, srv_name), (uint16_t)num, ep_name);
      }
    }
  }
}

/* Splits SRV weight evenly among the records of a name, as CoreDNS does. */
static void
balance_srv_weights(struct dns_index *idx)
{
  hashmap_iter it = {0};
  const char *key;
  void *value;
  while (hashmap_next(idx->names, &it, &key, &value)) {
    struct dns_node *n = value;
    if (n->n_srv == 0)
      continue;
    unsigned w = 100 / (unsigned)n->n_srv;
    for (size_t i = 0; i < n->n_srv; i++)
      n->srv[i].weight = (uint16_t)(w == 0 ? 1 : w);
  }
}

/* ---------- public ---------- */

struct dns_index *
dns_index_build(const char *zone, json_t *const *services, size_t nservices, json_t *const *slices,
                size_t nslices)
{
  struct dns_index *idx = xcalloc(1, sizeof *idx);
  idx->zone = xstrdup(zone);
  lower_copy(idx->zone);
  idx->names = hashmap_new();
  idx->serial = (uint32_t)time(NULL);
  hashmap *by_key = hashmap_new(); /* "ns/name" -> service (borrowed) */
  char svc_name[512], key[512];
  for (size_t i = 0; i < nservices; i++) {
    const char *ns = str_at(services[i], "metadata", "namespace");
    const char *name = str_at(services[i], "metadata", "name");
    if (ns == NULL || name == NULL || !valid_label_text(ns) || !valid_label_text(name))
      continue;
    snprintf(key, sizeof key, "%s/%s", ns, name);
    hashmap_put(by_key, key, services[i]);
    snprintf(svc_name, sizeof svc_name, "%s.%s.svc.%s", name, ns, idx->zone);
    lower_copy(svc_name);
    if (valid_name_text(svc_name))
      add_service(idx, services[i], svc_name);
  }
  for (size_t i = 0; i < nslices; i++) {
    const char *ns = str_at(slices[i], "metadata", "namespace");
    const json_t *labels = json_object_get(json_object_get(slices[i], "metadata"), "labels");
    const char *svc = json_string_value(json_object_get(labels, "kubernetes.io/service-name"));
    if (ns == NULL || svc == NULL)
      continue;
    snprintf(key, sizeof key, "%s/%s", ns, svc);
    const json_t *service = hashmap_get(by_key, key);
    if (service == NULL)
      continue;
    snprintf(svc_name, sizeof svc_name, "%s.%s.svc.%s", svc, ns, idx->zone);
    lower_copy(svc_name);
    if (valid_name_text(svc_name))
      add_slice(idx, slices[i], service, svc_name);
  }
  hashmap_free(by_key, NULL);
  balance_srv_weights(idx);
  return idx;
}

void
dns_index_free(struct dns_index *idx)
{
  if (idx == NULL)
    return;
  hashmap_free(idx->names, node_free);
  free(idx->zone);
  free(idx);
}

const struct dns_node *
dns_index_lookup(const struct dns_index *idx, const char *name)
{
  return hashmap_get(idx->names, name);
}

const char *
dns_index_zone(const struct dns_index *idx)
{
  return idx->zone;
}

uint32_t
dns_index_serial(const struct dns_index *idx)
{
  return idx->serial;
}

size_t
dns_index_size(const struct dns_index *idx)
{
  return hashmap_count(idx->names);
}
