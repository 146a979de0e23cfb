/* scheduler_test.c — the scheduler as an API client against a real in-process registry:
 * pending pods get bound (pods/binding) where the framework says, a Scheduled event is
 * recorded, an impossible pod gets a FailedScheduling event and PodScheduled=False with
 * upstream's message and is retried when a node appears, pods for another scheduler are
 * left alone, PriorityClass orders the queue, and a small throughput benchmark prints
 * pods/s (no timing assertion). */
#include "client_fixture.h"
#include "scheduler/scheduler.h"

#include <string.h>
#include <unistd.h>

static const struct api_resource *
res(const char *plural)
{
  return api_resource_find("", "v1", plural);
}

static void
create_node(struct client_fixture *f, const char *name, const char *zone, const char *cpu,
            const char *taints)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\","
           "\"topology.kubernetes.io/zone\":\"%s\"}},\"spec\":{\"taints\":%s},\"status\":{"
           "\"capacity\":{\"cpu\":\"%s\",\"memory\":\"8Gi\",\"pods\":\"110\"},"
           "\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"8Gi\",\"pods\":\"110\"}}}",
           name, name, zone, taints ? taints : "[]", cpu, cpu);
  json_t *n = json_of(text);
  k8c_err err = {0};
  json_t *created = NULL;
  CHECK_INT(client_create(f->client, res("nodes"), "", n, NULL, &created, &err), 0);
  if (err.status)
    fprintf(stderr, "create node: %s\n", err.message);
  k8c_err_clear(&err);
  /* The registry drops status on create: set it as a kubelet would. */
  json_object_set(created, "status", json_object_get(n, "status"));
  CHECK_INT(client_update_status(f->client, res("nodes"), "", name, created, NULL, NULL, &err), 0);
  k8c_err_clear(&err);
  json_decref(created);
  json_decref(n);
}

static void
create_pod(struct client_fixture *f, const char *name, const char *labels, const char *extra_spec)
{
  char text[4096];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{\"containers\":[{\"name\":"
           "\"c\",\"image\":\"busybox\"}]%s%s}}",
           name, labels ? labels : "{}", extra_spec ? "," : "", extra_spec ? extra_spec : "");
  json_t *p = json_of(text);
  k8c_err err = {0};
  CHECK_INT(client_create(f->client, res("pods"), "default", p, NULL, NULL, &err), 0);
  if (err.status)
    fprintf(stderr, "create pod: %s\n", err.message);
  k8c_err_clear(&err);
  json_decref(p);
}

/* The pod's spec.nodeName once set (caller frees), waiting up to timeout_ms; NULL if none. */
static char *
wait_bound(struct client_fixture *f, const char *name, int timeout_ms)
{
  long long deadline = fixture_now_ms() + timeout_ms;
  do {
    json_t *p = NULL;
    k8c_err err = {0};
    if (client_get(f->client, res("pods"), "default", name, &p, &err) == 0) {
      const char *node = json_string_value(json_object_get(json_object_get(p, "spec"), "nodeName"));
      char *out = node ? xstrdup(node) : NULL;
      json_decref(p);
      if (out)
        return out;
    }
    k8c_err_clear(&err);
    usleep(10000);
  } while (fixture_now_ms() < deadline);
  return NULL;
}

/* The message of the newest event with reason about pod name, waiting up to timeout_ms. */
static char *
wait_event(struct client_fixture *f, const char *name, const char *reason, int timeout_ms)
{
  long long deadline = fixture_now_ms() + timeout_ms;
  do {
    json_t *list = NULL;
    k8c_err err = {0};
    char *found = NULL;
    if (client_list(f->client, res("events"), "default", NULL, &list, &err) == 0) {
      size_t i;
      json_t *e;
      json_array_foreach (json_object_get(list, "items"), i, e) {
        const json_t *io = json_object_get(e, "involvedObject");
        const char *n = json_string_value(json_object_get(io, "name"));
        const char *r = json_string_value(json_object_get(e, "reason"));
        if (n && r && strcmp(n, name) == 0 && strcmp(r, reason) == 0) {
          free(found);
          found = xstrdup(json_string_value(json_object_get(e, "message")));
        }
      }
      json_decref(list);
    }
    k8c_err_clear(&err);
    if (found)
      return found;
    usleep(20000);
  } while (fixture_now_ms() < deadline);
  return NULL;
}

