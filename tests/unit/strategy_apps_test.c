/* strategy_apps_test.c — workload strategies: Deployment defaults for the seed web.yaml,
 * the selector/template mismatch 422, immutable selector, READY/UP-TO-DATE cells, and
 * StatefulSet, DaemonSet, Job and CronJob defaults, checks and tables. */
#include "registry/strategy.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>

static json_t *
parse(const char *text)
{
  json_error_t error;
  json_t *v = json_loads(text, 0, &error);
  if (v == NULL)
    fprintf(stderr, "bad test JSON: %s\n", error.text);
  return v;
}

static const char *
cause_message(const k8c_err *err, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (err->causes, i, c) {
    const char *f = json_string_value(json_object_get(c, "field"));
    if (f && strcmp(f, field) == 0)
      return json_string_value(json_object_get(c, "message"));
  }
  return NULL;
}

static const char *const web_deployment =
    "{\"apiVersion\":\"apps/"
    "v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"nginx-deployment\","
    "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3,"
    "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
    "\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27-alpine\",\"ports\":[{"
    "\"containerPort\":80}]}]}}}}";

TEST(deployment_defaults)
{
  const struct resource_strategy *s = strategy_for("apps", "deployments");
  json_t *d = parse(web_deployment);
  json_object_del(json_object_get(d, "spec"), "replicas");
  s->defaults(d);
  json_t *spec = json_object_get(d, "spec");
  CHECK_INT(json_integer_value(json_object_get(spec, "replicas")), 1);
  CHECK_JSON(json_object_get(spec, "strategy"),
             "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\","
             "\"maxSurge\":\"25%\"}}");
  CHECK_INT(json_integer_value(json_object_get(spec, "revisionHistoryLimit")), 10);
  CHECK_INT(json_integer_value(json_object_get(spec, "progressDeadlineSeconds")), 600);
  json_t *pod_spec = json_object_get(json_object_get(spec, "template"), "spec");
  CHECK_STR(json_string_value(json_object_get(pod_spec, "restartPolicy")), "Always");
  CHECK_STR(json_string_value(json_object_get(pod_spec, "schedulerName")), "default-scheduler");
  CHECK(json_object_get(pod_spec, "enableServiceLinks") == NULL); /* a Pod-only default */
  json_t *c = json_array_get(json_object_get(pod_spec, "containers"), 0);
  CHECK_STR(json_string_value(json_object_get(c, "imagePullPolicy")), "IfNotPresent");
  k8c_err err = {0};
  CHECK_INT(s->validate(d, NULL, &err), 0);
  json_decref(d);
}

