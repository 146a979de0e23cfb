/* event.c (events.k8s.io) — the events.k8s.io/v1 view of Events: same table and field
 * selectors as core/v1 (registry/core/event.h), with the newer API's required fields. */
#include "registry/core/event.h"
#include "apimachinery/validation.h"
#include "registry/strategy_util.h"

#include <string.h>

static int events_event_validate(json_t *obj, const json_t *old, k8c_err *err);

const struct resource_strategy events_event_strategy = {
    .group = "events.k8s.io",
    .plural = "events",
    .validate = events_event_validate,
    .selectable_fields = event_selectable_fields,
    .columns = event_columns,
    .table_cells = event_table_cells,
    .supported_fields = event_supported_fields,
};

static int
events_event_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  if (obj_get(obj, "eventTime") == NULL)
    cause_required(err, "eventTime", NULL);
  static const char *const types[] = {"Normal", "Warning", NULL};
  const char *type = obj_str(obj, "type");
  if (type)
    validate_one_of(err, "type", type, types);
  const char *ns = obj_str(obj, "regarding.namespace");
  if (ns && *ns && strcmp(ns, obj_str0(obj, "metadata.namespace")) != 0)
    cause_invalid_str(err, "regarding.namespace", ns, "does not match event.namespace");
  return validation_finish(err, "Event", "events.k8s.io", obj_str(obj, "metadata.name"));
}
