/* podstatus.c — PodStatus from observed container states, as the kubelet reports it.
 * Conditions are rebuilt on every call and compared with the pod's current ones, so a
 * transition time only moves when a status really flips. */
#include "kubelet/podstatus.h"

#include "apimachinery/quantity.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <string.h>

/* ---------- phase ---------- */

static const char *
restart_policy(const json_t *pod)
{
  const char *p = json_string_value(json_object_get(json_object_get(pod, "spec"), "restartPolicy"));
  return p ? p : "Always";
}

/* A sidecar: an init container with restartPolicy Always. */
static bool
is_sidecar(const json_t *pod, const char *name)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "initContainers"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "name")) ?: "", name) == 0)
      return strcmp(json_string_value(json_object_get(c, "restartPolicy")) ?: "", "Always") == 0;
  }
  return false;
}

/* Init containers are done when each regular one terminated with 0 and each sidecar has
 * started. *failed is set when one failed for good (restartPolicy Never). */
static bool
init_done(const json_t *pod, const struct pod_observed *obs, bool *failed)
{
  *failed = false;
  for (size_t i = 0; i < obs->n_init; i++) {
    const struct container_observed *c = &obs->init[i];
    if (is_sidecar(pod, c->name)) {
      if (!(c->phase == CSTATE_RUNNING && c->started))
        return false;
      continue;
    }
    if (c->phase == CSTATE_TERMINATED && c->run.exit_code == 0)
      continue;
    bool crashed = c->phase == CSTATE_TERMINATED ||
                   (c->phase == CSTATE_WAITING && c->has_last && c->last.exit_code != 0);
    if (crashed && strcmp(restart_policy(pod), "Never") == 0)
      *failed = true;
    return false;
  }
  return true;
}

const char *
podstatus_phase(const json_t *pod, const struct pod_observed *obs)
{
  bool init_failed;
  bool pending_init = !init_done(pod, obs, &init_failed);
  if (init_failed)
    return "Failed";
  size_t running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (size_t i = 0; i < obs->n_containers; i++) {
    const struct container_observed *c = &obs->containers[i];
    switch (c->phase) {
    case CSTATE_RUNNING:
      running++;
      break;
    case CSTATE_TERMINATED:
      stopped++;
      if (c->run.exit_code == 0)
        succeeded++;
      break;
    case CSTATE_WAITING:
      /* Waiting to restart after a run counts as stopped, as upstream counts it. */
      if (c->has_last)
        stopped++;
      else
        waiting++;
      break;
    }
  }
  if (pending_init || waiting > 0)
    return "Pending";
  if (running > 0)
    return "Running";
  if (stopped == 0)
    return "Pending";
  const char *policy = restart_policy(pod);
  if (strcmp(policy, "Always") == 0)
    return "Running";
  if (stopped == succeeded)
    return "Succeeded";
  if (strcmp(policy, "Never") == 0)
    return "Failed";
  return "Running"; /* OnFailure, restarting the failed ones */
}

/* ---------- container statuses ---------- */

static json_t *
run_json(const struct container_run *r)
{
  json_t *t = json_pack("{s:i}", "exitCode", r->exit_code);
  if (r->signal)
    json_object_set_new(t, "signal", json_integer(r->signal));
  if (r->reason)
    json_object_set_new(t, "reason", json_string(r->reason));
  if (r->message)
    json_object_set_new(t, "message", json_string(r->message));
  if (r->started_at)
    json_object_set_new(t, "startedAt", json_string(r->started_at));
  if (r->finished_at)
    json_object_set_new(t, "finishedAt", json_string(r->finished_at));
  if (r->container_id)
    json_object_set_new(t, "containerID", json_string(r->container_id));
  return json_pack("{s:o}", "terminated", t);
}

static json_t *
container_status_json(const struct container_observed *c)
{
  json_t *state;
  switch (c->phase) {
  case CSTATE_RUNNING:
    state = json_pack("{s:{s:s}}", "running", "startedAt", c->started_at ? c->started_at : "");
    break;
  case CSTATE_TERMINATED:
    state = run_json(&c->run);
    break;
  default: {
    json_t *w = json_pack("{s:s}", "reason", c->reason ? c->reason : "ContainerCreating");
    if (c->message)
      json_object_set_new(w, "message", json_string(c->message));
    state = json_pack("{s:o}", "waiting", w);
    break;
  }
  }
  json_t *s =
      json_pack("{s:s,s:s,s:s,s:b,s:i,s:o,s:o,s:b}", "name", c->name, "image",
                c->image ? c->image : "", "imageID", c->image_id ? c->image_id : "", "ready",
                c->ready && c->phase == CSTATE_RUNNING, "restartCount", c->restart_count, "state",
                state, "lastState", c->has_last ? run_json(&c->last) : json_object(), "started",
                c->started && c->phase == CSTATE_RUNNING);
  if (c->container_id && c->container_id[0])
    json_object_set_new(s, "containerID", json_string(c->container_id));
  return s;
}

