/* nodelifecycle.c — the node lifecycle controller, as upstream's: a monitor thread
 * watches each Node's heartbeats (its Lease in kube-node-lease and its Ready condition's
 * lastHeartbeatTime); a node silent for node_monitor_grace_seconds gets its conditions
 * set to Unknown, the unreachable NoExecute/NoSchedule taints and its pods marked
 * NotReady, and the taint manager part evicts pods that do not tolerate a node's
 * NoExecute taints (at once, or after their tolerationSeconds from the taint's timeAdded).
 * Design: one periodic pass over the informer caches, idempotent, so a failed write is
 * simply retried on the next pass; heartbeat observations are kept in local monotonic
 * time (when a change was seen), never compared with the kubelet's clock. */
#include "apimachinery/meta.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define LEASE_NAMESPACE "kube-node-lease"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define NODE_INDEX "spec.nodeName"

struct nlc {
  k8c_client *client;
  const struct api_resource *node_res, *lease_res, *pod_res;
  informer *node_inf, *lease_inf, *pod_inf;
  struct event_recorder *rec;
  long long grace_ms;
  long long period_ms;
  /* name -> {"lease": renewTime, "heartbeat": Ready lastHeartbeatTime, "seen": ms}; only
   * the monitor thread touches it. */
  json_t *observed;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;
};

static void *nlc_start(struct controller_context *ctx, k8c_err *err);
static void nlc_stop(void *state);

const struct controller_def nodelifecycle_controller_def = {
    .name = "nodelifecycle",
    .start = nlc_start,
    .stop = nlc_stop,
};

/* ---------- conditions and taints ---------- */

static json_t *
find_condition(const json_t *node, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(node, "status"), "conditions"), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t && strcmp(t, type) == 0)
      return c;
  }
  return NULL;
}

static const char *
ready_status(const json_t *node)
{
  const char *s = json_string_value(json_object_get(find_condition(node, "Ready"), "status"));
  return s ? s : "Unknown";
}

/* The node (a copy) with every condition Unknown as upstream writes them when the kubelet
 * went silent; NULL when nothing changes. */
static json_t *
node_with_unknown_conditions(const json_t *node)
{
  json_t *copy = json_deep_copy(node);
  json_t *status = json_object_get(copy, "status");
  if (!json_is_object(status)) {
    status = json_object();
    json_object_set_new(copy, "status", status);
  }
  json_t *conds = json_object_get(status, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(status, "conditions", conds);
  }
  cleanup_free char *now = meta_now_rfc3339();
  bool changed = false;
  if (find_condition(copy, "Ready") == NULL) {
    json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Ready",
                                           "status", "Unknown", "reason", "NodeStatusNeverUpdated",
                                           "message", "Kubelet never posted node status.",
                                           "lastHeartbeatTime", now, "lastTransitionTime", now));
    changed = true;
  }
  size_t i;
  json_t *c;
  json_array_foreach (conds, i, c) {
    const char *s = json_string_value(json_object_get(c, "status"));
    if (s && strcmp(s, "Unknown") == 0)
      continue;
    json_object_set_new(c, "status", json_string("Unknown"));
    json_object_set_new(c, "reason", json_string("NodeStatusUnknown"));
    json_object_set_new(c, "message", json_string("Kubelet stopped posting node status."));
    json_object_set_new(c, "lastTransitionTime", json_string(now));
    changed = true;
  }
  if (!changed) {
    json_decref(copy);
    return NULL;
  }
  return copy;
}

static bool
is_lifecycle_taint(const json_t *taint)
{
  const char *key = json_string_value(json_object_get(taint, "key"));
  const char *effect = json_string_value(json_object_get(taint, "effect"));
  return key && effect &&
         (strcmp(key, TAINT_UNREACHABLE) == 0 || strcmp(key, TAINT_NOT_READY) == 0) &&
         (strcmp(effect, "NoExecute") == 0 || strcmp(effect, "NoSchedule") == 0);
}

static json_t *
find_taint(const json_t *taints, const char *key, const char *effect)
{
  size_t i;
  json_t *t;
  json_array_foreach (taints, i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    const char *e = json_string_value(json_object_get(t, "effect"));
    if (k && e && strcmp(k, key) == 0 && strcmp(e, effect) == 0)
      return t;
  }
  return NULL;
}