static struct scheduler *
start(struct client_fixture *f)
{
  struct scheduler_config cfg = {.seed = 7, .initial_backoff_ms = 100, .max_backoff_ms = 500};
  k8c_err err = {0};
  struct scheduler *s = scheduler_start(&f->reg, &cfg, &err);
  CHECK(s != NULL);
  k8c_err_clear(&err);
  return s;
}

TEST(binds_pending_pods_and_records_scheduled)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_node(&f, "node-1", "a", "4", NULL);
  create_node(&f, "node-2", "b", "4",
              "[{\"key\":\"workload\",\"value\":\"batch\",\"effect\":\"NoSchedule\"}]");
  struct scheduler *s = start(&f);
  create_pod(&f, "p", NULL, NULL);
  create_pod(&f, "batch", NULL,
             "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-2\"},\"tolerations\":[{\"key\":"
             "\"workload\",\"operator\":\"Equal\",\"value\":\"batch\",\"effect\":\"NoSchedule\"}]");
  create_pod(&f, "other", NULL, "\"schedulerName\":\"my-scheduler\"");
  char *node = wait_bound(&f, "p", 5000);
  CHECK_STR(node, "node-1");
  free(node);
  node = wait_bound(&f, "batch", 5000);
  CHECK_STR(node, "node-2");
  free(node);
  char *msg = wait_event(&f, "p", "Scheduled", 5000);
  CHECK_STR(msg, "Successfully assigned default/p to node-1");
  free(msg);
  /* Not ours: stays pending. */
  node = wait_bound(&f, "other", 300);
  CHECK(node == NULL);
  free(node);
  scheduler_stop(s);
  client_fixture_close(&f);
}

TEST(unschedulable_pod_event_condition_and_retry)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_node(&f, "node-1", "a", "8",
              "[{\"key\":\"key\",\"value\":\"value\",\"effect\":\"NoSchedule\"}]");
  create_node(&f, "node-2", "b", "1", NULL);
  create_node(&f, "node-3", "c", "1", NULL);
  struct scheduler *s = start(&f);
  create_pod(&f, "big", NULL,
             "\"overhead\":null,\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
             "\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]");
  const char *want = "0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 "
                     "Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not "
                     "helpful for scheduling.";
  char *msg = wait_event(&f, "big", "FailedScheduling", 5000);
  CHECK_STR(msg, want);
  free(msg);
  /* PodScheduled=False, reason Unschedulable, the same message. */
  bool cond_ok = false;
  for (int i = 0; i < 200 && !cond_ok; i++) {
    json_t *p = NULL;
    k8c_err err = {0};
    if (client_get(f.client, res("pods"), "default", "big", &p, &err) == 0) {
      size_t j;
      json_t *c;
      json_array_foreach (json_object_get(json_object_get(p, "status"), "conditions"), j, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && strcmp(type, "PodScheduled") == 0) {
          const char *st = json_string_value(json_object_get(c, "status"));
          const char *reason = json_string_value(json_object_get(c, "reason"));
          const char *m = json_string_value(json_object_get(c, "message"));
          cond_ok = st && strcmp(st, "False") == 0 && reason &&
                    strcmp(reason, "Unschedulable") == 0 && m && strcmp(m, want) == 0;
        }
      }
      json_decref(p);
    }
    k8c_err_clear(&err);
    if (!cond_ok)
      usleep(20000);
  }
  CHECK(cond_ok);
  /* A node that fits arrives: the pod is retried and bound there. */
  create_node(&f, "node-4", "c", "4", NULL);
  char *node = wait_bound(&f, "big", 5000);
  CHECK_STR(node, "node-4");
  free(node);
  scheduler_stop(s);
  client_fixture_close(&f);
}

