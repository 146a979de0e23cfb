/* replicaset.c — the ReplicaSet strategy: 1 replica by default, selector/template
 * validation shared with Deployment, status.replicas as a field selector, and the
 * DESIRED/CURRENT/READY table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/apps/workload.h"
#include "registry/core/podspec.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static void replicaset_defaults(json_t *obj);
static int replicaset_validate(json_t *obj, const json_t *old, k8c_err *err);
static void replicaset_selectable_fields(const json_t *obj, json_t *fields);
static void replicaset_table_cells(const json_t *obj, json_t *cells);

static const struct table_column replicaset_columns[] = {
    COLUMN_NAME,
    {"Desired", "integer", "", "Replicas is the number of desired replicas.", 0},
    {"Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0},
    {"Ready", "integer", "", "The number of ready replicas for this replica set.", 0},
    COLUMN_AGE,
    COLUMN_CONTAINERS,
    COLUMN_IMAGES,
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica count.", 1},
    COLUMN_END,
};

static const char *const replicaset_fields[] = {"status.replicas", NULL};

const struct resource_strategy replicaset_strategy = {
    .group = "apps",
    .plural = "replicasets",
    .defaults = replicaset_defaults,
    .validate = replicaset_validate,
    .selectable_fields = replicaset_selectable_fields,
    .columns = replicaset_columns,
    .table_cells = replicaset_table_cells,
    .supported_fields = replicaset_fields,
};

static void
replicaset_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_int(spec, "replicas", 1);
  pod_template_defaults(json_object_get(spec, "template"));
}

static int
replicaset_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  json_t *replicas = json_object_get(spec, "replicas");
  if (json_is_integer(replicas))
    validate_nonnegative(err, "spec.replicas", json_integer_value(replicas));
  validate_nonnegative(err, "spec.minReadySeconds", obj_int(spec, "minReadySeconds", 0));
  workload_validate_selector_template(err, spec, "deployment", true);
  if (old != NULL)
    workload_validate_selector_immutable(err, spec, json_object_get(old, "spec"));
  return validation_finish(err, "ReplicaSet", "apps", obj_str(obj, "metadata.name"));
}

static void
replicaset_selectable_fields(const json_t *obj, json_t *fields)
{
  field_set_int(fields, "status.replicas", obj_int(obj, "status.replicas", 0));
}

static void
replicaset_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *status = json_object_get(obj, "status");
  cell_name(cells, obj);
  cell_int(cells, obj_int(spec, "replicas", 0));
  cell_int(cells, obj_int(status, "replicas", 0));
  cell_int(cells, obj_int(status, "readyReplicas", 0));
  cell_age(cells, obj);
  cells_template_containers(cells, json_object_get(spec, "template"));
  cell_label_selector(cells, json_object_get(spec, "selector"));
}
