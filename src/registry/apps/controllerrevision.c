/* controllerrevision.c — the ControllerRevision strategy: the snapshot a StatefulSet or
 * DaemonSet controller records per template. Data is mandatory and frozen once created,
 * the revision number non-negative; the table shows the controlling owner as
 * "kind.group/name", the way kubectl get prints it upstream. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <ctype.h>
#include <string.h>

static int controllerrevision_validate(json_t *obj, const json_t *old, k8c_err *err);
static void controllerrevision_table_cells(const json_t *obj, json_t *cells);

static const struct table_column controllerrevision_columns[] = {
    COLUMN_NAME,
    {"Controller", "string", "", "Controller of the object", 0},
    {"Revision", "string", "", "Revision indicates the revision of the state represented by Data.",
     0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy controllerrevision_strategy = {
    .group = "apps",
    .plural = "controllerrevisions",
    .validate = controllerrevision_validate,
    .columns = controllerrevision_columns,
    .table_cells = controllerrevision_table_cells,
};

static int
controllerrevision_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *data = json_object_get(obj, "data");
  if (data == NULL || json_is_null(data))
    cause_required(err, "data", "data is mandatory");
  json_t *revision = json_object_get(obj, "revision");
  if (json_is_integer(revision))
    validate_nonnegative(err, "revision", json_integer_value(revision));
  if (old != NULL && data != NULL) {
    cleanup_free char *repr = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    validate_immutable(err, "data", data, json_object_get(old, "data"), repr);
  }
  return validation_finish(err, "ControllerRevision", "apps", obj_str(obj, "metadata.name"));
}

/* The controlling ownerReference as "statefulset.apps/web", or "<none>". */
static char *
controller_cell(const json_t *obj)
{
  size_t i;
  json_t *ref;
  json_array_foreach (obj_get(obj, "metadata.ownerReferences"), i, ref) {
    if (!obj_true(ref, "controller"))
      continue;
    const char *api_version = obj_str0(ref, "apiVersion");
    const char *slash = strchr(api_version, '/');
    char *group = slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
    char *text = xasprintf("%s%s%s/%s", obj_str0(ref, "kind"), group[0] ? "." : "", group,
                           obj_str0(ref, "name"));
    free(group);
    for (char *p = text; *p && *p != '/'; p++)
      *p = (char)tolower((unsigned char)*p);
    return text;
  }
  return xstrdup("<none>");
}

static void
controllerrevision_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_take(cells, controller_cell(obj));
  cell_int(cells, obj_int(obj, "revision", 0));
  cell_age(cells, obj);
}
