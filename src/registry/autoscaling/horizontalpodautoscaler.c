/* horizontalpodautoscaler.c — the autoscaling/v2 HorizontalPodAutoscaler strategy:
 * minReplicas 1, the default 80% CPU metric, behavior's scale-up/scale-down defaults
 * when behavior is given, range checks, and the REFERENCE/TARGETS/MINPODS/MAXPODS table. */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void hpa_defaults(json_t *obj);
static int hpa_validate(json_t *obj, const json_t *old, k8c_err *err);
static void hpa_table_cells(const json_t *obj, json_t *cells);

static const struct table_column hpa_columns[] = {
    COLUMN_NAME,
    {"Reference", "string", "", "scaleTargetRef points to the target resource to scale.", 0},
    {"Targets", "string", "",
     "metrics contains the specifications for which to use to calculate the desired replica count.",
     0},
    {"MinPods", "string", "", "minReplicas is the lower limit for the number of replicas.", 0},
    {"MaxPods", "string", "", "maxReplicas is the upper limit for the number of replicas.", 0},
    {"Replicas", "string", "",
     "currentReplicas is current number of replicas of pods managed by this autoscaler.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy horizontalpodautoscaler_strategy = {
    .group = "autoscaling",
    .plural = "horizontalpodautoscalers",
    .defaults = hpa_defaults,
    .validate = hpa_validate,
    .columns = hpa_columns,
    .table_cells = hpa_table_cells,
};

static void
rules_defaults(json_t *behavior, const char *key, json_int_t window, json_t *policies)
{
  json_t *rules = obj_ensure(behavior, key);
  obj_default_int(rules, "stabilizationWindowSeconds", window);
  obj_default_str(rules, "selectPolicy", "Max");
  obj_default_new(rules, "policies", policies);
}

static void
hpa_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_int(spec, "minReplicas", 1);
  if (obj_len(spec, "metrics") == 0)
    json_object_set_new(spec, "metrics",
                        json_pack("[{s:s,s:{s:s,s:{s:s,s:i}}}]", "type", "Resource", "resource",
                                  "name", "cpu", "target", "type", "Utilization",
                                  "averageUtilization", 80));
  json_t *behavior = json_object_get(spec, "behavior");
  if (!json_is_object(behavior))
    return;
  rules_defaults(behavior, "scaleUp", 0,
                 json_pack("[{s:s,s:i,s:i},{s:s,s:i,s:i}]", "type", "Pods", "value", 4,
                           "periodSeconds", 15, "type", "Percent", "value", 100, "periodSeconds",
                           15));
  rules_defaults(
      behavior, "scaleDown", 300,
      json_pack("[{s:s,s:i,s:i}]", "type", "Percent", "value", 100, "periodSeconds", 15));
}

static int
hpa_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, validate_path_segment_name);
  json_t *spec = json_object_get(obj, "spec");
  json_int_t min = obj_int(spec, "minReplicas", 1);
  json_int_t max = obj_int(spec, "maxReplicas", 0);
  if (min < 1)
    cause_invalid_int(err, "spec.minReplicas", min, "must be greater than or equal to 1");
  if (max < 1)
    cause_invalid_int(err, "spec.maxReplicas", max, "must be greater than 0");
  else if (max < min)
    cause_invalid_int(err, "spec.maxReplicas", max,
                      "must be greater than or equal to `minReplicas`");
  json_t *ref = json_object_get(spec, "scaleTargetRef");
  if (*obj_str0(ref, "kind") == '\0')
    cause_required(err, "spec.scaleTargetRef.kind", NULL);
  if (*obj_str0(ref, "name") == '\0')
    cause_required(err, "spec.scaleTargetRef.name", NULL);
  return validation_finish(err, "HorizontalPodAutoscaler", "autoscaling",
                           obj_str(obj, "metadata.name"));
}

/* One metric as "cpu: 40%/80%" (current/target), <unknown> when not yet measured. */
static void
append_metric(buf *b, const json_t *spec_metric, const json_t *current)
{
  const char *type = obj_str0(spec_metric, "type");
  if (strcmp(type, "Resource") == 0 || strcmp(type, "ContainerResource") == 0) {
    const char *key = strcmp(type, "Resource") == 0 ? "resource" : "containerResource";
    json_t *res = json_object_get(spec_metric, key);
    json_t *target = json_object_get(res, "target");
    json_t *cur = obj_get(current, key);
    json_t *util = json_object_get(target, "averageUtilization");
    if (json_is_integer(util)) {
      json_t *cu = obj_get(cur, "current.averageUtilization");
      if (json_is_integer(cu))
        buf_printf(b, "%s: %lld%%/%lld%%", obj_str0(res, "name"), (long long)json_integer_value(cu),
                   (long long)json_integer_value(util));
      else
        buf_printf(b, "%s: <unknown>/%lld%%", obj_str0(res, "name"),
                   (long long)json_integer_value(util));
    } else {
      const char *cv = obj_str(cur, "current.averageValue");
      buf_printf(b, "%s: %s/%s", obj_str0(res, "name"), cv ? cv : "<unknown>",
                 obj_str0(target, "averageValue"));
    }
    return;
  }
  buf_printf(b, "<unknown>/<unknown>");
}

static void
hpa_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *ref = json_object_get(spec, "scaleTargetRef");
  cell_name(cells, obj);
  cell_take(cells, xasprintf("%s/%s", obj_str0(ref, "kind"), obj_str0(ref, "name")));
  buf targets;
  buf_init(&targets);
  json_t *metrics = json_object_get(spec, "metrics");
  json_t *current = obj_get(obj, "status.currentMetrics");
  size_t i, shown = 0;
  json_t *m;
  json_array_foreach (metrics, i, m) {
    if (shown == 2) {
      buf_printf(&targets, " + %zu more...", json_array_size(metrics) - 2);
      break;
    }
    if (targets.len)
      buf_puts(&targets, ", ");
    append_metric(&targets, m, json_array_get(current, i));
    shown++;
  }
  if (targets.len == 0)
    buf_puts(&targets, "<none>");
  cell_str(cells, buf_text(&targets));
  buf_free(&targets);
  json_t *min = json_object_get(spec, "minReplicas");
  if (json_is_integer(min))
    cell_take(cells, xasprintf("%lld", (long long)json_integer_value(min)));
  else
    cell_str(cells, "<unset>");
  cell_int(cells, obj_int(spec, "maxReplicas", 0));
  cell_int(cells, obj_int(obj, "status.currentReplicas", 0));
  cell_age(cells, obj);
}
