/* job.c — the Job strategy: batch/v1 defaults (parallelism/completions 1, backoffLimit 6,
 * NonIndexed, not suspended), the generated controller-uid selector on create, upstream's
 * checks (restartPolicy OnFailure/Never, immutable selector and template), the
 * status.successful field selector and the STATUS/COMPLETIONS/DURATION table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/apps/workload.h"
#include "registry/core/podspec.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void job_defaults(json_t *obj);
static int job_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err);
static int job_validate(json_t *obj, const json_t *old, k8c_err *err);
static void job_selectable_fields(const json_t *obj, json_t *fields);
static void job_table_cells(const json_t *obj, json_t *cells);

static const struct table_column job_columns[] = {
    COLUMN_NAME,
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "", "The number of pods which reached phase Succeeded.", 0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    COLUMN_AGE,
    COLUMN_CONTAINERS,
    COLUMN_IMAGES,
    {"Selector", "string", "", "A label query over pods that should match the pod count.", 1},
    COLUMN_END,
};

static const char *const job_fields[] = {"status.successful", NULL};

const struct resource_strategy job_strategy = {
    .group = "batch",
    .plural = "jobs",
    .defaults = job_defaults,
    .prepare_create = job_prepare_create,
    .validate = job_validate,
    .selectable_fields = job_selectable_fields,
    .columns = job_columns,
    .table_cells = job_table_cells,
    .supported_fields = job_fields,
};

static void
job_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  if (obj_unset(spec, "completions") && obj_unset(spec, "parallelism")) {
    json_object_set_new(spec, "completions", json_integer(1));
    json_object_set_new(spec, "parallelism", json_integer(1));
  }
  obj_default_int(spec, "parallelism", 1);
  obj_default_int(spec, "backoffLimit", obj_unset(spec, "backoffLimitPerIndex") ? 6 : 2147483647);
  obj_default_str(spec, "completionMode", "NonIndexed");
  obj_default_bool(spec, "suspend", false);
  obj_default_str(spec, "podReplacementPolicy",
                  obj_unset(spec, "podFailurePolicy") ? "TerminatingOrFailed" : "Failed");
  json_t *template_labels = obj_get(spec, "template.metadata.labels");
  json_t *meta = obj_ensure(obj, "metadata");
  if (json_object_size(template_labels) > 0 && obj_len(meta, "labels") == 0)
    json_object_set_new(meta, "labels", json_deep_copy(template_labels));
  pod_template_defaults(json_object_get(spec, "template"));
}

/* A random RFC 4122 v4 UUID, for a job created without metadata.uid yet. */
static void
random_uuid(char out[37])
{
  unsigned char b[16];
  FILE *f = fopen("/dev/urandom", "rb");
  size_t got = f ? fread(b, 1, sizeof b, f) : 0;
  if (f)
    fclose(f);
  for (size_t i = got; i < sizeof b; i++)
    b[i] = (unsigned char)rand();
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
}

/* generateSelector: unless manualSelector, the selector is the job's controller-uid and
 * the template carries controller-uid and job-name labels (legacy and prefixed forms). */
static int
job_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err)
{
  json_t *spec = obj_ensure(obj, "spec");
  if (obj_true(spec, "manualSelector"))
    return 0;
  json_t *meta = obj_ensure(obj, "metadata");
  const char *uid = obj_str(meta, "uid");
  char generated[37];
  if (uid == NULL || *uid == '\0') {
    random_uuid(generated);
    json_object_set_new(meta, "uid", json_string(generated));
    uid = generated;
  }
  const char *name = obj_str0(meta, "name");
  json_t *labels = obj_ensure(obj_ensure(obj_ensure(spec, "template"), "metadata"), "labels");
  json_object_set_new(labels, "controller-uid", json_string(uid));
  json_object_set_new(labels, "batch.kubernetes.io/controller-uid", json_string(uid));
  json_object_set_new(labels, "job-name", json_string(name));
  json_object_set_new(labels, "batch.kubernetes.io/job-name", json_string(name));
  json_t *match = obj_ensure(obj_ensure(spec, "selector"), "matchLabels");
  if (json_object_get(match, "batch.kubernetes.io/controller-uid") == NULL)
    json_object_set_new(match, "batch.kubernetes.io/controller-uid", json_string(uid));
  return 0;
}

