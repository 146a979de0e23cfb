/* priorityclass.c — the PriorityClass strategy: preemptionPolicy PreemptLowerPriority by
 * default, value range and immutability, reserved system- names, and the
 * VALUE/GLOBAL-DEFAULT/PREEMPTIONPOLICY table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void priorityclass_defaults(json_t *obj);
static int priorityclass_validate(json_t *obj, const json_t *old, k8c_err *err);
static void priorityclass_table_cells(const json_t *obj, json_t *cells);

static const struct table_column priorityclass_columns[] = {
    COLUMN_NAME,
    {"Value", "integer", "", "value represents the integer value of this priority class.", 0},
    {"Global-Default", "boolean", "",
     "globalDefault specifies whether this PriorityClass should be considered as the default "
     "priority for pods that do not have any priority class.",
     0},
    COLUMN_AGE,
    {"PreemptionPolicy", "string", "",
     "preemptionPolicy is the Policy for preempting pods with lower priority.", 0},
    COLUMN_END,
};

const struct resource_strategy priorityclass_strategy = {
    .group = "scheduling.k8s.io",
    .plural = "priorityclasses",
    .defaults = priorityclass_defaults,
    .validate = priorityclass_validate,
    .columns = priorityclass_columns,
    .table_cells = priorityclass_table_cells,
};

#define HIGHEST_USER_PRIORITY 1000000000LL

static void
priorityclass_defaults(json_t *obj)
{
  obj_default_str(obj, "preemptionPolicy", "PreemptLowerPriority");
}

static int
priorityclass_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, NULL);
  const char *name = obj_str0(obj, "metadata.name");
  json_int_t value = obj_int(obj, "value", 0);
  bool system =
      strcmp(name, "system-cluster-critical") == 0 || strcmp(name, "system-node-critical") == 0;
  if (!system && strncmp(name, "system-", 7) == 0)
    cause_forbidden(err, "metadata.name",
                    "priority class names with 'system-' prefix are reserved for system use only");
  else if (!system && value > HIGHEST_USER_PRIORITY)
    cause_forbidden(err, "value", "maximum allowed value of a user defined priority is 1000000000");
  static const char *const policies[] = {"Never", "PreemptLowerPriority", NULL};
  validate_one_of(err, "preemptionPolicy", obj_str0(obj, "preemptionPolicy"), policies);
  if (old != NULL) {
    if (obj_int(old, "value", 0) != value)
      cause_forbidden(err, "value", "may not be changed in an update.");
    json_t *pp = json_object_get(obj, "preemptionPolicy");
    cleanup_free char *repr = go_quote(json_string_value(pp));
    validate_immutable(err, "preemptionPolicy", pp, json_object_get(old, "preemptionPolicy"), repr);
  }
  return validation_finish(err, "PriorityClass", "scheduling.k8s.io", name);
}

static void
priorityclass_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_int(cells, obj_int(obj, "value", 0));
  cell_bool(cells, obj_true(obj, "globalDefault"));
  cell_age(cells, obj);
  cell_str(cells, obj_str0(obj, "preemptionPolicy"));
}