TEST(anti_affinity_fourth_replica_pending)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_node(&f, "node-1", "a", "4", NULL);
  create_node(&f, "node-2", "b", "4", NULL);
  create_node(&f, "node-3", "c", "4", NULL);
  struct scheduler *s = start(&f);
  const char *anti = "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuring"
                     "Execution\":[{\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                     "\"topologyKey\":\"kubernetes.io/hostname\"}]}}";
  const char *names[] = {"web-0", "web-1", "web-2"};
  for (int i = 0; i < 3; i++)
    create_pod(&f, names[i], "{\"app\":\"web\"}", anti);
  char *nodes[3];
  for (int i = 0; i < 3; i++)
    nodes[i] = wait_bound(&f, names[i], 5000);
  CHECK(nodes[0] && nodes[1] && nodes[2]);
  if (nodes[0] && nodes[1] && nodes[2])
    CHECK(strcmp(nodes[0], nodes[1]) && strcmp(nodes[1], nodes[2]) && strcmp(nodes[0], nodes[2]));
  for (int i = 0; i < 3; i++)
    free(nodes[i]);
  create_pod(&f, "web-3", "{\"app\":\"web\"}", anti);
  char *msg = wait_event(&f, "web-3", "FailedScheduling", 5000);
  CHECK_STR(msg, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "
                 "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming "
                 "pod.");
  free(msg);
  /* Deleting a replica frees a node: the pending one takes it. */
  k8c_err err = {0};
  json_t *now = json_of("{\"gracePeriodSeconds\":0}");
  CHECK_INT(client_delete(f.client, res("pods"), "default", "web-1", now, NULL, NULL, &err), 0);
  json_decref(now);
  k8c_err_clear(&err);
  char *node = wait_bound(&f, "web-3", 5000);
  CHECK(node != NULL);
  free(node);
  scheduler_stop(s);
  client_fixture_close(&f);
}

TEST(priority_class_resolves_priority)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  json_t *pc = json_of("{\"metadata\":{\"name\":\"high\"},\"value\":1000}");
  k8c_err err = {0};
  CHECK_INT(client_create(f.client, api_resource_find("scheduling.k8s.io", "v1", "priorityclasses"),
                          "", pc, NULL, NULL, &err),
            0);
  k8c_err_clear(&err);
  json_decref(pc);
  create_node(&f, "node-1", "a", "1", NULL);
  /* Both want the whole node and are pending when the scheduler starts: the one whose
   * PriorityClass resolves to 1000 is taken first although it was created last. */
  const char *want1 = "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":"
                      "{\"requests\":{\"cpu\":\"1\"}}}]";
  create_pod(&f, "low", NULL, want1);
  char hi[512];
  snprintf(hi, sizeof hi, "%s,\"priorityClassName\":\"high\"", want1);
  create_pod(&f, "high", NULL, hi);
  struct scheduler *s = start(&f);
  char *node = wait_bound(&f, "high", 5000);
  CHECK_STR(node, "node-1");
  free(node);
  char *m = wait_event(&f, "low", "FailedScheduling", 5000);
  CHECK(m != NULL);
  free(m);
  node = wait_bound(&f, "low", 200);
  CHECK(node == NULL);
  free(node);
  scheduler_stop(s);
  client_fixture_close(&f);
}

static const struct api_resource *
pcs(void)
{
  return api_resource_find("scheduling.k8s.io", "v1", "priorityclasses");
}

static void
create_class(struct client_fixture *f, const char *text)
{
  json_t *pc = json_of(text);
  k8c_err err = {0};
  CHECK_INT(client_create(f->client, pcs(), "", pc, NULL, NULL, &err), 0);
  k8c_err_clear(&err);
  json_decref(pc);
}

static json_t *
get_pod(struct client_fixture *f, const char *name)
{
  json_t *p = NULL;
  k8c_err err = {0};
  client_get(f->client, res("pods"), "default", name, &p, &err);
  k8c_err_clear(&err);
  return p;
}

