/* pod.c — the Pod strategy: SetDefaults_Pod on top of the shared PodSpec defaults, a
 * Pending status with its QoS class on create, upstream's "pod updates may not change
 * fields other than ..." rule, field selectors, and the `kubectl get pods` table with its
 * READY/STATUS/RESTARTS logic. */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/core/pod_priority.h"
#include "registry/core/pod_serviceaccount.h"
#include "registry/core/podspec.h"
#include "registry/registry.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void pod_defaults(json_t *obj);
static int pod_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err);
static int pod_validate(json_t *obj, const json_t *old, k8c_err *err);
static void pod_selectable_fields(const json_t *obj, json_t *fields);
static void pod_table_cells(const json_t *obj, json_t *cells);

static const struct table_column pod_columns[] = {
    COLUMN_NAME,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    COLUMN_AGE,
    {"IP", "string", "", "IP address allocated to the pod.", 1},
    {"Node", "string", "", "Name of the node the pod is bound to.", 1},
    {"Nominated Node", "string", "", "Name of the node nominated by the scheduler for preemption.",
     1},
    {"Readiness Gates", "string", "", "Pod readiness gates that are true, out of all declared.", 1},
    COLUMN_END,
};

static const char *const pod_fields[] = {
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
    NULL,
};

const struct resource_strategy pod_strategy = {
    .group = "",
    .plural = "pods",
    .defaults = pod_defaults,
    .prepare_create = pod_prepare_create,
    .validate = pod_validate,
    .selectable_fields = pod_selectable_fields,
    .columns = pod_columns,
    .table_cells = pod_table_cells,
    .supported_fields = pod_fields,
};

/* ================================ defaults ======================================== */

/* Requests default to limits for every resource with a limit and no request. */
static void
requests_from_limits(json_t *container)
{
  json_t *resources = json_object_get(container, "resources");
  json_t *limits = json_object_get(resources, "limits");
  if (json_object_size(limits) == 0)
    return;
  json_t *requests = obj_ensure(resources, "requests");
  const char *key;
  json_t *value;
  json_object_foreach (limits, key, value) {
    if (json_object_get(requests, key) == NULL)
      json_object_set(requests, key, value);
  }
}

static void
pod_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  podspec_defaults(spec);
  obj_default_bool(spec, "enableServiceLinks", true);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, "containers"), i, c) {
    requests_from_limits(c);
  }
  json_array_foreach (json_object_get(spec, "initContainers"), i, c) {
    requests_from_limits(c);
  }
}

/* qos.GetPodQOS, comparing quantities by their text. */
static const char *
pod_qos_class(const json_t *spec)
{
  bool any = false, guaranteed = true;
  static const char *const lists[] = {"containers", "initContainers", NULL};
  for (const char *const *l = lists; *l; l++) {
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(spec, *l), i, c) {
      json_t *requests = obj_get(c, "resources.requests");
      json_t *limits = obj_get(c, "resources.limits");
      if (json_object_size(requests) || json_object_size(limits))
        any = true;
      static const char *const compute[] = {"cpu", "memory", NULL};
      for (const char *const *r = compute; *r; r++) {
        json_t *lim = json_object_get(limits, *r);
        json_t *req = json_object_get(requests, *r);
        if (lim == NULL || (req != NULL && !json_equal(lim, req)))
          guaranteed = false;
      }
    }
  }
  if (!any)
    return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/* Upstream's DefaultTolerationSeconds admission: a pod that does not tolerate key with
 * effect NoExecute (a toleration with that key or an empty one, and NoExecute or an empty
 * effect) gets {key, Exists, NoExecute, tolerationSeconds: 300}. */
static bool
tolerates_no_execute(const json_t *tolerations, const char *key)
{
  size_t i;
  json_t *t;
  json_array_foreach (tolerations, i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    const char *effect = json_string_value(json_object_get(t, "effect"));
    if ((k == NULL || *k == '\0' || strcmp(k, key) == 0) &&
        (effect == NULL || *effect == '\0' || strcmp(effect, "NoExecute") == 0))
      return true;
  }
  return false;
}

static void
pod_default_toleration_seconds(json_t *spec)
{
  static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                     "node.kubernetes.io/unreachable"};
  if (!json_is_object(spec))
    return;
  json_t *tolerations = json_object_get(spec, "tolerations");
  if (tolerations != NULL && !json_is_array(tolerations))
    return; /* validation reports it */
  for (size_t i = 0; i < 2; i++) {
    if (tolerates_no_execute(tolerations, keys[i]))
      continue;
    if (tolerations == NULL) {
      tolerations = json_array();
      json_object_set_new(spec, "tolerations", tolerations);
    }
    /* Built member by member: json_pack parses its format on every pod create. */
    json_t *t = json_object();
    json_object_set_new_nocheck(t, "key", json_string_nocheck(keys[i]));
    json_object_set_new_nocheck(t, "operator", json_string_nocheck("Exists"));
    json_object_set_new_nocheck(t, "effect", json_string_nocheck("NoExecute"));
    json_object_set_new_nocheck(t, "tolerationSeconds", json_integer(300));
    json_array_append_new(tolerations, t);
  }
}

