/* limitrange.c — the LimitRange strategy: Container items' default limits from max and
 * default requests from the default limit or min (SetDefaults_LimitRangeItem), type and
 * quantity checks, and the CREATED AT table. */
#include "apimachinery/validation.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void limitrange_defaults(json_t *obj);
static int limitrange_validate(json_t *obj, const json_t *old, k8c_err *err);
static void limitrange_table_cells(const json_t *obj, json_t *cells);

static const struct table_column limitrange_columns[] = {
    COLUMN_NAME,
    {"Created At", "date", "", "Time the object was created (metadata.creationTimestamp).", 0},
    COLUMN_END,
};

const struct resource_strategy limitrange_strategy = {
    .group = "",
    .plural = "limitranges",
    .defaults = limitrange_defaults,
    .validate = limitrange_validate,
    .columns = limitrange_columns,
    .table_cells = limitrange_table_cells,
};

/* Copies each key of from missing in obj[key] (created when needed). */
static void
fill_missing(json_t *item, const char *key, const json_t *from)
{
  json_t *to = obj_ensure(item, key);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)from, k, v) {
    if (json_object_get(to, k) == NULL)
      json_object_set(to, k, v);
  }
}

static void
limitrange_defaults(json_t *obj)
{
  size_t i;
  json_t *item;
  json_array_foreach (obj_get(obj, "spec.limits"), i, item) {
    if (strcmp(obj_str0(item, "type"), "Container") != 0)
      continue;
    fill_missing(item, "default", json_object_get(item, "max"));
    fill_missing(item, "defaultRequest", json_object_get(item, "default"));
    fill_missing(item, "defaultRequest", json_object_get(item, "min"));
  }
}

static int
limitrange_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  static const char *const types[] = {"Container", "PersistentVolumeClaim", "Pod", NULL};
  static const char *const lists[] = {
      "max", "min", "default", "defaultRequest", "maxLimitRequestRatio", NULL};
  size_t i;
  json_t *item;
  json_array_foreach (obj_get(obj, "spec.limits"), i, item) {
    char field[320];
    snprintf(field, sizeof field, "spec.limits[%zu].type", i);
    validate_one_of(err, field, obj_str0(item, "type"), types);
    for (const char *const *l = lists; *l; l++) {
      const char *key;
      json_t *value;
      json_object_foreach (json_object_get(item, *l), key, value) {
        snprintf(field, sizeof field, "spec.limits[%zu].%s[%s]", i, *l, key);
        validate_quantity(err, field, value);
      }
    }
  }
  return validation_finish(err, "LimitRange", "", obj_str(obj, "metadata.name"));
}

static void
limitrange_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "metadata.creationTimestamp"));
}
