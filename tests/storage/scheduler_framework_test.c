/* scheduler_framework_test.c — the scheduling framework and its filter plugins on small
 * hand-built clusters (no API): requests with init containers and overhead, node name,
 * cordons, taints and tolerations, node selectors and affinity, host ports, inter-pod
 * (anti-)affinity, topology spread with minDomains and nodeAffinityPolicy, and the
 * FailedScheduling message text worded as upstream's. */
#include "scheduler/plugins/plugins.h"
#include "scheduler_helpers.h"

#include <string.h>

#define ZONE_SPREAD(skew, when)                                                                    \
  "\"topologySpreadConstraints\":[{\"maxSkew\":" #skew ",\"topologyKey\":"                         \
  "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"" when "\",\"labelSelector\":"          \
  "{\"matchLabels\":{\"app\":\"api\"}}}]"

TEST(requests_follow_init_container_and_overhead_rules)
{
  struct pod_info *pi = make_pod(
      "p", NULL,
      "{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\","
      "\"memory\":\"64Mi\"}}},{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"200m\"}}}],"
      "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1\","
      "\"memory\":\"16Mi\"}}}],\"overhead\":{\"cpu\":\"50m\",\"memory\":\"1Mi\"}}");
  CHECK_INT(pi->req.milli_cpu, 1050);                /* max(300m, 1) + 50m */
  CHECK_INT(pi->req.memory, (64 + 1) * 1024 * 1024); /* max(64Mi, 16Mi) + 1Mi */
  /* Scoring counts b's missing memory request as 200Mi. */
  CHECK_INT(pi->nonzero.memory, (64 + 200 + 1) * 1024LL * 1024);
  pod_info_unref(pi);
  /* A sidecar (restartable init container) adds to the sum and to later init steps. */
  pi = make_pod("q", NULL,
                "{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}],"
                "\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\",\"resources\":"
                "{\"requests\":{\"cpu\":\"500m\"}}},{\"name\":\"i\",\"resources\":{\"requests\":"
                "{\"cpu\":\"2\"}}}]}");
  CHECK_INT(pi->req.milli_cpu, 2500); /* max(1 + 0.5, 2 + 0.5) */
  pod_info_unref(pi);
}

TEST(resources_fit_and_insufficient_message)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "1", "1Gi", NULL, NULL);
  add_node(c, "node-2", "a", "4", "1Gi", NULL, NULL);
  add_node(c, "node-3", "a", "1", "1Gi", NULL, NULL);
  char spec[512];
  snprintf(spec, sizeof spec, C1, "2");
  CHECK_STR(schedule_new(&fw, c, "p1", NULL, spec, NULL), "node-2");
  CHECK_STR(schedule_new(&fw, c, "p2", NULL, spec, NULL), "node-2");
  char *msg = NULL;
  /* node-2 is full now (preemption might help there), the others are too small. */
  CHECK_STR(schedule_new(&fw, c, "p3", NULL, spec, &msg), "");
  CHECK_STR(msg, "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
                 "available: 1 No preemption victims found for incoming pod, 2 Preemption is not "
                 "helpful for scheduling.");
  free(msg);
  sched_cache_free(c);
}

TEST(failed_scheduling_message_as_upstream)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "8", "8Gi", NULL,
           "[{\"key\":\"key\",\"value\":\"value\",\"effect\":\"NoSchedule\"}]");
  add_node(c, "node-2", "b", "1", "8Gi", NULL, NULL);
  add_node(c, "node-3", "c", "1", "8Gi", NULL, NULL);
  char spec[512], *msg = NULL;
  snprintf(spec, sizeof spec, C1, "2");
  CHECK_STR(schedule_new(&fw, c, "p", NULL, spec, &msg), "");
  CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 "
                 "Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not "
                 "helpful for scheduling.");
  free(msg);
  /* Too many pods, memory, and preemptionPolicy Never. */
  add_node(c, "node-4", "c", "1", "8Gi", NULL, NULL);
  CHECK_STR(schedule_new(&fw, c, "q", NULL,
                         "{\"preemptionPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                         "\"resources\":{\"requests\":{\"memory\":\"9Gi\"}}}],"
                         "\"tolerations\":[{\"operator\":\"Exists\"}]}",
                         &msg),
            "");
  CHECK_STR(msg, "0/4 nodes are available: 4 Insufficient memory. preemption: not eligible due to "
                 "preemptionPolicy=Never.");
  free(msg);
  sched_cache_free(c);
}

