/* statefulset.c — the StatefulSet strategy: apps/v1 defaults (OrderedReady, RollingUpdate
 * partition 0, history 10, PVC retention Retain/Retain, claim templates' volumeMode), the
 * selector/template checks, upstream's "updates to statefulset spec ... are forbidden"
 * rule, and the READY table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/apps/workload.h"
#include "registry/core/podspec.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void statefulset_defaults(json_t *obj);
static int statefulset_validate(json_t *obj, const json_t *old, k8c_err *err);
static void statefulset_table_cells(const json_t *obj, json_t *cells);

static const struct table_column statefulset_columns[] = {
    COLUMN_NAME,   {"Ready", "string", "", "Number of the pod with ready state", 0},
    COLUMN_AGE,    COLUMN_CONTAINERS,
    COLUMN_IMAGES, COLUMN_END,
};

const struct resource_strategy statefulset_strategy = {
    .group = "apps",
    .plural = "statefulsets",
    .defaults = statefulset_defaults,
    .validate = statefulset_validate,
    .columns = statefulset_columns,
    .table_cells = statefulset_table_cells,
};

/* Spec fields an update may change (everything else is forbidden to change). */
static const char *const updatable_fields[] = {
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    NULL,
};

static void
statefulset_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_str(spec, "podManagementPolicy", "OrderedReady");
  json_t *update = obj_ensure(spec, "updateStrategy");
  obj_default_str(update, "type", "RollingUpdate");
  if (strcmp(obj_str0(update, "type"), "RollingUpdate") == 0) {
    json_t *rolling = obj_ensure(update, "rollingUpdate");
    obj_default_int(rolling, "partition", 0);
  }
  json_t *retention = obj_ensure(spec, "persistentVolumeClaimRetentionPolicy");
  obj_default_str(retention, "whenDeleted", "Retain");
  obj_default_str(retention, "whenScaled", "Retain");
  obj_default_int(spec, "replicas", 1);
  obj_default_int(spec, "revisionHistoryLimit", 10);
  size_t i;
  json_t *claim;
  json_array_foreach (json_object_get(spec, "volumeClaimTemplates"), i, claim) {
    if (!json_is_object(claim))
      continue;
    obj_default_str(claim, "apiVersion", "v1");
    obj_default_str(claim, "kind", "PersistentVolumeClaim");
    obj_default_str(obj_ensure(claim, "spec"), "volumeMode", "Filesystem");
    obj_default_str(obj_ensure(claim, "status"), "phase", "Pending");
  }
  pod_template_defaults(json_object_get(spec, "template"));
}

static int
validate_spec_update(k8c_err *err, const json_t *spec, const json_t *old_spec)
{
  cleanup_json json_t *now = json_deep_copy(spec);
  cleanup_json json_t *before = json_deep_copy(old_spec);
  if (!json_is_object(now) || !json_is_object(before))
    return 0;
  for (const char *const *f = updatable_fields; *f; f++) {
    json_object_del(now, *f);
    json_object_del(before, *f);
  }
  if (json_equal(now, before))
    return 0;
  cause_forbidden(err, "spec",
                  "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                  "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                  "'minReadySeconds' are forbidden");
  return 1;
}

static int
statefulset_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  static const char *const policies[] = {"OrderedReady", "Parallel", NULL};
  validate_one_of(err, "spec.podManagementPolicy", obj_str0(spec, "podManagementPolicy"), policies);
  static const char *const update_types[] = {"OnDelete", "RollingUpdate", NULL};
  validate_one_of(err, "spec.updateStrategy.type", obj_str0(spec, "updateStrategy.type"),
                  update_types);
  json_t *partition = obj_get(spec, "updateStrategy.rollingUpdate.partition");
  if (json_is_integer(partition))
    validate_nonnegative(err, "spec.updateStrategy.rollingUpdate.partition",
                         json_integer_value(partition));
  static const char *const retention[] = {"Delete", "Retain", NULL};
  validate_one_of(err, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
                  obj_str0(spec, "persistentVolumeClaimRetentionPolicy.whenDeleted"), retention);
  validate_one_of(err, "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
                  obj_str0(spec, "persistentVolumeClaimRetentionPolicy.whenScaled"), retention);
  json_t *replicas = json_object_get(spec, "replicas");
  if (json_is_integer(replicas))
    validate_nonnegative(err, "spec.replicas", json_integer_value(replicas));
  validate_nonnegative(err, "spec.minReadySeconds", obj_int(spec, "minReadySeconds", 0));
  workload_validate_selector_template(err, spec, "statefulset", true);
  if (old != NULL)
    validate_spec_update(err, spec, json_object_get(old, "spec"));
  return validation_finish(err, "StatefulSet", "apps", obj_str(obj, "metadata.name"));
}

static void
statefulset_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  cell_name(cells, obj);
  cell_take(cells, xasprintf("%lld/%lld", (long long)obj_int(obj, "status.readyReplicas", 0),
                             (long long)obj_int(spec, "replicas", 0)));
  cell_age(cells, obj);
  cells_template_containers(cells, json_object_get(spec, "template"));
}
