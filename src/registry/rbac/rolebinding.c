/* rolebinding.c — the RoleBinding strategy: roleRef/subject apiGroup defaults, a required and
 * immutable roleRef, well-formed subjects, and the ROLE/AGE (+USERS/GROUPS/SERVICEACCOUNTS
 * wide) table. */
#include "apimachinery/validation.h"
#include "registry/rbac/rbac_util.h"
#include "registry/strategy_util.h"

static int rolebinding_validate(json_t *obj, const json_t *old, k8c_err *err);

const struct resource_strategy rolebinding_strategy = {
    .group = "rbac.authorization.k8s.io",
    .plural = "rolebindings",
    .defaults = rbac_binding_defaults,
    .validate = rolebinding_validate,
    .columns = rbac_binding_columns,
    .table_cells = rbac_binding_cells,
};

static int
rolebinding_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, validate_path_segment_name);
  rbac_validate_binding(err, obj, old, true);
  return validation_finish(err, "RoleBinding", "rbac.authorization.k8s.io",
                           obj_str(obj, "metadata.name"));
}
