/* daemonset.c — the DaemonSet strategy: RollingUpdate maxUnavailable 1 / maxSurge 0 and
 * history 10 by default, selector/template validation, the immutable selector, and the
 * DESIRED/CURRENT/READY/UP-TO-DATE/AVAILABLE/NODE SELECTOR table. */
#include "apimachinery/validation.h"
#include "registry/apps/workload.h"
#include "registry/core/podspec.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void daemonset_defaults(json_t *obj);
static int daemonset_validate(json_t *obj, const json_t *old, k8c_err *err);
static void daemonset_table_cells(const json_t *obj, json_t *cells);

static const struct table_column daemonset_columns[] = {
    COLUMN_NAME,
    {"Desired", "integer", "", "The total number of nodes that should be running the daemon pod.",
     0},
    {"Current", "integer", "",
     "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
     "daemon pod.",
     0},
    {"Ready", "integer", "",
     "The number of nodes that should be running the daemon pod and have one or more of the daemon "
     "pod running and ready.",
     0},
    {"Up-to-date", "integer", "", "The total number of nodes that are running updated daemon pod",
     0},
    {"Available", "integer", "",
     "The number of nodes that should be running the daemon pod and have one or more of the daemon "
     "pod running and available.",
     0},
    {"Node Selector", "string", "",
     "NodeSelector is a selector which must be true for the pod to fit on a node.", 0},
    COLUMN_AGE,
    COLUMN_CONTAINERS,
    COLUMN_IMAGES,
    {"Selector", "string", "", "A label query over pods that are managed by the daemon set.", 1},
    COLUMN_END,
};

const struct resource_strategy daemonset_strategy = {
    .group = "apps",
    .plural = "daemonsets",
    .defaults = daemonset_defaults,
    .validate = daemonset_validate,
    .columns = daemonset_columns,
    .table_cells = daemonset_table_cells,
};

static void
daemonset_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  json_t *update = obj_ensure(spec, "updateStrategy");
  obj_default_str(update, "type", "RollingUpdate");
  if (strcmp(obj_str0(update, "type"), "RollingUpdate") == 0) {
    json_t *rolling = obj_ensure(update, "rollingUpdate");
    obj_default_new(rolling, "maxUnavailable", json_integer(1));
    obj_default_new(rolling, "maxSurge", json_integer(0));
  }
  obj_default_int(spec, "revisionHistoryLimit", 10);
  pod_template_defaults(json_object_get(spec, "template"));
}

static int
daemonset_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  workload_validate_selector_template(err, spec, "daemonset", true);
  static const char *const types[] = {"OnDelete", "RollingUpdate", NULL};
  validate_one_of(err, "spec.updateStrategy.type", obj_str0(spec, "updateStrategy.type"), types);
  validate_nonnegative(err, "spec.minReadySeconds", obj_int(spec, "minReadySeconds", 0));
  json_t *history = json_object_get(spec, "revisionHistoryLimit");
  if (json_is_integer(history))
    validate_nonnegative(err, "spec.revisionHistoryLimit", json_integer_value(history));
  if (old != NULL)
    workload_validate_selector_immutable(err, spec, json_object_get(old, "spec"));
  return validation_finish(err, "DaemonSet", "apps", obj_str(obj, "metadata.name"));
}

static void
daemonset_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *status = json_object_get(obj, "status");
  cell_name(cells, obj);
  cell_int(cells, obj_int(status, "desiredNumberScheduled", 0));
  cell_int(cells, obj_int(status, "currentNumberScheduled", 0));
  cell_int(cells, obj_int(status, "numberReady", 0));
  cell_int(cells, obj_int(status, "updatedNumberScheduled", 0));
  cell_int(cells, obj_int(status, "numberAvailable", 0));
  cell_map_selector(cells, obj_get(spec, "template.spec.nodeSelector"));
  cell_age(cells, obj);
  cells_template_containers(cells, json_object_get(spec, "template"));
  cell_label_selector(cells, json_object_get(spec, "selector"));
}
