/* service.c — the Service strategy: core/v1 defaults (ClusterIP, None affinity, TCP,
 * targetPort = port, traffic policies; single-stack IPv4 when created or updated),
 * ValidateService's common checks, keeping allocated clusterIPs and nodePorts across
 * updates, and the
 * TYPE/CLUSTER-IP/EXTERNAL-IP/PORT(S) table. ClusterIP allocation itself needs the
 * allocator in strategy_env and is left to the store. */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void service_defaults(json_t *obj);
static int service_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err);
static int service_prepare_update(const struct strategy_env *env, json_t *obj, const json_t *old,
                                  k8c_err *err);
static int service_validate(json_t *obj, const json_t *old, k8c_err *err);
static void service_selectable_fields(const json_t *obj, json_t *fields);
static void service_table_cells(const json_t *obj, json_t *cells);

static const struct table_column service_columns[] = {
    COLUMN_NAME,
    {"Type", "string", "", "type determines how the Service is exposed.", 0},
    {"Cluster-IP", "string", "", "clusterIP is the IP address of the service.", 0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
     "traffic for this service.",
     0},
    {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
    COLUMN_AGE,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector.", 1},
    COLUMN_END,
};

static const char *const service_fields[] = {"spec.clusterIP", "spec.type", NULL};

const struct resource_strategy service_strategy = {
    .group = "",
    .plural = "services",
    .defaults = service_defaults,
    .prepare_create = service_prepare_create,
    .prepare_update = service_prepare_update,
    .validate = service_validate,
    .selectable_fields = service_selectable_fields,
    .columns = service_columns,
    .table_cells = service_table_cells,
    .supported_fields = service_fields,
};

static bool
is_type(const json_t *spec, const char *type)
{
  return strcmp(obj_str0(spec, "type"), type) == 0;
}

static void
service_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_str(spec, "sessionAffinity", "None");
  if (strcmp(obj_str0(spec, "sessionAffinity"), "None") == 0) {
    json_object_del(spec, "sessionAffinityConfig");
  } else if (strcmp(obj_str0(spec, "sessionAffinity"), "ClientIP") == 0) {
    json_t *cfg = obj_ensure(obj_ensure(spec, "sessionAffinityConfig"), "clientIP");
    obj_default_int(cfg, "timeoutSeconds", 10800);
  }
  obj_default_str(spec, "type", "ClusterIP");
  size_t i;
  json_t *port;
  json_array_foreach (json_object_get(spec, "ports"), i, port) {
    if (!json_is_object(port))
      continue;
    obj_default_str(port, "protocol", "TCP");
    json_t *target = json_object_get(port, "targetPort");
    bool zero = target == NULL || json_is_null(target) ||
                (json_is_integer(target) && json_integer_value(target) == 0) ||
                (json_is_string(target) && json_string_length(target) == 0);
    if (zero && json_object_get(port, "port"))
      json_object_set(port, "targetPort", json_object_get(port, "port"));
  }
  bool external_name = is_type(spec, "ExternalName");
  if (is_type(spec, "NodePort") || is_type(spec, "LoadBalancer"))
    obj_default_str(spec, "externalTrafficPolicy", "Cluster");
  if (!external_name)
    obj_default_str(spec, "internalTrafficPolicy", "Cluster");
  if (is_type(spec, "LoadBalancer"))
    obj_default_bool(spec, "allocateLoadBalancerNodePorts", true);
  const char *cluster_ip = obj_str(spec, "clusterIP");
  if (obj_len(spec, "clusterIPs") == 0 && cluster_ip && *cluster_ip)
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", cluster_ip));
}

/* Single-stack IPv4 unless the object says otherwise. As upstream, where the allocator
 * fills these in when a Service is created or updated (after the writer's managedFields
 * are computed: nobody owns them unless they set them), not the decode-time defaults. */
static void
default_ip_families(json_t *spec)
{
  if (is_type(spec, "ExternalName"))
    return;
  obj_default_str(spec, "ipFamilyPolicy", "SingleStack");
  if (obj_len(spec, "ipFamilies") == 0)
    json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
}

static int
service_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err)
{
  default_ip_families(obj_ensure(obj, "spec"));
  return 0;
}

