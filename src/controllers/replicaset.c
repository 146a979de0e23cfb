/* replicaset.c — the ReplicaSet controller, as upstream's: informers on replicasets and
 * pods feed a keyed_controller's queue of RS keys; a sync claims the pods the selector
 * matches (adopting orphans, releasing pods that stopped matching), creates pods in
 * slow-start batches or deletes the best candidates, and writes status only when it
 * changed. Expectations keep a sync from acting again before its own creates/deletes
 * are seen. */
#include "apimachinery/labels.h"
#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/keyed_controller.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>
#include <string.h>

#define RS_BURST_REPLICAS 500
#define RS_CREATE_THREADS 15 /* besides the worker's own, for one batch's creates */

struct rs_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *rs_res;
  const struct api_resource *pod_res;
  informer *rs_inf;
  informer *pod_inf;
  expectations *exp;
  struct event_recorder *rec;
};

static void *rs_start(struct controller_context *ctx, k8c_err *err);
static void rs_stop(void *state);

const struct controller_def replicaset_controller_def = {
    .name = "replicaset",
    .start = rs_start,
    .stop = rs_stop,
};

/* ---------- event handlers: map pods to the RS keys to sync ---------- */

/* The RS controlling pod (new reference) or NULL. */
static json_t *
owner_of(struct rs_controller *c, const json_t *pod)
{
  json_t *ref = cu_controller_ref(pod);
  return ref ? cu_resolve_controller_ref(c->rs_inf, "ReplicaSet", meta_namespace(pod), ref) : NULL;
}

/* Every RS of pod's namespace whose selector matches it (for orphans). */
static void
enqueue_matching(struct rs_controller *c, const json_t *pod)
{
  json_t **rss = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(c->rs_inf, "namespace", meta_namespace(pod), &rss, &n, &err) < 0) {
    k8c_err_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    label_selector *sel = label_selector_from_json(
        json_object_get(json_object_get(rss[i], "spec"), "selector"), &err);
    k8c_err_clear(&err);
    if (sel && !label_selector_is_empty(sel) && label_selector_matches(sel, meta_labels(pod)))
      keyed_controller_enqueue(c, rss[i]);
    label_selector_free(sel);
  }
  informer_objs_free(rss, n);
}

static void
pod_deleted(struct rs_controller *c, const json_t *pod)
{
  json_t *rs = owner_of(c, pod);
  if (rs == NULL)
    return;
  cleanup_free char *rs_key = cu_key(rs);
  cleanup_free char *pod_key = cu_key(pod);
  expectations_deletion_observed(c->exp, rs_key, pod_key);
  workqueue_add(c->kc.queue, rs_key);
  json_decref(rs);
}

static void
on_pod_add(void *ctx, json_t *pod)
{
  struct rs_controller *c = ctx;
  if (json_object_get(meta_get(pod), "deletionTimestamp")) {
    pod_deleted(c, pod);
    return;
  }
  if (cu_controller_ref(pod)) {
    json_t *rs = owner_of(c, pod);
    if (rs) {
      cleanup_free char *rs_key = cu_key(rs);
      expectations_creation_observed(c->exp, rs_key);
      workqueue_add(c->kc.queue, rs_key);
      json_decref(rs);
    }
    return;
  }
  enqueue_matching(c, pod);
}

static void
on_pod_update(void *ctx, json_t *old_pod, json_t *new_pod)
{
  struct rs_controller *c = ctx;
  if (old_pod != new_pod && json_equal(meta_get(old_pod), meta_get(new_pod)) &&
      json_equal(json_object_get(old_pod, "status"), json_object_get(new_pod, "status")) &&
      json_equal(json_object_get(old_pod, "spec"), json_object_get(new_pod, "spec")))
    return;
  bool labels_changed = !json_equal(meta_labels(old_pod), meta_labels(new_pod));
  if (json_object_get(meta_get(new_pod), "deletionTimestamp")) {
    pod_deleted(c, new_pod);
    if (labels_changed)
      pod_deleted(c, old_pod);
    return;
  }
  json_t *old_ref = cu_controller_ref(old_pod), *new_ref = cu_controller_ref(new_pod);
  bool ref_changed = !json_equal(old_ref, new_ref);
  if (ref_changed && old_ref) {
    json_t *old_rs = owner_of(c, old_pod);
    if (old_rs)
      keyed_controller_enqueue(c, old_rs);
    json_decref(old_rs);
  }
  if (new_ref) {
    json_t *rs = owner_of(c, new_pod);
    if (rs) {
      keyed_controller_enqueue(c, rs);
      long long min_ready = cu_int(rs, "spec.minReadySeconds", 0);
      if (min_ready > 0 && !pod_is_ready(old_pod) && pod_is_ready(new_pod)) {
        cleanup_free char *key = cu_key(rs);
        workqueue_add_after(c->kc.queue, key, min_ready * 1000 + 1000);
      }
      json_decref(rs);
    }
    return;
  }
  if (labels_changed || ref_changed)
    enqueue_matching(c, new_pod);
}

