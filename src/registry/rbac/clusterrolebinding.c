/* clusterrolebinding.c — the ClusterRoleBinding strategy: roleRef/subject apiGroup defaults, a
 * required and immutable roleRef, well-formed subjects, and the ROLE/AGE
 * (+USERS/GROUPS/SERVICEACCOUNTS wide) table. */
#include "apimachinery/validation.h"
#include "registry/rbac/rbac_util.h"
#include "registry/strategy_util.h"

static int clusterrolebinding_validate(json_t *obj, const json_t *old, k8c_err *err);

const struct resource_strategy clusterrolebinding_strategy = {
    .group = "rbac.authorization.k8s.io",
    .plural = "clusterrolebindings",
    .defaults = rbac_binding_defaults,
    .validate = clusterrolebinding_validate,
    .columns = rbac_binding_columns,
    .table_cells = rbac_binding_cells,
};

static int
clusterrolebinding_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, validate_path_segment_name);
  rbac_validate_binding(err, obj, old, false);
  return validation_finish(err, "ClusterRoleBinding", "rbac.authorization.k8s.io",
                           obj_str(obj, "metadata.name"));
}
