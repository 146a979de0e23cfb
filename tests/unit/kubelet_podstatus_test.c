/* kubelet_podstatus_test.c — PodStatus from observed containers: upstream's phase rules
 * for each restart policy, conditions with their reasons, messages and transition
 * times, container statuses, oom_score_adj per QoS class and the crash-loop back-off. */
#include "kubelet/podstatus.h"
#include "lib/mem.h"
#include "testlib.h"

#include <string.h>

static json_t *
pod_with(const char *restart_policy, const char *extra_spec)
{
  cleanup_free char *text = xasprintf(
      "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
      "\"spec\":{\"restartPolicy\":\"%s\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]%s},"
      "\"status\":{\"qosClass\":\"Burstable\",\"conditions\":[{\"type\":\"PodScheduled\","
      "\"status\":\"True\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"},"
      "{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":\"2026-01-01T00:00:01Z\"}]}"
      "}",
      restart_policy, extra_spec ? extra_spec : "");
  return json_loads(text, 0, NULL);
}

static struct container_observed
running(const char *name, bool ready)
{
  return (struct container_observed){.name = name,
                                     .image = "nginx",
                                     .phase = CSTATE_RUNNING,
                                     .started_at = "2026-01-01T00:00:02Z",
                                     .ready = ready,
                                     .started = true};
}

static struct container_observed
exited(const char *name, int code)
{
  return (struct container_observed){
      .name = name,
      .image = "nginx",
      .phase = CSTATE_TERMINATED,
      .run = {.exit_code = code, .reason = code ? "Error" : "Completed"}};
}

static const char *
phase_of(const char *policy, struct container_observed a, struct container_observed b)
{
  cleanup_json json_t *pod = pod_with(policy, NULL);
  struct container_observed cs[2] = {a, b};
  struct pod_observed obs = {.now = "2026-01-01T00:00:05Z", .containers = cs, .n_containers = 2};
  return podstatus_phase(pod, &obs);
}

TEST(phase_follows_upstream_rules)
{
  struct container_observed creating = {
      .name = "b", .phase = CSTATE_WAITING, .reason = "ContainerCreating"};
  struct container_observed backoff = {.name = "b",
                                       .phase = CSTATE_WAITING,
                                       .reason = "CrashLoopBackOff",
                                       .has_last = true,
                                       .last = {.exit_code = 1}};
  CHECK_STR(phase_of("Always", running("a", true), creating), "Pending");
  CHECK_STR(phase_of("Always", running("a", true), running("b", false)), "Running");
  CHECK_STR(phase_of("Always", running("a", true), backoff), "Running");
  CHECK_STR(phase_of("Always", exited("a", 0), exited("b", 0)), "Running");
  CHECK_STR(phase_of("Never", exited("a", 0), exited("b", 0)), "Succeeded");
  CHECK_STR(phase_of("Never", exited("a", 0), exited("b", 2)), "Failed");
  CHECK_STR(phase_of("OnFailure", exited("a", 0), exited("b", 2)), "Running");
  CHECK_STR(phase_of("OnFailure", exited("a", 0), exited("b", 0)), "Succeeded");
}

TEST(init_containers_gate_the_pod)
{
  cleanup_json json_t *pod = pod_with("Never", ",\"initContainers\":[{\"name\":\"i\"}]");
  struct container_observed init = exited("i", 3);
  struct container_observed cs[2] = {
      {.name = "a", .phase = CSTATE_WAITING, .reason = "PodInitializing"},
      {.name = "b", .phase = CSTATE_WAITING, .reason = "PodInitializing"}};
  struct pod_observed obs = {.now = "2026-01-01T00:00:05Z",
                             .sandbox_ready = true,
                             .init = &init,
                             .n_init = 1,
                             .containers = cs,
                             .n_containers = 2};
  CHECK_STR(podstatus_phase(pod, &obs), "Failed");
  init = (struct container_observed){.name = "i", .phase = CSTATE_RUNNING, .started = true};
  CHECK_STR(podstatus_phase(pod, &obs), "Pending");
  cleanup_json json_t *st = podstatus_build(pod, &obs);
  json_t *conds = json_object_get(st, "conditions");
  CHECK_STR(json_string_value(json_object_get(json_array_get(conds, 1), "type")), "Initialized");
  CHECK_STR(json_string_value(json_object_get(json_array_get(conds, 1), "reason")),
            "ContainersNotInitialized");
  CHECK_STR(json_string_value(json_object_get(json_array_get(conds, 1), "message")),
            "containers with incomplete status: [i]");
  CHECK_INT((int)json_array_size(json_object_get(st, "initContainerStatuses")), 1);
}

