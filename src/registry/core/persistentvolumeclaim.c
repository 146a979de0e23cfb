/* persistentvolumeclaim.c — the PersistentVolumeClaim strategy: volumeMode Filesystem and
 * phase Pending by default, access modes and storage request required, a spec that is
 * immutable after creation except resources.requests, and the STATUS/VOLUME/CAPACITY
 * table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/core/volume_util.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static void persistentvolumeclaim_defaults(json_t *obj);
static int persistentvolumeclaim_validate(json_t *obj, const json_t *old, k8c_err *err);
static void persistentvolumeclaim_table_cells(const json_t *obj, json_t *cells);

static const struct table_column persistentvolumeclaim_columns[] = {
    COLUMN_NAME,
    {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0},
    {"Volume", "string", "",
     "volumeName is the binding reference to the PersistentVolume backing this claim.", 0},
    {"Capacity", "string", "", "capacity represents the actual resources of the underlying volume.",
     0},
    {"Access Modes", "string", "",
     "accessModes contains the actual access modes the volume backing the PVC has.", 0},
    {"StorageClass", "string", "", "StorageClass of the pvc", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
    COLUMN_AGE,
    {"VolumeMode", "string", "", "volumeMode defines what type of volume is required by the claim.",
     1},
    COLUMN_END,
};

const struct resource_strategy persistentvolumeclaim_strategy = {
    .group = "",
    .plural = "persistentvolumeclaims",
    .defaults = persistentvolumeclaim_defaults,
    .validate = persistentvolumeclaim_validate,
    .columns = persistentvolumeclaim_columns,
    .table_cells = persistentvolumeclaim_table_cells,
};

static void
persistentvolumeclaim_defaults(json_t *obj)
{
  obj_default_str(obj_ensure(obj, "spec"), "volumeMode", "Filesystem");
  obj_default_str(obj_ensure(obj, "status"), "phase", "Pending");
}

static int
validate_spec_update(k8c_err *err, const json_t *spec, const json_t *old_spec)
{
  cleanup_json json_t *now = json_deep_copy(spec);
  cleanup_json json_t *before = json_deep_copy(old_spec);
  if (!json_is_object(now) || !json_is_object(before))
    return 0;
  /* resources.requests may change; so may volumeAttributesClassName, and a volumeName
   * being set for the first time (binding). */
  json_object_del(json_object_get(now, "resources"), "requests");
  json_object_del(json_object_get(before, "resources"), "requests");
  json_object_del(now, "volumeAttributesClassName");
  json_object_del(before, "volumeAttributesClassName");
  if (*obj_str0(before, "volumeName") == '\0') {
    json_object_del(now, "volumeName");
    json_object_del(before, "volumeName");
  }
  if (json_equal(now, before))
    return 0;
  cause_forbidden(err, "spec",
                  "spec is immutable after creation except resources.requests and "
                  "volumeAttributesClassName for bound claims");
  return 1;
}

static int
persistentvolumeclaim_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  validate_access_modes(err, "spec.accessModes", json_object_get(spec, "accessModes"));
  json_t *storage = obj_get(spec, "resources.requests.storage");
  if (storage == NULL)
    cause_required(err, "spec.resources[storage]", NULL);
  else
    validate_quantity(err, "spec.resources[storage]", storage);
  static const char *const modes[] = {"Block", "Filesystem", NULL};
  validate_one_of(err, "spec.volumeMode", obj_str0(spec, "volumeMode"), modes);
  if (old != NULL)
    validate_spec_update(err, spec, json_object_get(old, "spec"));
  return validation_finish(err, "PersistentVolumeClaim", "", obj_str(obj, "metadata.name"));
}

static void
persistentvolumeclaim_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *status = json_object_get(obj, "status");
  cell_name(cells, obj);
  cell_str(cells,
           obj_get(obj, "metadata.deletionTimestamp") ? "Terminating" : obj_str0(status, "phase"));
  const char *volume = obj_str0(spec, "volumeName");
  cell_str(cells, volume);
  if (*volume) {
    cell_str(cells, obj_str0(status, "capacity.storage"));
    cell_take(cells, access_modes_string(json_object_get(status, "accessModes")));
  } else {
    cell_str(cells, "");
    cell_str(cells, "");
  }
  const char *cls = obj_str(spec, "storageClassName");
  if (cls == NULL)
    cls = json_string_value(json_object_get(obj_get(obj, "metadata.annotations"),
                                            "volume.beta.kubernetes.io/storage-class"));
  cell_str(cells, cls ? cls : "");
  const char *vac = obj_str(spec, "volumeAttributesClassName");
  cell_str(cells, vac ? vac : "<unset>");
  cell_age(cells, obj);
  const char *mode = obj_str(spec, "volumeMode");
  cell_str(cells, mode ? mode : "<unset>");
}
