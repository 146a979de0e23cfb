/* event.c — the core/v1 Event strategy: involvedObject.namespace must match, upstream's
 * event field selectors (involvedObject.*, reason, source, type, reportingComponent) and
 * the LAST SEEN/TYPE/REASON/OBJECT/MESSAGE table. The table and selectors read both the
 * core and the events.k8s.io field names so events/event.c can reuse them. */
#include "registry/core/event.h"

#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <ctype.h>
#include <string.h>

static int event_validate(json_t *obj, const json_t *old, k8c_err *err);

const struct table_column event_columns[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was recorded.", 0},
    {"Type", "string", "", "Type of this event (Normal, Warning).", 0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the reason for the "
     "transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "", "The field of the object this event is about.", 1},
    {"Source", "string", "", "The component reporting this event.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "", "The time at which the event was first recorded.", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", "Name of the object, unique within its namespace.", 1},
    COLUMN_END,
};

const char *const event_supported_fields[] = {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    NULL,
};

const struct resource_strategy event_strategy = {
    .group = "",
    .plural = "events",
    .validate = event_validate,
    .selectable_fields = event_selectable_fields,
    .columns = event_columns,
    .table_cells = event_table_cells,
    .supported_fields = event_supported_fields,
};

/* The first of two alternative field names present in obj. */
static json_t *
either(const json_t *obj, const char *a, const char *b)
{
  json_t *v = obj_get(obj, a);
  return v ? v : obj_get(obj, b);
}

static const char *
either_str(const json_t *obj, const char *a, const char *b)
{
  const char *s = json_string_value(either(obj, a, b));
  return s ? s : "";
}

static int
event_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  const char *ns = obj_str(obj, "involvedObject.namespace");
  const char *meta_ns = obj_str0(obj, "metadata.namespace");
  if (ns && *ns && strcmp(ns, meta_ns) != 0)
    cause_invalid_str(err, "involvedObject.namespace", ns, "does not match event.namespace");
  return validation_finish(err, "Event", "", obj_str(obj, "metadata.name"));
}

void
event_selectable_fields(const json_t *obj, json_t *fields)
{
  json_t *involved = either(obj, "involvedObject", "regarding");
  static const char *const keys[] = {"kind",       "namespace",       "name",      "uid",
                                     "apiVersion", "resourceVersion", "fieldPath", NULL};
  for (const char *const *k = keys; *k; k++) {
    char field[64];
    snprintf(field, sizeof field, "involvedObject.%s", *k);
    field_set(fields, field, obj_str(involved, *k));
  }
  field_set(fields, "reason", obj_str(obj, "reason"));
  field_set(fields, "reportingComponent",
            either_str(obj, "reportingComponent", "reportingController"));
  field_set(fields, "source", either_str(obj, "source.component", "deprecatedSource.component"));
  field_set(fields, "type", obj_str(obj, "type"));
}

void
event_table_cells(const json_t *obj, json_t *cells)
{
  char first[DURATION_LEN], last[DURATION_LEN];
  const char *first_ts = either_str(obj, "firstTimestamp", "deprecatedFirstTimestamp");
  since_timestamp(*first_ts ? first_ts : obj_str(obj, "eventTime"), first);
  const char *last_ts = either_str(obj, "lastTimestamp", "deprecatedLastTimestamp");
  if (*last_ts)
    since_timestamp(last_ts, last);
  else
    memcpy(last, first, sizeof last);
  long long count = (long long)json_integer_value(either(obj, "count", "deprecatedCount"));
  json_t *series = json_object_get(obj, "series");
  if (series) {
    since_timestamp(obj_str(series, "lastObservedTime"), last);
    count = obj_int(series, "count", 0);
  } else if (count == 0) {
    count = 1;
  }
  json_t *involved = either(obj, "involvedObject", "regarding");
  cleanup_free char *kind = xstrdup(obj_str0(involved, "kind"));
  for (char *p = kind; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  const char *name = obj_str0(involved, "name");
  cell_str(cells, last);
  cell_str(cells, obj_str0(obj, "type"));
  cell_str(cells, obj_str0(obj, "reason"));
  if (*name)
    cell_take(cells, xasprintf("%s/%s", kind, name));
  else
    cell_str(cells, kind);
  cell_str(cells, obj_str0(involved, "fieldPath"));
  const char *component = either_str(obj, "source.component", "deprecatedSource.component");
  const char *host = either_str(obj, "source.host", "deprecatedSource.host");
  if (*component == '\0')
    component = either_str(obj, "reportingComponent", "reportingController");
  if (*host == '\0')
    host = obj_str0(obj, "reportingInstance");
  if (*host)
    cell_take(cells, xasprintf("%s, %s", component, host));
  else
    cell_str(cells, component);
  const char *message = either_str(obj, "message", "note");
  while (isspace((unsigned char)*message))
    message++;
  size_t len = strlen(message);
  while (len > 0 && isspace((unsigned char)message[len - 1]))
    len--;
  cell_take(cells, xstrndup(message, len));
  cell_str(cells, first);
  cell_int(cells, count);
  cell_name(cells, obj);
}