static int
pod_prepare_create(const struct strategy_env *env, json_t *obj, k8c_err *err)
{
  pod_default_toleration_seconds(json_object_get(obj, "spec"));
  if (env && env->reg && pod_priority_admit(env->reg, obj, err) < 0)
    return -1;
  if (env && env->reg && pod_serviceaccount_admit(env->reg, obj, err) < 0)
    return -1;
  json_t *status = json_object();
  json_object_set_new_nocheck(status, "phase", json_string_nocheck("Pending"));
  json_object_set_new_nocheck(status, "qosClass",
                              json_string_nocheck(pod_qos_class(obj_get(obj, "spec"))));
  json_object_set_new_nocheck(obj, "status", status);
  return 0;
}

/* =============================== validation ======================================= */

#define POD_UPDATABLE_FIELDS                                                                       \
  "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"        \
  "`spec.tolerations` (only additions to existing tolerations),"                                   \
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "            \
  "negative)"

/* Copies the images of old's containers into new's containers of the same index. */
static void
copy_images(json_t *spec, const json_t *old_spec, const char *list)
{
  json_t *now = json_object_get(spec, list);
  json_t *before = json_object_get(old_spec, list);
  if (json_array_size(now) != json_array_size(before))
    return;
  size_t i;
  json_t *c;
  json_array_foreach (now, i, c) {
    json_t *old_image = json_object_get(json_array_get(before, i), "image");
    if (old_image && json_is_object(c))
      json_object_set(c, "image", old_image);
  }
}

/* True if every toleration of old is still in now (only additions). */
static bool
tolerations_only_added(const json_t *now, const json_t *old)
{
  size_t i, j;
  json_t *o, *n;
  json_array_foreach (old, i, o) {
    bool found = false;
    json_array_foreach (now, j, n) {
      if (json_equal(o, n)) {
        found = true;
        break;
      }
    }
    if (!found)
      return false;
  }
  return true;
}

/* Lists top-level spec keys that differ, as a short hint after upstream's message. */
static char *
changed_spec_fields(const json_t *spec, const json_t *old_spec)
{
  buf b;
  buf_init(&b);
  const char *key;
  json_t *value;
  json_object_foreach ((json_t *)spec, key, value) {
    json_t *o = json_object_get(old_spec, key);
    if (o == NULL || !json_equal(o, value))
      buf_printf(&b, "%sspec.%s", b.len ? ", " : "changed: ", key);
  }
  json_object_foreach ((json_t *)old_spec, key, value) {
    if (json_object_get(spec, key) == NULL)
      buf_printf(&b, "%sspec.%s", b.len ? ", " : "changed: ", key);
  }
  return buf_take(&b);
}

static int
validate_pod_spec_update(k8c_err *err, const json_t *spec, const json_t *old_spec)
{
  if (spec == old_spec) /* the stored spec itself (a status update shares it): unchanged */
    return 0;
  cleanup_json json_t *munged = json_deep_copy(spec ? spec : json_null());
  if (!json_is_object(munged) || !json_is_object(old_spec))
    return 0;
  copy_images(munged, old_spec, "containers");
  copy_images(munged, old_spec, "initContainers");
  json_t *old_deadline = json_object_get(old_spec, "activeDeadlineSeconds");
  if (old_deadline)
    json_object_set(munged, "activeDeadlineSeconds", old_deadline);
  else
    json_object_del(munged, "activeDeadlineSeconds");
  json_t *old_tolerations = json_object_get(old_spec, "tolerations");
  if (tolerations_only_added(json_object_get(munged, "tolerations"), old_tolerations)) {
    if (old_tolerations)
      json_object_set(munged, "tolerations", old_tolerations);
    else
      json_object_del(munged, "tolerations");
  }
  json_t *old_grace = json_object_get(old_spec, "terminationGracePeriodSeconds");
  if (json_integer_value(old_grace) < 0 && obj_int(munged, "terminationGracePeriodSeconds", 0) == 1)
    json_object_set(munged, "terminationGracePeriodSeconds", old_grace);
  if (json_equal(munged, (json_t *)old_spec))
    return 0;
  cleanup_free char *changed = changed_spec_fields(munged, old_spec);
  k8c_err_add_cause(err, CAUSE_FORBIDDEN, "spec",
                    "Forbidden: pod updates may not change fields other than %s\n%s",
                    POD_UPDATABLE_FIELDS, changed);
  return 1;
}

