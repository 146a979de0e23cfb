/* lease.c — the Lease strategy: non-negative durations and transitions, and the HOLDER
 * table. */
#include "apimachinery/validation.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static int lease_validate(json_t *obj, const json_t *old, k8c_err *err);
static void lease_table_cells(const json_t *obj, json_t *cells);

static const struct table_column lease_columns[] = {
    COLUMN_NAME,
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current lease.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy lease_strategy = {
    .group = "coordination.k8s.io",
    .plural = "leases",
    .validate = lease_validate,
    .columns = lease_columns,
    .table_cells = lease_table_cells,
};

static int
lease_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *duration = obj_get(obj, "spec.leaseDurationSeconds");
  if (json_is_integer(duration) && json_integer_value(duration) <= 0)
    cause_invalid_int(err, "spec.leaseDurationSeconds", json_integer_value(duration),
                      "must be greater than 0");
  json_t *transitions = obj_get(obj, "spec.leaseTransitions");
  if (json_is_integer(transitions))
    validate_nonnegative(err, "spec.leaseTransitions", json_integer_value(transitions));
  return validation_finish(err, "Lease", "coordination.k8s.io", obj_str(obj, "metadata.name"));
}

static void
lease_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "spec.holderIdentity"));
  cell_age(cells, obj);
}
