/* deployment.c — the Deployment strategy: apps/v1 defaults (1 replica, RollingUpdate
 * 25%/25%, history 10, progress deadline 600s), ValidateDeploymentSpec's common checks,
 * the immutable selector, and the READY/UP-TO-DATE/AVAILABLE table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/apps/workload.h"
#include "registry/core/podspec.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdlib.h>
#include <string.h>

static void deployment_defaults(json_t *obj);
static int deployment_validate(json_t *obj, const json_t *old, k8c_err *err);
static void deployment_table_cells(const json_t *obj, json_t *cells);

static const struct table_column deployment_columns[] = {
    COLUMN_NAME,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminated pods targeted by this deployment that have the desired "
     "template spec.",
     0},
    {"Available", "string", "",
     "Total number of available pods (ready for at least minReadySeconds) targeted by this "
     "deployment.",
     0},
    COLUMN_AGE,
    COLUMN_CONTAINERS,
    COLUMN_IMAGES,
    {"Selector", "string", "",
     "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
     "ones affected by this deployment.",
     1},
    COLUMN_END,
};

const struct resource_strategy deployment_strategy = {
    .group = "apps",
    .plural = "deployments",
    .defaults = deployment_defaults,
    .validate = deployment_validate,
    .columns = deployment_columns,
    .table_cells = deployment_table_cells,
};

static void
deployment_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_int(spec, "replicas", 1);
  json_t *strategy = obj_ensure(spec, "strategy");
  obj_default_str(strategy, "type", "RollingUpdate");
  if (strcmp(obj_str0(strategy, "type"), "RollingUpdate") == 0) {
    json_t *rolling = obj_ensure(strategy, "rollingUpdate");
    obj_default_new(rolling, "maxUnavailable", json_string("25%"));
    obj_default_new(rolling, "maxSurge", json_string("25%"));
  }
  obj_default_int(spec, "revisionHistoryLimit", 10);
  obj_default_int(spec, "progressDeadlineSeconds", 600);
  pod_template_defaults(json_object_get(spec, "template"));
}

/* An IntOrString of a rolling update: value as given; is_zero when 0 or "0%". */
static int
validate_int_or_percent(k8c_err *err, const char *field, const json_t *v, bool *is_zero)
{
  *is_zero = false;
  if (v == NULL)
    return 0;
  if (json_is_integer(v)) {
    *is_zero = json_integer_value(v) == 0;
    return validate_nonnegative(err, field, json_integer_value(v));
  }
  const char *s = json_string_value(v);
  char *end = NULL;
  long pct = s ? strtol(s, &end, 10) : -1;
  if (s == NULL || end == s || strcmp(end, "%") != 0) {
    cause_invalid_str(err, field, s ? s : "",
                      "a valid percent string must be a numeric string followed by an ending "
                      "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    return 1;
  }
  *is_zero = pct == 0;
  if (pct > 100) {
    cause_invalid_str(err, field, s, "must not be greater than 100%");
    return 1;
  }
  return 0;
}

static int
validate_strategy(k8c_err *err, const json_t *spec)
{
  json_t *strategy = json_object_get(spec, "strategy");
  const char *type = obj_str0(strategy, "type");
  static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
  int n = validate_one_of(err, "spec.strategy.type", type, types);
  json_t *rolling = json_object_get(strategy, "rollingUpdate");
  if (strcmp(type, "Recreate") == 0 && rolling && !json_is_null(rolling)) {
    cause_forbidden(err, "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'");
    return n + 1;
  }
  if (strcmp(type, "RollingUpdate") == 0) {
    bool unavailable_zero, surge_zero;
    n += validate_int_or_percent(err, "spec.strategy.rollingUpdate.maxUnavailable",
                                 json_object_get(rolling, "maxUnavailable"), &unavailable_zero);
    n += validate_int_or_percent(err, "spec.strategy.rollingUpdate.maxSurge",
                                 json_object_get(rolling, "maxSurge"), &surge_zero);
    if (unavailable_zero && surge_zero) {
      json_t *v = json_object_get(rolling, "maxUnavailable");
      cleanup_free char *repr = json_is_integer(v)
                                    ? xasprintf("%lld", (long long)json_integer_value(v))
                                    : go_quote(json_string_value(v));
      cause_invalid(err, "spec.strategy.rollingUpdate.maxUnavailable", repr,
                    "may not be 0 when `maxSurge` is 0");
      n++;
    }
  }
  return n;
}

static int
deployment_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  json_t *replicas = json_object_get(spec, "replicas");
  if (json_is_integer(replicas))
    validate_nonnegative(err, "spec.replicas", json_integer_value(replicas));
  workload_validate_selector_template(err, spec, "deployment", true);
  validate_strategy(err, spec);
  json_int_t min_ready = obj_int(spec, "minReadySeconds", 0);
  validate_nonnegative(err, "spec.minReadySeconds", min_ready);
  json_t *history = json_object_get(spec, "revisionHistoryLimit");
  if (json_is_integer(history))
    validate_nonnegative(err, "spec.revisionHistoryLimit", json_integer_value(history));
  json_t *deadline = json_object_get(spec, "progressDeadlineSeconds");
  if (json_is_integer(deadline)) {
    json_int_t d = json_integer_value(deadline);
    if (validate_nonnegative(err, "spec.progressDeadlineSeconds", d) == 0 && d <= min_ready)
      cause_invalid_int(err, "spec.progressDeadlineSeconds", d,
                        "must be greater than minReadySeconds");
  }
  if (old != NULL)
    workload_validate_selector_immutable(err, spec, json_object_get(old, "spec"));
  return validation_finish(err, "Deployment", "apps", obj_str(obj, "metadata.name"));
}

static void
deployment_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *status = json_object_get(obj, "status");
  cell_name(cells, obj);
  cell_take(cells, xasprintf("%lld/%lld", (long long)obj_int(status, "readyReplicas", 0),
                             (long long)obj_int(spec, "replicas", 0)));
  cell_int(cells, obj_int(status, "updatedReplicas", 0));
  cell_int(cells, obj_int(status, "availableReplicas", 0));
  cell_age(cells, obj);
  cells_template_containers(cells, json_object_get(spec, "template"));
  cell_label_selector(cells, json_object_get(spec, "selector"));
}