static int
job_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  static const char *const nonneg[] = {"parallelism", "completions", "backoffLimit",
                                       "ttlSecondsAfterFinished", NULL};
  for (const char *const *f = nonneg; *f; f++) {
    json_t *v = json_object_get(spec, *f);
    if (json_is_integer(v)) {
      char field[64];
      snprintf(field, sizeof field, "spec.%s", *f);
      validate_nonnegative(err, field, json_integer_value(v));
    }
  }
  json_t *deadline = json_object_get(spec, "activeDeadlineSeconds");
  if (json_is_integer(deadline) && json_integer_value(deadline) <= 0)
    cause_invalid_int(err, "spec.activeDeadlineSeconds", json_integer_value(deadline),
                      "must be greater than 0");
  static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
  const char *mode = obj_str(spec, "completionMode");
  if (mode)
    validate_one_of(err, "spec.completionMode", mode, modes);
  workload_validate_selector_template(err, spec, "job", false);
  static const char *const restart[] = {"OnFailure", "Never", NULL};
  validate_one_of(err, "spec.template.spec.restartPolicy",
                  obj_str0(spec, "template.spec.restartPolicy"), restart);
  if (old != NULL) {
    json_t *old_spec = json_object_get(old, "spec");
    workload_validate_selector_immutable(err, spec, old_spec);
    validate_immutable(err, "spec.template", json_object_get(spec, "template"),
                       json_object_get(old_spec, "template"), "core.PodTemplateSpec{...}");
    json_t *completions = json_object_get(spec, "completions");
    if (strcmp(obj_str0(spec, "completionMode"), "Indexed") != 0) {
      cleanup_free char *repr = json_is_integer(completions)
                                    ? xasprintf("%lld", (long long)json_integer_value(completions))
                                    : xstrdup("null");
      validate_immutable(err, "spec.completions", completions,
                         json_object_get(old_spec, "completions"), repr);
    }
  }
  return validation_finish(err, "Job", "batch", obj_str(obj, "metadata.name"));
}

static void
job_selectable_fields(const json_t *obj, json_t *fields)
{
  field_set_int(fields, "status.successful", obj_int(obj, "status.succeeded", 0));
}

static bool
job_condition(const json_t *obj, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (obj_get(obj, "status.conditions"), i, c) {
    if (strcmp(obj_str0(c, "type"), type) == 0 && strcmp(obj_str0(c, "status"), "True") == 0)
      return true;
  }
  return false;
}

static void
job_table_cells(const json_t *obj, json_t *cells)
{
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *status = json_object_get(obj, "status");
  long long succeeded = obj_int(status, "succeeded", 0);
  const char *state = "Running";
  if (job_condition(obj, "Complete"))
    state = "Complete";
  else if (job_condition(obj, "Failed"))
    state = "Failed";
  else if (obj_get(obj, "metadata.deletionTimestamp"))
    state = "Terminating";
  else if (job_condition(obj, "Suspended"))
    state = "Suspended";
  else if (job_condition(obj, "FailureTarget"))
    state = "FailureTarget";
  cell_name(cells, obj);
  cell_str(cells, state);
  json_t *completions = json_object_get(spec, "completions");
  long long parallelism = obj_int(spec, "parallelism", 0);
  if (json_is_integer(completions))
    cell_take(cells, xasprintf("%lld/%lld", succeeded, (long long)json_integer_value(completions)));
  else if (parallelism > 1)
    cell_take(cells, xasprintf("%lld/1 of %lld", succeeded, parallelism));
  else
    cell_take(cells, xasprintf("%lld/1", succeeded));
  time_t start, end;
  char dur[DURATION_LEN] = "";
  if (parse_rfc3339(obj_str(status, "startTime"), &start) == 0) {
    if (parse_rfc3339(obj_str(status, "completionTime"), &end) < 0)
      end = time(NULL);
    human_duration((long long)(end - start), dur);
  }
  cell_str(cells, dur);
  cell_age(cells, obj);
  cells_template_containers(cells, json_object_get(spec, "template"));
  cell_label_selector(cells, json_object_get(spec, "selector"));
}
