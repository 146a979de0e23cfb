/* cronjob.c — the CronJob strategy: batch/v1 defaults (Allow, not suspended, history
 * 3/1), name length and schedule checks, the job template's pod rules, and the
 * SCHEDULE/TIMEZONE/SUSPEND/ACTIVE/LAST SCHEDULE table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/apps/workload.h"
#include "registry/core/podspec.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void cronjob_defaults(json_t *obj);
static int cronjob_validate(json_t *obj, const json_t *old, k8c_err *err);
static void cronjob_table_cells(const json_t *obj, json_t *cells);

static const struct table_column cronjob_columns[] = {
    COLUMN_NAME,
    {"Schedule", "string", "", "The schedule in Cron format.", 0},
    {"Timezone", "string", "", "The time zone name for the given schedule.", 0},
    {"Suspend", "boolean", "", "Whether subsequent executions are suspended.", 0},
    {"Active", "integer", "", "A list of pointers to currently running jobs.", 0},
    {"Last Schedule", "string", "",
     "Information when was the last time the job was successfully scheduled.", 0},
    COLUMN_AGE,
    COLUMN_CONTAINERS,
    COLUMN_IMAGES,
    {"Selector", "string", "", "A label query over pods that should match the pod count.", 1},
    COLUMN_END,
};

const struct resource_strategy cronjob_strategy = {
    .group = "batch",
    .plural = "cronjobs",
    .defaults = cronjob_defaults,
    .validate = cronjob_validate,
    .columns = cronjob_columns,
    .table_cells = cronjob_table_cells,
};

#define CRONJOB_NAME_MAX 52

static void
cronjob_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  obj_default_str(spec, "concurrencyPolicy", "Allow");
  obj_default_bool(spec, "suspend", false);
  obj_default_int(spec, "successfulJobsHistoryLimit", 3);
  obj_default_int(spec, "failedJobsHistoryLimit", 1);
  pod_template_defaults(obj_get(spec, "jobTemplate.spec.template"));
}

/* A standard cron line has five fields, or one "@every"/"@daily"-style descriptor. */
static bool
schedule_well_formed(const char *s)
{
  while (*s == ' ')
    s++;
  if (strncmp(s, "TZ=", 3) == 0 || strncmp(s, "CRON_TZ=", 8) == 0)
    return false;
  if (*s == '@')
    return strlen(s) > 1;
  int fields = 0;
  bool in_field = false;
  for (; *s; s++) {
    if (*s == ' ' || *s == '\t') {
      in_field = false;
    } else {
      if (!in_field)
        fields++;
      in_field = true;
      if (!strchr("0123456789*/,-?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", *s))
        return false;
    }
  }
  return fields == 5;
}

static int
cronjob_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  const char *name = obj_str(obj, "metadata.name");
  if (name && strlen(name) > CRONJOB_NAME_MAX)
    cause_invalid_str(err, "metadata.name", name, "must be no more than 52 characters");
  json_t *spec = json_object_get(obj, "spec");
  const char *schedule = obj_str(spec, "schedule");
  if (schedule == NULL || *schedule == '\0')
    cause_required(err, "spec.schedule", NULL);
  else if (strstr(schedule, "TZ="))
    cause_invalid_str(err, "spec.schedule", schedule,
                      "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  else if (!schedule_well_formed(schedule))
    cause_invalid_str(err, "spec.schedule", schedule, "unparseable schedule");
  static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
  validate_one_of(err, "spec.concurrencyPolicy", obj_str0(spec, "concurrencyPolicy"), policies);
  static const char *const limits[] = {"successfulJobsHistoryLimit", "failedJobsHistoryLimit",
                                       "startingDeadlineSeconds", NULL};
  for (const char *const *f = limits; *f; f++) {
    json_t *v = json_object_get(spec, *f);
    if (json_is_integer(v)) {
      char field[64];
      snprintf(field, sizeof field, "spec.%s", *f);
      validate_nonnegative(err, field, json_integer_value(v));
    }
  }
  json_t *template = obj_get(spec, "jobTemplate.spec.template");
  pod_template_validate(err, "spec.jobTemplate.spec.template", template);
  static const char *const restart[] = {"OnFailure", "Never", NULL};
  validate_one_of(err, "spec.jobTemplate.spec.template.spec.restartPolicy",
                  obj_str0(template, "spec.restartPolicy"), restart);
  return validation_finish(err, "CronJob", "batch", name);
}

static void
cronjob_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  cell_name(cells, obj);
  cell_str(cells, obj_str0(spec, "schedule"));
  const char *tz = obj_str(spec, "timeZone");
  cell_str(cells, tz ? tz : "<none>");
  json_t *suspend = json_object_get(spec, "suspend");
  cell_str(cells,
           json_is_boolean(suspend) ? (json_is_true(suspend) ? "True" : "False") : "<unset>");
  cell_int(cells, (long long)obj_len(obj, "status.active"));
  const char *last = obj_str(obj, "status.lastScheduleTime");
  if (last) {
    char ago[DURATION_LEN];
    since_timestamp(last, ago);
    cell_str(cells, ago);
  } else {
    cell_str(cells, "<none>");
  }
  cell_age(cells, obj);
  json_t *job_spec = obj_get(spec, "jobTemplate.spec");
  cells_template_containers(cells, json_object_get(job_spec, "template"));
  cell_label_selector(cells, json_object_get(job_spec, "selector"));
}