static json_t *
statuses_json(const struct container_observed *cs, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, container_status_json(&cs[i]));
  return a;
}

/* ---------- conditions ---------- */

/* "[a b]" of the names selected by pick, or NULL when none is. */
static char *
name_list(const struct container_observed *cs, size_t n, const json_t *pod,
          bool (*pick)(const json_t *pod, const struct container_observed *c))
{
  buf b = {0};
  for (size_t i = 0; i < n; i++) {
    if (!pick(pod, &cs[i]))
      continue;
    buf_puts(&b, b.len ? " " : "[");
    buf_puts(&b, cs[i].name);
  }
  if (b.len == 0) {
    buf_free(&b);
    return NULL;
  }
  buf_puts(&b, "]");
  return buf_steal(&b, NULL);
}

static bool
unready(const json_t *pod, const struct container_observed *c)
{
  return !(c->phase == CSTATE_RUNNING && c->ready);
}

static bool
unready_sidecar(const json_t *pod, const struct container_observed *c)
{
  return is_sidecar(pod, c->name) && unready(pod, c);
}

static bool
incomplete_init(const json_t *pod, const struct container_observed *c)
{
  if (is_sidecar(pod, c->name))
    return !(c->phase == CSTATE_RUNNING && c->started);
  return !(c->phase == CSTATE_TERMINATED && c->run.exit_code == 0);
}

static const json_t *
old_condition(const json_t *pod, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", type) == 0)
      return c;
  }
  return NULL;
}

static void
add_condition(json_t *conds, const json_t *pod, const char *now, const char *type, bool status,
              const char *reason, const char *message)
{
  const char *st = status ? "True" : "False";
  const json_t *old = old_condition(pod, type);
  const char *since = now;
  if (old && strcmp(json_string_value(json_object_get(old, "status")) ?: "", st) == 0 &&
      json_string_value(json_object_get(old, "lastTransitionTime")))
    since = json_string_value(json_object_get(old, "lastTransitionTime"));
  json_t *c = json_pack("{s:s,s:s,s:n,s:s}", "type", type, "status", st, "lastProbeTime",
                        "lastTransitionTime", since);
  if (reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (message)
    json_object_set_new(c, "message", json_string(message));
  json_array_append_new(conds, c);
}

/* The pod is terminal and was successful: its containers are no longer expected to be
 * ready, and upstream words the condition PodCompleted. */
static bool
completed(const char *phase)
{
  return strcmp(phase, "Succeeded") == 0;
}

static json_t *
conditions_json(const json_t *pod, const struct pod_observed *obs, const char *phase)
{
  json_t *conds = json_array();
  add_condition(conds, pod, obs->now, "PodReadyToStartContainers", obs->sandbox_ready, NULL, NULL);

  cleanup_free char *incomplete = name_list(obs->init, obs->n_init, pod, incomplete_init);
  bool initialized = incomplete == NULL || completed(phase);
  cleanup_free char *init_msg =
      initialized ? NULL : xasprintf("containers with incomplete status: %s", incomplete);
  add_condition(conds, pod, obs->now, "Initialized", initialized,
                initialized ? (completed(phase) && incomplete ? "PodCompleted" : NULL)
                            : "ContainersNotInitialized",
                init_msg);

  cleanup_free char *main_unready = name_list(obs->containers, obs->n_containers, pod, unready);
  cleanup_free char *side_unready = name_list(obs->init, obs->n_init, pod, unready_sidecar);
  bool containers_ready = main_unready == NULL && side_unready == NULL && initialized;
  const char *reason = NULL;
  cleanup_free char *msg = NULL;
  if (completed(phase)) {
    containers_ready = false;
    reason = "PodCompleted";
  } else if (!containers_ready) {
    reason = "ContainersNotReady";
    if (main_unready || side_unready)
      msg = xasprintf("containers with unready status: %s",
                      main_unready ? main_unready : side_unready);
    else
      msg = xasprintf("containers with incomplete status: %s", incomplete ? incomplete : "[]");
  }

  /* Ready additionally needs every readiness gate's condition to be True. */
  bool ready = containers_ready;
  cleanup_free char *gate_msg = NULL;
  size_t i;
  json_t *gate;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "readinessGates"), i, gate) {
    const char *type = json_string_value(json_object_get(gate, "conditionType"));
    const json_t *c = type ? old_condition(pod, type) : NULL;
    if (c && strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True") == 0)
      continue;
    if (ready && type)
      gate_msg =
          xasprintf("corresponding condition of pod readiness gate \"%s\" does not exist.", type);
    ready = false;
  }
  add_condition(conds, pod, obs->now, "Ready", ready,
                ready ? NULL : (containers_ready ? "ReadinessGatesNotReady" : reason),
                ready ? NULL : (containers_ready ? gate_msg : msg));
  add_condition(conds, pod, obs->now, "ContainersReady", containers_ready, reason, msg);

  /* Conditions the kubelet does not own stay as they are (PodScheduled, DisruptionTarget,
   * readiness gates written by controllers). */
  static const char *const owned[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                      "ContainersReady"};
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type")) ?: "";
    bool mine = false;
    for (size_t k = 0; k < 4; k++)
      mine = mine || strcmp(type, owned[k]) == 0;
    if (!mine)
      json_array_append(conds, c);
  }
  return conds;
}