static void
on_pod_delete(void *ctx, json_t *pod)
{
  pod_deleted(ctx, pod);
}

static void
on_rs_delete(void *ctx, json_t *rs)
{
  struct rs_controller *c = ctx;
  cleanup_free char *key = cu_key(rs);
  expectations_delete(c->exp, key);
}

/* ---------- claiming pods ---------- */

/* The active pods rs controls after adopting matching orphans and releasing owned pods
 * that no longer match: *out (new references, caller frees with informer_objs_free). */
static int
claim_pods(struct rs_controller *c, const json_t *rs, const label_selector *sel, json_t ***out,
           size_t *nout, k8c_err *err)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(rs), &pods, &n, err) < 0)
    return -1;
  json_t **claimed = xcalloc(n ? n : 1, sizeof *claimed);
  size_t nclaimed = 0;
  const char *uid = meta_uid(rs);
  bool rs_deleting = json_object_get(meta_get((json_t *)rs), "deletionTimestamp") != NULL;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *pod = pods[i];
    if (!pod_is_active(pod))
      continue;
    bool matches = label_selector_matches(sel, meta_labels(pod));
    json_t *ref = cu_controller_ref(pod);
    if (ref) {
      const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
      if (ref_uid == NULL || strcmp(ref_uid, uid) != 0)
        continue;
      if (matches) {
        claimed[nclaimed++] = json_incref(pod);
      } else if (!rs_deleting) {
        k8c_err rerr = {0};
        if (cu_release(c->client, c->pod_res, pod, uid, &rerr) < 0) {
          log_warn("replicaset %s: releasing pod %s: %s", meta_name(rs), meta_name(pod),
                   rerr.message);
          k8c_err_clear(&rerr);
          rc = -1;
        }
      }
      continue;
    }
    if (!matches || rs_deleting)
      continue;
    json_t *adopted = NULL;
    k8c_err aerr = {0};
    if (cu_adopt(c->client, c->pod_res, pod, "apps/v1", "ReplicaSet", rs, &adopted, &aerr) < 0) {
      if (aerr.status != 404)
        rc = -1;
      k8c_err_clear(&aerr);
      continue;
    }
    claimed[nclaimed++] = adopted;
  }
  informer_objs_free(pods, n);
  *out = claimed;
  *nout = nclaimed;
  if (rc < 0)
    k8c_error(err, 409, K8C_REASON_CONFLICT, "claiming pods of replicaset %s", meta_name(rs));
  return 0;
}

/* ---------- creating and deleting pods ---------- */

static json_t *
pod_from_template(const json_t *rs)
{
  const json_t *tpl = json_object_get(json_object_get(rs, "spec"), "template");
  const json_t *tmeta = json_object_get(tpl, "metadata");
  json_t *meta = json_object();
  cleanup_free char *prefix = xasprintf("%s-", meta_name(rs));
  json_object_set_new(meta, "generateName", json_string(prefix));
  json_object_set_new(meta, "namespace", json_string(meta_namespace(rs)));
  const char *copied[] = {"labels", "annotations", "finalizers"};
  for (int i = 0; i < 3; i++) {
    json_t *v = json_object_get(tmeta, copied[i]);
    if (v)
      json_object_set_new(meta, copied[i], json_deep_copy(v));
  }
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("apps/v1", "ReplicaSet", rs));
  json_object_set_new(meta, "ownerReferences", refs);
  json_t *spec = json_object_get(tpl, "spec");
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta,
                   "spec", spec ? json_deep_copy(spec) : json_object());
}

