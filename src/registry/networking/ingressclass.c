/* ingressclass.c — the IngressClass strategy: controller required and immutable, and the
 * CONTROLLER/PARAMETERS table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static int ingressclass_validate(json_t *obj, const json_t *old, k8c_err *err);
static void ingressclass_table_cells(const json_t *obj, json_t *cells);

static const struct table_column ingressclass_columns[] = {
    COLUMN_NAME,
    {"Controller", "string", "", "Controller that is responsible for handling this class", 0},
    {"Parameters", "string", "", "A reference to a resource with additional parameters", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy ingressclass_strategy = {
    .group = "networking.k8s.io",
    .plural = "ingressclasses",
    .validate = ingressclass_validate,
    .columns = ingressclass_columns,
    .table_cells = ingressclass_table_cells,
};

static int
ingressclass_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, NULL);
  const char *controller = obj_str(obj, "spec.controller");
  if (controller == NULL || *controller == '\0')
    cause_required(err, "spec.controller", NULL);
  json_t *params = obj_get(obj, "spec.parameters");
  const char *scope = obj_str(params, "scope");
  if (params && scope) {
    static const char *const scopes[] = {"Cluster", "Namespace", NULL};
    validate_one_of(err, "spec.parameters.scope", scope, scopes);
  }
  if (old != NULL) {
    cleanup_free char *repr = go_quote(controller);
    validate_immutable(err, "spec.controller", obj_get(obj, "spec.controller"),
                       obj_get(old, "spec.controller"), repr);
  }
  return validation_finish(err, "IngressClass", "networking.k8s.io", obj_str(obj, "metadata.name"));
}

static void
ingressclass_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "spec.controller"));
  json_t *params = obj_get(obj, "spec.parameters");
  if (params == NULL) {
    cell_str(cells, "<none>");
  } else {
    const char *group = obj_str(params, "apiGroup");
    cell_take(cells, xasprintf("%s%s%s/%s", obj_str0(params, "kind"), group ? "." : "",
                               group ? group : "", obj_str0(params, "name")));
  }
  cell_age(cells, obj);
}