/* The node's taints with the lifecycle taints replaced by want_key's NoExecute and
 * NoSchedule ones (want_key NULL: none), keeping timeAdded of those already there. */
static json_t *
taints_wanted(const json_t *node, const char *want_key)
{
  const json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
  json_t *out = json_array();
  size_t i;
  json_t *t;
  json_array_foreach (taints, i, t) {
    if (!is_lifecycle_taint(t))
      json_array_append(out, t);
  }
  if (want_key == NULL)
    return out;
  cleanup_free char *now = meta_now_rfc3339();
  static const char *const effects[] = {"NoSchedule", "NoExecute"};
  for (int e = 0; e < 2; e++) {
    json_t *old = find_taint(taints, want_key, effects[e]);
    if (old) {
      json_array_append(out, old);
      continue;
    }
    json_t *taint = json_pack("{s:s, s:s}", "key", want_key, "effect", effects[e]);
    if (strcmp(effects[e], "NoExecute") == 0)
      json_object_set_new(taint, "timeAdded", json_string(now));
    json_array_append_new(out, taint);
  }
  return out;
}

/* Sets node's lifecycle taints to want_key's (NULL: removes them) if they differ. */
static void
reconcile_taints(struct nlc *c, const json_t *node, const char *want_key)
{
  json_t *want = taints_wanted(node, want_key);
  const json_t *have = json_object_get(json_object_get(node, "spec"), "taints");
  if (json_equal(want, have) || (json_array_size(want) == 0 && json_array_size(have) == 0)) {
    json_decref(want);
    return;
  }
  cleanup_json json_t *copy = json_deep_copy(node);
  json_t *spec = json_object_get(copy, "spec");
  if (!json_is_object(spec)) {
    spec = json_object();
    json_object_set_new(copy, "spec", spec);
  }
  if (json_array_size(want) == 0) {
    json_decref(want);
    json_object_del(spec, "taints");
  } else {
    json_object_set_new(spec, "taints", want);
  }
  k8c_err err = {0};
  if (client_update(c->client, c->node_res, "", meta_name(node), copy, NULL, NULL, &err) < 0) {
    if (err.status != 409 && err.status != 404)
      log_warn("nodelifecycle: tainting %s: %s", meta_name(node), err.message);
    k8c_err_clear(&err);
  }
}

/* ---------- pods ---------- */

/* Whether toleration tol tolerates taint (upstream's ToleratesTaint). */
static bool
toleration_matches(const json_t *tol, const json_t *taint)
{
  const char *teffect = json_string_value(json_object_get(tol, "effect"));
  const char *effect = json_string_value(json_object_get(taint, "effect"));
  if (teffect && *teffect && (effect == NULL || strcmp(teffect, effect) != 0))
    return false;
  const char *tkey = json_string_value(json_object_get(tol, "key"));
  const char *key = json_string_value(json_object_get(taint, "key"));
  const char *op = json_string_value(json_object_get(tol, "operator"));
  bool exists = op && strcmp(op, "Exists") == 0;
  if (tkey == NULL || *tkey == '\0')
    return exists;
  if (key == NULL || strcmp(tkey, key) != 0)
    return false;
  if (exists)
    return true;
  const char *tval = json_string_value(json_object_get(tol, "value"));
  const char *val = json_string_value(json_object_get(taint, "value"));
  return strcmp(tval ? tval : "", val ? val : "") == 0;
}

/* When pod must leave a node with these taints (seconds since the epoch): 0 = now,
 * -1 = never (tolerates every NoExecute taint forever). */
static time_t
eviction_time(const json_t *pod, const json_t *taints)
{
  const json_t *tols = json_object_get(json_object_get(pod, "spec"), "tolerations");
  time_t when = -1;
  size_t i, j;
  json_t *taint, *tol;
  json_array_foreach (taints, i, taint) {
    const char *effect = json_string_value(json_object_get(taint, "effect"));
    if (effect == NULL || strcmp(effect, "NoExecute") != 0)
      continue;
    bool tolerated = false, forever = false;
    long long seconds = 0;
    json_array_foreach (tols, j, tol) {
      if (!toleration_matches(tol, taint))
        continue;
      json_t *ts = json_object_get(tol, "tolerationSeconds");
      if (!json_is_integer(ts)) {
        forever = true; /* the longest toleration counts */
      } else if (!tolerated || json_integer_value(ts) > seconds) {
        seconds = json_integer_value(ts);
      }
      tolerated = true;
    }
    if (!tolerated)
      return 0;
    if (forever)
      continue;
    time_t added = cu_parse_time(json_string_value(json_object_get(taint, "timeAdded")));
    time_t t = seconds <= 0 ? 0 : added + (time_t)seconds;
    if (when < 0 || t < when)
      when = t;
  }
  return when;
}

