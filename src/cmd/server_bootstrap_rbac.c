/* server_bootstrap_rbac.c — the default RBAC policy every cluster starts with, as
 * upstream's bootstrap policy names it: cluster-admin bound to system:masters, the
 * discovery / basic-user / public-info roles bound to every authenticated user, and the
 * user-facing admin, edit and view ClusterRoles (written out rather than aggregated).
 * Objects are created only when missing, so an administrator's edits survive restarts. */
#include "cmd/server_bootstrap.h"

#include "lib/mem.h"

#include <string.h>

#define READ "\"get\",\"list\",\"watch\""
#define WRITE "\"create\",\"delete\",\"deletecollection\",\"patch\",\"update\""

/* Resources view may read, per API group (JSON fragments: "group", [resources]). */
#define VIEW_RULES                                                                                 \
  "{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\",\"endpoints\",\"persistentvolumeclaims\","  \
  "\"persistentvolumeclaims/status\",\"pods\",\"replicationcontrollers\","                         \
  "\"replicationcontrollers/scale\",\"serviceaccounts\",\"services\",\"services/status\","         \
  "\"bindings\",\"events\",\"limitranges\",\"namespaces/status\",\"pods/log\",\"pods/status\","    \
  "\"replicationcontrollers/status\",\"resourcequotas\",\"resourcequotas/status\"],"               \
  "\"verbs\":[" READ "]},"                                                                         \
  "{\"apiGroups\":[\"\"],\"resources\":[\"namespaces\"],\"verbs\":[" READ "]},"                    \
  "{\"apiGroups\":[\"discovery.k8s.io\"],\"resources\":[\"endpointslices\"],\"verbs\":[" READ      \
  "]},"                                                                                            \
  "{\"apiGroups\":[\"apps\"],\"resources\":[\"controllerrevisions\",\"daemonsets\","               \
  "\"daemonsets/status\",\"deployments\",\"deployments/scale\",\"deployments/status\","            \
  "\"replicasets\",\"replicasets/scale\",\"replicasets/status\",\"statefulsets\","                 \
  "\"statefulsets/scale\",\"statefulsets/status\"],\"verbs\":[" READ "]},"                         \
  "{\"apiGroups\":[\"autoscaling\"],\"resources\":[\"horizontalpodautoscalers\","                  \
  "\"horizontalpodautoscalers/status\"],\"verbs\":[" READ "]},"                                    \
  "{\"apiGroups\":[\"batch\"],\"resources\":[\"cronjobs\",\"cronjobs/status\",\"jobs\","           \
  "\"jobs/status\"],\"verbs\":[" READ "]},"                                                        \
  "{\"apiGroups\":[\"policy\"],\"resources\":[\"poddisruptionbudgets\","                           \
  "\"poddisruptionbudgets/status\"],\"verbs\":[" READ "]},"                                        \
  "{\"apiGroups\":[\"networking.k8s.io\"],\"resources\":[\"ingresses\",\"ingresses/status\","      \
  "\"networkpolicies\"],\"verbs\":[" READ "]}"

/* What edit adds: writes to the workload kinds, secrets, and the pod streaming
 * subresources. */
#define EDIT_RULES                                                                                 \
  "{\"apiGroups\":[\"\"],\"resources\":[\"pods/attach\",\"pods/exec\",\"pods/portforward\","       \
  "\"pods/proxy\",\"secrets\",\"services/proxy\"],\"verbs\":[" READ "]},"                          \
  "{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/attach\",\"pods/exec\",\"pods/"            \
  "portforward\","                                                                                 \
  "\"pods/proxy\",\"configmaps\",\"endpoints\",\"persistentvolumeclaims\","                        \
  "\"replicationcontrollers\",\"replicationcontrollers/scale\",\"secrets\",\"serviceaccounts\","   \
  "\"services\",\"services/proxy\"],\"verbs\":[" WRITE "]},"                                       \
  "{\"apiGroups\":[\"apps\"],\"resources\":[\"daemonsets\",\"deployments\",\"deployments/"         \
  "rollback\","                                                                                    \
  "\"deployments/scale\",\"replicasets\",\"replicasets/scale\",\"statefulsets\","                  \
  "\"statefulsets/scale\"],\"verbs\":[" WRITE "]},"                                                \
  "{\"apiGroups\":[\"autoscaling\"],\"resources\":[\"horizontalpodautoscalers\"],"                 \
  "\"verbs\":[" WRITE "]},"                                                                        \
  "{\"apiGroups\":[\"batch\"],\"resources\":[\"cronjobs\",\"jobs\"],\"verbs\":[" WRITE "]},"       \
  "{\"apiGroups\":[\"policy\"],\"resources\":[\"poddisruptionbudgets\"],\"verbs\":[" WRITE "]},"   \
  "{\"apiGroups\":[\"networking.k8s.io\"],\"resources\":[\"ingresses\",\"networkpolicies\"],"      \
  "\"verbs\":[" WRITE "]}"