TEST(conditions_and_statuses)
{
  cleanup_json json_t *pod = pod_with("Always", NULL);
  struct container_observed cs[2] = {running("a", true), running("b", false)};
  cs[1].restart_count = 2;
  cs[1].has_last = true;
  cs[1].last = (struct container_run){
      .exit_code = 137, .reason = "OOMKilled", .finished_at = "2026-01-01T00:00:01Z"};
  struct pod_observed obs = {.now = "2026-01-01T00:00:05Z",
                             .host_ip = "192.168.1.2",
                             .pod_ip = "10.42.0.7",
                             .start_time = "2026-01-01T00:00:00Z",
                             .sandbox_ready = true,
                             .containers = cs,
                             .n_containers = 2};
  cleanup_json json_t *st = podstatus_build(pod, &obs);
  CHECK_STR(json_string_value(json_object_get(st, "phase")), "Running");
  CHECK_STR(json_string_value(json_object_get(st, "podIP")), "10.42.0.7");
  CHECK_STR(json_string_value(json_object_get(st, "qosClass")), "Burstable");
  json_t *conds = json_object_get(st, "conditions");
  CHECK_INT((int)json_array_size(conds), 5);
  json_t *ready = json_array_get(conds, 2);
  CHECK_STR(json_string_value(json_object_get(ready, "type")), "Ready");
  CHECK_STR(json_string_value(json_object_get(ready, "status")), "False");
  CHECK_STR(json_string_value(json_object_get(ready, "reason")), "ContainersNotReady");
  CHECK_STR(json_string_value(json_object_get(ready, "message")),
            "containers with unready status: [b]");
  /* Still False: the transition time is the old one. */
  CHECK_STR(json_string_value(json_object_get(ready, "lastTransitionTime")),
            "2026-01-01T00:00:01Z");
  json_t *sched = json_array_get(conds, 4);
  CHECK_STR(json_string_value(json_object_get(sched, "type")), "PodScheduled");
  json_t *b = json_array_get(json_object_get(st, "containerStatuses"), 1);
  CHECK_INT((int)json_integer_value(json_object_get(b, "restartCount")), 2);
  CHECK_STR(json_string_value(json_object_get(
                json_object_get(json_object_get(b, "lastState"), "terminated"), "reason")),
            "OOMKilled");
  CHECK(json_is_false(json_object_get(b, "ready")));

  cs[1].ready = true;
  cleanup_json json_t *st2 = podstatus_build(pod, &obs);
  ready = json_array_get(json_object_get(st2, "conditions"), 2);
  CHECK_STR(json_string_value(json_object_get(ready, "status")), "True");
  CHECK_STR(json_string_value(json_object_get(ready, "lastTransitionTime")),
            "2026-01-01T00:00:05Z");
  CHECK(json_object_get(ready, "reason") == NULL);
}

TEST(readiness_gates)
{
  cleanup_json json_t *pod =
      pod_with("Always", ",\"readinessGates\":[{\"conditionType\":\"example.com/lb\"}]");
  struct container_observed cs[2] = {running("a", true), running("b", true)};
  struct pod_observed obs = {
      .now = "2026-01-01T00:00:05Z", .sandbox_ready = true, .containers = cs, .n_containers = 2};
  cleanup_json json_t *st = podstatus_build(pod, &obs);
  json_t *ready = json_array_get(json_object_get(st, "conditions"), 2);
  CHECK_STR(json_string_value(json_object_get(ready, "status")), "False");
  CHECK_STR(json_string_value(json_object_get(ready, "reason")), "ReadinessGatesNotReady");
  json_t *cr = json_array_get(json_object_get(st, "conditions"), 3);
  CHECK_STR(json_string_value(json_object_get(cr, "status")), "True");
}

TEST(oom_score_adj_by_qos)
{
  cleanup_json json_t *pod = pod_with("Always", NULL);
  cleanup_json json_t *c =
      json_loads("{\"resources\":{\"requests\":{\"memory\":\"1Gi\"}}}", 0, NULL);
  int64_t cap = 4LL << 30;
  CHECK_INT(podstatus_oom_score_adj(pod, c, cap), 750);
  cleanup_json json_t *huge =
      json_loads("{\"resources\":{\"requests\":{\"memory\":\"4Gi\"}}}", 0, NULL);
  CHECK_INT(podstatus_oom_score_adj(pod, huge, cap), 3);
  json_object_set_new(json_object_get(pod, "status"), "qosClass", json_string("Guaranteed"));
  CHECK_INT(podstatus_oom_score_adj(pod, c, cap), -997);
  json_object_set_new(json_object_get(pod, "status"), "qosClass", json_string("BestEffort"));
  CHECK_INT(podstatus_oom_score_adj(pod, c, cap), 1000);
}

TEST(crash_backoff)
{
  CHECK_INT((int)podstatus_crash_backoff_ms(0), 0);
  CHECK_INT((int)podstatus_crash_backoff_ms(1), 10000);
  CHECK_INT((int)podstatus_crash_backoff_ms(2), 20000);
  CHECK_INT((int)podstatus_crash_backoff_ms(5), 160000);
  CHECK_INT((int)podstatus_crash_backoff_ms(6), 300000);
  CHECK_INT((int)podstatus_crash_backoff_ms(60), 300000);
}

TEST_MAIN()