static void
evict_pods(struct nlc *c, const json_t *node, json_t **pods, size_t n)
{
  const json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
  time_t now = cu_now();
  for (size_t i = 0; i < n; i++) {
    if (json_object_get(meta_get(pods[i]), "deletionTimestamp"))
      continue;
    time_t when = eviction_time(pods[i], taints);
    if (when < 0 || when > now)
      continue;
    event_record(c->rec, pods[i], "Normal", "TaintManagerEviction",
                 "Marking for deletion Pod %s/%s", meta_namespace(pods[i]), meta_name(pods[i]));
    k8c_err err = {0};
    if (client_delete(c->client, c->pod_res, meta_namespace(pods[i]), meta_name(pods[i]), NULL,
                      NULL, NULL, &err) < 0) {
      if (err.status != 404)
        log_warn("nodelifecycle: evicting %s/%s: %s", meta_namespace(pods[i]), meta_name(pods[i]),
                 err.message);
      k8c_err_clear(&err);
    }
  }
}

/* Upstream's MarkPodsNotReady: the Ready condition of every pod on the node goes False. */
static void
mark_pods_not_ready(struct nlc *c, json_t **pods, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    json_t *pod = pods[i];
    const char *phase = cu_str(pod, "status.phase");
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
      continue;
    json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
    size_t j;
    json_t *cnd;
    json_array_foreach (conds, j, cnd) {
      const char *type = json_string_value(json_object_get(cnd, "type"));
      const char *status = json_string_value(json_object_get(cnd, "status"));
      if (type == NULL || strcmp(type, "Ready") != 0 || (status && strcmp(status, "False") == 0))
        continue;
      cleanup_json json_t *copy = json_deep_copy(pod);
      json_t *c2 =
          json_array_get(json_object_get(json_object_get(copy, "status"), "conditions"), j);
      cleanup_free char *now = meta_now_rfc3339();
      json_object_set_new(c2, "status", json_string("False"));
      json_object_set_new(c2, "lastTransitionTime", json_string(now));
      k8c_err err = {0};
      if (client_update_status(c->client, c->pod_res, meta_namespace(pod), meta_name(pod), copy,
                               NULL, NULL, &err) < 0)
        k8c_err_clear(&err);
      break;
    }
  }
}

/* ---------- the monitor ---------- */

/* Whether node's kubelet was heard from within the grace period: records when its Lease
 * renewTime or Ready heartbeat last changed, in local monotonic time. */
static bool
node_healthy(struct nlc *c, json_t *observed, const json_t *node, long long now_ms)
{
  const char *name = meta_name(node);
  cleanup_free char *lease_key = xasprintf(LEASE_NAMESPACE "/%s", name);
  cleanup_json json_t *lease = informer_get(c->lease_inf, lease_key);
  const char *renew = lease ? cu_str(lease, "spec.renewTime") : NULL;
  const char *beat =
      json_string_value(json_object_get(find_condition(node, "Ready"), "lastHeartbeatTime"));
  json_t *prev = json_object_get(c->observed, name);
  json_t *rec = json_pack("{s:s?, s:s?}", "lease", renew, "heartbeat", beat);
  long long seen = now_ms;
  if (prev && json_equal(json_object_get(prev, "lease"), json_object_get(rec, "lease")) &&
      json_equal(json_object_get(prev, "heartbeat"), json_object_get(rec, "heartbeat")))
    seen = json_integer_value(json_object_get(prev, "seen"));
  json_object_set_new(rec, "seen", json_integer(seen));
  json_object_set_new(observed, name, rec);
  return now_ms - seen <= c->grace_ms;
}