/* Keeps what the server allocated when an update leaves it out (patchAllocatedValues). */
static int
service_prepare_update(const struct strategy_env *env, json_t *obj, const json_t *old, k8c_err *err)
{
  json_t *spec = obj_ensure(obj, "spec");
  json_t *old_spec = json_object_get(old, "spec");
  if (!is_type(spec, "ExternalName") && !is_type(old_spec, "ExternalName")) {
    static const char *const families[] = {"ipFamilyPolicy", "ipFamilies"};
    for (int i = 0; i < 2; i++)
      if (obj_unset(spec, families[i]) && json_object_get(old_spec, families[i]))
        json_object_set(spec, families[i], json_object_get(old_spec, families[i]));
  }
  default_ip_families(spec);
  if (!is_type(spec, "ExternalName") && !is_type(old_spec, "ExternalName")) {
    const char *ip = obj_str(spec, "clusterIP");
    if ((ip == NULL || *ip == '\0') && obj_str(old_spec, "clusterIP")) {
      json_object_set(spec, "clusterIP", json_object_get(old_spec, "clusterIP"));
      if (obj_len(spec, "clusterIPs") == 0 && json_object_get(old_spec, "clusterIPs"))
        json_object_set_new(spec, "clusterIPs",
                            json_deep_copy(json_object_get(old_spec, "clusterIPs")));
    }
  }
  if (is_type(spec, "NodePort") || is_type(spec, "LoadBalancer")) {
    size_t i, j;
    json_t *p, *o;
    json_array_foreach (json_object_get(spec, "ports"), i, p) {
      if (obj_int(p, "nodePort", 0) != 0)
        continue;
      json_array_foreach (json_object_get(old_spec, "ports"), j, o) {
        if (obj_int(o, "port", -1) == obj_int(p, "port", -2) &&
            strcmp(obj_str0(o, "protocol"), obj_str0(p, "protocol")) == 0 &&
            obj_int(o, "nodePort", 0) != 0) {
          json_object_set(p, "nodePort", json_object_get(o, "nodePort"));
          break;
        }
      }
    }
    if (obj_unset(spec, "healthCheckNodePort") &&
        json_object_get(old_spec, "healthCheckNodePort") &&
        strcmp(obj_str0(spec, "externalTrafficPolicy"), "Local") == 0)
      json_object_set(spec, "healthCheckNodePort",
                      json_object_get(old_spec, "healthCheckNodePort"));
  }
  return 0;
}