TEST(deployment_selector_mismatch_and_immutability)
{
  const struct resource_strategy *s = strategy_for("apps", "deployments");
  json_t *d = parse(web_deployment);
  json_t *labels = json_object_get(
      json_object_get(json_object_get(json_object_get(d, "spec"), "template"), "metadata"),
      "labels");
  json_object_set_new(labels, "app", json_string("other"));
  s->defaults(d);
  k8c_err err = {0};
  CHECK_INT(s->validate(d, NULL, &err), -1);
  CHECK_INT(err.status, 422);
  CHECK_STR(cause_message(&err, "spec.template.metadata.labels"),
            "Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match "
            "template `labels`");
  CHECK(strstr(err.message, "Deployment.apps \"nginx-deployment\" is invalid") != NULL);
  k8c_err_clear(&err);
  json_decref(d);

  d = parse(web_deployment);
  json_object_del(json_object_get(d, "spec"), "selector");
  json_object_set_new(json_object_get(d, "spec"), "replicas", json_integer(-1));
  s->defaults(d);
  CHECK_INT(s->validate(d, NULL, &err), -1);
  CHECK_STR(cause_message(&err, "spec.selector"), "Required value");
  CHECK(cause_message(&err, "spec.replicas") != NULL);
  k8c_err_clear(&err);
  json_decref(d);

  json_t *old = parse(web_deployment);
  s->defaults(old);
  json_t *now = json_deep_copy(old);
  json_t *spec = json_object_get(now, "spec");
  json_object_set_new(spec, "selector",
                      json_pack("{s:{s:s,s:s}}", "matchLabels", "app", "web", "tier", "x"));
  json_object_set_new(
      json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"), "labels"),
      "tier", json_string("x"));
  CHECK_INT(s->validate(now, old, &err), -1);
  CHECK_STR(cause_message(&err, "spec.selector"),
            "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", "
            "\"tier\":\"x\"}, "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
  k8c_err_clear(&err);
  json_decref(now);
  json_decref(old);
}

TEST(deployment_table)
{
  const struct resource_strategy *s = strategy_for("apps", "deployments");
  json_t *d = parse(web_deployment);
  json_object_set_new(
      d, "status",
      json_pack("{s:i,s:i,s:i}", "readyReplicas", 2, "updatedReplicas", 3, "availableReplicas", 2));
  json_t *cells = json_array();
  s->table_cells(d, cells);
  CHECK_JSON(cells, "[\"nginx-deployment\",\"2/"
                    "3\",3,2,\"<unknown>\",\"nginx\",\"nginx:1.27-alpine\",\"app=web\"]");
  size_t ncols = 0;
  for (const struct table_column *c = s->columns; c->name; c++)
    ncols++;
  CHECK_INT(ncols, json_array_size(cells));
  CHECK_STR(s->columns[1].name, "Ready");
  CHECK_INT(s->columns[5].priority, 1);
  json_decref(cells);
  json_decref(d);
}

TEST(statefulset_daemonset_defaults)
{
  const struct resource_strategy *s = strategy_for("apps", "statefulsets");
  json_t *o = parse("{\"metadata\":{\"name\":\"db\",\"namespace\":\"default\"},\"spec\":{"
                    "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
                    "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{"
                    "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}},"
                    "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},\"spec\":{"
                    "\"accessModes\":[\"ReadWriteOnce\"]}}]}}");
  s->defaults(o);
  json_t *spec = json_object_get(o, "spec");
  CHECK_STR(json_string_value(json_object_get(spec, "podManagementPolicy")), "OrderedReady");
  CHECK_JSON(json_object_get(spec, "updateStrategy"),
             "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}}");
  CHECK_JSON(json_object_get(spec, "persistentVolumeClaimRetentionPolicy"),
             "{\"whenDeleted\":\"Retain\",\"whenScaled\":\"Retain\"}");
  CHECK_INT(json_integer_value(json_object_get(spec, "revisionHistoryLimit")), 10);
  json_t *claim = json_array_get(json_object_get(spec, "volumeClaimTemplates"), 0);
  CHECK_STR(json_string_value(json_object_get(json_object_get(claim, "spec"), "volumeMode")),
            "Filesystem");
  k8c_err err = {0};
  CHECK_INT(s->validate(o, NULL, &err), 0);
  json_t *now = json_deep_copy(o);
  json_object_set_new(json_object_get(now, "spec"), "serviceName", json_string("other"));
  CHECK_INT(s->validate(now, o, &err), -1);
  const char *msg = cause_message(&err, "spec");
  CHECK(msg &&
        strstr(msg, "Forbidden: updates to statefulset spec for fields other than 'replicas'") ==
            msg);
  k8c_err_clear(&err);
  json_decref(now);
  json_decref(o);

  s = strategy_for("apps", "daemonsets");
  o = parse("{\"spec\":{}}");
  s->defaults(o);
  CHECK_JSON(o, "{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
                "{\"maxUnavailable\":1,\"maxSurge\":0}},\"revisionHistoryLimit\":10}}");
  json_decref(o);
}

TEST(job_and_cronjob)
{
  const struct resource_strategy *s = strategy_for("batch", "jobs");
  json_t *job = parse("{\"metadata\":{\"name\":\"pi\",\"namespace\":\"default\",\"uid\":\"1234\"},"
                      "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"pi\","
                      "\"image\":\"perl\"}]}}}}");
  s->defaults(job);
  json_t *spec = json_object_get(job, "spec");
  CHECK_INT(json_integer_value(json_object_get(spec, "parallelism")), 1);
  CHECK_INT(json_integer_value(json_object_get(spec, "completions")), 1);
  CHECK_INT(json_integer_value(json_object_get(spec, "backoffLimit")), 6);
  CHECK_STR(json_string_value(json_object_get(spec, "completionMode")), "NonIndexed");
  CHECK(json_is_false(json_object_get(spec, "suspend")));
  CHECK(json_object_get(spec, "manualSelector") == NULL);
  CHECK_INT(s->prepare_create(NULL, job, NULL), 0);
  CHECK_JSON(json_object_get(spec, "selector"),
             "{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"1234\"}}");
  k8c_err err = {0};
  CHECK_INT(s->validate(job, NULL, &err), -1); /* restartPolicy defaulted to Always */
  CHECK_STR(cause_message(&err, "spec.template.spec.restartPolicy"),
            "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
  k8c_err_clear(&err);
  json_object_set_new(json_object_get(json_object_get(spec, "template"), "spec"), "restartPolicy",
                      json_string("Never"));
  CHECK_INT(s->validate(job, NULL, &err), 0);
  json_object_set_new(job, "status",
                      json_pack("{s:i,s:s,s:s}", "succeeded", 1, "startTime",
                                "2024-01-01T00:00:00Z", "completionTime", "2024-01-01T00:00:07Z"));
  json_object_set_new(json_object_get(job, "status"), "conditions",
                      json_pack("[{s:s,s:s}]", "type", "Complete", "status", "True"));
  json_t *cells = json_array();
  s->table_cells(job, cells);
  CHECK_STR(json_string_value(json_array_get(cells, 1)), "Complete");
  CHECK_STR(json_string_value(json_array_get(cells, 2)), "1/1");
  CHECK_STR(json_string_value(json_array_get(cells, 3)), "7s");
  json_decref(cells);
  json_t *fields = json_object();
  s->selectable_fields(job, fields);
  CHECK_JSON(fields, "{\"status.successful\":\"1\"}");
  json_decref(fields);
  json_decref(job);

  s = strategy_for("batch", "cronjobs");
  json_t *cj =
      parse("{\"metadata\":{\"name\":\"hello\",\"namespace\":\"default\"},\"spec\":{\"schedule\":"
            "\"*/1 * * * *\","
            "\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\","
            "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}");
  s->defaults(cj);
  spec = json_object_get(cj, "spec");
  CHECK_STR(json_string_value(json_object_get(spec, "concurrencyPolicy")), "Allow");
  CHECK_INT(json_integer_value(json_object_get(spec, "successfulJobsHistoryLimit")), 3);
  CHECK_INT(json_integer_value(json_object_get(spec, "failedJobsHistoryLimit")), 1);
  CHECK_INT(s->validate(cj, NULL, &err), 0);
  cells = json_array();
  s->table_cells(cj, cells);
  CHECK_JSON(cells,
             "[\"hello\",\"*/1 * * * "
             "*\",\"<none>\",\"False\",0,\"<none>\",\"<unknown>\",\"c\",\"busybox\",\"<none>\"]");
  json_decref(cells);
  json_object_set_new(spec, "schedule", json_string("every minute"));
  CHECK_INT(s->validate(cj, NULL, &err), -1);
  CHECK(cause_message(&err, "spec.schedule") != NULL);
  k8c_err_clear(&err);
  json_decref(cj);
}

TEST_MAIN()