/* What admin adds: managing access within a namespace. */
#define ADMIN_RULES                                                                                \
  "{\"apiGroups\":[\"rbac.authorization.k8s.io\"],\"resources\":[\"rolebindings\",\"roles\"],"     \
  "\"verbs\":[" READ "," WRITE "]},"                                                               \
  "{\"apiGroups\":[\"authorization.k8s.io\"],\"resources\":[\"localsubjectaccessreviews\"],"       \
  "\"verbs\":[\"create\"]}"

#define META(name)                                                                                 \
  "\"metadata\":{\"name\":\"" name "\",\"labels\":{\"kubernetes.io/bootstrapping\":"               \
  "\"rbac-defaults\"},\"annotations\":{\"rbac.authorization.kubernetes.io/autoupdate\":\"true\"}}"

#define CLUSTER_ROLE(name, rules)                                                                  \
  "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\"," META(               \
      name) ",\"rules\":[" rules "]}"

#define BINDING(name, subjects)                                                                    \
  "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\"," META(        \
      name) ",\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","   \
            "\"name\":\"" name "\"},\"subjects\":[" subjects "]}"

#define GROUP(name)                                                                                \
  "{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"" name "\"}"

static const char *const cluster_roles[] = {
    CLUSTER_ROLE("cluster-admin", "{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]},"
                                  "{\"nonResourceURLs\":[\"*\"],\"verbs\":[\"*\"]}"),
    CLUSTER_ROLE("system:discovery",
                 "{\"nonResourceURLs\":[\"/api\",\"/api/*\",\"/apis\",\"/apis/*\",\"/healthz\","
                 "\"/livez\",\"/openapi\",\"/openapi/*\",\"/readyz\",\"/version\",\"/version/\"],"
                 "\"verbs\":[\"get\"]}"),
    CLUSTER_ROLE("system:public-info-viewer",
                 "{\"nonResourceURLs\":[\"/healthz\",\"/livez\",\"/readyz\",\"/version\","
                 "\"/version/\"],\"verbs\":[\"get\"]}"),
    CLUSTER_ROLE(
        "system:basic-user",
        "{\"apiGroups\":[\"authorization.k8s.io\"],\"resources\":["
        "\"selfsubjectaccessreviews\",\"selfsubjectrulesreviews\"],\"verbs\":[\"create\"]},"
        "{\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"selfsubjectreviews\"],"
        "\"verbs\":[\"create\"]}"),
    CLUSTER_ROLE("view", VIEW_RULES),
    CLUSTER_ROLE("edit", VIEW_RULES "," EDIT_RULES),
    CLUSTER_ROLE("admin", VIEW_RULES "," EDIT_RULES "," ADMIN_RULES),
};

static const char *const cluster_role_bindings[] = {
    BINDING("cluster-admin", GROUP("system:masters")),
    BINDING("system:discovery", GROUP("system:authenticated")),
    BINDING("system:basic-user", GROUP("system:authenticated")),
    BINDING("system:public-info-viewer",
            GROUP("system:authenticated") "," GROUP("system:unauthenticated")),
};

static int
create_all(struct registry *reg, const char *const *docs, size_t n, const char *plural,
           k8c_err *err)
{
  for (size_t i = 0; i < n; i++) {
    json_error_t jerr;
    json_t *obj = json_loads(docs[i], 0, &jerr);
    if (obj == NULL)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "bootstrap RBAC policy %zu: %s", i,
                       jerr.text);
    int rc =
        bootstrap_create_if_missing(reg, "rbac.authorization.k8s.io", "v1", plural, "", obj, err);
    json_decref(obj);
    if (rc < 0)
      return -1;
  }
  return 0;
}

int
server_bootstrap_rbac(struct registry *reg, k8c_err *err)
{
  if (create_all(reg, cluster_roles, sizeof cluster_roles / sizeof cluster_roles[0], "clusterroles",
                 err) < 0)
    return -1;
  return create_all(reg, cluster_role_bindings,
                    sizeof cluster_role_bindings / sizeof cluster_role_bindings[0],
                    "clusterrolebindings", err);
}
