/* strategy_core_test.c — core kind strategies: Pod defaults (the seed web.yaml container),
 * Pod/Service validation causes, the pods/services/nodes table cells, human durations
 * and the strategy lookup. */
#include "registry/strategy.h"
#include "registry/table_util.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static json_t *
parse(const char *text)
{
  json_error_t error;
  json_t *v = json_loads(text, 0, &error);
  if (v == NULL)
    fprintf(stderr, "bad test JSON: %s\n", error.text);
  return v;
}

/* An RFC 3339 timestamp `seconds_ago` before now. */
static void
ago(char out[32], long seconds_ago)
{
  time_t t = time(NULL) - seconds_ago;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const json_t *
cause_for(const k8c_err *err, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (err->causes, i, c) {
    const char *f = json_string_value(json_object_get(c, "field"));
    if (f && strcmp(f, field) == 0)
      return c;
  }
  return NULL;
}

static const char *
cause_message(const k8c_err *err, const char *field)
{
  const json_t *c = cause_for(err, field);
  return c ? json_string_value(json_object_get(c, "message")) : NULL;
}

/* The pod the seed web.yaml's Deployment template describes. */
static const char *const web_pod =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":"
    "\"default\","
    "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
    "\"image\":\"nginx:1.27-alpine\",\"ports\":[{\"containerPort\":80}],"
    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},\"initialDelaySeconds\":2,"
    "\"periodSeconds\":5},\"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},"
    "\"initialDelaySeconds\":5,\"periodSeconds\":10},\"resources\":{\"requests\":{\"cpu\":\"50m\","
    "\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"200m\",\"memory\":\"128Mi\"}}}]}}";

TEST(pod_defaults_from_seed_web_yaml)
{
  const struct resource_strategy *s = strategy_for("", "pods");
  json_t *pod = parse(web_pod);
  s->defaults(pod);
  CHECK_JSON(json_object_get(pod, "spec"),
             "{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27-alpine\","
             "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
             "\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80,\"scheme\":\"HTTP\"},"
             "\"initialDelaySeconds\":2,\"periodSeconds\":5,\"timeoutSeconds\":1,"
             "\"successThreshold\":1,\"failureThreshold\":3},"
             "\"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80,\"scheme\":\"HTTP\"},"
             "\"initialDelaySeconds\":5,\"periodSeconds\":10,\"timeoutSeconds\":1,"
             "\"successThreshold\":1,\"failureThreshold\":3},"
             "\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"},"
             "\"limits\":{\"cpu\":\"200m\",\"memory\":\"128Mi\"}},"
             "\"terminationMessagePath\":\"/dev/termination-log\","
             "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],"
             "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\","
             "\"terminationGracePeriodSeconds\":30,\"schedulerName\":\"default-scheduler\","
             "\"securityContext\":{},\"enableServiceLinks\":true}");
  json_decref(pod);
}

TEST(pod_defaults_pull_policy_volumes_env)
{
  const struct resource_strategy *s = strategy_for("", "pods");
  json_t *pod = parse(
      "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
      "{\"name\":\"a\",\"image\":\"busybox\",\"resources\":{\"limits\":{\"cpu\":\"1\"}},"
      "\"env\":[{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}]},"
      "{\"name\":\"b\",\"image\":\"localhost:5000/x:latest\"},"
      "{\"name\":\"c\",\"image\":\"localhost:5000/x@sha256:abc\"}],"
      "\"volumes\":[{\"name\":\"e\"},{\"name\":\"cm\",\"configMap\":{\"name\":\"x\"}},"
      "{\"name\":\"s\",\"secret\":{\"secretName\":\"x\"}}]}}");
  s->defaults(pod);
  json_t *containers = json_object_get(json_object_get(pod, "spec"), "containers");
  CHECK_STR(json_string_value(json_object_get(json_array_get(containers, 0), "imagePullPolicy")),
            "Always");
  CHECK_STR(json_string_value(json_object_get(json_array_get(containers, 1), "imagePullPolicy")),
            "Always");
  CHECK_STR(json_string_value(json_object_get(json_array_get(containers, 2), "imagePullPolicy")),
            "IfNotPresent");
  CHECK_JSON(json_object_get(json_array_get(containers, 0), "resources"),
             "{\"limits\":{\"cpu\":\"1\"},\"requests\":{\"cpu\":\"1\"}}");
  CHECK_JSON(json_object_get(json_array_get(containers, 0), "env"),
             "[{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\","
             "\"apiVersion\":\"v1\"}}}]");
  CHECK_JSON(json_object_get(json_array_get(containers, 1), "resources"), "{}");
  CHECK_JSON(json_object_get(json_object_get(pod, "spec"), "volumes"),
             "[{\"name\":\"e\",\"emptyDir\":{}},{\"name\":\"cm\",\"configMap\":{\"name\":\"x\","
             "\"defaultMode\":420}},"
             "{\"name\":\"s\",\"secret\":{\"secretName\":\"x\",\"defaultMode\":420}}]");
  json_decref(pod);
}