TEST(node_name_and_unschedulable)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "4", "4Gi", NULL, NULL);
  add_node(c, "node-2", "a", "4", "4Gi", NULL, NULL);
  json_t *cordoned = sched_json("{\"metadata\":{\"name\":\"node-2\"},\"spec\":{\"unschedulable\":"
                                "true},\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":"
                                "\"4Gi\",\"pods\":\"110\"}}}");
  CHECK(sched_cache_upsert_node(c, cordoned));
  json_decref(cordoned);
  for (int i = 0; i < 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    CHECK_STR(schedule_new(&fw, c, name, NULL, "{\"containers\":[{\"name\":\"c\"}]}", NULL),
              "node-1");
  }
  CHECK_STR(
      schedule_new(&fw, c, "t", NULL,
                   "{\"containers\":[{\"name\":\"c\"}],\"nodeName\":\"node-2\",\"tolerations\":"
                   "[{\"key\":\"node.kubernetes.io/unschedulable\",\"operator\":\"Exists\","
                   "\"effect\":\"NoSchedule\"}]}",
                   NULL),
      "node-2");
  char *msg = NULL;
  CHECK_STR(schedule_new(&fw, c, "u", NULL,
                         "{\"containers\":[{\"name\":\"c\"}],\"nodeName\":\"node-2\"}", &msg),
            "");
  CHECK_STR(msg, "0/2 nodes are available: 1 node(s) didn't match the requested node name, 1 "
                 "node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is "
                 "not helpful for scheduling.");
  free(msg);
  sched_cache_free(c);
}

TEST(taints_and_tolerations)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "4", "4Gi", NULL,
           "[{\"key\":\"workload\",\"value\":\"batch\",\"effect\":\"NoSchedule\"}]");
  add_node(c, "node-2", "a", "4", "4Gi", NULL,
           "[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]");
  char *msg = NULL;
  CHECK_STR(schedule_new(&fw, c, "p", NULL, "{\"containers\":[{\"name\":\"c\"}]}", &msg), "");
  CHECK_STR(msg, "0/2 nodes are available: 1 node(s) had untolerated taint "
                 "{node.kubernetes.io/unreachable: }, 1 node(s) had untolerated taint {workload: "
                 "batch}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for "
                 "scheduling.");
  free(msg);
  /* Equal with the right value; a wrong value or effect does not tolerate. */
  CHECK_STR(
      schedule_new(&fw, c, "q", NULL,
                   "{\"containers\":[{\"name\":\"c\"}],\"tolerations\":[{\"key\":\"workload\","
                   "\"operator\":\"Equal\",\"value\":\"batch\",\"effect\":\"NoSchedule\"}]}",
                   NULL),
      "node-1");
  CHECK_STR(
      schedule_new(&fw, c, "r", NULL,
                   "{\"containers\":[{\"name\":\"c\"}],\"tolerations\":[{\"key\":\"workload\","
                   "\"value\":\"other\"},{\"key\":\"node.kubernetes.io/unreachable\","
                   "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]}",
                   NULL),
      "");
  /* An empty key with Exists tolerates everything. */
  CHECK_STR(schedule_new(&fw, c, "s", NULL,
                         "{\"containers\":[{\"name\":\"c\"}],\"nodeName\":\"node-2\","
                         "\"tolerations\":[{\"operator\":\"Exists\"}]}",
                         NULL),
            "node-2");
  sched_cache_free(c);
}

