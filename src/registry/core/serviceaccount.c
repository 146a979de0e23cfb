/* serviceaccount.c — the ServiceAccount strategy: DNS-1123 subdomain names and the
 * SECRETS count table (no defaults upstream). */
#include "apimachinery/validation.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static int serviceaccount_validate(json_t *obj, const json_t *old, k8c_err *err);
static void serviceaccount_table_cells(const json_t *obj, json_t *cells);

static const struct table_column serviceaccount_columns[] = {
    COLUMN_NAME,
    {"Secrets", "string", "",
     "Secrets is a list of the secrets in the same namespace that pods running using this "
     "ServiceAccount are allowed to use.",
     0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy serviceaccount_strategy = {
    .group = "",
    .plural = "serviceaccounts",
    .validate = serviceaccount_validate,
    .columns = serviceaccount_columns,
    .table_cells = serviceaccount_table_cells,
};

static int
serviceaccount_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  size_t i;
  json_t *s;
  json_array_foreach (json_object_get(obj, "imagePullSecrets"), i, s) {
    const char *name = obj_str(s, "name");
    if (name == NULL || *name == '\0') {
      char field[64];
      snprintf(field, sizeof field, "imagePullSecrets[%zu].name", i);
      cause_required(err, field, NULL);
    }
  }
  return validation_finish(err, "ServiceAccount", "", obj_str(obj, "metadata.name"));
}

static void
serviceaccount_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_int(cells, (long long)obj_len(obj, "secrets"));
  cell_age(cells, obj);
}