static bool
valid_ip(const char *s)
{
  unsigned char addr[16];
  return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static void
validate_ports(k8c_err *err, const json_t *spec)
{
  static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
  json_t *ports = json_object_get(spec, "ports");
  size_t n_ports = json_array_size(ports);
  json_t *names = json_object();
  size_t i;
  json_t *p;
  json_array_foreach (ports, i, p) {
    char field[96];
    const char *name = obj_str0(p, "name");
    snprintf(field, sizeof field, "spec.ports[%zu].name", i);
    if (n_ports > 1 && *name == '\0') {
      cause_required(err, field, NULL);
    } else if (*name) {
      if (validate_dns1123_label(err, field, name) == 0 && json_object_get(names, name)) {
        cleanup_free char *q = go_quote(name);
        cause_duplicate(err, field, q);
      }
      json_object_set_new(names, name, json_true());
    }
    snprintf(field, sizeof field, "spec.ports[%zu].port", i);
    validate_port_number(err, field, obj_int(p, "port", 0));
    snprintf(field, sizeof field, "spec.ports[%zu].protocol", i);
    validate_one_of(err, field, obj_str0(p, "protocol"), protocols);
    json_t *target = json_object_get(p, "targetPort");
    snprintf(field, sizeof field, "spec.ports[%zu].targetPort", i);
    if (json_is_integer(target))
      validate_port_number(err, field, json_integer_value(target));
    else if (json_is_string(target))
      validate_port_name(err, field, json_string_value(target));
    json_int_t node_port = obj_int(p, "nodePort", 0);
    if (node_port != 0) {
      snprintf(field, sizeof field, "spec.ports[%zu].nodePort", i);
      if (is_type(spec, "ClusterIP"))
        cause_forbidden(err, field, "may not be used when `type` is 'ClusterIP'");
      else
        validate_port_number(err, field, node_port);
    }
  }
  json_decref(names);
}

static int
service_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, validate_dns1035_label);
  json_t *spec = json_object_get(obj, "spec");
  static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                      NULL};
  validate_one_of(err, "spec.type", obj_str0(spec, "type"), types);
  static const char *const affinities[] = {"ClientIP", "None", NULL};
  validate_one_of(err, "spec.sessionAffinity", obj_str0(spec, "sessionAffinity"), affinities);
  bool headless = strcmp(obj_str0(spec, "clusterIP"), "None") == 0;
  bool external_name = is_type(spec, "ExternalName");
  if (obj_len(spec, "ports") == 0 && !headless && !external_name)
    cause_required(err, "spec.ports", NULL);
  validate_ports(err, spec);
  if (external_name) {
    const char *ext = obj_str(spec, "externalName");
    if (ext == NULL || *ext == '\0')
      cause_required(err, "spec.externalName", NULL);
    else
      validate_dns1123_subdomain(err, "spec.externalName", ext);
  }
  size_t i;
  json_t *ip;
  json_array_foreach (json_object_get(spec, "clusterIPs"), i, ip) {
    const char *s = json_string_value(ip);
    if (s == NULL || (i == 0 && strcmp(s, "None") == 0) || valid_ip(s))
      continue;
    char field[64];
    snprintf(field, sizeof field, "spec.clusterIPs[%zu]", i);
    cause_invalid_str(err, field, s,
                      "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }
  json_array_foreach (json_object_get(spec, "externalIPs"), i, ip) {
    const char *s = json_string_value(ip);
    if (s && valid_ip(s))
      continue;
    char field[64];
    snprintf(field, sizeof field, "spec.externalIPs[%zu]", i);
    cause_invalid_str(err, field, s ? s : "",
                      "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }
  static const char *const policies[] = {"Cluster", "Local", NULL};
  const char *etp = obj_str(spec, "externalTrafficPolicy");
  if (etp && *etp)
    validate_one_of(err, "spec.externalTrafficPolicy", etp, policies);
  const char *itp = obj_str(spec, "internalTrafficPolicy");
  if (itp && *itp)
    validate_one_of(err, "spec.internalTrafficPolicy", itp, policies);
  json_t *selector = json_object_get(spec, "selector");
  if (selector)
    validate_labels(err, "spec.selector", selector);
  if (old != NULL) {
    json_t *old_spec = json_object_get(old, "spec");
    json_t *now_ips = json_object_get(spec, "clusterIPs");
    json_t *old_ips = json_object_get(old_spec, "clusterIPs");
    if (!external_name && !is_type(old_spec, "ExternalName") && json_array_size(old_ips) > 0 &&
        json_array_size(now_ips) > 0 &&
        !json_equal(json_array_get(now_ips, 0), json_array_get(old_ips, 0))) {
      cleanup_free char *repr = go_string_slice(now_ips);
      cause_invalid(err, "spec.clusterIPs[0]", repr, "may not change once set");
    }
  }
  return validation_finish(err, "Service", "", obj_str(obj, "metadata.name"));
}

static void
service_selectable_fields(const json_t *obj, json_t *fields)
{
  field_set(fields, "spec.clusterIP", obj_str(obj, "spec.clusterIP"));
  field_set(fields, "spec.type", obj_str(obj, "spec.type"));
}

static int
compare_strings(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted unique ingress IPs/hostnames of a load balancer status, comma-joined. */
static char *
load_balancer_string(const json_t *ingress)
{
  size_t n = json_array_size(ingress), count = 0;
  const char **list = xcalloc(n + 1, sizeof *list);
  size_t i;
  json_t *e;
  json_array_foreach (ingress, i, e) {
    const char *v = obj_str(e, "ip");
    if (v == NULL || *v == '\0')
      v = obj_str(e, "hostname");
    if (v && *v)
      list[count++] = v;
  }
  qsort(list, count, sizeof *list, compare_strings);
  buf b;
  buf_init(&b);
  for (i = 0; i < count; i++) {
    if (i > 0 && strcmp(list[i], list[i - 1]) == 0)
      continue;
    buf_printf(&b, "%s%s", b.len ? "," : "", list[i]);
  }
  free(list);
  return buf_take(&b);
}

static char *
join_strings(const json_t *array)
{
  buf b;
  buf_init(&b);
  size_t i;
  json_t *v;
  json_array_foreach (array, i, v) {
    buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v) ?: "");
  }
  return buf_take(&b);
}

static char *
external_ip_string(const json_t *obj)
{
  const json_t *spec = json_object_get(obj, "spec");
  json_t *external = json_object_get(spec, "externalIPs");
  if (is_type(spec, "ClusterIP") || is_type(spec, "NodePort"))
    return json_array_size(external) ? join_strings(external) : xstrdup("<none>");
  if (is_type(spec, "ExternalName"))
    return xstrdup(obj_str0(spec, "externalName"));
  if (is_type(spec, "LoadBalancer")) {
    char *lb = load_balancer_string(obj_get(obj, "status.loadBalancer.ingress"));
    if (json_array_size(external)) {
      cleanup_free char *ext = join_strings(external);
      char *both = xasprintf("%s%s%s", lb, *lb ? "," : "", ext);
      free(lb);
      return both;
    }
    if (*lb)
      return lb;
    free(lb);
    return xstrdup("<pending>");
  }
  return xstrdup("<unknown>");
}

static char *
port_string(const json_t *ports)
{
  buf b;
  buf_init(&b);
  size_t i;
  json_t *p;
  json_array_foreach (ports, i, p) {
    if (i > 0)
      buf_puts(&b, ",");
    json_int_t node_port = obj_int(p, "nodePort", 0);
    if (node_port > 0)
      buf_printf(&b, "%lld:%lld/%s", (long long)obj_int(p, "port", 0), (long long)node_port,
                 obj_str0(p, "protocol"));
    else
      buf_printf(&b, "%lld/%s", (long long)obj_int(p, "port", 0), obj_str0(p, "protocol"));
  }
  if (b.len == 0)
    buf_puts(&b, "<none>");
  return buf_take(&b);
}

static void
service_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  cell_name(cells, obj);
  cell_str(cells, obj_str0(spec, "type"));
  const char *ip = json_string_value(json_array_get(json_object_get(spec, "clusterIPs"), 0));
  cell_str(cells, ip ? ip : "<none>");
  cell_take(cells, external_ip_string(obj));
  cell_take(cells, port_string(json_object_get(spec, "ports")));
  cell_age(cells, obj);
  cell_map_selector(cells, json_object_get(spec, "selector"));
}
