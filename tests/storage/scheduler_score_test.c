/* scheduler_score_test.c — the score plugins (raw scores and normalization as upstream)
 * and the choices they lead to, plus an algorithm-only throughput figure on 5,000 nodes
 * (printed, never asserted). */
#include "scheduler/plugins/plugins.h"
#include "scheduler_helpers.h"

#include <string.h>
#include <time.h>

static int64_t
raw_score(const struct sched_plugin *pl, struct sched_cache *c, struct pod_info *pi,
          const char *node)
{
  struct sched_cycle cy = {.cache = c, .pod = pi};
  return pl->score(&cy, NULL, sched_cache_node(c, node));
}

TEST(least_allocated_and_balanced_raw_scores)
{
  struct sched_cache *c = sched_cache_new();
  add_node(c, "n", "a", "4", "4Gi", NULL, NULL);
  struct pod_info *used = make_pod("used", NULL,
                                   "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
                                   "{\"cpu\":\"1\"}}}]}");
  sched_cache_add_pod(c, used, "n", false);
  pod_info_unref(used);
  struct pod_info *pi = make_pod("p", NULL,
                                 "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
                                 "{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}");
  /* LeastAllocated: cpu (4-2)/4 = 50; memory: used pod counts 200Mi by default,
   * (4096-1024-200)/4096 = 70 → (50 + 70) / 2 = 60. */
  CHECK_INT(raw_score(&plugin_node_resources_fit, c, pi, "n"), 60);
  /* Balanced: cpu 2/4 = 0.5, memory 1/4 = 0.25 → std 0.125 → 87. */
  CHECK_INT(raw_score(&plugin_node_resources_balanced_allocation, c, pi, "n"), 87);
  pod_info_unref(pi);
  sched_cache_free(c);
}

TEST(default_normalize)
{
  int64_t s[3] = {0, 5, 10};
  sched_default_normalize(s, 3, false);
  CHECK(s[0] == 0 && s[1] == 50 && s[2] == 100);
  int64_t r[3] = {0, 1, 2};
  sched_default_normalize(r, 3, true);
  CHECK(r[0] == 100 && r[1] == 50 && r[2] == 0);
  int64_t z[2] = {0, 0};
  sched_default_normalize(z, 2, true);
  CHECK(z[0] == 100 && z[1] == 100);
}

TEST(score_choices)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "busy", "a", "4", "4Gi", NULL, NULL);
  add_node(c, "idle", "b", "4", "4Gi", NULL, NULL);
  struct pod_info *used = make_pod("used", "{\"app\":\"cache\"}",
                                   "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
                                   "{\"cpu\":\"3\",\"memory\":\"3Gi\"}}}]}");
  sched_cache_add_pod(c, used, "busy", false);
  pod_info_unref(used);
  /* LeastAllocated: the idle node. */
  CHECK_STR(schedule_new(&fw, c, "p1", NULL, "{\"containers\":[{\"name\":\"c\"}]}", NULL), "idle");
  sched_cache_remove_pod(c, "default/p1");
  /* Preferred pod affinity to app=cache on the hostname outweighs resources. */
  CHECK_STR(schedule_new(&fw, c, "p2", NULL,
                         "{\"containers\":[{\"name\":\"c\"}],\"affinity\":{\"podAffinity\":{"
                         "\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":100,"
                         "\"podAffinityTerm\":{\"labelSelector\":{\"matchLabels\":{\"app\":"
                         "\"cache\"}},\"topologyKey\":\"kubernetes.io/hostname\"}}]}}}",
                         NULL),
            "busy");
  sched_cache_remove_pod(c, "default/p2");
  /* Preferred node affinity. */
  CHECK_STR(
      schedule_new(&fw, c, "p3", NULL,
                   "{\"containers\":[{\"name\":\"c\"}],\"affinity\":{\"nodeAffinity\":{"
                   "\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":80,"
                   "\"preference\":{\"matchExpressions\":[{\"key\":"
                   "\"topology.kubernetes.io/zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}}]}}}",
                   NULL),
      "busy");
  sched_cache_remove_pod(c, "default/p3");
  sched_cache_free(c);

  /* PreferNoSchedule taints are avoided; ScheduleAnyway spreads. */
  c = sched_cache_new();
  add_node(c, "a1", "a", "4", "4Gi", NULL,
           "[{\"key\":\"soft\",\"value\":\"x\",\"effect\":\"PreferNoSchedule\"}]");
  add_node(c, "b1", "b", "4", "4Gi", NULL, NULL);
  CHECK_STR(schedule_new(&fw, c, "t", NULL, "{\"containers\":[{\"name\":\"c\"}]}", NULL), "b1");
  sched_cache_remove_pod(c, "default/t");
  const char *soft =
      "{\"containers\":[{\"name\":\"c\"}],\"tolerations\":[{\"operator\":\"Exists\"}],"
      "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
      "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"ScheduleAnyway\","
      "\"labelSelector\":{\"matchLabels\":{\"app\":\"s\"}}}]}";
  int in_a = 0;
  for (int i = 0; i < 6; i++) {
    char name[16];
    snprintf(name, sizeof name, "s%d", i);
    in_a += strcmp(schedule_new(&fw, c, name, "{\"app\":\"s\"}", soft, NULL), "a1") == 0;
  }
  CHECK_INT(in_a, 3);
  sched_cache_free(c);
}