TEST(node_selector_and_required_affinity)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "4", "4Gi", "{\"disktype\":\"ssd\",\"cores\":\"8\"}", NULL);
  add_node(c, "node-2", "b", "4", "4Gi", "{\"disktype\":\"hdd\",\"cores\":\"32\"}", NULL);
  add_node(c, "node-3", "c", "4", "4Gi", NULL, NULL);
  const char *na =
      "{\"containers\":[{\"name\":\"c\"}],\"affinity\":{\"nodeAffinity\":{"
      "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[%s]}}}}";
  struct {
    const char *terms, *want;
  } cases[] = {
      {"{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"16\"]}]}",
       "node-2"},
      {"{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"16\"]}]}",
       "node-1"},
      {"{\"matchExpressions\":[{\"key\":\"disktype\",\"operator\":\"DoesNotExist\"}]}", "node-3"},
      {"{\"matchExpressions\":[{\"key\":\"disktype\",\"operator\":\"In\",\"values\":[\"hdd\"]}]}",
       "node-2"},
      {"{\"matchExpressions\":[{\"key\":\"disktype\",\"operator\":\"NotIn\",\"values\":[\"hdd\"]},"
       "{\"key\":\"disktype\",\"operator\":\"Exists\"}]}",
       "node-1"},
      {"{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"node-3\"]}]"
       "}",
       "node-3"},
      /* Terms are ORed; an empty term matches nothing. */
      {"{},{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"In\",\"values\":[\"32\"]}]}",
       "node-2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char spec[1024], name[16];
    snprintf(spec, sizeof spec, na, cases[i].terms);
    snprintf(name, sizeof name, "p%zu", i);
    CHECK_STR(schedule_new(&fw, c, name, NULL, spec, NULL), cases[i].want);
  }
  char *msg = NULL;
  CHECK_STR(
      schedule_new(&fw, c, "s", NULL,
                   "{\"containers\":[{\"name\":\"c\"}],\"nodeSelector\":{\"disktype\":\"nvme\"}}",
                   &msg),
      "");
  CHECK_STR(msg,
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
  free(msg);
  CHECK_STR(
      schedule_new(&fw, c, "t", NULL,
                   "{\"containers\":[{\"name\":\"c\"}],\"nodeSelector\":{\"disktype\":\"ssd\"}}",
                   NULL),
      "node-1");
  sched_cache_free(c);
}

TEST(host_ports)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "4", "4Gi", NULL, NULL);
  const char *spec = "{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,"
                     "\"hostPort\":8080}]}]}";
  CHECK_STR(schedule_new(&fw, c, "a", NULL, spec, NULL), "node-1");
  char *msg = NULL;
  CHECK_STR(schedule_new(&fw, c, "b", NULL, spec, &msg), "");
  CHECK_STR(msg, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod "
                 "ports. preemption: 0/1 nodes are available: 1 No preemption victims found for "
                 "incoming pod.");
  free(msg);
  /* Another protocol is free. */
  CHECK_STR(schedule_new(&fw, c, "u", NULL,
                         "{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,"
                         "\"hostPort\":8080,\"protocol\":\"UDP\"}]}]}",
                         NULL),
            "node-1");
  sched_cache_free(c);
}

#define ANTI_HOST                                                                                  \
  "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{"       \
  "\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"topologyKey\":"                         \
  "\"kubernetes.io/hostname\"}]}}"

