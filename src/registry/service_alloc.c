/* service_alloc.c — ClusterIP and NodePort allocation (see service_alloc.h). The used
 * sets are rebuilt from the watch cache at each allocation: services are few compared
 * with pods, and this keeps no second copy of state that could drift from the store. */
#include "registry/service_alloc.h"

#include "lib/mem.h"
#include "registry/store_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

struct cidr4 {
  uint32_t base; /* host order */
  uint32_t size;
};

static int
parse_cidr4(const char *text, struct cidr4 *out)
{
  char ip[64];
  const char *slash = strchr(text, '/');
  if (slash == NULL || (size_t)(slash - text) >= sizeof ip)
    return -1;
  memcpy(ip, text, (size_t)(slash - text));
  ip[slash - text] = 0;
  int bits = atoi(slash + 1);
  struct in_addr a;
  if (inet_pton(AF_INET, ip, &a) != 1 || bits < 8 || bits > 30)
    return -1;
  uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
  out->base = ntohl(a.s_addr) & mask;
  out->size = 1u << (32 - bits);
  return 0;
}

int
service_cidr_first_ip(const char *cidr, char out[16])
{
  struct cidr4 c;
  if (parse_cidr4(cidr, &c) < 0)
    return -1;
  struct in_addr a = {.s_addr = htonl(c.base + 1)};
  return inet_ntop(AF_INET, &a, out, 16) ? 0 : -1;
}

bool
service_is_service(const struct api_resource *res)
{
  return res->group[0] == 0 && strcmp(res->plural, "services") == 0;
}

/* Every clusterIP and nodePort held by a stored service other than `self_key`. */
static int
collect_used(struct registry *r, const char *self_key, json_t *ips, json_t *ports, k8c_err *err)
{
  cache_obj **items = NULL;
  size_t count = 0;
  int64_t rev = 0;
  if (watchcache_list(r->cache, "/registry/services/", NULL, NULL, &items, &count, &rev, err) < 0)
    return -1;
  for (size_t i = 0; i < count; i++) {
    if (self_key && strcmp(cache_obj_key(items[i]), self_key) == 0)
      continue;
    size_t len = 0;
    json_error_t jerr;
    cleanup_free char *scratch = NULL;
    const char *text = cache_obj_text_peek(items[i], &len, &scratch);
    json_t *svc = json_loadb(text, len, 0, &jerr);
    json_t *spec = json_object_get(svc, "spec");
    size_t j;
    json_t *v;
    json_array_foreach (json_object_get(spec, "clusterIPs"), j, v) {
      if (json_is_string(v))
        json_object_set_new(ips, json_string_value(v), json_true());
    }
    const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
    if (ip)
      json_object_set_new(ips, ip, json_true());
    json_array_foreach (json_object_get(spec, "ports"), j, v) {
      json_int_t np = json_integer_value(json_object_get(v, "nodePort"));
      if (np > 0) {
        char key[16];
        snprintf(key, sizeof key, "%lld", (long long)np);
        json_object_set_new(ports, key, json_true());
      }
    }
    json_decref(svc);
  }
  cache_obj_array_free(items, count);
  return 0;
}

static int
invalid(k8c_err *err, const char *field, const char *value, const char *why, const char *name)
{
  k8c_error(err, 422, K8C_REASON_INVALID, "Service \"%s\" is invalid: %s: Invalid value: %s: %s",
            name, field, value, why);
  k8c_err_add_cause(err, "FieldValueInvalid", field, "Invalid value: %s: %s", value, why);
  snprintf(err->subject_kind, sizeof err->subject_kind, "Service");
  snprintf(err->subject_name, sizeof err->subject_name, "%s", name);
  return -1;
}

