/* scheduler_preemption_test.c — DefaultPreemption on hand-built clusters (no API): only
 * lower-priority pods are victims, as few as needed, the node upstream would pick (fewest
 * PDB violations, lowest top victim priority, smallest priority sum, fewest victims),
 * preemptionPolicy Never, the "preemption: ..." message, and the cache left untouched. */
#include "scheduler/preemption.h"
#include "scheduler_helpers.h"

#include <string.h>

/* A pod requesting cpu with a priority, bound to node. */
static void
bind_pod(struct sched_cache *c, const char *name, const char *node, const char *cpu, int prio,
         const char *labels)
{
  char spec[512];
  snprintf(spec, sizeof spec,
           "{\"priority\":%d,\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
           "{\"cpu\":\"%s\"}}}]}",
           prio, cpu);
  struct pod_info *pi = make_pod(name, labels, spec);
  sched_cache_add_pod(c, pi, node, false);
  pod_info_unref(pi);
}

/* Runs one cycle for a pod wanting cpu at priority prio; returns the result (caller
 * clears it with result_clear). */
static struct sched_result
attempt(struct sched_framework *fw, struct sched_cache *c, const char *cpu, int prio,
        const char *extra)
{
  char spec[512];
  snprintf(spec, sizeof spec,
           "{\"priority\":%d%s,\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
           "{\"cpu\":\"%s\"}}}]}",
           prio, extra ? extra : "", cpu);
  struct pod_info *pi = make_pod("preemptor", NULL, spec);
  struct sched_result res;
  sched_schedule_one(fw, c, pi, &res);
  pod_info_unref(pi);
  return res;
}

static void
result_clear(struct sched_result *r)
{
  for (size_t i = 0; i < r->nvictims; i++)
    pod_info_unref(r->victims[i]);
  free(r->victims);
  free(r->message);
}

static bool
has_victim(const struct sched_result *r, const char *name)
{
  for (size_t i = 0; i < r->nvictims; i++)
    if (strcmp(r->victims[i]->name, name) == 0)
      return true;
  return false;
}

TEST(lowest_priority_node_and_fewest_victims)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-a", "z", "2", "4Gi", NULL, NULL);
  add_node(c, "node-b", "z", "2", "4Gi", NULL, NULL);
  bind_pod(c, "a0", "node-a", "1", 0, NULL);
  bind_pod(c, "a1", "node-a", "1", 10, NULL);
  bind_pod(c, "b0", "node-b", "1", 50, NULL);
  bind_pod(c, "b1", "node-b", "1", 50, NULL);
  int64_t before = sched_cache_node(c, "node-a")->requested.milli_cpu;
  struct sched_result r = attempt(&fw, c, "1", 100, NULL);
  CHECK(r.node == NULL);
  CHECK(r.nominated != NULL);
  if (r.nominated)
    CHECK_STR(r.nominated->name, "node-a"); /* its top victim has priority 0, not 50 */
  CHECK_INT(r.nvictims, 1);
  CHECK(has_victim(&r, "a0")); /* a1 (priority 10) is reprieved */
  /* A successful preemption adds nothing after the filter reasons. */
  CHECK_STR(r.message, "0/2 nodes are available: 2 Insufficient cpu.");
  /* The dry run left the cache as it was. */
  CHECK_INT(sched_cache_node(c, "node-a")->requested.milli_cpu, before);
  CHECK_INT(sched_cache_node(c, "node-a")->npods, 2);
  result_clear(&r);
  sched_cache_free(c);
}