static int
pod_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  json_t *spec = json_object_get(obj, "spec");
  podspec_validate(err, "spec", spec);
  if (old != NULL)
    validate_pod_spec_update(err, spec, json_object_get(old, "spec"));
  return validation_finish(err, "Pod", "", obj_str(obj, "metadata.name"));
}

/* ============================ selectable fields =================================== */

static void
pod_selectable_fields(const json_t *obj, json_t *fields)
{
  /* Runs for every pod write: the keys are ASCII and the values are strings of a parsed
   * object (valid UTF-8 already), so nothing needs checking again; spec and status are
   * looked up once. */
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *status = json_object_get(obj, "status");
#define STR0(parent, name) json_string_nocheck(obj_str0(parent, name))
  json_object_set_new_nocheck(fields, "spec.nodeName", STR0(spec, "nodeName"));
  json_object_set_new_nocheck(fields, "spec.restartPolicy", STR0(spec, "restartPolicy"));
  json_object_set_new_nocheck(fields, "spec.schedulerName", STR0(spec, "schedulerName"));
  json_object_set_new_nocheck(fields, "spec.serviceAccountName", STR0(spec, "serviceAccountName"));
  json_object_set_new_nocheck(
      fields, "spec.hostNetwork",
      json_string_nocheck(json_is_true(json_object_get(spec, "hostNetwork")) ? "true" : "false"));
  json_object_set_new_nocheck(fields, "status.phase", STR0(status, "phase"));
  const char *ip = obj_str(json_array_get(json_object_get(status, "podIPs"), 0), "ip");
  json_object_set_new_nocheck(fields, "status.podIP",
                              json_string_nocheck(ip ? ip : obj_str0(status, "podIP")));
  json_object_set_new_nocheck(fields, "status.nominatedNodeName",
                              STR0(status, "nominatedNodeName"));
#undef STR0
}

/* ================================= table ========================================== */

/* State of a pod's containers as `kubectl get pods` summarises it. */
struct pod_summary {
  long long restarts;
  int ready;
  int total;
  time_t last_restart; /* 0 = never */
  char reason[128];
};

static void
note_restart(time_t *latest, const json_t *status)
{
  time_t t;
  if (parse_rfc3339(obj_str(status, "lastState.terminated.finishedAt"), &t) == 0 && t > *latest)
    *latest = t;
}

/* The reason for a terminated state with no reason: "Signal:9" / "ExitCode:1". */
static void
terminated_reason(char *out, size_t n, const char *prefix, const json_t *terminated)
{
  json_int_t sig = obj_int(terminated, "signal", 0);
  if (sig != 0)
    snprintf(out, n, "%sSignal:%lld", prefix, (long long)sig);
  else
    snprintf(out, n, "%sExitCode:%lld", prefix, (long long)obj_int(terminated, "exitCode", 0));
}

static bool
has_condition_true(const json_t *status, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(status, "conditions"), i, c) {
    if (strcmp(obj_str0(c, "type"), type) == 0)
      return strcmp(obj_str0(c, "status"), "True") == 0;
  }
  return false;
}

static bool
is_restartable_init(const json_t *spec, const char *name)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, "initContainers"), i, c) {
    if (strcmp(obj_str0(c, "name"), name) == 0)
      return strcmp(obj_str0(c, "restartPolicy"), "Always") == 0;
  }
  return false;
}

/* Walks init container statuses; returns true while the pod is still initializing. */
static bool
summarise_init(const json_t *pod, struct pod_summary *s, long long *sidecar_restarts,
               time_t *sidecar_last)
{
  const json_t *spec = json_object_get(pod, "spec");
  size_t n_init = json_array_size(json_object_get(spec, "initContainers"));
  size_t i;
  json_t *cs;
  json_array_foreach (obj_get(pod, "status.initContainerStatuses"), i, cs) {
    json_int_t count = obj_int(cs, "restartCount", 0);
    s->restarts += count;
    note_restart(&s->last_restart, cs);
    bool sidecar = is_restartable_init(spec, obj_str0(cs, "name"));
    if (sidecar) {
      *sidecar_restarts += count;
      note_restart(sidecar_last, cs);
    }
    json_t *terminated = obj_get(cs, "state.terminated");
    const char *waiting_reason = obj_str(cs, "state.waiting.reason");
    if (terminated && obj_int(terminated, "exitCode", 0) == 0)
      continue;
    if (sidecar && obj_true(cs, "started")) {
      if (obj_true(cs, "ready"))
        s->ready++;
      continue;
    }
    if (terminated) {
      const char *r = obj_str(terminated, "reason");
      if (r && *r)
        snprintf(s->reason, sizeof s->reason, "Init:%s", r);
      else
        terminated_reason(s->reason, sizeof s->reason, "Init:", terminated);
    } else if (waiting_reason && *waiting_reason && strcmp(waiting_reason, "PodInitializing")) {
      snprintf(s->reason, sizeof s->reason, "Init:%s", waiting_reason);
    } else {
      snprintf(s->reason, sizeof s->reason, "Init:%zu/%zu", i, n_init);
    }
    return true;
  }
  return false;
}