TEST(pod_validation_causes)
{
  const struct resource_strategy *s = strategy_for("", "pods");
  json_t *pod = parse("{\"metadata\":{\"name\":\"Bad_Name\",\"namespace\":\"default\"},"
                      "\"spec\":{\"containers\":[]}}");
  s->defaults(pod);
  k8c_err err = {0};
  CHECK_INT(s->validate(pod, NULL, &err), -1);
  CHECK_INT(err.status, 422);
  CHECK_STR(err.reason, "Invalid");
  CHECK(cause_for(&err, "metadata.name") != NULL);
  CHECK_STR(cause_message(&err, "spec.containers"), "Required value");
  CHECK(strstr(err.message, "Pod \"Bad_Name\" is invalid") != NULL);
  k8c_err_clear(&err);
  json_decref(pod);

  pod = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{"
              "\"restartPolicy\":\"Sometimes\","
              "\"containers\":[{\"name\":\"a\"},{\"name\":\"a\",\"image\":\"x\",\"ports\":[{"
              "\"containerPort\":0}]}]}}");
  s->defaults(pod);
  CHECK_INT(s->validate(pod, NULL, &err), -1);
  CHECK_STR(cause_message(&err, "spec.containers[0].image"), "Required value");
  CHECK_STR(cause_message(&err, "spec.containers[1].name"), "Duplicate value: \"a\"");
  CHECK(cause_for(&err, "spec.containers[1].ports[0].containerPort") != NULL);
  CHECK_STR(
      cause_message(&err, "spec.restartPolicy"),
      "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"");
  k8c_err_clear(&err);
  json_decref(pod);
}

TEST(pod_update_only_image)
{
  const struct resource_strategy *s = strategy_for("", "pods");
  json_t *old = parse(web_pod);
  s->defaults(old);
  json_t *now = json_deep_copy(old);
  json_t *c0 = json_array_get(json_object_get(json_object_get(now, "spec"), "containers"), 0);
  json_object_set_new(c0, "image", json_string("nginx:1.28"));
  k8c_err err = {0};
  CHECK_INT(s->validate(now, old, &err), 0);
  CHECK(err.causes == NULL);
  json_object_set_new(json_object_get(now, "spec"), "restartPolicy", json_string("Never"));
  CHECK_INT(s->validate(now, old, &err), -1);
  const char *msg = cause_message(&err, "spec");
  CHECK(msg != NULL &&
        strstr(msg, "Forbidden: pod updates may not change fields other than "
                    "`spec.containers[*].image`,`spec.initContainers[*].image`,") == msg);
  CHECK(msg != NULL && strstr(msg, "spec.restartPolicy") != NULL);
  k8c_err_clear(&err);
  json_decref(now);
  json_decref(old);
}

static json_t *
pod_cells(const char *pod_text)
{
  json_t *pod = parse(pod_text);
  json_t *cells = json_array();
  strategy_for("", "pods")->table_cells(pod, cells);
  json_decref(pod);
  return cells;
}

TEST(pod_table_cells)
{
  char created[32], finished[32], buf[2048];
  ago(created, 2 * 86400 + 3 * 3600 + 30);
  ago(finished, 5 * 60 + 10);
  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"%s\"},"
           "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
           "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.5\",\"containerStatuses\":["
           "{\"name\":\"a\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}},"
           "{\"name\":\"b\",\"ready\":false,\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":"
           "\"CrashLoopBackOff\"}},"
           "\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":\"%s\"}}}]}}",
           created, finished);
  json_t *cells = pod_cells(buf);
  CHECK_JSON(cells, "[\"web\",\"1/2\",\"CrashLoopBackOff\",\"3 (5m10s ago)\",\"2d3h\","
                    "\"10.42.0.5\",\"n1\",\"<none>\",\"<none>\"]");
  json_decref(cells);

  cells = pod_cells(
      "{\"metadata\":{\"name\":\"ok\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
      "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,"
      "\"restartCount\":0,\"state\":{\"running\":{}}}]}}");
  CHECK_JSON(cells,
             "[\"ok\",\"1/"
             "1\",\"Running\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
  json_decref(cells);

  cells =
      pod_cells("{\"metadata\":{\"name\":\"i\"},\"spec\":{\"initContainers\":[{\"name\":\"init\"}],"
                "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
                "\"initContainerStatuses\":[{\"name\":\"init\",\"state\":{\"running\":{}}}],"
                "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":"
                "\"PodInitializing\"}}}]}}");
  CHECK_STR(json_string_value(json_array_get(cells, 2)), "Init:0/1");
  json_decref(cells);

  cells =
      pod_cells("{\"metadata\":{\"name\":\"d\",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\"}}");
  CHECK_STR(json_string_value(json_array_get(cells, 2)), "Terminating");
  json_decref(cells);

  cells = pod_cells(
      "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
      "\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
      "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}");
  CHECK_STR(json_string_value(json_array_get(cells, 1)), "0/1");
  CHECK_STR(json_string_value(json_array_get(cells, 2)), "Completed");
  json_decref(cells);

  cells = pod_cells("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
                    "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\","
                    "\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}");
  CHECK_STR(json_string_value(json_array_get(cells, 2)), "Signal:9");
  json_decref(cells);
}

TEST(pod_container_cause_paths)
{
  /* field paths built only when a check fails: each still names the exact field */
  const struct resource_strategy *s = strategy_for("", "pods");
  json_t *pod =
      parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{"
            "\"name\":\"a\",\"image\":\"x\",\"imagePullPolicy\":\"Sometimes\","
            "\"terminationMessagePolicy\":\"Loud\",\"ports\":[{\"containerPort\":80,\"protocol\":"
            "\"TCPX\"}],"
            "\"volumeMounts\":[{\"name\":\"missing\",\"mountPath\":\"/m\"},{\"mountPath\":\"/n\"}],"
            "\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]},\"periodSeconds\":-1},"
            "\"resources\":{\"limits\":{\"cpu\":\"lots\"},\"requests\":{\"memory\":\"64Mi\"}}}]}}");
  s->defaults(pod);
  k8c_err err = {0};
  CHECK_INT(s->validate(pod, NULL, &err), -1);
  CHECK_STR(cause_message(&err, "spec.containers[0].imagePullPolicy"),
            "Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", "
            "\"Never\"");
  CHECK(cause_for(&err, "spec.containers[0].terminationMessagePolicy") != NULL);
  CHECK(cause_for(&err, "spec.containers[0].ports[0].protocol") != NULL);
  CHECK_STR(cause_message(&err, "spec.containers[0].volumeMounts[0].name"),
            "Not found: \"missing\"");
  CHECK_STR(cause_message(&err, "spec.containers[0].volumeMounts[1].name"), "Required value");
  CHECK(cause_for(&err, "spec.containers[0].livenessProbe.periodSeconds") != NULL);
  CHECK(cause_for(&err, "spec.containers[0].resources.limits[cpu]") != NULL);
  CHECK(cause_for(&err, "spec.containers[0].resources.requests[memory]") == NULL);
  CHECK(cause_for(&err, "spec.containers[0].readinessProbe") == NULL);
  CHECK(cause_for(&err, "spec.containers[0].resources.requests[cpu]") != NULL); /* from limits */
  CHECK_INT(json_array_size(err.causes), 8);
  k8c_err_clear(&err);
  json_decref(pod);
}

TEST(pod_selectable_fields)
{
  const struct resource_strategy *s = strategy_for("", "pods");
  json_t *pod = parse(
      "{\"spec\":{\"nodeName\":\"n1\",\"hostNetwork\":true},\"status\":{\"phase\":\"Running\","
      "\"podIPs\":[{\"ip\":\"10.0.0.9\"}]}}");
  json_t *fields = json_object();
  s->selectable_fields(pod, fields);
  CHECK_STR(json_string_value(json_object_get(fields, "spec.nodeName")), "n1");
  CHECK_STR(json_string_value(json_object_get(fields, "spec.hostNetwork")), "true");
  CHECK_STR(json_string_value(json_object_get(fields, "status.phase")), "Running");
  CHECK_STR(json_string_value(json_object_get(fields, "status.podIP")), "10.0.0.9");
  CHECK_STR(json_string_value(json_object_get(fields, "spec.restartPolicy")), "");
  size_t n = 0;
  for (const char *const *f = s->supported_fields; *f; f++, n++)
    CHECK(json_object_get(fields, *f) != NULL);
  CHECK_INT(n, 8);
  json_decref(fields);
  json_decref(pod);
}

TEST(service_defaults_validation_table)
{
  const struct resource_strategy *s = strategy_for("", "services");
  json_t *svc = parse("{\"metadata\":{\"name\":\"web-svc\",\"namespace\":\"default\"},"
                      "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":80}]}}");
  s->defaults(svc);
  CHECK_JSON(
      json_object_get(svc, "spec"),
      "{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":"
      "80}],"
      "\"type\":\"ClusterIP\",\"sessionAffinity\":\"None\",\"internalTrafficPolicy\":\"Cluster\"}");
  k8c_err err = {0};
  /* the IP families come with the allocation (create and update), not the defaults */
  CHECK_INT(s->prepare_create(NULL, svc, &err), 0);
  CHECK_STR(json_string_value(json_object_get(json_object_get(svc, "spec"), "ipFamilyPolicy")),
            "SingleStack");
  CHECK_JSON(json_object_get(json_object_get(svc, "spec"), "ipFamilies"), "[\"IPv4\"]");
  json_t *omitted = json_deep_copy(svc);
  json_object_del(json_object_get(omitted, "spec"), "ipFamilyPolicy");
  json_object_set_new(json_object_get(omitted, "spec"), "ipFamilies", json_array());
  CHECK_INT(s->prepare_update(NULL, omitted, svc, &err), 0);
  CHECK(json_equal(json_object_get(omitted, "spec"), json_object_get(svc, "spec")));
  json_decref(omitted);
  CHECK_INT(s->validate(svc, NULL, &err), 0);
  json_object_set_new(json_object_get(svc, "spec"), "clusterIP", json_string("10.43.0.10"));
  json_object_set_new(json_object_get(svc, "spec"), "clusterIPs", json_pack("[s]", "10.43.0.10"));
  json_t *cells = json_array();
  s->table_cells(svc, cells);
  CHECK_JSON(
      cells,
      "[\"web-svc\",\"ClusterIP\",\"10.43.0.10\",\"<none>\",\"80/TCP\",\"<unknown>\",\"app=web\"]");
  json_decref(cells);

  json_t *changed = json_deep_copy(svc);
  json_object_set_new(json_object_get(changed, "spec"), "clusterIPs",
                      json_pack("[s]", "10.43.0.11"));
  CHECK_INT(s->validate(changed, svc, &err), -1);
  CHECK_STR(cause_message(&err, "spec.clusterIPs[0]"),
            "Invalid value: []string{\"10.43.0.11\"}: may not change once set");
  k8c_err_clear(&err);
  json_decref(changed);

  json_t *np = parse("{\"metadata\":{\"name\":\"np\",\"namespace\":\"default\"},\"spec\":{\"type\":"
                     "\"LoadBalancer\","
                     "\"clusterIPs\":[\"10.43.0.12\"],\"ports\":[{\"name\":\"http\",\"port\":80,"
                     "\"nodePort\":30080},"
                     "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}]}}");
  s->defaults(np);
  CHECK_STR(
      json_string_value(json_object_get(json_object_get(np, "spec"), "externalTrafficPolicy")),
      "Cluster");
  cells = json_array();
  s->table_cells(np, cells);
  CHECK_STR(json_string_value(json_array_get(cells, 3)), "<pending>");
  CHECK_STR(json_string_value(json_array_get(cells, 4)), "80:30080/TCP,53/UDP");
  json_decref(cells);
  json_decref(np);

  json_t *bad = parse(
      "{\"metadata\":{\"name\":\"1bad\",\"namespace\":\"default\"},\"spec\":{\"type\":\"Weird\"}}");
  s->defaults(bad);
  CHECK_INT(s->validate(bad, NULL, &err), -1);
  CHECK(cause_for(&err, "metadata.name") != NULL);
  CHECK_STR(cause_message(&err, "spec.ports"), "Required value");
  CHECK_STR(cause_message(&err, "spec.type"),
            "Unsupported value: \"Weird\": supported values: \"ClusterIP\", \"ExternalName\", "
            "\"LoadBalancer\", \"NodePort\"");
  k8c_err_clear(&err);
  json_decref(bad);
  json_decref(svc);
}