/* ---------- the status ---------- */

json_t *
podstatus_build(const json_t *pod, const struct pod_observed *obs)
{
  const json_t *old = json_object_get(pod, "status");
  const char *phase = podstatus_phase(pod, obs);
  json_t *st =
      json_pack("{s:s,s:o}", "phase", phase, "conditions", conditions_json(pod, obs, phase));
  if (obs->host_ip) {
    json_object_set_new(st, "hostIP", json_string(obs->host_ip));
    json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", obs->host_ip));
  }
  if (obs->pod_ip) {
    json_object_set_new(st, "podIP", json_string(obs->pod_ip));
    json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", obs->pod_ip));
  }
  if (obs->start_time)
    json_object_set_new(st, "startTime", json_string(obs->start_time));
  if (obs->n_init)
    json_object_set_new(st, "initContainerStatuses", statuses_json(obs->init, obs->n_init));
  json_object_set_new(st, "containerStatuses", statuses_json(obs->containers, obs->n_containers));
  json_t *qos = json_object_get(old, "qosClass");
  if (qos)
    json_object_set(st, "qosClass", qos);
  /* A nomination or a reason set by others (e.g. Evicted) is not the kubelet's to drop. */
  static const char *const kept[] = {"nominatedNodeName", "reason", "message"};
  for (size_t i = 0; i < 3; i++)
    if (json_object_get(old, kept[i]))
      json_object_set(st, kept[i], json_object_get(old, kept[i]));
  return st;
}

/* ---------- numbers derived from the QoS class ---------- */

static int64_t
memory_request(const json_t *container)
{
  const char *text = json_string_value(json_object_get(
      json_object_get(json_object_get(container, "resources"), "requests"), "memory"));
  quantity q;
  k8c_err err = {0};
  if (text == NULL || quantity_parse(text, &q, &err) < 0) {
    k8c_err_clear(&err); /* validated at admission; an unparsable request counts as none */
    return 0;
  }
  return quantity_value(&q);
}

int
podstatus_oom_score_adj(const json_t *pod, const json_t *container, int64_t memory_capacity)
{
  const json_t *spec = json_object_get(pod, "spec");
  const char *pc = json_string_value(json_object_get(spec, "priorityClassName"));
  if (pc && strcmp(pc, "system-node-critical") == 0)
    return -997;
  const char *qos = json_string_value(json_object_get(json_object_get(pod, "status"), "qosClass"));
  if (qos && strcmp(qos, "Guaranteed") == 0)
    return -997;
  if (qos && strcmp(qos, "BestEffort") == 0)
    return 1000;
  if (memory_capacity <= 0)
    return 999;
  int64_t adj = 1000 - (1000 * memory_request(container)) / memory_capacity;
  if (adj < 3)
    return 3;
  if (adj >= 1000)
    return 999;
  return (int)adj;
}

int64_t
podstatus_crash_backoff_ms(int restarts)
{
  if (restarts <= 0)
    return 0; /* the first crash restarts at once */
  int64_t ms = 10000;
  for (int i = 1; i < restarts && ms < 300000; i++)
    ms *= 2;
  return ms > 300000 ? 300000 : ms;
}
