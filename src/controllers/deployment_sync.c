/* deployment_sync.c — the Deployment controller's frame (upstream's
 * deployment_controller.go): informers on deployments, replicasets and pods queue
 * deployment keys for a keyed_controller; a sync claims the ReplicaSets the selector
 * matches (adopting and releasing), then takes one path — status only while deleting,
 * scale while paused or resized, otherwise the Recreate or RollingUpdate rollout. */
#include "apimachinery/labels.h"
#include "apimachinery/meta.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

static void *deployment_start(struct controller_context *ctx, k8c_err *err);
static void deployment_stop(void *state);

const struct controller_def deployment_controller_def = {
    .name = "deployment",
    .start = deployment_start,
    .stop = deployment_stop,
};

/* ---------- event handlers ---------- */

static json_t *
owner_of_rs(struct deployment_controller *c, const json_t *rs)
{
  json_t *ref = cu_controller_ref(rs);
  return ref ? cu_resolve_controller_ref(c->dep_inf, "Deployment", meta_namespace(rs), ref) : NULL;
}

static void
enqueue_owner(struct deployment_controller *c, const json_t *rs)
{
  json_t *d = owner_of_rs(c, rs);
  if (d)
    keyed_controller_enqueue(c, d);
  json_decref(d);
}

/* Deployments of rs's namespace whose selector matches the orphan rs. */
static void
enqueue_matching(struct deployment_controller *c, const json_t *rs)
{
  json_t **ds = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(c->dep_inf, "namespace", meta_namespace(rs), &ds, &n, &err) < 0) {
    k8c_err_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    label_selector *sel =
        label_selector_from_json(json_object_get(json_object_get(ds[i], "spec"), "selector"), &err);
    k8c_err_clear(&err);
    if (sel && !label_selector_is_empty(sel) && label_selector_matches(sel, meta_labels(rs)))
      keyed_controller_enqueue(c, ds[i]);
    label_selector_free(sel);
  }
  informer_objs_free(ds, n);
}

static void
on_rs_add(void *ctx, json_t *rs)
{
  struct deployment_controller *c = ctx;
  if (cu_controller_ref(rs))
    enqueue_owner(c, rs);
  else
    enqueue_matching(c, rs);
}

static void
on_rs_update(void *ctx, json_t *old_rs, json_t *new_rs)
{
  struct deployment_controller *c = ctx;
  if (old_rs == new_rs)
    return;
  json_t *old_ref = cu_controller_ref(old_rs), *new_ref = cu_controller_ref(new_rs);
  bool ref_changed = !json_equal(old_ref, new_ref);
  if (ref_changed && old_ref)
    enqueue_owner(c, old_rs);
  if (new_ref) {
    enqueue_owner(c, new_rs);
    return;
  }
  if (ref_changed || !json_equal(meta_labels(old_rs), meta_labels(new_rs)))
    enqueue_matching(c, new_rs);
}

static void
on_rs_delete(void *ctx, json_t *rs)
{
  enqueue_owner(ctx, rs);
}

/* A Recreate rollout waits for old pods to go: look again when one does. */
static void
on_pod_delete(void *ctx, json_t *pod)
{
  struct deployment_controller *c = ctx;
  json_t *ref = cu_controller_ref(pod);
  if (ref == NULL)
    return;
  const char *rs_name = json_string_value(json_object_get(ref, "name"));
  if (rs_name == NULL)
    return;
  cleanup_free char *rs_key = xasprintf("%s/%s", meta_namespace(pod), rs_name);
  json_t *rs = informer_get(c->rs_inf, rs_key);
  if (rs == NULL)
    return;
  json_t *d = owner_of_rs(c, rs);
  if (d && !dep_is_rolling(d))
    keyed_controller_enqueue(c, d);
  json_decref(d);
  json_decref(rs);
}

/* ---------- claiming ReplicaSets ---------- */

static int
claim_replicasets(struct dsync *s, const label_selector *sel, k8c_err *err)
{
  struct deployment_controller *c = s->dc;
  json_t **rss = NULL;
  size_t n = 0;
  if (informer_by_index(c->rs_inf, "namespace", meta_namespace(s->d), &rss, &n, err) < 0)
    return -1;
  s->rs = xcalloc(n ? n : 1, sizeof *s->rs);
  const char *uid = meta_uid(s->d);
  bool deleting = json_object_get(meta_get(s->d), "deletionTimestamp") != NULL;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *rs = rss[i];
    bool matches = label_selector_matches(sel, meta_labels(rs));
    json_t *ref = cu_controller_ref(rs);
    k8c_err werr = {0};
    if (ref) {
      const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
      if (ref_uid == NULL || strcmp(ref_uid, uid) != 0)
        continue;
      if (matches)
        s->rs[s->nrs++] = json_incref(rs);
      else if (!deleting && cu_release(c->client, c->rs_res, rs, uid, &werr) < 0)
        rc = -1;
    } else if (matches && !deleting && json_object_get(meta_get(rs), "deletionTimestamp") == NULL) {
      json_t *adopted = NULL;
      if (cu_adopt(c->client, c->rs_res, rs, "apps/v1", "Deployment", s->d, &adopted, &werr) == 0)
        s->rs[s->nrs++] = adopted;
      else if (werr.status != 404)
        rc = -1;
    }
    if (werr.status && rc < 0 && err->status == 0)
      k8c_err_move(err, &werr);
    k8c_err_clear(&werr);
  }
  informer_objs_free(rss, n);
  return rc;
}

