/* workload.c — selector/template validation and template cells shared by the workload
 * kinds; the messages are upstream's so a mismatched selector reads the same as it does
 * against a real API server. */
#include "registry/apps/workload.h"

#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/core/podspec.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static bool
value_in(const json_t *values, const char *v)
{
  size_t i;
  json_t *x;
  json_array_foreach (values, i, x) {
    if (v && json_string_value(x) && strcmp(json_string_value(x), v) == 0)
      return true;
  }
  return false;
}

bool
workload_selector_matches(const json_t *selector, const json_t *labels)
{
  if (!json_is_object(selector))
    return false;
  const char *key;
  json_t *want;
  json_object_foreach (json_object_get(selector, "matchLabels"), key, want) {
    json_t *have = json_object_get(labels, key);
    if (have == NULL || !json_equal(have, want))
      return false;
  }
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(selector, "matchExpressions"), i, e) {
    const char *k = obj_str0(e, "key");
    const char *op = obj_str0(e, "operator");
    const char *v = json_string_value(json_object_get(labels, k));
    json_t *values = json_object_get(e, "values");
    if (strcmp(op, "In") == 0 && !(v && value_in(values, v)))
      return false;
    if (strcmp(op, "NotIn") == 0 && v && value_in(values, v))
      return false;
    if (strcmp(op, "Exists") == 0 && v == NULL)
      return false;
    if (strcmp(op, "DoesNotExist") == 0 && v != NULL)
      return false;
  }
  return true;
}

int
workload_validate_selector_template(k8c_err *err, const json_t *spec, const char *kind_word,
                                    bool require_always)
{
  int n = 0;
  json_t *selector = json_object_get(spec, "selector");
  json_t *template = json_object_get(spec, "template");
  bool selector_ok = false;
  if (selector == NULL || json_is_null(selector)) {
    cause_required(err, "spec.selector", NULL);
    n++;
  } else {
    int bad = validate_label_selector(err, "spec.selector", selector);
    n += bad;
    if (obj_len(selector, "matchLabels") + obj_len(selector, "matchExpressions") == 0) {
      cleanup_free char *repr = go_label_selector(selector);
      cleanup_free char *msg = xasprintf("empty selector is invalid for %s", kind_word);
      cause_invalid(err, "spec.selector", repr, msg);
      n++;
    } else if (bad == 0) {
      selector_ok = true;
    }
  }
  json_t *labels = obj_get(template, "metadata.labels");
  if (selector_ok && json_is_object(template) && !workload_selector_matches(selector, labels)) {
    cleanup_free char *repr = go_string_map(labels);
    cause_invalid(err, "spec.template.metadata.labels", repr,
                  "`selector` does not match template `labels`");
    n++;
  }
  /* A StatefulSet's volumeClaimTemplates are volumes its pods may mount. */
  json_t *claims = json_object_get(spec, "volumeClaimTemplates");
  if (json_array_size(claims) && json_is_object(template)) {
    cleanup_json json_t *with_claims = json_deep_copy(template);
    json_t *pod_spec = json_object_get(with_claims, "spec");
    if (json_is_object(pod_spec)) {
      json_t *volumes = json_object_get(pod_spec, "volumes");
      if (!json_is_array(volumes)) {
        volumes = json_array();
        json_object_set_new(pod_spec, "volumes", volumes);
      }
      size_t ci;
      json_t *claim;
      json_array_foreach (claims, ci, claim) {
        const char *cname = obj_str(claim, "metadata.name");
        if (cname)
          json_array_append_new(volumes, json_pack("{s:s,s:{s:s}}", "name", cname,
                                                   "persistentVolumeClaim", "claimName", cname));
      }
    }
    n += pod_template_validate(err, "spec.template", with_claims);
  } else {
    n += pod_template_validate(err, "spec.template", template);
  }
  if (require_always && json_is_object(template)) {
    static const char *const always[] = {"Always", NULL};
    const char *restart = obj_str(template, "spec.restartPolicy");
    if (restart)
      n += validate_one_of(err, "spec.template.spec.restartPolicy", restart, always);
    if (obj_get(template, "spec.activeDeadlineSeconds")) {
      cause_forbidden(err, "spec.template.spec.activeDeadlineSeconds",
                      "activeDeadlineSeconds in ReplicaSet is not Supported");
      n++;
    }
  }
  return n;
}

int
workload_validate_selector_immutable(k8c_err *err, const json_t *spec, const json_t *old_spec)
{
  json_t *now = json_object_get(spec, "selector");
  cleanup_free char *repr = go_label_selector(now);
  return validate_immutable(err, "spec.selector", now, json_object_get(old_spec, "selector"), repr);
}

void
cells_template_containers(json_t *cells, const json_t *template)
{
  json_t *spec = json_object_get(template, "spec");
  cell_take(cells, podspec_container_names(spec));
  cell_take(cells, podspec_images(spec));
}