TEST(pod_anti_affinity_one_per_node)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "4", "4Gi", NULL, NULL);
  add_node(c, "node-2", "b", "4", "4Gi", NULL, NULL);
  add_node(c, "node-3", "c", "4", "4Gi", NULL, NULL);
  const char *spec = "{\"containers\":[{\"name\":\"c\"}]," ANTI_HOST "}";
  const char *seen[3];
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "web-%d", i);
    seen[i] = xstrdup(schedule_new(&fw, c, name, "{\"app\":\"web\"}", spec, NULL));
  }
  CHECK(strcmp(seen[0], seen[1]) && strcmp(seen[1], seen[2]) && strcmp(seen[0], seen[2]));
  CHECK(seen[0][0] && seen[1][0] && seen[2][0]);
  for (int i = 0; i < 3; i++)
    free((char *)seen[i]);
  char *msg = NULL;
  CHECK_STR(schedule_new(&fw, c, "web-3", "{\"app\":\"web\"}", spec, &msg), "");
  CHECK_STR(msg, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "
                 "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming "
                 "pod.");
  free(msg);
  /* A pod without the constraint but with the label is kept away by the existing pods'
   * anti-affinity. */
  CHECK_STR(schedule_new(&fw, c, "plain", "{\"app\":\"web\"}",
                         "{\"containers\":[{\"name\":\"c\"}]}", &msg),
            "");
  CHECK_STR(msg, "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity "
                 "rules. preemption: 0/3 nodes are available: 3 No preemption victims found for "
                 "incoming pod.");
  free(msg);
  /* Other labels or another namespace are not affected. */
  CHECK(schedule_new(&fw, c, "other", "{\"app\":\"db\"}", "{\"containers\":[{\"name\":\"c\"}]}",
                     NULL)[0] != '\0');
  /* Removing a pod frees its node. */
  sched_cache_remove_pod(c, "default/web-1");
  CHECK(schedule_new(&fw, c, "web-4", "{\"app\":\"web\"}", spec, NULL)[0] != '\0');
  sched_cache_free(c);
}

TEST(pod_affinity_zone)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "4", "4Gi", NULL, NULL);
  add_node(c, "node-2", "b", "4", "4Gi", NULL, NULL);
  add_node(c, "node-3", "b", "4", "4Gi", NULL, NULL);
  add_node(c, "node-4", "c", "4", "4Gi", NULL, NULL);
  const char *spec = "{\"containers\":[{\"name\":\"c\"}],\"affinity\":{\"podAffinity\":{"
                     "\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":"
                     "{\"matchLabels\":{\"app\":\"db\"}},\"topologyKey\":"
                     "\"topology.kubernetes.io/zone\"}]}}}";
  char *msg = NULL;
  /* No db pod anywhere and the pod is not db itself: nothing fits. */
  CHECK_STR(schedule_new(&fw, c, "app-0", "{\"app\":\"web\"}", spec, &msg), "");
  CHECK_STR(msg,
            "0/4 nodes are available: 4 node(s) didn't match pod affinity rules. "
            "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.");
  free(msg);
  /* The first pod of a self-affine group may go anywhere. */
  CHECK(schedule_new(&fw, c, "db-0", "{\"app\":\"db\"}", spec, NULL)[0] != '\0');
  sched_cache_remove_pod(c, "default/db-0");
  struct pod_info *db = make_pod("db-1", "{\"app\":\"db\"}", "{\"containers\":[{\"name\":\"c\"}]}");
  sched_cache_add_pod(c, db, "node-3", false);
  pod_info_unref(db);
  for (int i = 0; i < 6; i++) {
    char name[16];
    snprintf(name, sizeof name, "app-%d", i + 1);
    const char *node = schedule_new(&fw, c, name, "{\"app\":\"web\"}", spec, NULL);
    CHECK(strcmp(node, "node-2") == 0 || strcmp(node, "node-3") == 0);
  }
  sched_cache_free(c);
}

