/* scheduler_helpers.h — builds a scheduler cache from JSON nodes and pods and
 * runs single scheduling cycles against it, for the framework and plugin tests. */
#ifndef K8C_TESTS_SCHEDULER_HELPERS_H
#define K8C_TESTS_SCHEDULER_HELPERS_H

#include "lib/mem.h"
#include "scheduler/framework.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>

static inline json_t *
sched_json(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL) {
    fprintf(stderr, "bad JSON in test: %s: %s\n", jerr.text, text);
    abort();
  }
  return j;
}

/* A node with cpu (e.g. "4"), memory ("8Gi"), 110 pods, hostname and zone labels plus
 * extra_labels (JSON object text or NULL) and taints (JSON array text or NULL). */
static inline void
add_node(struct sched_cache *c, const char *name, const char *zone, const char *cpu,
         const char *mem, const char *extra_labels, const char *taints)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\","
           "\"topology.kubernetes.io/zone\":\"%s\"}},\"spec\":{\"taints\":%s},"
           "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"}}}",
           name, name, zone, taints ? taints : "[]", cpu, mem);
  json_t *n = sched_json(text);
  if (extra_labels) {
    json_t *extra = sched_json(extra_labels);
    json_object_update(json_object_get(json_object_get(n, "metadata"), "labels"), extra);
    json_decref(extra);
  }
  sched_cache_upsert_node(c, n);
  json_decref(n);
}

/* A pod "default/name" with labels (JSON object text or NULL) and spec (JSON text). */
static inline struct pod_info *
make_pod(const char *name, const char *labels, const char *spec)
{
  char text[8192];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"u-%s\","
           "\"labels\":%s},\"spec\":%s}",
           name, name, labels ? labels : "{}", spec);
  json_t *p = sched_json(text);
  struct pod_info *pi = pod_info_new(p);
  json_decref(p);
  return pi;
}

/* One cycle; returns the chosen node's name (static buffer) or "" with *message set
 * (caller frees) on failure. A chosen pod is assumed onto its node, as the scheduler
 * does. */
static inline const char *
schedule(struct sched_framework *fw, struct sched_cache *c, struct pod_info *pi, char **message)
{
  static char chosen[128];
  struct sched_result res;
  sched_schedule_one(fw, c, pi, &res);
  if (message)
    *message = res.message;
  else
    free(res.message);
  if (res.node == NULL)
    return "";
  snprintf(chosen, sizeof chosen, "%s", res.node->name);
  sched_cache_add_pod(c, pi, chosen, true);
  return chosen;
}

/* Schedules a pod built from (name, labels, spec) and drops the caller's reference. */
static inline const char *
schedule_new(struct sched_framework *fw, struct sched_cache *c, const char *name,
             const char *labels, const char *spec, char **message)
{
  struct pod_info *pi = make_pod(name, labels, spec);
  const char *node = schedule(fw, c, pi, message);
  pod_info_unref(pi);
  return node;
}

static inline struct sched_framework
test_framework(void)
{
  struct sched_framework fw = {.plugins = sched_default_plugins, .rng = 42};
  return fw;
}

#define C1 "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]}"

#endif
