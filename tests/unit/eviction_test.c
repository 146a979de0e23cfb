/* eviction_test.c — the pure half of memory-pressure eviction: --eviction-hard parsing,
 * upstream's ranking (above-request use, then priority, then use above request), the
 * message and the evicted pod's status. */
#include "kubelet/eviction.h"
#include "lib/mem.h"
#include "testlib.h"

#include <string.h>

#define MI (1024LL * 1024)

TEST(threshold_parse)
{
  struct eviction_threshold t;
  k8c_err err = {0};
  CHECK(eviction_threshold_parse(NULL, &t, &err) == 0);
  CHECK_INT(t.bytes, 100 * MI);
  CHECK(eviction_threshold_parse("memory.available<1Gi", &t, &err) == 0);
  CHECK_INT(t.bytes, 1024 * MI);
  CHECK(eviction_threshold_parse("nodefs.available<10%,memory.available=500Mi", &t, &err) == 0);
  CHECK_INT(t.bytes, 500 * MI);
  CHECK_INT(t.percent, 0);
  CHECK(eviction_threshold_parse("memory.available<25%", &t, &err) == 0);
  CHECK_INT(t.percent, 25);
  CHECK_INT(eviction_threshold_bytes(&t, 4000 * MI), 1000 * MI);
  char *text = eviction_threshold_text(&t, 4000 * MI);
  CHECK_STR(text, "1000Mi");
  free(text);
  CHECK(eviction_threshold_parse("memory.available<lots", &t, &err) < 0);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  CHECK(eviction_threshold_parse("memory.free<1Gi", &t, &err) < 0);
  CHECK(strstr(err.message, "memory.free") != NULL);
  k8c_err_clear(&err);
  CHECK(eviction_threshold_parse("memory.available", &t, &err) < 0);
  k8c_err_clear(&err);
  CHECK(eviction_threshold_parse("memory.available<101%", &t, &err) < 0);
  k8c_err_clear(&err);
}

TEST(rank_besteffort_then_burstable_then_guaranteed)
{
  /* a Guaranteed pod (use below its request) of low priority still goes last; a
   * Burstable pod above its request goes after the BestEffort one only when it uses
   * less above its request */
  struct eviction_candidate c[] = {
      {.id = "guaranteed", .usage = 50 * MI, .request = 100 * MI, .priority = -10},
      {.id = "burstable", .usage = 30 * MI, .request = 20 * MI},
      {.id = "besteffort", .usage = 40 * MI, .request = 0},
      {.id = "burstable-under", .usage = 10 * MI, .request = 20 * MI},
  };
  eviction_rank(c, 4);
  CHECK_STR(c[0].id, "besteffort");
  CHECK_STR(c[1].id, "burstable");
  /* both below their requests: lower priority first */
  CHECK_STR(c[2].id, "guaranteed");
  CHECK_STR(c[3].id, "burstable-under");
}

TEST(rank_priority_before_usage)
{
  struct eviction_candidate c[] = {
      {.id = "big-important", .usage = 900 * MI, .request = 0, .priority = 1000},
      {.id = "small", .usage = 1 * MI, .request = 0, .priority = 0},
      {.id = "medium", .usage = 10 * MI, .request = 0, .priority = 0},
  };
  eviction_rank(c, 3);
  CHECK_STR(c[0].id, "medium");
  CHECK_STR(c[1].id, "small");
  CHECK_STR(c[2].id, "big-important");
  /* an idle BestEffort pod (no use at all) does not exceed its request */
  struct eviction_candidate d[] = {
      {.id = "idle", .usage = 0, .request = 0},
      {.id = "busy-burstable", .usage = 2 * MI, .request = 1 * MI},
  };
  eviction_rank(d, 2);
  CHECK_STR(d[0].id, "busy-burstable");
}

TEST(message_as_upstream)
{
  struct eviction_container_usage cs[] = {
      {.name = "app", .usage = 2048 * 1024, .request = 0},
      {.name = "side", .usage = 1 * MI, .request = 10 * MI},
  };
  char *m = eviction_message("100Mi", 51200LL * 1024, cs, 2);
  CHECK_STR(m, "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
               "50Mi. Container app was using 2Mi, request is 0, has larger consumption of "
               "memory. ");
  free(m);
  m = eviction_message("1Gi", 12345LL * 1024, NULL, 0);
  CHECK_STR(m, "The node was low on resource: memory. Threshold quantity: 1Gi, available: "
               "12345Ki. ");
  free(m);
}

TEST(evicted_status)
{
  json_error_t jerr;
  json_t *old =
      json_loads("{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
                 "\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,\"started\":true,"
                 "\"state\":{\"running\":{\"startedAt\":\"2026-01-01T00:00:00Z\"}}}]}",
                 0, &jerr);
  CHECK(old != NULL);
  json_t *st = eviction_pod_status(old, "low", "2026-01-01T00:01:00Z");
  CHECK_JSON(st,
             "{\"phase\":\"Failed\",\"reason\":\"Evicted\",\"message\":\"low\","
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"lastProbeTime\":null,"
             "\"lastTransitionTime\":\"2026-01-01T00:01:00Z\",\"reason\":\"PodCompleted\"},"
             "{\"type\":\"DisruptionTarget\",\"status\":\"True\",\"lastProbeTime\":null,"
             "\"lastTransitionTime\":\"2026-01-01T00:01:00Z\",\"reason\":\"TerminationByKubelet\","
             "\"message\":\"low\"},"
             "{\"type\":\"ContainersReady\",\"status\":\"False\",\"lastProbeTime\":null,"
             "\"lastTransitionTime\":\"2026-01-01T00:01:00Z\",\"reason\":\"PodCompleted\"}],"
             "\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,\"started\":false,"
             "\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":\"Error\","
             "\"finishedAt\":\"2026-01-01T00:01:00Z\",\"startedAt\":\"2026-01-01T00:00:00Z\"}}}]}");
  json_decref(st);
  json_decref(old);
}

TEST_MAIN()
