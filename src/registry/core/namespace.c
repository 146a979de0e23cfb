/* namespace.c — the Namespace strategy: the kubernetes.io/metadata.name label and
 * phase Active, the "kubernetes" finalizer on create, spec and status kept across plain
 * updates (they change through /finalize and /status), DNS-1123 label names, and the
 * STATUS table. */
#include "apimachinery/validation.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void namespace_defaults(json_t *obj);
static int namespace_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err);
static int namespace_prepare_update(const struct strategy_env *env, json_t *obj, const json_t *old,
                                    k8c_err *err);
static int namespace_validate(json_t *obj, const json_t *old, k8c_err *err);
static void namespace_selectable_fields(const json_t *obj, json_t *fields);
static void namespace_table_cells(const json_t *obj, json_t *cells);

static const struct table_column namespace_columns[] = {
    COLUMN_NAME,
    {"Status", "string", "", "The status of the namespace", 0},
    COLUMN_AGE,
    COLUMN_END,
};

/* "name" is a legacy alias upstream still accepts. */
static const char *const namespace_fields[] = {"status.phase", "name", NULL};

const struct resource_strategy namespace_strategy = {
    .group = "",
    .plural = "namespaces",
    .defaults = namespace_defaults,
    .prepare_create = namespace_prepare_create,
    .prepare_update = namespace_prepare_update,
    .validate = namespace_validate,
    .selectable_fields = namespace_selectable_fields,
    .columns = namespace_columns,
    .table_cells = namespace_table_cells,
    .supported_fields = namespace_fields,
};

static void
namespace_defaults(json_t *obj)
{
  obj_default_str(obj_ensure(obj, "status"), "phase", "Active");
  const char *name = obj_str(obj, "metadata.name");
  if (name && *name)
    json_object_set_new(obj_ensure(obj_ensure(obj, "metadata"), "labels"),
                        "kubernetes.io/metadata.name", json_string(name));
}

static int
namespace_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err)
{
  json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
  json_t *spec = obj_ensure(obj, "spec");
  json_t *finalizers = json_object_get(spec, "finalizers");
  if (!json_is_array(finalizers)) {
    finalizers = json_array();
    json_object_set_new(spec, "finalizers", finalizers);
  }
  size_t i;
  json_t *f;
  json_array_foreach (finalizers, i, f) {
    if (json_string_value(f) && strcmp(json_string_value(f), "kubernetes") == 0)
      return 0;
  }
  json_array_append_new(finalizers, json_string("kubernetes"));
  return 0;
}

static int
namespace_prepare_update(const struct strategy_env *env, json_t *obj, const json_t *old,
                         k8c_err *err)
{
  /* spec changes only through /finalize; status is kept by the generic store on plain
   * updates and replaced on /status updates. */
  json_t *old_spec = json_object_get(old, "spec");
  json_object_set_new(obj, "spec", old_spec ? json_deep_copy(old_spec) : json_object());
  return 0;
}

static int
namespace_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, validate_dns1123_label);
  return validation_finish(err, "Namespace", "", obj_str(obj, "metadata.name"));
}

static void
namespace_selectable_fields(const json_t *obj, json_t *fields)
{
  field_set(fields, "status.phase", obj_str(obj, "status.phase"));
  field_set(fields, "name", obj_str(obj, "metadata.name"));
}

static void
namespace_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "status.phase"));
  cell_age(cells, obj);
}