static void
summarise_pod(const json_t *pod, struct pod_summary *s)
{
  memset(s, 0, sizeof *s);
  const json_t *spec = json_object_get(pod, "spec");
  const json_t *status = json_object_get(pod, "status");
  s->total = (int)json_array_size(json_object_get(spec, "containers"));
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, "initContainers"), i, c) {
    if (strcmp(obj_str0(c, "restartPolicy"), "Always") == 0)
      s->total++;
  }
  const char *phase = obj_str0(status, "phase");
  const char *status_reason = obj_str0(status, "reason");
  snprintf(s->reason, sizeof s->reason, "%s", *status_reason ? status_reason : phase);
  json_array_foreach (json_object_get(status, "conditions"), i, c) {
    if (strcmp(obj_str0(c, "type"), "PodScheduled") == 0 &&
        strcmp(obj_str0(c, "reason"), "SchedulingGated") == 0)
      snprintf(s->reason, sizeof s->reason, "SchedulingGated");
  }

  long long sidecar_restarts = 0;
  time_t sidecar_last = 0;
  bool initializing = summarise_init(pod, s, &sidecar_restarts, &sidecar_last);
  if (!initializing || has_condition_true(status, "Initialized")) {
    s->restarts = sidecar_restarts;
    s->last_restart = sidecar_last;
    bool has_running = false;
    json_t *statuses = json_object_get(status, "containerStatuses");
    for (size_t k = json_array_size(statuses); k-- > 0;) {
      json_t *cs = json_array_get(statuses, k);
      s->restarts += obj_int(cs, "restartCount", 0);
      note_restart(&s->last_restart, cs);
      const char *waiting = obj_str(cs, "state.waiting.reason");
      json_t *terminated = obj_get(cs, "state.terminated");
      const char *term_reason = obj_str(terminated, "reason");
      if (waiting && *waiting) {
        snprintf(s->reason, sizeof s->reason, "%s", waiting);
      } else if (terminated && term_reason && *term_reason) {
        snprintf(s->reason, sizeof s->reason, "%s", term_reason);
      } else if (terminated) {
        terminated_reason(s->reason, sizeof s->reason, "", terminated);
      } else if (obj_true(cs, "ready") && obj_get(cs, "state.running")) {
        has_running = true;
        s->ready++;
      }
    }
    if (strcmp(s->reason, "Completed") == 0 && has_running)
      snprintf(s->reason, sizeof s->reason, "%s",
               has_condition_true(status, "Ready") ? "Running" : "NotReady");
  }

  if (obj_get(pod, "metadata.deletionTimestamp")) {
    if (strcmp(status_reason, "NodeLost") == 0)
      snprintf(s->reason, sizeof s->reason, "Unknown");
    else if (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)
      snprintf(s->reason, sizeof s->reason, "Terminating");
  }
}

static void
pod_table_cells(const json_t *obj, json_t *cells)
{
  struct pod_summary s;
  summarise_pod(obj, &s);
  cell_name(cells, obj);
  cell_take(cells, xasprintf("%d/%d", s.ready, s.total));
  cell_str(cells, s.reason);
  if (s.restarts != 0 && s.last_restart != 0) {
    char ago[DURATION_LEN];
    human_duration((long long)(time(NULL) - s.last_restart), ago);
    cell_take(cells, xasprintf("%lld (%s ago)", s.restarts, ago));
  } else {
    cell_take(cells, xasprintf("%lld", s.restarts));
  }
  cell_age(cells, obj);

  const json_t *status = json_object_get(obj, "status");
  const char *ip = obj_str(json_array_get(json_object_get(status, "podIPs"), 0), "ip");
  if (ip == NULL || *ip == '\0')
    ip = obj_str(status, "podIP");
  cell_str(cells, ip && *ip ? ip : "<none>");
  const char *node = obj_str(obj, "spec.nodeName");
  cell_str(cells, node && *node ? node : "<none>");
  const char *nominated = obj_str(status, "nominatedNodeName");
  cell_str(cells, nominated && *nominated ? nominated : "<none>");
  json_t *gates = obj_get(obj, "spec.readinessGates");
  if (json_array_size(gates) == 0) {
    cell_str(cells, "<none>");
    return;
  }
  size_t i, true_count = 0;
  json_t *g;
  json_array_foreach (gates, i, g) {
    if (has_condition_true(status, obj_str0(g, "conditionType")))
      true_count++;
  }
  cell_take(cells, xasprintf("%zu/%zu", true_count, json_array_size(gates)));
}
