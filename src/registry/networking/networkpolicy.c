/* networkpolicy.c — the NetworkPolicy strategy: policyTypes derived from the rules
 * (Ingress, plus Egress when egress rules exist), ports default to TCP, selector and
 * policy-type checks, and the POD-SELECTOR table. */
#include "apimachinery/validation.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static void networkpolicy_defaults(json_t *obj);
static int networkpolicy_validate(json_t *obj, const json_t *old, k8c_err *err);
static void networkpolicy_table_cells(const json_t *obj, json_t *cells);

static const struct table_column networkpolicy_columns[] = {
    COLUMN_NAME,
    {"Pod-Selector", "string", "",
     "podSelector selects the pods to which this NetworkPolicy object applies.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy networkpolicy_strategy = {
    .group = "networking.k8s.io",
    .plural = "networkpolicies",
    .defaults = networkpolicy_defaults,
    .validate = networkpolicy_validate,
    .columns = networkpolicy_columns,
    .table_cells = networkpolicy_table_cells,
};

static void
rule_ports_defaults(json_t *rules)
{
  size_t i, j;
  json_t *rule, *port;
  json_array_foreach (rules, i, rule) {
    json_array_foreach (json_object_get(rule, "ports"), j, port) {
      obj_default_str(port, "protocol", "TCP");
    }
  }
}

static void
networkpolicy_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_ensure(spec, "podSelector");
  rule_ports_defaults(json_object_get(spec, "ingress"));
  rule_ports_defaults(json_object_get(spec, "egress"));
  if (obj_len(spec, "policyTypes") == 0) {
    json_t *types = json_pack("[s]", "Ingress");
    if (obj_len(spec, "egress") > 0)
      json_array_append_new(types, json_string("Egress"));
    json_object_set_new(spec, "policyTypes", types);
  }
}

static int
networkpolicy_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  validate_label_selector(err, "spec.podSelector", json_object_get(spec, "podSelector"));
  static const char *const types[] = {"Egress", "Ingress", NULL};
  size_t i;
  json_t *t;
  json_array_foreach (json_object_get(spec, "policyTypes"), i, t) {
    char field[64];
    snprintf(field, sizeof field, "spec.policyTypes[%zu]", i);
    validate_one_of(err, field, json_string_value(t) ?: "", types);
  }
  return validation_finish(err, "NetworkPolicy", "networking.k8s.io",
                           obj_str(obj, "metadata.name"));
}

static void
networkpolicy_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_label_selector(cells, obj_get(obj, "spec.podSelector"));
  cell_age(cells, obj);
}