/* One slow-start batch, shared by the threads that create its pods. */
struct create_batch {
  struct rs_controller *c;
  const json_t *rs;
  const char *rs_key;
  json_t *pod; /* read-only: the client borrows bodies without modifying them */
  int size;
  pthread_mutex_t mu;
  int next;     /* the next pod of the batch to create */
  int failures; /* under mu */
  k8c_err *err; /* the first failure's error, under mu */
};

static void *
create_batch_worker(void *arg)
{
  struct create_batch *b = arg;
  for (;;) {
    pthread_mutex_lock(&b->mu);
    bool more = b->next < b->size;
    b->next++;
    pthread_mutex_unlock(&b->mu);
    if (!more)
      return NULL;
    json_t *created = NULL;
    k8c_err cerr = {0};
    if (client_create(b->c->client, b->c->pod_res, meta_namespace(b->rs), b->pod, NULL, &created,
                      &cerr) < 0) {
      event_record(b->c->rec, b->rs, "Warning", "FailedCreate", "Error creating: %s", cerr.message);
      expectations_creation_observed(b->c->exp, b->rs_key);
      pthread_mutex_lock(&b->mu);
      b->failures++;
      if (b->err->status == 0)
        k8c_err_move(b->err, &cerr);
      pthread_mutex_unlock(&b->mu);
      k8c_err_clear(&cerr);
      continue;
    }
    event_record(b->c->rec, b->rs, "Normal", "SuccessfulCreate", "Created pod: %s",
                 meta_name(created));
    json_decref(created);
  }
}

/* Creates count pods in batches of 1, 2, 4 ... stopping at the first batch with a failure;
 * every creation not made is taken off the expectations. A batch's pods are created in
 * parallel (upstream's slowStartBatch runs one goroutine per pod), so that their writes
 * share the store's group commits instead of waiting for one each. Returns how many
 * failed or were skipped (0 = all created). */
static int
create_pods(struct rs_controller *c, const json_t *rs, const char *rs_key, int count, k8c_err *err)
{
  cleanup_json json_t *pod = pod_from_template(rs);
  int remaining = count, batch = 1;
  while (remaining > 0) {
    struct create_batch b = {.c = c,
                             .rs = rs,
                             .rs_key = rs_key,
                             .pod = pod,
                             .size = batch < remaining ? batch : remaining,
                             .err = err};
    pthread_mutex_init(&b.mu, NULL);
    pthread_t threads[RS_CREATE_THREADS];
    int started = 0;
    for (int i = 0; i < b.size - 1 && i < RS_CREATE_THREADS; i++) {
      if (pthread_create(&threads[started], NULL, create_batch_worker, &b) != 0)
        break; /* the calling thread creates the rest */
      started++;
    }
    create_batch_worker(&b);
    for (int i = 0; i < started; i++)
      pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&b.mu);
    remaining -= b.size;
    if (b.failures > 0) {
      for (int i = 0; i < remaining; i++)
        expectations_creation_observed(c->exp, rs_key);
      return b.failures + remaining;
    }
    batch *= 2;
  }
  return 0;
}

static int
delete_pods(struct rs_controller *c, const json_t *rs, const char *rs_key, json_t **pods, size_t n,
            int count, k8c_err *err)
{
  cu_sort_pods_for_deletion(pods, n, cu_now());
  char **keys = xcalloc((size_t)count, sizeof *keys);
  for (int i = 0; i < count; i++)
    keys[i] = cu_key(pods[i]);
  expectations_expect_deletions(c->exp, rs_key, keys, (size_t)count);
  int failures = 0;
  for (int i = 0; i < count; i++) {
    k8c_err derr = {0};
    if (client_delete(c->client, c->pod_res, meta_namespace(pods[i]), meta_name(pods[i]), NULL,
                      NULL, NULL, &derr) < 0) {
      expectations_deletion_observed(c->exp, rs_key, keys[i]);
      if (derr.status != 404) {
        event_record(c->rec, rs, "Warning", "FailedDelete", "Error deleting: %s", derr.message);
        if (err->status == 0)
          k8c_err_move(err, &derr);
        failures++;
      }
      k8c_err_clear(&derr);
      continue;
    }
    event_record(c->rec, rs, "Normal", "SuccessfulDelete", "Deleted pod: %s", meta_name(pods[i]));
  }
  for (int i = 0; i < count; i++)
    free(keys[i]);
  free(keys);
  return failures;
}

