/* simnode_pod_status.c — the status a kubelet reports for a pod that runs (or ran) on a
 * simulated node: phase, the five conditions, IPs, and a status per container with
 * containerIDs of the "sim://" runtime. Pure functions of the pod and an outcome, so the
 * worker can tell whether a write is needed at all. */
#include "agent/simnodes_internal.h"
#include "apimachinery/meta.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *
find_condition(const json_t *status, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(status, "conditions"), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t && strcmp(t, type) == 0)
      return c;
  }
  return NULL;
}

/* A condition; its lastTransitionTime stays as it was if the status did not change. */
static void
add_condition(json_t *conds, const json_t *old_status, const char *type, bool value,
              const char *reason, const char *message, const char *now)
{
  const char *status = value ? "True" : "False";
  const json_t *old = find_condition(old_status, type);
  const char *old_value = json_string_value(json_object_get(old, "status"));
  const char *since = json_string_value(json_object_get(old, "lastTransitionTime"));
  if (old_value == NULL || strcmp(old_value, status) != 0 || since == NULL)
    since = now;
  json_t *c = json_pack("{s:s,s:s,s:n,s:s}", "type", type, "status", status, "lastProbeTime",
                        "lastTransitionTime", since);
  if (reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (message)
    json_object_set_new(c, "message", json_string(message));
  json_array_append_new(conds, c);
}

static json_t *
container_status(const json_t *container, const char *pod_uid, const json_t *old_status,
                 const char *started_at, const char *now, bool init, const struct simpod_outcome *o)
{
  const char *name = json_string_value(json_object_get(container, "name"));
  const char *image = json_string_value(json_object_get(container, "image"));
  name = name ? name : "";
  image = image ? image : "";
  char *id = xasprintf("sim://%s/%s", pod_uid ? pod_uid : "", name);
  char *image_id = xasprintf("sim://%s", image);
  bool terminated = init || o->exited;
  int code = init ? 0 : o->exit_code;
  json_t *state;
  if (terminated) {
    /* Keep the first finishedAt a previous write reported. */
    const char *finished = NULL;
    size_t i;
    json_t *cs;
    const char *key = init ? "initContainerStatuses" : "containerStatuses";
    json_array_foreach (json_object_get(old_status, key), i, cs) {
      const char *n = json_string_value(json_object_get(cs, "name"));
      if (n && strcmp(n, name) == 0)
        finished = json_string_value(json_object_get(
            json_object_get(json_object_get(cs, "state"), "terminated"), "finishedAt"));
    }
    state = json_pack("{s:{s:i,s:s,s:s,s:s,s:s}}", "terminated", "exitCode", code, "reason",
                      code == 0 ? "Completed" : "Error", "startedAt", started_at, "finishedAt",
                      finished ? finished : now, "containerID", id);
  } else {
    state = json_pack("{s:{s:s}}", "running", "startedAt", started_at);
  }
  json_t *cs =
      json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:i,s:o,s:{}}", "name", name, "image", image, "imageID",
                image_id, "containerID", id, "ready", init ? true : (o->ready && !o->exited),
                "started", !terminated, "restartCount", 0, "state", state, "lastState");
  free(id);
  free(image_id);
  return cs;
}

/* "containers with unready status: [a b]" */
static char *
unready_message(const json_t *containers)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, "containers with unready status: [");
  size_t i;
  json_t *c;
  json_array_foreach (containers, i, c) {
    if (i)
      buf_puts(&b, " ");
    const char *name = json_string_value(json_object_get(c, "name"));
    buf_puts(&b, name ? name : "");
  }
  buf_puts(&b, "]");
  return buf_steal(&b, NULL);
}

