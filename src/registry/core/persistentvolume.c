/* persistentvolume.c — the PersistentVolume strategy: Retain and Filesystem by default,
 * phase Pending, capacity/access modes/one volume source required, and the CAPACITY/
 * ACCESS MODES/RECLAIM POLICY/STATUS/CLAIM table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/core/volume_util.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void persistentvolume_defaults(json_t *obj);
static int persistentvolume_validate(json_t *obj, const json_t *old, k8c_err *err);
static void persistentvolume_table_cells(const json_t *obj, json_t *cells);

static const struct table_column persistentvolume_columns[] = {
    COLUMN_NAME,
    {"Capacity", "string", "",
     "capacity is the description of the persistent volume's resources and capacity.", 0},
    {"Access Modes", "string", "", "accessModes contains all ways the volume can be mounted.", 0},
    {"Reclaim Policy", "string", "",
     "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from "
     "its claim.",
     0},
    {"Status", "string", "",
     "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0},
    {"Claim", "string", "",
     "claimRef is part of a bi-directional binding between PersistentVolume and "
     "PersistentVolumeClaim.",
     0},
    {"StorageClass", "string", "", "StorageClass of the pv", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv", 0},
    {"Reason", "string", "", "reason is a brief CamelCase string that describes any failure.", 0},
    COLUMN_AGE,
    {"VolumeMode", "string", "",
     "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
     "remain in raw block state.",
     1},
    COLUMN_END,
};

const struct resource_strategy persistentvolume_strategy = {
    .group = "",
    .plural = "persistentvolumes",
    .defaults = persistentvolume_defaults,
    .validate = persistentvolume_validate,
    .columns = persistentvolume_columns,
    .table_cells = persistentvolume_table_cells,
};

/* Spec keys that are not a volume source. */
static const char *const non_source_keys[] = {
    "capacity",
    "accessModes",
    "claimRef",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "mountOptions",
    "volumeMode",
    "nodeAffinity",
    "volumeAttributesClassName",
    NULL,
};

static void
persistentvolume_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
  obj_default_str(spec, "volumeMode", "Filesystem");
  obj_default_str(obj_ensure(obj, "status"), "phase", "Pending");
}

static int
persistentvolume_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, NULL);
  json_t *spec = json_object_get(obj, "spec");
  validate_access_modes(err, "spec.accessModes", json_object_get(spec, "accessModes"));
  json_t *capacity = json_object_get(spec, "capacity");
  if (json_object_size(capacity) == 0) {
    cause_required(err, "spec.capacity", NULL);
  } else if (json_object_get(capacity, "storage") == NULL) {
    cause_required(err, "spec.capacity", "must specify storage");
  } else {
    validate_quantity(err, "spec.capacity[storage]", json_object_get(capacity, "storage"));
  }
  int sources = 0;
  const char *key;
  json_t *value;
  json_object_foreach (spec, key, value) {
    bool source = true;
    for (const char *const *k = non_source_keys; *k; k++)
      if (strcmp(*k, key) == 0)
        source = false;
    sources += source;
  }
  if (sources == 0)
    cause_required(err, "spec", "must specify a volume type");
  else if (sources > 1)
    cause_forbidden(err, "spec", "may not specify more than 1 volume type");
  static const char *const policies[] = {"Delete", "Recycle", "Retain", NULL};
  validate_one_of(err, "spec.persistentVolumeReclaimPolicy",
                  obj_str0(spec, "persistentVolumeReclaimPolicy"), policies);
  static const char *const modes[] = {"Block", "Filesystem", NULL};
  validate_one_of(err, "spec.volumeMode", obj_str0(spec, "volumeMode"), modes);
  if (old != NULL) {
    json_t *mode = json_object_get(spec, "volumeMode");
    cleanup_free char *repr = go_quote(json_string_value(mode));
    validate_immutable(err, "spec.volumeMode", mode, obj_get(old, "spec.volumeMode"), repr);
  }
  return validation_finish(err, "PersistentVolume", "", obj_str(obj, "metadata.name"));
}

static void
persistentvolume_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  cell_name(cells, obj);
  cell_str(cells, obj_str0(spec, "capacity.storage"));
  cell_take(cells, access_modes_string(json_object_get(spec, "accessModes")));
  cell_str(cells, obj_str0(spec, "persistentVolumeReclaimPolicy"));
  cell_str(cells, obj_get(obj, "metadata.deletionTimestamp") ? "Terminating"
                                                             : obj_str0(obj, "status.phase"));
  json_t *claim = json_object_get(spec, "claimRef");
  if (claim)
    cell_take(cells, xasprintf("%s/%s", obj_str0(claim, "namespace"), obj_str0(claim, "name")));
  else
    cell_str(cells, "");
  const char *cls = obj_str(spec, "storageClassName");
  if (cls == NULL)
    cls = json_string_value(json_object_get(obj_get(obj, "metadata.annotations"),
                                            "volume.beta.kubernetes.io/storage-class"));
  cell_str(cells, cls ? cls : "");
  const char *vac = obj_str(spec, "volumeAttributesClassName");
  cell_str(cells, vac ? vac : "<unset>");
  cell_str(cells, obj_str0(obj, "status.reason"));
  cell_age(cells, obj);
  const char *mode = obj_str(spec, "volumeMode");
  cell_str(cells, mode ? mode : "<unset>");
}
