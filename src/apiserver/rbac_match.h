/* rbac_match.h — RBAC's two questions, as pure functions over the API objects: does a
 * (Cluster)RoleBinding name this user (directly, through a group, or as a
 * ServiceAccount), and does a PolicyRule allow this request (verbs, apiGroups,
 * resources with subresources, resourceNames, nonResourceURLs with a trailing `*`). */
#ifndef K8C_APISERVER_RBAC_MATCH_H
#define K8C_APISERVER_RBAC_MATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The request as RBAC sees it (upstream's authorizer.Attributes). */
struct rbac_attrs {
  const char *user;
  const char *const *groups; /* the user's groups; system:authenticated is implied */
  size_t ngroups;
  bool is_resource;
  const char *verb; /* get, list, watch, create, update, patch, delete, deletecollection */
  const char *api_group;
  const char *resource;
  const char *subresource; /* "" when none */
  const char *name;        /* "" when none */
  const char *ns;          /* "" for cluster-scoped requests */
  const char *path;        /* non-resource requests */
};

/* Whether one of binding's subjects is the requesting user (a ServiceAccount subject
 * without a namespace takes the binding's own). */
bool rbac_binding_applies(const json_t *binding, const struct rbac_attrs *a);

/* Whether rule (a PolicyRule) allows the request. */
bool rbac_rule_allows(const json_t *rule, const struct rbac_attrs *a);

/* Whether any rule of role (a Role or ClusterRole) allows the request. */
bool rbac_role_allows(const json_t *role, const struct rbac_attrs *a);

#endif
