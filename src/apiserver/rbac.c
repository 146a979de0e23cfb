/* rbac.c — RBAC decisions from informer caches: ClusterRoleBindings first (they apply in
 * every namespace), then the RoleBindings of the request's namespace, each resolved to its
 * Role or ClusterRole by roleRef. Objects are borrowed from the caches for one decision. */
#include "apiserver/rbac.h"

#include "client/client.h"
#include "client/informer.h"
#include "lib/mem.h"

#include <string.h>

struct rbac_authorizer {
  k8c_client *client;
  informer_factory *factory;
  informer *roles, *cluster_roles, *bindings, *cluster_bindings;
};

static informer *
rbac_informer(informer_factory *f, const char *plural)
{
  const struct api_resource *res = api_resource_find("rbac.authorization.k8s.io", "v1", plural);
  return res ? informer_factory_get(f, res, "", NULL, NULL) : NULL;
}

struct rbac_authorizer *
rbac_new(struct registry *reg, k8c_err *err)
{
  struct rbac_authorizer *r = xcalloc(1, sizeof *r);
  r->client = client_inprocess_new(reg, "k8c-rbac");
  r->factory = informer_factory_new(r->client, 0);
  r->roles = rbac_informer(r->factory, "roles");
  r->cluster_roles = rbac_informer(r->factory, "clusterroles");
  r->bindings = rbac_informer(r->factory, "rolebindings");
  r->cluster_bindings = rbac_informer(r->factory, "clusterrolebindings");
  if (!r->roles || !r->cluster_roles || !r->bindings || !r->cluster_bindings) {
    rbac_free(r);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "the RBAC kinds are not served");
    return NULL;
  }
  if (informer_factory_start(r->factory, err) < 0) {
    rbac_free(r);
    return NULL;
  }
  if (!informer_factory_wait_synced(r->factory, 5000)) {
    rbac_free(r);
    k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "RBAC caches did not sync");
    return NULL;
  }
  return r;
}

void
rbac_free(struct rbac_authorizer *r)
{
  if (r == NULL)
    return;
  informer_factory_stop(r->factory);
  informer_factory_free(r->factory);
  client_free(r->client);
  free(r);
}

/* The role a binding refers to (new reference) or NULL. */
static json_t *
bound_role(struct rbac_authorizer *r, const json_t *binding)
{
  const json_t *ref = json_object_get(binding, "roleRef");
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  if (kind == NULL || name == NULL)
    return NULL;
  if (strcmp(kind, "ClusterRole") == 0)
    return informer_get(r->cluster_roles, name);
  if (strcmp(kind, "Role") != 0)
    return NULL;
  const char *ns =
      json_string_value(json_object_get(json_object_get(binding, "metadata"), "namespace"));
  cleanup_free char *key = xasprintf("%s/%s", ns ? ns : "", name);
  return informer_get(r->roles, key);
}

static bool
any_binding_allows(struct rbac_authorizer *r, informer *inf, const char *ns,
                   const struct rbac_attrs *a)
{
  json_t **objs = NULL;
  size_t n = 0;
  informer_list(inf, &objs, &n);
  bool allowed = false;
  for (size_t i = 0; i < n && !allowed; i++) {
    if (ns) {
      const char *bns =
          json_string_value(json_object_get(json_object_get(objs[i], "metadata"), "namespace"));
      if (bns == NULL || strcmp(bns, ns) != 0)
        continue;
    }
    if (!rbac_binding_applies(objs[i], a))
      continue;
    json_t *role = bound_role(r, objs[i]);
    allowed = role && rbac_role_allows(role, a);
    json_decref(role);
  }
  informer_objs_free(objs, n);
  return allowed;
}

bool
rbac_allows(struct rbac_authorizer *r, const struct rbac_attrs *a)
{
  if (any_binding_allows(r, r->cluster_bindings, NULL, a))
    return true;
  return a->is_resource && a->ns && a->ns[0] && any_binding_allows(r, r->bindings, a->ns, a);
}