/* Creates or deletes pods so that their number matches spec.replicas. */
static int
manage_replicas(struct rs_controller *c, const json_t *rs, const char *rs_key, json_t **pods,
                size_t n, k8c_err *err)
{
  long long want = cu_int(rs, "spec.replicas", 1);
  long long diff = (long long)n - want;
  if (diff < 0) {
    int count = (int)(-diff > RS_BURST_REPLICAS ? RS_BURST_REPLICAS : -diff);
    expectations_expect_creations(c->exp, rs_key, count);
    return create_pods(c, rs, rs_key, count, err) > 0 ? -1 : 0;
  }
  if (diff > 0) {
    int count = (int)(diff > RS_BURST_REPLICAS ? RS_BURST_REPLICAS : diff);
    return delete_pods(c, rs, rs_key, pods, n, count, err) > 0 ? -1 : 0;
  }
  return 0;
}

/* ---------- status ---------- */

static bool
labels_superset(const json_t *labels, const json_t *wanted)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)wanted, k, v) {
    if (!json_equal(json_object_get(labels, k), v))
      return false;
  }
  return true;
}

static json_t *
compute_status(const json_t *rs, json_t **pods, size_t n, const k8c_err *manage_err,
               bool create_failed)
{
  const json_t *tpl_labels = json_object_get(
      json_object_get(json_object_get(json_object_get(rs, "spec"), "template"), "metadata"),
      "labels");
  long long min_ready = cu_int(rs, "spec.minReadySeconds", 0);
  time_t now = cu_now();
  long long labeled = 0, ready = 0, available = 0;
  for (size_t i = 0; i < n; i++) {
    if (labels_superset(meta_labels(pods[i]), tpl_labels))
      labeled++;
    if (pod_is_ready(pods[i]))
      ready++;
    if (pod_is_available(pods[i], min_ready, now))
      available++;
  }
  json_t *status =
      json_pack("{s:I, s:I, s:I, s:I, s:I}", "replicas", (json_int_t)n, "fullyLabeledReplicas",
                (json_int_t)labeled, "readyReplicas", (json_int_t)ready, "availableReplicas",
                (json_int_t)available, "observedGeneration", (json_int_t)meta_generation(rs));
  /* Keep conditions other than ReplicaFailure; set that one while creates/deletes fail. */
  json_t *old_conds = json_object_get(json_object_get(rs, "status"), "conditions");
  json_t *conds = json_array();
  json_t *old_failure = NULL;
  size_t i;
  json_t *cnd;
  json_array_foreach (old_conds, i, cnd) {
    const char *type = json_string_value(json_object_get(cnd, "type"));
    if (type && strcmp(type, "ReplicaFailure") == 0)
      old_failure = cnd;
    else
      json_array_append(conds, cnd);
  }
  if (manage_err && manage_err->status != 0) {
    if (old_failure) {
      json_array_append(conds, old_failure);
    } else {
      cleanup_free char *now_s = meta_now_rfc3339();
      json_array_append_new(
          conds, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "ReplicaFailure", "status", "True",
                           "reason", create_failed ? "FailedCreate" : "FailedDelete", "message",
                           manage_err->message, "lastTransitionTime", now_s));
    }
  }
  if (json_array_size(conds) > 0)
    json_object_set_new(status, "conditions", conds);
  else
    json_decref(conds);
  return status;
}

static bool
status_differs(const json_t *old, const json_t *new_status)
{
  const char *fields[] = {"replicas",          "fullyLabeledReplicas", "readyReplicas",
                          "availableReplicas", "observedGeneration",   "conditions"};
  for (int i = 0; i < 6; i++) {
    json_t *a = json_object_get(old, fields[i]), *b = json_object_get(new_status, fields[i]);
    bool a_zero = a == NULL || (json_is_integer(a) && json_integer_value(a) == 0);
    bool b_zero = b == NULL || (json_is_integer(b) && json_integer_value(b) == 0);
    if (a_zero && b_zero)
      continue;
    if (!json_equal(a, b))
      return true;
  }
  return false;
}