TEST(topology_spread_max_skew_and_min_domains)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-a1", "a", "8", "8Gi", NULL, NULL);
  add_node(c, "node-a2", "a", "8", "8Gi", NULL, NULL);
  add_node(c, "node-b1", "b", "8", "8Gi", NULL, NULL);
  add_node(c, "node-c1", "c", "1", "8Gi", NULL, NULL);
  const char *spec = "{\"containers\":[{\"name\":\"c\"}]," ZONE_SPREAD(1, "DoNotSchedule") "}";
  int per_zone[3] = {0};
  for (int i = 0; i < 9; i++) {
    char name[16];
    snprintf(name, sizeof name, "api-%d", i);
    const char *node = schedule_new(&fw, c, name, "{\"app\":\"api\"}", spec, NULL);
    CHECK(node[0] != '\0');
    per_zone[node[5] - 'a']++;
  }
  CHECK_INT(per_zone[0], 3);
  CHECK_INT(per_zone[1], 3);
  CHECK_INT(per_zone[2], 3);
  /* A node missing the zone label cannot take the pod. */
  json_t *bare =
      sched_json("{\"metadata\":{\"name\":\"bare\",\"labels\":{}},\"status\":{"
                 "\"allocatable\":{\"cpu\":\"4\",\"memory\":\"4Gi\",\"pods\":\"110\"}}}");
  sched_cache_upsert_node(c, bare);
  json_decref(bare);
  /* node-c1 has 1 cpu: 2-cpu pods go to a or b until those are one ahead of c. */
  char spec2[1024], *msg = NULL;
  snprintf(spec2, sizeof spec2,
           "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]"
           "," ZONE_SPREAD(1, "DoNotSchedule") "}");
  const char *first = schedule_new(&fw, c, "api-x", "{\"app\":\"api\"}", spec2, NULL);
  CHECK(strncmp(first, "node-a", 6) == 0 || strcmp(first, "node-b1") == 0);
  bool first_in_a = strncmp(first, "node-a", 6) == 0;
  const char *second = schedule_new(&fw, c, "api-y", "{\"app\":\"api\"}", spec2, NULL);
  CHECK(first_in_a ? strcmp(second, "node-b1") == 0 : strncmp(second, "node-a", 6) == 0);
  CHECK_STR(schedule_new(&fw, c, "api-z", "{\"app\":\"api\"}", spec2, &msg), "");
  CHECK_STR(msg, "0/5 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology "
                 "spread constraints (missing required label), 3 node(s) didn't match pod topology "
                 "spread constraints. preemption: 0/5 nodes are available: 2 Preemption is not "
                 "helpful for scheduling, 3 No preemption victims found for incoming pod.");
  free(msg);
  sched_cache_free(c);

  /* minDomains 3 with only two zones: the global minimum counts as 0. */
  c = sched_cache_new();
  add_node(c, "node-a1", "a", "8", "8Gi", NULL, NULL);
  add_node(c, "node-b1", "b", "8", "8Gi", NULL, NULL);
  const char *md = "{\"containers\":[{\"name\":\"c\"}],\"topologySpreadConstraints\":[{"
                   "\"maxSkew\":1,\"minDomains\":3,\"topologyKey\":\"topology.kubernetes.io/zone\","
                   "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":"
                   "{\"app\":\"api\"}}}]}";
  CHECK(schedule_new(&fw, c, "m0", "{\"app\":\"api\"}", md, NULL)[0] != '\0');
  CHECK(schedule_new(&fw, c, "m1", "{\"app\":\"api\"}", md, NULL)[0] != '\0');
  CHECK_STR(schedule_new(&fw, c, "m2", "{\"app\":\"api\"}", md, NULL), "");
  sched_cache_free(c);
}

TEST(topology_spread_node_affinity_policy)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-a", "a", "8", "8Gi", "{\"disktype\":\"ssd\"}", NULL);
  add_node(c, "node-b", "b", "8", "8Gi", "{\"disktype\":\"ssd\"}", NULL);
  add_node(c, "node-c", "c", "8", "8Gi", "{\"disktype\":\"hdd\"}", NULL);
  /* Honor (default): zone c does not match the selector, so it is not a domain and the
   * pods alternate between a and b. */
  const char *honor =
      "{\"containers\":[{\"name\":\"c\"}],\"nodeSelector\":{\"disktype\":\"ssd\"}," ZONE_SPREAD(
          1, "DoNotSchedule") "}";
  for (int i = 0; i < 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "h%d", i);
    CHECK(schedule_new(&fw, c, name, "{\"app\":\"api\"}", honor, NULL)[0] != '\0');
  }
  /* Ignore: zone c (0 pods) counts, so a and b (2 each) are too skewed. */
  const char *ignore = "{\"containers\":[{\"name\":\"c\"}],\"nodeSelector\":{\"disktype\":\"ssd\"},"
                       "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
                       "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"DoNotSchedule\","
                       "\"nodeAffinityPolicy\":\"Ignore\",\"labelSelector\":{\"matchLabels\":"
                       "{\"app\":\"api\"}}}]}";
  CHECK_STR(schedule_new(&fw, c, "i0", "{\"app\":\"api\"}", ignore, NULL), "");
  sched_cache_free(c);
}