TEST(pod_default_toleration_seconds_on_create)
{
  const struct resource_strategy *s = strategy_for("", "pods");
  /* No tolerations: both are added, not-ready first. */
  json_t *pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[]}}");
  CHECK_INT(s->prepare_create(NULL, pod, NULL), 0);
  CHECK_JSON(json_object_get(json_object_get(pod, "spec"), "tolerations"),
             "[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
             "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
             "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
             "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]");
  json_decref(pod);

  /* Tolerating unreachable already (any effect counts): only not-ready is added. */
  pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[],\"tolerations\":["
              "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\"}]}}");
  CHECK_INT(s->prepare_create(NULL, pod, NULL), 0);
  CHECK_JSON(json_object_get(json_object_get(pod, "spec"), "tolerations"),
             "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\"},"
             "{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
             "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]");
  json_decref(pod);

  /* A toleration of everything, or a NoSchedule one that does not count. */
  pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[],\"tolerations\":["
              "{\"operator\":\"Exists\"}]}}");
  CHECK_INT(s->prepare_create(NULL, pod, NULL), 0);
  CHECK_JSON(json_object_get(json_object_get(pod, "spec"), "tolerations"),
             "[{\"operator\":\"Exists\"}]");
  json_decref(pod);
  pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[],\"tolerations\":["
              "{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoSchedule\"}]}}");
  CHECK_INT(s->prepare_create(NULL, pod, NULL), 0);
  CHECK_INT((int)json_array_size(json_object_get(json_object_get(pod, "spec"), "tolerations")), 3);
  json_decref(pod);
}

