/* server_bootstrap.c — the system namespaces, the built-in PriorityClasses and the
 * `kubernetes` Service with its Endpoints, created through the registry (so they get defaults, uid
 * and timestamps like any object), as kube-apiserver's bootstrap controller does. */
#include "cmd/server_bootstrap.h"

#include "registry/service_alloc.h"

#include <string.h>

int
bootstrap_create_if_missing(struct registry *reg, const char *group, const char *version,
                            const char *plural, const char *ns, json_t *obj, k8c_err *err)
{
  const struct api_resource *res = api_resource_find(group, version, plural);
  if (res == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s are not served", plural);
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  struct registry_target existing = {res, ns, name ? name : "", ""};
  cache_obj *co = NULL;
  if (registry_get(reg, &existing, &co, NULL) == 0) {
    cache_obj_unref(co);
    return 0;
  }
  struct registry_target t = {res, ns, "", ""};
  struct write_opts o = {.field_validation = FIELD_VALIDATION_STRICT, .field_manager = "k8c"};
  json_t *out = NULL;
  int status = 0;
  k8c_err cerr = {0};
  int rc = registry_create(reg, &t, obj, &o, &out, &status, &cerr);
  json_decref(out);
  if (rc < 0 && cerr.status != 409) {
    k8c_err_move(err, &cerr);
    return -1;
  }
  k8c_err_clear(&cerr);
  return 0;
}

static int
create_if_missing(struct registry *reg, const char *plural, const char *ns, json_t *obj,
                  k8c_err *err)
{
  return bootstrap_create_if_missing(reg, "", "v1", plural, ns, obj, err);
}

/* The two built-in PriorityClasses every cluster has (upstream's values and words). */
static int
ensure_system_priority_classes(struct registry *reg, k8c_err *err)
{
  static const struct {
    const char *name;
    long long value;
    const char *description;
  } classes[] = {
      {"system-node-critical", 2000001000,
       "Used for system critical pods that must not be moved from their current node."},
      {"system-cluster-critical", 2000000000,
       "Used for system critical pods that must run in the cluster, but can be moved to another "
       "node if necessary."},
  };
  for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
    json_t *pc = json_pack("{s:s,s:s,s:{s:s},s:I,s:s}", "apiVersion", "scheduling.k8s.io/v1",
                           "kind", "PriorityClass", "metadata", "name", classes[i].name, "value",
                           (json_int_t)classes[i].value, "description", classes[i].description);
    int rc =
        bootstrap_create_if_missing(reg, "scheduling.k8s.io", "v1", "priorityclasses", "", pc, err);
    json_decref(pc);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* The Endpoints of `kubernetes` follow the advertise address across restarts. */
static int
ensure_endpoints(struct registry *reg, const struct bootstrap_config *cfg, k8c_err *err)
{
  json_t *eps = json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:[{s:[{s:s}],s:[{s:s,s:i,s:s}]}]}",
                          "apiVersion", "v1", "kind", "Endpoints", "metadata", "name", "kubernetes",
                          "labels", "endpointslice.kubernetes.io/skip-mirror", "true", "subsets",
                          "addresses", "ip", cfg->advertise_address, "ports", "name", "https",
                          "port", cfg->port, "protocol", "TCP");
  int rc = create_if_missing(reg, "endpoints", "default", eps, err);
  if (rc == 0) {
    const struct api_resource *res = api_resource_find("", "v1", "endpoints");
    struct registry_target t = {res, "default", "kubernetes", ""};
    struct write_opts o = {.field_validation = FIELD_VALIDATION_STRICT, .field_manager = "k8c"};
    json_t *patch = json_pack("{s:O}", "subsets", json_object_get(eps, "subsets"));
    json_t *out = NULL;
    int status = 0;
    rc = registry_patch(reg, &t, "application/merge-patch+json", patch, &o, &out, &status, err);
    json_decref(patch);
    json_decref(out);
  }
  json_decref(eps);
  return rc;
}

int
server_bootstrap(struct registry *reg, const struct bootstrap_config *cfg, k8c_err *err)
{
  static const char *const namespaces[] = {"default", "kube-system", "kube-public",
                                           "kube-node-lease", NULL};
  for (int i = 0; namespaces[i]; i++) {
    json_t *obj = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                            "metadata", "name", namespaces[i]);
    int rc = create_if_missing(reg, "namespaces", "", obj, err);
    json_decref(obj);
    if (rc < 0)
      return -1;
  }
  char ip[16];
  if (service_cidr_first_ip(cfg->service_cidr, ip) < 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "invalid --service-cidr %s",
                     cfg->service_cidr);
  json_t *svc = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:{s:s,s:[{s:s,s:i,s:s,s:i}],s:s}}",
                          "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes",
                          "labels", "component", "apiserver", "provider", "kubernetes", "spec",
                          "clusterIP", ip, "ports", "name", "https", "port", 443, "protocol", "TCP",
                          "targetPort", cfg->port, "sessionAffinity", "None");
  int rc = create_if_missing(reg, "services", "default", svc, err);
  json_decref(svc);
  if (rc < 0)
    return -1;
  if (ensure_system_priority_classes(reg, err) < 0 || server_bootstrap_rbac(reg, err) < 0)
    return -1;
  return ensure_endpoints(reg, cfg, err);
}
