/* ingress.c — the Ingress strategy: paths need pathType and a backend, hosts are DNS
 * names, and the CLASS/HOSTS/ADDRESS/PORTS table. */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdlib.h>
#include <string.h>

static int ingress_validate(json_t *obj, const json_t *old, k8c_err *err);
static void ingress_table_cells(const json_t *obj, json_t *cells);

static const struct table_column ingress_columns[] = {
    COLUMN_NAME,
    {"Class", "string", "",
     "The name of the IngressClass resource that should be used for additional configuration", 0},
    {"Hosts", "string", "",
     "Hosts that incoming requests are matched against before the ingress rule", 0},
    {"Address", "string", "", "Address is a list containing ingress points for the load-balancer",
     0},
    {"Ports", "string", "", "Ports of TLS configurations that open", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy ingress_strategy = {
    .group = "networking.k8s.io",
    .plural = "ingresses",
    .validate = ingress_validate,
    .columns = ingress_columns,
    .table_cells = ingress_table_cells,
};

static int
ingress_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  if (obj_len(spec, "rules") == 0 && json_object_get(spec, "defaultBackend") == NULL)
    cause_invalid(err, "spec", "networking.IngressSpec{...}",
                  "either `defaultBackend` or `rules` must be specified");
  static const char *const path_types[] = {"Exact", "ImplementationSpecific", "Prefix", NULL};
  size_t i, j;
  json_t *rule, *path;
  json_array_foreach (json_object_get(spec, "rules"), i, rule) {
    char field[128];
    const char *host = obj_str(rule, "host");
    if (host && *host) {
      snprintf(field, sizeof field, "spec.rules[%zu].host", i);
      validate_dns1123_subdomain(err, field, host[0] == '*' && host[1] == '.' ? host + 2 : host);
    }
    json_array_foreach (obj_get(rule, "http.paths"), j, path) {
      snprintf(field, sizeof field, "spec.rules[%zu].http.paths[%zu].pathType", i, j);
      const char *type = obj_str(path, "pathType");
      if (type == NULL || *type == '\0')
        cause_required(err, field, "pathType must be specified");
      else
        validate_one_of(err, field, type, path_types);
      const char *p = obj_str0(path, "path");
      if (type && strcmp(type, "ImplementationSpecific") != 0 && p[0] != '/') {
        snprintf(field, sizeof field, "spec.rules[%zu].http.paths[%zu].path", i, j);
        cause_invalid_str(err, field, p, "must be an absolute path");
      }
      if (json_object_get(path, "backend") == NULL) {
        snprintf(field, sizeof field, "spec.rules[%zu].http.paths[%zu].backend", i, j);
        cause_required(err, field, NULL);
      }
    }
  }
  return validation_finish(err, "Ingress", "networking.k8s.io", obj_str(obj, "metadata.name"));
}

static int
compare_strings(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
ingress_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  cell_name(cells, obj);
  const char *cls = obj_str(spec, "ingressClassName");
  cell_str(cells, cls ? cls : "<none>");
  buf hosts;
  buf_init(&hosts);
  json_t *rules = json_object_get(spec, "rules");
  size_t i, listed = 0;
  bool more = false;
  json_t *rule;
  json_array_foreach (rules, i, rule) {
    if (listed == 3)
      more = true;
    const char *host = obj_str0(rule, "host");
    if (!more && *host) {
      buf_printf(&hosts, "%s%s", hosts.len ? "," : "", host);
      listed++;
    }
  }
  if (listed == 0)
    buf_puts(&hosts, "*");
  else if (more)
    buf_printf(&hosts, " + %zu more...", json_array_size(rules) - 3);
  cell_str(cells, buf_text(&hosts));
  buf_free(&hosts);
  json_t *ingress = obj_get(obj, "status.loadBalancer.ingress");
  size_t n = json_array_size(ingress), count = 0;
  const char **addrs = xcalloc(n + 1, sizeof *addrs);
  json_t *e;
  json_array_foreach (ingress, i, e) {
    const char *v = obj_str(e, "ip");
    if (v == NULL || *v == '\0')
      v = obj_str(e, "hostname");
    if (v && *v)
      addrs[count++] = v;
  }
  qsort(addrs, count, sizeof *addrs, compare_strings);
  buf address;
  buf_init(&address);
  for (i = 0; i < count; i++)
    if (i == 0 || strcmp(addrs[i], addrs[i - 1]) != 0)
      buf_printf(&address, "%s%s", address.len ? "," : "", addrs[i]);
  free(addrs);
  cell_str(cells, buf_text(&address));
  buf_free(&address);
  cell_str(cells, obj_len(spec, "tls") ? "80, 443" : "80");
  cell_age(cells, obj);
}