/* ---------- sync ---------- */

static int
sync_selecting_all(struct dsync *s, k8c_err *err)
{
  event_record(s->dc->rec, s->d, "Warning", "SelectingAll",
               "This deployment is selecting all pods. A non-empty selector is required.");
  if (cu_int(s->d, "status.observedGeneration", 0) >= meta_generation(s->d))
    return 0;
  cleanup_json json_t *status = json_deep_copy(json_object_get(s->d, "status"));
  if (status == NULL)
    status = json_object();
  json_object_set_new(status, "observedGeneration", json_integer(meta_generation(s->d)));
  return dep_write_status(s, status, err);
}

static int
sync_deployment(struct dsync *s, k8c_err *err)
{
  label_selector *sel =
      label_selector_from_json(json_object_get(json_object_get(s->d, "spec"), "selector"), err);
  if (sel == NULL) {
    log_warn("deployment %s: invalid selector: %s", s->key, err->message);
    k8c_err_clear(err);
    return 0;
  }
  if (label_selector_is_empty(sel)) {
    label_selector_free(sel);
    return sync_selecting_all(s, err);
  }
  int rc = claim_replicasets(s, sel, err);
  label_selector_free(sel);
  if (rc < 0)
    return -1;
  if (json_object_get(meta_get(s->d), "deletionTimestamp")) {
    if (dep_get_all_rs(s, false, err) < 0)
      return -1;
    return dep_sync_status(s, err);
  }
  if (dep_check_paused_conditions(s, err) < 0)
    return -1;
  if (json_is_true(json_object_get(json_object_get(s->d, "spec"), "paused")))
    return dep_sync_scale(s, err);
  if (dep_get_all_rs(s, false, err) < 0)
    return -1;
  if (dep_is_scaling_event(s))
    return dep_sync_scale(s, err);
  if (dep_is_rolling(s->d))
    return dep_rollout_rolling(s, err);
  return dep_rollout_recreate(s, err);
}

static void
dsync_free(struct dsync *s)
{
  json_decref(s->d);
  for (size_t i = 0; i < s->nrs; i++)
    json_decref(s->rs[i]);
  free(s->rs);
  json_decref(s->new_rs);
  for (size_t i = 0; i < s->nold; i++)
    json_decref(s->old[i]);
  free(s->old);
}

/* One key's turn (keyed_controller's sync): a deployment gone from the cache has
 * nothing left to do. */
static int
sync_key(void *arg, const char *key, k8c_err *err)
{
  struct deployment_controller *c = arg;
  json_t *cached = informer_get(c->dep_inf, key);
  if (cached == NULL)
    return 0;
  struct dsync s = {.dc = c, .key = key, .d = json_deep_copy(cached)};
  json_decref(cached);
  int rc = sync_deployment(&s, err);
  if (rc == 0 && s.requeue_after_ms > 0)
    workqueue_add_after(c->kc.queue, key, s.requeue_after_ms);
  dsync_free(&s);
  return rc;
}

/* ---------- start / stop ---------- */

static void *
deployment_start(struct controller_context *ctx, k8c_err *err)
{
  struct deployment_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->dep_res = api_resource_find("apps", "v1", "deployments");
  c->rs_res = api_resource_find("apps", "v1", "replicasets");
  c->pod_res = api_resource_find("", "v1", "pods");
  c->dep_inf = informer_factory_get(ctx->informers, c->dep_res, "", NULL, NULL);
  c->rs_inf = informer_factory_get(ctx->informers, c->rs_res, "", NULL, NULL);
  c->pod_inf = informer_factory_get(ctx->informers, c->pod_res, "", NULL, NULL);
  cu_add_namespace_index(c->dep_inf);
  cu_add_namespace_index(c->rs_inf);
  cu_add_namespace_index(c->pod_inf);
  keyed_controller_init(
      &c->kc, &(struct keyed_controller_spec){
                  .name = "deployment", .thread = "ctl-deploy", .sync = sync_key, .arg = c});
  c->rec = event_recorder_new(c->client, "deployment-controller", NULL);
  struct informer_handlers dh = keyed_controller_key_handlers(c);
  struct informer_handlers rh = {
      .on_add = on_rs_add, .on_update = on_rs_update, .on_delete = on_rs_delete, .ctx = c};
  struct informer_handlers ph = {.on_delete = on_pod_delete, .ctx = c, .resync_period_ms = -1};
  keyed_controller_watch(&c->kc, c->dep_inf, &dh);
  keyed_controller_watch(&c->kc, c->rs_inf, &rh);
  keyed_controller_watch(&c->kc, c->pod_inf, &ph);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    deployment_stop(c);
    return NULL;
  }
  return c;
}

static void
deployment_stop(void *state)
{
  struct deployment_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  event_recorder_free(c->rec);
  free(c);
}
