/* rbac_util.h — what the four RBAC kinds share: path-segment names, rule validation,
 * subject/roleRef defaults and checks, and the binding table cells. */
#ifndef K8C_REGISTRY_RBAC_UTIL_H
#define K8C_REGISTRY_RBAC_UTIL_H

#include "lib/err.h"
#include "registry/strategy.h"

#include <jansson.h>

extern const struct table_column rbac_role_columns[];
extern const struct table_column rbac_binding_columns[];

/* Every rule has verbs, and resources or nonResourceURLs. Returns problems found. */
int rbac_validate_rules(k8c_err *err, const json_t *rules, bool namespaced);
/* roleRef.apiGroup and subjects' apiGroup defaults (rbac.authorization.k8s.io / ""). */
void rbac_binding_defaults(json_t *obj);
/* roleRef required (kind Role/ClusterRole) and immutable; subjects well formed. */
int rbac_validate_binding(k8c_err *err, const json_t *obj, const json_t *old, bool namespaced);
/* Name, Created At cells. */
void rbac_role_cells(const json_t *obj, json_t *cells);
/* Name, Role ("ClusterRole/view"), Age, Users, Groups, ServiceAccounts cells. */
void rbac_binding_cells(const json_t *obj, json_t *cells);

#endif