static double
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

TEST(algorithm_throughput_5000_nodes)
{
  /* The framework alone (no API): 10,000 pods (2,000 under ASan), a third with zone spread and a
   * third with hostname anti-affinity, onto 5,000 nodes. */
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  for (int i = 0; i < 5000; i++) {
    char name[32], zone[16];
    snprintf(name, sizeof name, "node-%d", i);
    snprintf(zone, sizeof zone, "zone-%d", i % 3);
    add_node(c, name, zone, "8", "16Gi", NULL, NULL);
  }
#if defined(__SANITIZE_ADDRESS__)
  int pods = 2000, bound = 0; /* sanitizers are ~7x slower: keep the binary fast */
#else
  int pods = 10000, bound = 0;
#endif
  double worst = 0;
  struct timespec t0, t1, a, b;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < pods; i++) {
    char name[32], labels[64], spec[1024];
    snprintf(name, sizeof name, "p-%d", i);
    snprintf(labels, sizeof labels, "{\"app\":\"g%d\"}", i % 50);
    if (i % 3 == 1)
      snprintf(spec, sizeof spec,
               "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}],"
               "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
               "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"DoNotSchedule\","
               "\"labelSelector\":{\"matchLabels\":{\"app\":\"g%d\"}}}]}",
               i % 50);
    else if (i % 3 == 2)
      snprintf(spec, sizeof spec,
               "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}],"
               "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuring"
               "Execution\":[{\"labelSelector\":{\"matchLabels\":{\"app\":\"g%d\"}},"
               "\"topologyKey\":\"kubernetes.io/hostname\"}]}}}",
               i % 50);
    else
      snprintf(
          spec, sizeof spec,
          "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}");
    struct pod_info *pi = make_pod(name, labels, spec);
    clock_gettime(CLOCK_MONOTONIC, &a);
    bound += schedule(&fw, c, pi, NULL)[0] != '\0';
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (elapsed_ms(&a, &b) > worst)
      worst = elapsed_ms(&a, &b);
    pod_info_unref(pi);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK_INT(bound, pods);
  double ms = elapsed_ms(&t0, &t1);
  printf("algorithm: %d pods on 5000 nodes in %.0f ms (incl. parsing): %.0f pods/s, worst cycle "
         "%.2f ms\n",
         pods, ms, pods / (ms / 1000), worst);
  sched_cache_free(c);
}

TEST_MAIN()
