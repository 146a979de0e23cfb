/* storageclass.c — the StorageClass strategy: reclaimPolicy Delete and volumeBindingMode
 * Immediate by default, provisioner required and immutable, and the PROVISIONER table
 * (a default class prints as "name (default)"). */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void storageclass_defaults(json_t *obj);
static int storageclass_validate(json_t *obj, const json_t *old, k8c_err *err);
static void storageclass_table_cells(const json_t *obj, json_t *cells);

static const struct table_column storageclass_columns[] = {
    COLUMN_NAME,
    {"Provisioner", "string", "", "provisioner indicates the type of the provisioner.", 0},
    {"ReclaimPolicy", "string", "",
     "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of "
     "this storage class.",
     0},
    {"VolumeBindingMode", "string", "",
     "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.", 0},
    {"AllowVolumeExpansion", "string", "",
     "allowVolumeExpansion shows whether the storage class allow volume expand.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy storageclass_strategy = {
    .group = "storage.k8s.io",
    .plural = "storageclasses",
    .defaults = storageclass_defaults,
    .validate = storageclass_validate,
    .columns = storageclass_columns,
    .table_cells = storageclass_table_cells,
};

static void
storageclass_defaults(json_t *obj)
{
  obj_default_str(obj, "reclaimPolicy", "Delete");
  obj_default_str(obj, "volumeBindingMode", "Immediate");
}

static int
storageclass_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, NULL);
  const char *provisioner = obj_str(obj, "provisioner");
  if (provisioner == NULL || *provisioner == '\0')
    cause_required(err, "provisioner", NULL);
  else
    validate_qualified_name(err, "provisioner", provisioner);
  static const char *const policies[] = {"Delete", "Retain", NULL};
  validate_one_of(err, "reclaimPolicy", obj_str0(obj, "reclaimPolicy"), policies);
  static const char *const modes[] = {"Immediate", "WaitForFirstConsumer", NULL};
  validate_one_of(err, "volumeBindingMode", obj_str0(obj, "volumeBindingMode"), modes);
  if (old != NULL) {
    static const char *const immutable[] = {"provisioner", "parameters", "reclaimPolicy",
                                            "volumeBindingMode", NULL};
    for (const char *const *f = immutable; *f; f++) {
      json_t *now = json_object_get(obj, *f);
      cleanup_free char *repr =
          json_is_string(now) ? go_quote(json_string_value(now)) : go_string_map(now);
      validate_immutable(err, *f, now, json_object_get(old, *f), repr);
    }
  }
  return validation_finish(err, "StorageClass", "storage.k8s.io", obj_str(obj, "metadata.name"));
}

static bool
is_default_class(const json_t *obj)
{
  json_t *annotations = obj_get(obj, "metadata.annotations");
  const char *v = json_string_value(
      json_object_get(annotations, "storageclass.kubernetes.io/is-default-class"));
  if (v == NULL)
    v = json_string_value(
        json_object_get(annotations, "storageclass.beta.kubernetes.io/is-default-class"));
  return v && strcmp(v, "true") == 0;
}

static void
storageclass_table_cells(const json_t *obj, json_t *cells)
{
  const char *name = obj_str0(obj, "metadata.name");
  if (is_default_class(obj))
    cell_take(cells, xasprintf("%s (default)", name));
  else
    cell_str(cells, name);
  cell_str(cells, obj_str0(obj, "provisioner"));
  const char *reclaim = obj_str(obj, "reclaimPolicy");
  cell_str(cells, reclaim ? reclaim : "Delete");
  const char *binding = obj_str(obj, "volumeBindingMode");
  cell_str(cells, binding ? binding : "Immediate");
  cell_str(cells, obj_true(obj, "allowVolumeExpansion") ? "true" : "false");
  cell_age(cells, obj);
}