TEST(priority_admission_resolves_classes)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_pod(&f, "plain", NULL, NULL);
  json_t *p = get_pod(&f, "plain");
  CHECK_JSON(json_object_get(json_object_get(p, "spec"), "priority"), "0");
  CHECK_JSON(json_object_get(json_object_get(p, "spec"), "preemptionPolicy"),
             "\"PreemptLowerPriority\"");
  CHECK(json_object_get(json_object_get(p, "spec"), "priorityClassName") == NULL);
  json_decref(p);
  create_class(&f, "{\"metadata\":{\"name\":\"dflt\"},\"value\":7,\"globalDefault\":true,"
                   "\"preemptionPolicy\":\"Never\"}");
  create_pod(&f, "defaulted", NULL, NULL);
  p = get_pod(&f, "defaulted");
  CHECK_JSON(json_object_get(p, "spec") ? json_object_get(json_object_get(p, "spec"), "priority")
                                        : NULL,
             "7");
  CHECK_JSON(json_object_get(json_object_get(p, "spec"), "priorityClassName"), "\"dflt\"");
  CHECK_JSON(json_object_get(json_object_get(p, "spec"), "preemptionPolicy"), "\"Never\"");
  json_decref(p);
  create_pod(&f, "critical", NULL, "\"priorityClassName\":\"system-node-critical\"");
  p = get_pod(&f, "critical");
  CHECK_JSON(json_object_get(json_object_get(p, "spec"), "priority"), "2000001000");
  json_decref(p);
  /* Unknown class, or a priority that disagrees with the class: 403 as upstream. */
  json_t *bad = json_of("{\"metadata\":{\"name\":\"bad\"},\"spec\":{\"priorityClassName\":"
                        "\"nope\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
  k8c_err err = {0};
  CHECK_INT(client_create(f.client, res("pods"), "default", bad, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 403);
  CHECK_STR(err.message, "pods \"bad\" is forbidden: no PriorityClass with name nope was found");
  k8c_err_clear(&err);
  json_decref(bad);
  bad = json_of("{\"metadata\":{\"name\":\"bad2\"},\"spec\":{\"priority\":5,\"containers\":"
                "[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
  CHECK_INT(client_create(f.client, res("pods"), "default", bad, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 403);
  CHECK_STR(err.message, "pods \"bad2\" is forbidden: the integer value of priority (5) must not "
                         "be provided in pod spec; priority admission controller computed 7 from "
                         "the given PriorityClass name");
  k8c_err_clear(&err);
  json_decref(bad);
  client_fixture_close(&f);
}

TEST(preemption_evicts_lower_priority_and_nominates)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_class(&f, "{\"metadata\":{\"name\":\"high\"},\"value\":1000}");
  create_node(&f, "node-1", "a", "1", NULL);
  struct scheduler *s = start(&f);
  const char *want1 = "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":"
                      "{\"requests\":{\"cpu\":\"1\"}}}]";
  create_pod(&f, "victim", NULL, want1);
  char *node = wait_bound(&f, "victim", 5000);
  CHECK_STR(node, "node-1");
  free(node);
  char hi[512];
  snprintf(hi, sizeof hi, "%s,\"priorityClassName\":\"high\"", want1);
  create_pod(&f, "vip", NULL, hi);
  char *msg = wait_event(&f, "victim", "Preempted", 5000);
  CHECK(msg && strncmp(msg, "Preempted by pod ", 17) == 0 && strstr(msg, " on node node-1"));
  free(msg);
  /* The victim is terminating (no kubelet here to finish it) with DisruptionTarget. */
  json_t *v = get_pod(&f, "victim");
  CHECK(json_object_get(json_object_get(v, "metadata"), "deletionTimestamp") != NULL);
  bool disruption = false;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(v, "status"), "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *reason = json_string_value(json_object_get(c, "reason"));
    if (type && strcmp(type, "DisruptionTarget") == 0 && reason &&
        strcmp(reason, "PreemptionByScheduler") == 0)
      disruption = true;
  }
  CHECK(disruption);
  json_decref(v);
  const char *nominated = NULL;
  json_t *p = NULL;
  for (int k = 0; k < 250 && nominated == NULL; k++) {
    json_decref(p);
    p = get_pod(&f, "vip");
    nominated =
        json_string_value(json_object_get(json_object_get(p, "status"), "nominatedNodeName"));
    if (nominated == NULL)
      usleep(20000);
  }
  CHECK_STR(nominated, "node-1");
  json_decref(p);
  /* A lower-priority newcomer must not take the space being freed for vip. */
  create_pod(&f, "late", NULL, want1);
  /* The victim goes away: vip is bound where it was nominated, late stays pending. */
  k8c_err err = {0};
  json_t *now = json_of("{\"gracePeriodSeconds\":0}");
  CHECK_INT(client_delete(f.client, res("pods"), "default", "victim", now, NULL, NULL, &err), 0);
  json_decref(now);
  k8c_err_clear(&err);
  node = wait_bound(&f, "vip", 5000);
  CHECK_STR(node, "node-1");
  free(node);
  node = wait_bound(&f, "late", 300);
  CHECK(node == NULL);
  free(node);
  scheduler_stop(s);
  client_fixture_close(&f);
}

TEST(throughput_micro_benchmark)
{
  /* 1,000 pods (a third with zone spread, a third with hostname anti-affinity by group)
   * on 500 nodes, create to bound through the in-process API. Prints figures only. */
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  const int nodes = 500, pods = 1000;
  for (int i = 0; i < nodes; i++) {
    char name[32], zone[16];
    snprintf(name, sizeof name, "node-%d", i);
    snprintf(zone, sizeof zone, "zone-%d", i % 3);
    create_node(&f, name, zone, "8", NULL);
  }
  struct scheduler *s = start(&f);
  long long t0 = fixture_now_ms();
  for (int i = 0; i < pods; i++) {
    char name[32], labels[64], extra[1024] = "";
    snprintf(name, sizeof name, "bench-%d", i);
    snprintf(labels, sizeof labels, "{\"app\":\"g%d\"}", i % 20);
    if (i % 3 == 1)
      snprintf(extra, sizeof extra,
               "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
               "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"DoNotSchedule\","
               "\"labelSelector\":{\"matchLabels\":{\"app\":\"g%d\"}}}]",
               i % 20);
    else if (i % 3 == 2)
      snprintf(extra, sizeof extra,
               "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuring"
               "Execution\":[{\"labelSelector\":{\"matchLabels\":{\"app\":\"g%d\"}},"
               "\"topologyKey\":\"kubernetes.io/hostname\"}]}}",
               i % 20);
    create_pod(&f, name, labels, extra[0] ? extra : NULL);
  }
  long long created = fixture_now_ms();
  struct scheduler_stats st = {0};
  long long deadline = created + 20000;
  do {
    scheduler_get_stats(s, &st);
    if (st.scheduled >= (unsigned long long)pods)
      break;
    usleep(5000);
  } while (fixture_now_ms() < deadline);
  long long done = fixture_now_ms();
  CHECK_INT(st.scheduled, pods);
  double secs = (double)(done - t0) / 1000.0;
  printf("bench: %d pods on %d nodes: created in %lld ms, all bound after %lld ms: %.0f pods/s "
         "end to end; cycle p50 %.3f ms p99 %.3f ms; queue-to-bound p50 %.1f ms p99 %.1f ms; "
         "%llu attempts, %llu unschedulable, %llu bind errors\n",
         pods, nodes, created - t0, done - t0, pods / secs, st.cycle_p50_ms, st.cycle_p99_ms,
         st.e2e_p50_ms, st.e2e_p99_ms, st.attempts, st.unschedulable, st.bind_errors);
  scheduler_stop(s);
  client_fixture_close(&f);
}

TEST_MAIN()