TEST(seed_scheduling_fragment)
{
  /* The seed's fragment: nodeSelector disktype=ssd, one per hostname, tolerating
   * workload=batch:NoSchedule, zones spread with maxSkew 1. */
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  const char *batch = "[{\"key\":\"workload\",\"value\":\"batch\",\"effect\":\"NoSchedule\"}]";
  add_node(c, "n1", "a", "4", "8Gi", "{\"disktype\":\"ssd\"}", NULL);
  add_node(c, "n2", "a", "4", "8Gi", "{\"disktype\":\"ssd\"}", batch);
  add_node(c, "n3", "b", "4", "8Gi", "{\"disktype\":\"ssd\"}", NULL);
  add_node(c, "n4", "b", "4", "8Gi", "{\"disktype\":\"hdd\"}", NULL);
  add_node(c, "n5", "c", "4", "8Gi", "{\"disktype\":\"ssd\"}", batch);
  add_node(c, "n6", "c", "4", "8Gi", NULL, NULL);
  add_node(c, "n7", "b", "4", "8Gi", "{\"disktype\":\"ssd\"}",
           "[{\"key\":\"other\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]");
  const char *spec =
      "{\"containers\":[{\"name\":\"api\",\"resources\":{\"requests\":{\"cpu\":\"200m\","
      "\"memory\":\"256Mi\"}}}],\"nodeSelector\":{\"disktype\":\"ssd\"},\"affinity\":{"
      "\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":"
      "{\"matchLabels\":{\"app\":\"api\"}},\"topologyKey\":\"kubernetes.io/hostname\"}]}},"
      "\"tolerations\":[{\"key\":\"workload\",\"operator\":\"Equal\",\"value\":\"batch\","
      "\"effect\":\"NoSchedule\"}]," ZONE_SPREAD(1, "DoNotSchedule") "}";
  char placed[4][8];
  bool zone_used[3] = {false};
  for (int i = 0; i < 3; i++) { /* replicaCount 3: one per zone */
    char name[16];
    snprintf(name, sizeof name, "api-%d", i);
    snprintf(placed[i], sizeof placed[i], "%s",
             schedule_new(&fw, c, name, "{\"app\":\"api\"}", spec, NULL));
    struct node_info *n = sched_cache_node(c, placed[i]);
    CHECK(n != NULL);
    if (n == NULL)
      continue;
    const char *zone = node_label(n, "topology.kubernetes.io/zone");
    CHECK(!zone_used[zone[0] - 'a']);
    zone_used[zone[0] - 'a'] = true;
    CHECK(strcmp(placed[i], "n4") && strcmp(placed[i], "n6") && strcmp(placed[i], "n7"));
  }
  /* A fourth replica can only use the other ssd node of zone a. */
  const char *fourth = schedule_new(&fw, c, "api-3", "{\"app\":\"api\"}", spec, NULL);
  CHECK(strcmp(fourth, "n1") == 0 || strcmp(fourth, "n2") == 0);
  char *msg = NULL;
  CHECK_STR(schedule_new(&fw, c, "api-4", "{\"app\":\"api\"}", spec, &msg), "");
  CHECK_STR(msg, "0/7 nodes are available: 1 node(s) had untolerated taint {other: x}, 2 node(s) "
                 "didn't match Pod's node affinity/selector, 2 node(s) didn't match pod "
                 "anti-affinity rules, 2 node(s) didn't match pod topology spread constraints. "
                 "preemption: 0/7 nodes are available: 3 Preemption is not helpful for scheduling, "
                 "4 No preemption victims found for incoming pod.");
  free(msg);
  sched_cache_free(c);
}

