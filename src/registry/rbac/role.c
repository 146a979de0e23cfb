/* role.c — the Role strategy: path-segment names, rules that name verbs and resources, and the
 * CREATED AT table. */
#include "apimachinery/validation.h"
#include "registry/rbac/rbac_util.h"
#include "registry/strategy_util.h"

static int role_validate(json_t *obj, const json_t *old, k8c_err *err);

const struct resource_strategy role_strategy = {
    .group = "rbac.authorization.k8s.io",
    .plural = "roles",
    .validate = role_validate,
    .columns = rbac_role_columns,
    .table_cells = rbac_role_cells,
};

static int
role_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, validate_path_segment_name);
  rbac_validate_rules(err, json_object_get(obj, "rules"), true);

  return validation_finish(err, "Role", "rbac.authorization.k8s.io", obj_str(obj, "metadata.name"));
}
