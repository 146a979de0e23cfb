/* poddisruptionbudget.c — the PodDisruptionBudget strategy: exactly one of minAvailable
 * and maxUnavailable, a valid selector, and the MIN AVAILABLE/MAX UNAVAILABLE/ALLOWED
 * DISRUPTIONS table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static int pdb_validate(json_t *obj, const json_t *old, k8c_err *err);
static void pdb_table_cells(const json_t *obj, json_t *cells);

static const struct table_column pdb_columns[] = {
    COLUMN_NAME,
    {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
    {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
    {"Allowed Disruptions", "integer", "",
     "Calculated number of pods that may be disrupted at this time.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy poddisruptionbudget_strategy = {
    .group = "policy",
    .plural = "poddisruptionbudgets",
    .validate = pdb_validate,
    .columns = pdb_columns,
    .table_cells = pdb_table_cells,
};

static int
pdb_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  if (json_object_get(spec, "minAvailable") && json_object_get(spec, "maxUnavailable"))
    cause_invalid(err, "spec", "policy.PodDisruptionBudgetSpec{...}",
                  "minAvailable and maxUnavailable cannot be both set");
  static const char *const keys[] = {"minAvailable", "maxUnavailable", NULL};
  for (const char *const *k = keys; *k; k++) {
    json_t *v = json_object_get(spec, *k);
    char field[64];
    snprintf(field, sizeof field, "spec.%s", *k);
    if (json_is_integer(v))
      validate_nonnegative(err, field, json_integer_value(v));
  }
  json_t *selector = json_object_get(spec, "selector");
  if (selector)
    validate_label_selector(err, "spec.selector", selector);
  static const char *const policies[] = {"AlwaysAllow", "IfHealthyBudget", NULL};
  const char *policy = obj_str(spec, "unhealthyPodEvictionPolicy");
  if (policy)
    validate_one_of(err, "spec.unhealthyPodEvictionPolicy", policy, policies);
  return validation_finish(err, "PodDisruptionBudget", "policy", obj_str(obj, "metadata.name"));
}

static void
cell_int_or_string(json_t *cells, const json_t *v)
{
  if (json_is_integer(v))
    cell_take(cells, xasprintf("%lld", (long long)json_integer_value(v)));
  else if (json_is_string(v))
    cell_str(cells, json_string_value(v));
  else
    cell_str(cells, "N/A");
}

static void
pdb_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  cell_name(cells, obj);
  cell_int_or_string(cells, json_object_get(spec, "minAvailable"));
  cell_int_or_string(cells, json_object_get(spec, "maxUnavailable"));
  cell_int(cells, obj_int(obj, "status.disruptionsAllowed", 0));
  cell_age(cells, obj);
}