TEST(namespace_secret_node)
{
  const struct resource_strategy *ns = strategy_for("", "namespaces");
  json_t *obj = parse("{\"metadata\":{\"name\":\"team-a\"}}");
  ns->defaults(obj);
  CHECK_INT(ns->prepare_create(NULL, obj, NULL), 0);
  CHECK_JSON(
      obj,
      "{\"metadata\":{\"name\":\"team-a\",\"labels\":{\"kubernetes.io/metadata.name\":\"team-a\"}},"
      "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}");
  json_decref(obj);

  const struct resource_strategy *secret = strategy_for("", "secrets");
  obj = parse("{\"metadata\":{\"name\":\"s\"},\"stringData\":{\"user\":\"admin\"}}");
  secret->defaults(obj);
  CHECK_JSON(
      obj, "{\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\",\"data\":{\"user\":\"YWRtaW4=\"}}");
  json_decref(obj);

  const struct resource_strategy *node = strategy_for("", "nodes");
  obj = parse(
      "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\"}},"
      "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"Ready\","
      "\"status\":\"True\"}],"
      "\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0-k8c\"},\"addresses\":[{\"type\":\"InternalIP\","
      "\"address\":\"10.0.0.1\"}]}}");
  json_t *cells = json_array();
  node->table_cells(obj, cells);
  CHECK_JSON(cells,
             "[\"n1\",\"Ready,SchedulingDisabled\",\"control-plane\",\"<unknown>\",\"v1.32.0-k8c\","
             "\"10.0.0.1\",\"<none>\",\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
  json_decref(cells);
  json_decref(obj);
}

TEST(human_durations)
{
  char out[DURATION_LEN];
  human_duration(5, out);
  CHECK_STR(out, "5s");
  human_duration(119, out);
  CHECK_STR(out, "119s");
  human_duration(200, out);
  CHECK_STR(out, "3m20s");
  human_duration(600, out);
  CHECK_STR(out, "10m");
  human_duration(3 * 3600 + 60, out);
  CHECK_STR(out, "3h1m");
  human_duration(10 * 3600, out);
  CHECK_STR(out, "10h");
  human_duration(2 * 86400 + 3 * 3600, out);
  CHECK_STR(out, "2d3h");
  human_duration(30 * 86400, out);
  CHECK_STR(out, "30d");
  human_duration(3 * 365 * 86400 + 86400 * 10, out);
  CHECK_STR(out, "3y10d");
  human_duration(-5, out);
  CHECK_STR(out, "<invalid>");
}

TEST(strategy_lookup)
{
  CHECK_STR(strategy_for("apps", "deployments")->plural, "deployments");
  CHECK_STR(strategy_for("events.k8s.io", "events")->group, "events.k8s.io");
  const struct resource_strategy *none = strategy_for("example.com", "widgets");
  CHECK(none != NULL);
  CHECK(none->defaults == NULL && none->validate == NULL && none->columns == NULL);
  CHECK(strategy_for(NULL, "pods") == strategy_for("", "pods"));
}

TEST_MAIN()