TEST(smallest_priority_sum_then_pdb_violations)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-a", "z", "2", "4Gi", NULL, NULL);
  add_node(c, "node-b", "z", "2", "4Gi", NULL, NULL);
  bind_pod(c, "a0", "node-a", "1", 0, NULL);
  bind_pod(c, "a1", "node-a", "1", 0, NULL);
  bind_pod(c, "b0", "node-b", "2", 0, "{\"app\":\"db\"}");
  struct sched_result r = attempt(&fw, c, "2", 100, NULL);
  CHECK(r.nominated && strcmp(r.nominated->name, "node-b") == 0); /* one victim, smaller sum */
  CHECK_INT(r.nvictims, 1);
  result_clear(&r);
  /* A PDB that allows no disruption of app=db: node-a is taken, with two victims. */
  struct sched_pdb pdb = {.ns = "default", .disruptions_allowed = 0};
  json_t *sel = sched_json("{\"matchLabels\":{\"app\":\"db\"}}");
  pdb.sel = label_selector_from_json(sel, NULL);
  json_decref(sel);
  fw.pdbs = &pdb;
  fw.npdbs = 1;
  r = attempt(&fw, c, "2", 100, NULL);
  CHECK(r.nominated && strcmp(r.nominated->name, "node-a") == 0);
  CHECK_INT(r.nvictims, 2);
  CHECK(has_victim(&r, "a0") && has_victim(&r, "a1"));
  result_clear(&r);
  /* With a budget of one the PDB no longer stands in the way. */
  pdb.disruptions_allowed = 1;
  r = attempt(&fw, c, "2", 100, NULL);
  CHECK(r.nominated && strcmp(r.nominated->name, "node-b") == 0);
  result_clear(&r);
  label_selector_free(pdb.sel);
  sched_cache_free(c);
}

TEST(no_victims_never_policy_and_messages)
{
  struct sched_cache *c = sched_cache_new();
  struct sched_framework fw = test_framework();
  add_node(c, "node-a", "z", "2", "4Gi", NULL, NULL);
  add_node(c, "node-b", "z", "2", "4Gi", NULL, NULL);
  add_node(c, "node-c", "z", "1", "4Gi", NULL,
           "[{\"key\":\"k\",\"value\":\"v\",\"effect\":"
           "\"NoSchedule\"}]");
  bind_pod(c, "a0", "node-a", "2", 200, NULL); /* more important than the preemptor */
  bind_pod(c, "b0", "node-b", "1", 0, NULL);   /* evicting it still leaves too little */
  bind_pod(c, "b1", "node-b", "1", 500, NULL);
  struct sched_result r = attempt(&fw, c, "2", 100, NULL);
  CHECK(r.nominated == NULL);
  CHECK_STR(r.message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient "
            "cpu. preemption: 0/3 nodes are available: 1 Insufficient cpu, 1 No preemption "
            "victims found for incoming pod, 1 Preemption is not helpful for scheduling.");
  result_clear(&r);
  /* preemptionPolicy Never: not even tried, although evicting b0 would do for 1 cpu. */
  r = attempt(&fw, c, "1", 100, ",\"preemptionPolicy\":\"Never\"");
  CHECK(r.nominated == NULL);
  CHECK_STR(r.message, "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 "
                       "Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.");
  result_clear(&r);
  r = attempt(&fw, c, "1", 100, NULL);
  CHECK(r.nominated && strcmp(r.nominated->name, "node-b") == 0);
  CHECK_INT(r.nvictims, 1);
  CHECK(has_victim(&r, "b0"));
  result_clear(&r);
  sched_cache_free(c);
}

TEST(pdb_selection_rules)
{
  struct pod_info *pi = make_pod("x", "{\"app\":\"db\"}", "{\"containers\":[]}");
  struct sched_pdb pdb = {.ns = "default"};
  json_t *sel = sched_json("{\"matchLabels\":{\"app\":\"db\"}}");
  pdb.sel = label_selector_from_json(sel, NULL);
  CHECK(sched_pdb_selects(&pdb, pi));
  pdb.ns = "other";
  CHECK(!sched_pdb_selects(&pdb, pi));
  label_selector_free(pdb.sel);
  json_decref(sel);
  /* An empty selector selects nothing (upstream's preemption rule). */
  sel = sched_json("{}");
  pdb.sel = label_selector_from_json(sel, NULL);
  pdb.ns = "default";
  CHECK(!sched_pdb_selects(&pdb, pi));
  label_selector_free(pdb.sel);
  json_decref(sel);
  pod_info_unref(pi);
}

TEST_MAIN()