TEST(no_nodes)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  char *msg = NULL;
  CHECK_STR(schedule_new(&fw, c, "p", NULL, "{\"containers\":[{\"name\":\"c\"}]}", &msg), "");
  CHECK_STR(msg, "no nodes available to schedule pods");
  free(msg);
  sched_cache_free(c);
}

TEST(nodes_to_find_as_upstream)
{
  CHECK_INT(sched_nodes_to_find(0, 50), 50);
  CHECK_INT(sched_nodes_to_find(0, 100), 100); /* 50 - 0 = 50% → 50, at least 100 */
  CHECK_INT(sched_nodes_to_find(0, 500), 230); /* 50 - 4 = 46% */
  CHECK_INT(sched_nodes_to_find(0, 1000), 420);
  CHECK_INT(sched_nodes_to_find(0, 5000), 500);   /* 10% */
  CHECK_INT(sched_nodes_to_find(0, 50000), 2500); /* floor 5% */
  CHECK_INT(sched_nodes_to_find(30, 1000), 300);
  CHECK_INT(sched_nodes_to_find(100, 1000), 1000);
}

/* The API's confirmation of an assumed pod (spec.nodeName set, a status) replaces it in
 * place: counted once; a confirmation that changed labels is re-accounted. */
TEST(assumed_pod_confirmed_counts_once)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-1", "a", "1", "4Gi", NULL, NULL);
  add_node(c, "node-2", "a", "1", "4Gi", NULL, NULL);
  const char *spec = "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
                     "{\"cpu\":\"600m\"}}}]," ANTI_HOST "}";
  struct pod_info *assumed = make_pod("web-0", "{\"app\":\"web\"}", spec);
  sched_cache_add_pod(c, assumed, "node-1", true);
  json_t *bound = json_deep_copy(assumed->obj);
  json_object_set_new(json_object_get(bound, "spec"), "nodeName", json_string("node-1"));
  json_object_set_new(bound, "status", sched_json("{\"phase\":\"Pending\"}"));
  struct pod_info *confirmed = pod_info_new(bound);
  json_decref(bound);
  sched_cache_add_pod(c, confirmed, "node-1", false);
  CHECK(!sched_cache_pod_assumed(c, "default/web-0"));
  struct node_info *n1 = sched_cache_node(c, "node-1");
  CHECK_INT(n1->npods, 1);
  CHECK(n1->pods[0] == confirmed);
  CHECK_INT(n1->requested.milli_cpu, 600);
  /* Its anti-affinity still holds node-1, and once only: node-2 takes the next. */
  CHECK_STR(schedule_new(&fw, c, "web-1", "{\"app\":\"web\"}", spec, NULL), "node-2");
  sched_cache_remove_pod(c, "default/web-1");
  /* A version with other labels is accounted afresh: the anti-affinity no longer
   * matches it, but its own term still repels app=web pods. */
  json_t *relabelled = json_deep_copy(confirmed->obj);
  json_object_set_new(json_object_get(relabelled, "metadata"), "labels",
                      sched_json("{\"app\":\"db\"}"));
  struct pod_info *pi3 = pod_info_new(relabelled);
  json_decref(relabelled);
  sched_cache_add_pod(c, pi3, "node-1", false);
  CHECK_INT(n1->npods, 1);
  CHECK_INT(n1->requested.milli_cpu, 600);
  const char *avoid_db = "{\"containers\":[{\"name\":\"c\"}],\"affinity\":{\"podAntiAffinity\":{"
                         "\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{"
                         "\"matchLabels\":{\"app\":\"db\"}},\"topologyKey\":\"kubernetes.io/"
                         "hostname\"}]}}}";
  for (int i = 0; i < 4; i++) /* node-1 now holds an app=db pod */
    CHECK_STR(schedule_new(&fw, c, "x", "{\"app\":\"x\"}", avoid_db, NULL), "node-2");
  sched_cache_remove_pod(c, "default/web-0");
  CHECK_INT(n1->requested.milli_cpu, 0);
  pod_info_unref(assumed);
  pod_info_unref(confirmed);
  pod_info_unref(pi3);
  sched_cache_free(c);
}

TEST_MAIN()