static int
update_status(struct rs_controller *c, const json_t *rs, json_t *status, k8c_err *err)
{
  if (!status_differs(json_object_get(rs, "status"), status))
    return 0;
  cleanup_json json_t *copy = json_deep_copy(rs);
  json_object_set(copy, "status", status);
  return client_update_status(c->client, c->rs_res, meta_namespace(rs), meta_name(rs), copy, NULL,
                              NULL, err);
}

/* ---------- sync ---------- */

static int
sync_replicaset(void *arg, const char *key, k8c_err *err)
{
  struct rs_controller *c = arg;
  json_t *rs = informer_get(c->rs_inf, key);
  if (rs == NULL) {
    expectations_delete(c->exp, key);
    return 0;
  }
  bool needs_sync = expectations_satisfied(c->exp, key);
  label_selector *sel =
      label_selector_from_json(json_object_get(json_object_get(rs, "spec"), "selector"), err);
  if (sel == NULL) {
    log_warn("replicaset %s: invalid selector: %s", key, err->message);
    k8c_err_clear(err);
    json_decref(rs);
    return 0;
  }
  json_t **pods = NULL;
  size_t n = 0;
  k8c_err claim_err = {0};
  int rc = claim_pods(c, rs, sel, &pods, &n, &claim_err);
  label_selector_free(sel);
  if (rc < 0) {
    k8c_err_move(err, &claim_err);
    json_decref(rs);
    return -1;
  }
  k8c_err manage_err = {0};
  int manage_rc = 0;
  bool deleting = json_object_get(meta_get(rs), "deletionTimestamp") != NULL;
  if (needs_sync && !deleting)
    manage_rc = manage_replicas(c, rs, key, pods, n, &manage_err);
  bool create_failed = manage_rc < 0 && (long long)n < cu_int(rs, "spec.replicas", 1);
  json_t *status = compute_status(rs, pods, n, &manage_err, create_failed);
  rc = update_status(c, rs, status, err);
  if (rc == 0 && manage_rc == 0) {
    long long min_ready = cu_int(rs, "spec.minReadySeconds", 0);
    long long want = cu_int(rs, "spec.replicas", 1);
    if (min_ready > 0 && cu_int(status, "readyReplicas", 0) == want &&
        cu_int(status, "availableReplicas", 0) != want)
      workqueue_add_after(c->kc.queue, key, min_ready * 1000);
  }
  json_decref(status);
  informer_objs_free(pods, n);
  json_decref(rs);
  if (rc == 0 && (manage_rc < 0 || claim_err.status != 0)) {
    k8c_err_move(err, manage_rc < 0 ? &manage_err : &claim_err);
    rc = -1;
  }
  k8c_err_clear(&manage_err);
  k8c_err_clear(&claim_err);
  return rc;
}

/* ---------- start / stop ---------- */

static void *
rs_start(struct controller_context *ctx, k8c_err *err)
{
  struct rs_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->rs_res = api_resource_find("apps", "v1", "replicasets");
  c->pod_res = api_resource_find("", "v1", "pods");
  c->rs_inf = informer_factory_get(ctx->informers, c->rs_res, "", NULL, NULL);
  c->pod_inf = informer_factory_get(ctx->informers, c->pod_res, "", NULL, NULL);
  cu_add_namespace_index(c->rs_inf);
  cu_add_namespace_index(c->pod_inf);
  keyed_controller_init(&c->kc, &(struct keyed_controller_spec){.name = "replicaset",
                                                                .thread = "ctl-replicaset",
                                                                .sync = sync_replicaset,
                                                                .arg = c});
  c->exp = expectations_new();
  c->rec = event_recorder_new(c->client, "replicaset-controller", NULL);
  struct informer_handlers rs_h = {.on_add = keyed_controller_enqueue,
                                   .on_update = keyed_controller_enqueue_update,
                                   .on_delete = on_rs_delete,
                                   .ctx = c};
  struct informer_handlers pod_h = {
      .on_add = on_pod_add, .on_update = on_pod_update, .on_delete = on_pod_delete, .ctx = c};
  keyed_controller_watch(&c->kc, c->rs_inf, &rs_h);
  keyed_controller_watch(&c->kc, c->pod_inf, &pod_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    rs_stop(c);
    return NULL;
  }
  return c;
}

static void
rs_stop(void *state)
{
  struct rs_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  expectations_free(c->exp);
  event_recorder_free(c->rec);
  free(c);
}
