/* clusterrole.c — the ClusterRole strategy: path-segment names, rules that name verbs and resources
 * (or non-resource URLs), an aggregationRule selector check, and the CREATED AT table. */
#include "apimachinery/validation.h"
#include "registry/rbac/rbac_util.h"
#include "registry/strategy_util.h"

#include <stdio.h>

static int clusterrole_validate(json_t *obj, const json_t *old, k8c_err *err);

const struct resource_strategy clusterrole_strategy = {
    .group = "rbac.authorization.k8s.io",
    .plural = "clusterroles",
    .validate = clusterrole_validate,
    .columns = rbac_role_columns,
    .table_cells = rbac_role_cells,
};

static int
clusterrole_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, validate_path_segment_name);
  rbac_validate_rules(err, json_object_get(obj, "rules"), false);
  size_t i;
  json_t *sel;
  json_array_foreach (obj_get(obj, "aggregationRule.clusterRoleSelectors"), i, sel) {
    char field[96];
    snprintf(field, sizeof field, "aggregationRule.clusterRoleSelectors[%zu]", i);
    validate_label_selector(err, field, sel);
  }
  return validation_finish(err, "ClusterRole", "rbac.authorization.k8s.io",
                           obj_str(obj, "metadata.name"));
}