static void
monitor_node(struct nlc *c, json_t *observed, json_t *node, long long now_ms)
{
  bool healthy = node_healthy(c, observed, node, now_ms);
  const char *name = meta_name(node);
  json_t **pods = NULL;
  size_t npods = 0;
  k8c_err err = {0};
  if (informer_by_index(c->pod_inf, NODE_INDEX, name, &pods, &npods, &err) < 0)
    k8c_err_clear(&err);
  json_t *current = json_incref(node);
  if (!healthy) {
    json_t *updated = node_with_unknown_conditions(node);
    if (updated) {
      json_t *out = NULL;
      if (client_update_status(c->client, c->node_res, "", name, updated, NULL, &out, &err) < 0) {
        k8c_err_clear(&err);
      } else {
        log_info("nodelifecycle: node %s stopped posting status", name);
        event_record(c->rec, node, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady",
                     name);
        json_decref(current);
        current = out;
      }
      json_decref(updated);
    }
    mark_pods_not_ready(c, pods, npods);
    reconcile_taints(c, current, TAINT_UNREACHABLE);
  } else {
    const char *ready = ready_status(current);
    reconcile_taints(c, current, strcmp(ready, "False") == 0 ? TAINT_NOT_READY : NULL);
  }
  evict_pods(c, node, pods, npods);
  json_decref(current);
  informer_objs_free(pods, npods);
}

static bool
sleep_period(struct nlc *c)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ns = ts.tv_nsec + (c->period_ms % 1000) * 1000000LL;
  ts.tv_sec += (time_t)(c->period_ms / 1000 + ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  pthread_mutex_lock(&c->lock);
  while (!c->stopping)
    if (pthread_cond_timedwait(&c->wake, &c->lock, &ts) != 0)
      break;
  bool go_on = !c->stopping;
  pthread_mutex_unlock(&c->lock);
  return go_on;
}

static void *
monitor_main(void *arg)
{
  pthread_setname_np(pthread_self(), "ctl-nodelife");
  struct nlc *c = arg;
  while (sleep_period(c)) {
    if (!informer_has_synced(c->node_inf) || !informer_has_synced(c->lease_inf) ||
        !informer_has_synced(c->pod_inf))
      continue;
    json_t **nodes = NULL;
    size_t n = 0;
    informer_list(c->node_inf, &nodes, &n);
    long long now_ms = cu_monotonic_ms();
    json_t *observed = json_object(); /* only nodes that still exist */
    for (size_t i = 0; i < n; i++)
      monitor_node(c, observed, nodes[i], now_ms);
    json_decref(c->observed);
    c->observed = observed;
    informer_objs_free(nodes, n);
  }
  return NULL;
}

/* ---------- start / stop ---------- */

static void *
nlc_start(struct controller_context *ctx, k8c_err *err)
{
  struct nlc *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->node_res = api_resource_find("", "v1", "nodes");
  c->lease_res = api_resource_find("coordination.k8s.io", "v1", "leases");
  c->pod_res = api_resource_find("", "v1", "pods");
  c->node_inf = informer_factory_get(ctx->informers, c->node_res, "", NULL, NULL);
  c->lease_inf = informer_factory_get(ctx->informers, c->lease_res, LEASE_NAMESPACE, NULL, NULL);
  c->pod_inf = informer_factory_get(ctx->informers, c->pod_res, "", NULL, NULL);
  /* Shared informers: the index may already exist (-1 then), which is fine. */
  (void)!informer_add_index(c->pod_inf, NODE_INDEX, informer_index_by_path, (void *)NODE_INDEX);
  c->rec = event_recorder_new(c->client, "node-controller", NULL);
  int grace = ctx->cfg.node_monitor_grace_seconds > 0 ? ctx->cfg.node_monitor_grace_seconds : 40;
  c->grace_ms = grace * 1000LL;
  /* upstream checks every 5 s against a 40 s grace; shorter graces check more often */
  c->period_ms = c->grace_ms / 8;
  c->period_ms = c->period_ms < 100 ? 100 : c->period_ms > 5000 ? 5000 : c->period_ms;
  c->observed = json_object();
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->wake, NULL);
  if (pthread_create(&c->thread, NULL, monitor_main, c) != 0) {
    event_recorder_free(c->rec);
    json_decref(c->observed);
    free(c);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "nodelifecycle controller: cannot start");
    return NULL;
  }
  return c;
}

static void
nlc_stop(void *state)
{
  struct nlc *c = state;
  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_cond_broadcast(&c->wake);
  pthread_mutex_unlock(&c->lock);
  pthread_join(c->thread, NULL);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->wake);
  json_decref(c->observed);
  event_recorder_free(c->rec);
  free(c);
}
