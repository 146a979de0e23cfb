/* configmap.c — the ConfigMap strategy: key validation, the `immutable` flag, and the
 * DATA count table. The key rules are shared with Secret (configmap.h). */
#include "registry/core/configmap.h"

#include "apimachinery/validation.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdio.h>
#include <string.h>

static int configmap_validate(json_t *obj, const json_t *old, k8c_err *err);
static void configmap_table_cells(const json_t *obj, json_t *cells);

static const struct table_column configmap_columns[] = {
    COLUMN_NAME,
    {"Data", "string", "", "Data contains the configuration data.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy configmap_strategy = {
    .group = "",
    .plural = "configmaps",
    .validate = configmap_validate,
    .columns = configmap_columns,
    .table_cells = configmap_table_cells,
};

#define CONFIG_KEY_MSG                                                                             \
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "             \
  "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "                      \
  "'[-._a-zA-Z0-9]+')"

static int
validate_config_key(k8c_err *err, const char *field, const char *key)
{
  size_t len = strlen(key);
  if (len > 253) {
    cause_invalid_str(err, field, key, "must be no more than 253 characters");
    return 1;
  }
  bool ok = len > 0;
  for (const char *p = key; *p && ok; p++)
    ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '-' || *p == '_' || *p == '.';
  if (!ok) {
    cause_invalid_str(err, field, key, CONFIG_KEY_MSG);
    return 1;
  }
  if (strcmp(key, ".") == 0 || strcmp(key, "..") == 0 || strncmp(key, "..", 2) == 0) {
    cause_invalid_str(err, field, key,
                      strcmp(key, ".") == 0    ? "must not be '.'"
                      : strcmp(key, "..") == 0 ? "must not be '..'"
                                               : "must not start with '..'");
    return 1;
  }
  return 0;
}

int
validate_data_keys(k8c_err *err, const json_t *data, const char *data_field, const json_t *binary,
                   const char *binary_field)
{
  int n = 0;
  const char *key;
  json_t *value;
  json_object_foreach ((json_t *)data, key, value) {
    char field[320];
    snprintf(field, sizeof field, "%s[%s]", data_field, key);
    n += validate_config_key(err, field, key);
  }
  if (binary_field == NULL)
    return n;
  json_object_foreach ((json_t *)binary, key, value) {
    char field[320];
    snprintf(field, sizeof field, "%s[%s]", binary_field, key);
    n += validate_config_key(err, field, key);
    if (json_object_get(data, key)) {
      cause_invalid_str(err, field, key, "duplicate of key present in data");
      n++;
    }
  }
  return n;
}

int
validate_immutable_data(k8c_err *err, const json_t *obj, const json_t *old, const char *binary_key)
{
  if (!obj_true(old, "immutable"))
    return 0;
  int n = 0;
  if (!obj_true(obj, "immutable")) {
    cause_forbidden(err, "immutable", "field is immutable when `immutable` is set");
    n++;
  }
  json_t *now = json_object_get(obj, "data");
  json_t *before = json_object_get(old, "data");
  bool same = (now == NULL || json_object_size(now) == 0)
                  ? (before == NULL || json_object_size(before) == 0)
                  : (before != NULL && json_equal(now, before));
  if (!same) {
    cause_forbidden(err, "data", "field is immutable when `immutable` is set");
    n++;
  }
  if (binary_key) {
    now = json_object_get(obj, binary_key);
    before = json_object_get(old, binary_key);
    same = (now == NULL || json_object_size(now) == 0)
               ? (before == NULL || json_object_size(before) == 0)
               : (before != NULL && json_equal(now, before));
    if (!same) {
      cause_forbidden(err, binary_key, "field is immutable when `immutable` is set");
      n++;
    }
  }
  return n;
}

static int
configmap_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  validate_data_keys(err, json_object_get(obj, "data"), "data", json_object_get(obj, "binaryData"),
                     "binaryData");
  if (old != NULL)
    validate_immutable_data(err, obj, old, "binaryData");
  return validation_finish(err, "ConfigMap", "", obj_str(obj, "metadata.name"));
}

static void
configmap_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_int(cells, (long long)(obj_len(obj, "data") + obj_len(obj, "binaryData")));
  cell_age(cells, obj);
}