static int
allocate_cluster_ip(struct registry *r, json_t *spec, json_t *used, const char *name, k8c_err *err)
{
  const char *type = json_string_value(json_object_get(spec, "type"));
  if (type && strcmp(type, "ExternalName") == 0)
    return 0;
  const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
  if (ip && strcmp(ip, "None") == 0) {
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
    return 0;
  }
  struct cidr4 cidr;
  if (parse_cidr4(r->cfg.service_cidr, &cidr) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "invalid service CIDR %s", r->cfg.service_cidr);
  if (ip && ip[0]) {
    struct in_addr a;
    char quoted[80];
    snprintf(quoted, sizeof quoted, "[]string{\"%s\"}", ip);
    if (inet_pton(AF_INET, ip, &a) != 1)
      return 0; /* left for validation to reject with upstream's message */
    uint32_t h = ntohl(a.s_addr);
    if (h < cidr.base || h >= cidr.base + cidr.size) {
      char why[256];
      snprintf(why, sizeof why,
               "failed to allocate IP %s: the provided IP (%s) is not in the valid range. The "
               "range of valid IPs is %s",
               ip, ip, r->cfg.service_cidr);
      return invalid(err, "spec.clusterIPs", quoted, why, name);
    }
    if (json_object_get(used, ip)) {
      char why[128];
      snprintf(why, sizeof why, "failed to allocate IP %s: provided IP is already allocated", ip);
      return invalid(err, "spec.clusterIPs", quoted, why, name);
    }
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
    return 0;
  }
  /* Upstream's two bands: the lowest addresses (size/16, clamped to 16..256) are kept for
   * Services that ask for a fixed IP, such as the cluster DNS (10.43.0.10), so dynamic
   * allocation takes the upper band first and the lower one only when it is full. Within a
   * band: sequential from a start that spreads allocations, skipping the network address,
   * .1 (the kubernetes Service) and broadcast. */
  uint32_t offset = cidr.size < 16         ? 0
                    : cidr.size / 16 < 16  ? 16
                    : cidr.size / 16 > 256 ? 256
                                           : cidr.size / 16;
  if (offset < 2)
    offset = 2;
  const uint32_t bands[2][2] = {{offset, cidr.size - 1}, {2, offset}};
  for (int b = 0; b < 2; b++) {
    if (bands[b][1] <= bands[b][0])
      continue;
    uint32_t span = bands[b][1] - bands[b][0];
    uint32_t start = (uint32_t)(json_object_size(used) * 2654435761u) % span;
    for (uint32_t k = 0; k < span; k++) {
      uint32_t h = cidr.base + bands[b][0] + (start + k) % span;
      struct in_addr a = {.s_addr = htonl(h)};
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &a, text, sizeof text);
      if (json_object_get(used, text))
        continue;
      json_object_set_new(spec, "clusterIP", json_string(text));
      json_object_set_new(spec, "clusterIPs", json_pack("[s]", text));
      return 0;
    }
  }
  return k8c_error(err, 500, K8C_REASON_INTERNAL,
                   "Internal error occurred: failed to allocate a serviceIP: range is full");
}

static int
allocate_node_ports(struct registry *r, json_t *spec, json_t *used, const char *name, k8c_err *err)
{
  const char *type = json_string_value(json_object_get(spec, "type"));
  bool wants = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
  json_t *ports = json_object_get(spec, "ports");
  size_t i;
  json_t *p;
  int span = r->cfg.node_port_max - r->cfg.node_port_min + 1;
  json_array_foreach (ports, i, p) {
    json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
    if (!wants) {
      continue;
    }
    char key[16];
    if (np > 0) {
      snprintf(key, sizeof key, "%lld", (long long)np);
      char field[64];
      snprintf(field, sizeof field, "spec.ports[%zu].nodePort", i);
      if (np < r->cfg.node_port_min || np > r->cfg.node_port_max) {
        char why[128];
        snprintf(why, sizeof why,
                 "provided port is not in the valid range. The range of valid ports is %d-%d",
                 r->cfg.node_port_min, r->cfg.node_port_max);
        return invalid(err, field, key, why, name);
      }
      if (json_object_get(used, key))
        return invalid(err, field, key, "provided port is already allocated", name);
      json_object_set_new(used, key, json_true());
      continue;
    }
    int start = (int)((json_object_size(used) * 2654435761u) % (unsigned)span);
    bool found = false;
    for (int k = 0; k < span; k++) {
      int port = r->cfg.node_port_min + (start + k) % span;
      snprintf(key, sizeof key, "%d", port);
      if (json_object_get(used, key))
        continue;
      json_object_set_new(used, key, json_true());
      json_object_set_new(p, "nodePort", json_integer(port));
      found = true;
      break;
    }
    if (!found)
      return k8c_error(err, 500, K8C_REASON_INTERNAL,
                       "Internal error occurred: failed to allocate a nodePort: range is full");
  }
  return 0;
}

int
service_allocate(struct registry *r, json_t *svc, const json_t *old, k8c_err *err)
{
  json_t *spec = json_object_get(svc, "spec");
  if (!json_is_object(spec))
    return 0;
  json_t *meta = json_object_get(svc, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  cleanup_free char *self =
      old ? xasprintf("/registry/services/%s/%s", ns ? ns : "", name ? name : "") : NULL;
  cleanup_json json_t *ips = json_object();
  cleanup_json json_t *ports = json_object();
  if (collect_used(r, self, ips, ports, err) < 0)
    return -1;
  const char *have = json_string_value(json_object_get(spec, "clusterIP"));
  const char *old_ip =
      json_string_value(json_object_get(json_object_get(old, "spec"), "clusterIP"));
  bool keep = old_ip && have && strcmp(old_ip, have) == 0;
  if (!keep && allocate_cluster_ip(r, spec, ips, name ? name : "", err) < 0)
    return -1;
  return allocate_node_ports(r, spec, ports, name ? name : "", err);
}