json_t *
simpod_status(const json_t *pod, const struct simpod_outcome *o)
{
  const json_t *spec = json_object_get(pod, "spec");
  const json_t *old = json_object_get(pod, "status");
  char now[32];
  simnodes_rfc3339(time(NULL), now);
  const char *started = json_string_value(json_object_get(old, "startTime"));
  started = started ? started : now;

  json_t *status = json_object();
  const char *phase = !o->exited ? "Running" : o->exit_code == 0 ? "Succeeded" : "Failed";
  json_object_set_new(status, "phase", json_string(phase));
  json_t *conds = json_array();
  bool ready = o->ready && !o->exited;
  const char *why = o->exited ? "PodCompleted" : ready ? NULL : "ContainersNotReady";
  cleanup_free char *message =
      why && !o->exited ? unready_message(json_object_get(spec, "containers")) : NULL;
  add_condition(conds, old, "PodReadyToStartContainers", !o->exited, NULL, NULL, now);
  add_condition(conds, old, "Initialized", true, o->exited ? "PodCompleted" : NULL, NULL, now);
  add_condition(conds, old, "Ready", ready, why, message, now);
  add_condition(conds, old, "ContainersReady", ready, why, message, now);
  add_condition(conds, old, "PodScheduled", true, NULL, NULL, now);
  json_object_set_new(status, "conditions", conds);
  if (o->host_ip) {
    json_object_set_new(status, "hostIP", json_string(o->host_ip));
    json_object_set_new(status, "hostIPs", json_pack("[{s:s}]", "ip", o->host_ip));
  }
  if (o->pod_ip) {
    json_object_set_new(status, "podIP", json_string(o->pod_ip));
    json_object_set_new(status, "podIPs", json_pack("[{s:s}]", "ip", o->pod_ip));
  }
  json_object_set_new(status, "startTime", json_string(started));
  const char *uid = meta_uid(pod);
  const char *const lists[][2] = {{"initContainers", "initContainerStatuses"},
                                  {"containers", "containerStatuses"}};
  for (int l = 0; l < 2; l++) {
    json_t *containers = json_object_get(spec, lists[l][0]);
    if (json_array_size(containers) == 0)
      continue;
    json_t *statuses = json_array();
    size_t i;
    json_t *c;
    json_array_foreach (containers, i, c)
      json_array_append_new(statuses, container_status(c, uid, old, started, now, l == 0, o));
    json_object_set_new(status, lists[l][1], statuses);
  }
  json_t *qos = json_object_get(old, "qosClass");
  if (qos)
    json_object_set(status, "qosClass", qos);
  return status;
}

static bool
same_string(const json_t *a, const json_t *b, const char *key)
{
  const char *x = json_string_value(json_object_get(a, key));
  const char *y = json_string_value(json_object_get(b, key));
  return (x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0);
}

/* "running", "terminated", "waiting" or NULL. */
static const char *
state_of(const json_t *cs)
{
  const char *key;
  json_t *v;
  json_object_foreach ((json_t *)json_object_get(cs, "state"), key, v)
    return key;
  return NULL;
}

static bool
same_containers(const json_t *cur, const json_t *want)
{
  if (json_array_size(cur) != json_array_size(want))
    return false;
  for (size_t i = 0; i < json_array_size(want); i++) {
    const json_t *a = json_array_get(cur, i), *b = json_array_get(want, i);
    const char *sa = state_of(a), *sb = state_of(b);
    if (!same_string(a, b, "name") || !same_string(a, b, "image") ||
        json_is_true(json_object_get(a, "ready")) != json_is_true(json_object_get(b, "ready")) ||
        sa == NULL || sb == NULL || strcmp(sa, sb) != 0)
      return false;
  }
  return true;
}

bool
simpod_status_current(const json_t *pod, const json_t *desired)
{
  const json_t *cur = json_object_get(pod, "status");
  if (!same_string(cur, desired, "phase") || !same_string(cur, desired, "podIP") ||
      !same_string(cur, desired, "hostIP") || !same_string(cur, desired, "startTime"))
    return false;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(desired, "conditions"), i, c) {
    const json_t *now = find_condition(cur, json_string_value(json_object_get(c, "type")));
    if (now == NULL || !same_string(now, c, "status"))
      return false;
  }
  return same_containers(json_object_get(cur, "containerStatuses"),
                         json_object_get(desired, "containerStatuses")) &&
         same_containers(json_object_get(cur, "initContainerStatuses"),
                         json_object_get(desired, "initContainerStatuses"));
}

void
simpod_exit_plan(const json_t *pod, long long *exit_after_ms, int *exit_code)
{
  *exit_after_ms = -1;
  *exit_code = 0;
  const char *policy =
      json_string_value(json_object_get(json_object_get(pod, "spec"), "restartPolicy"));
  if (policy == NULL || strcmp(policy, "Always") == 0)
    return;
  const json_t *annotations = meta_annotations(pod);
  const char *after =
      json_string_value(json_object_get(annotations, SIMNODES_EXIT_AFTER_ANNOTATION));
  const char *code = json_string_value(json_object_get(annotations, SIMNODES_EXIT_CODE_ANNOTATION));
  char *end = NULL;
  long long ms = after ? strtoll(after, &end, 10) : -1;
  if (after == NULL || end == after || *end || ms < 0)
    return;
  *exit_after_ms = ms;
  if (code) {
    long c = strtol(code, &end, 10);
    if (end != code && *end == '\0' && c >= 0 && c <= 255)
      *exit_code = (int)c;
  }
}
