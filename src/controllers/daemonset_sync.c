/* daemonset_sync.c — one reconcile of a DaemonSet, as upstream's syncDaemonSet: claim the
 * pods (adopting orphans), map them to nodes (spec.nodeName or the metadata.name node
 * affinity of a pod not yet bound), then per node: create the missing pod where it should
 * run, delete failed and surplus pods, delete pods where they may no longer continue;
 * then roll pods of an older revision within maxUnavailable (or surge with maxSurge), and
 * write the status kubectl rollout status reads. Expectations keep a stale cache from
 * making a node's pod twice. */
#include "apimachinery/labels.h"
#include "apimachinery/meta.h"
#include "controllers/daemonset_internal.h"
#include "controllers/deployment_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

struct node_state {
  const json_t *node;
  const char *name;
  bool should_run, should_continue;
  json_t **pods; /* the daemon pods for this node, oldest first (borrowed) */
  size_t npods;
};

struct ds_view {
  json_t *ds;
  const char *key;
  char *hash;
  json_t **old_revs; /* revisions of other templates, oldest first */
  size_t nold_revs;
  long long min_ready;
  json_t **pods; /* claimed */
  size_t npods;
  json_t **nodes;
  size_t nnodes;
  struct node_state *ns;
  json_t **stray; /* pods for nodes that do not exist (borrowed) */
  size_t nstray;
  /* what this sync decided */
  const char **create_on;
  size_t ncreate;
  json_t **to_delete;
  size_t ndelete;
};

static bool
is_terminating(const json_t *pod)
{
  return json_object_get(meta_get((json_t *)pod), "deletionTimestamp") != NULL;
}

static bool
is_failed(const json_t *pod)
{
  const char *phase = cu_str(pod, "status.phase");
  return phase && strcmp(phase, "Failed") == 0;
}

static bool
is_updated(const struct ds_view *v, const json_t *pod)
{
  const char *h = json_string_value(json_object_get(meta_labels(pod), DS_LABEL_REVISION));
  return h && strcmp(h, v->hash) == 0;
}

static bool
is_available(const struct ds_view *v, const json_t *pod)
{
  return pod_is_available(pod, v->min_ready, cu_now());
}

static int
cmp_oldest_first(const void *a, const void *b)
{
  const json_t *pa = *(json_t *const *)a, *pb = *(json_t *const *)b;
  time_t ta = cu_parse_time(meta_string(pa, "creationTimestamp"));
  time_t tb = cu_parse_time(meta_string(pb, "creationTimestamp"));
  if (ta != tb)
    return ta < tb ? -1 : 1;
  const char *na = meta_name(pa), *nb = meta_name(pb);
  return strcmp(na ? na : "", nb ? nb : "");
}

/* ---------- claiming and mapping ---------- */

static int
claim_pods(struct ds_controller *c, struct ds_view *v, const label_selector *sel, k8c_err *err)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(v->ds), &pods, &n, err) < 0)
    return -1;
  v->pods = xcalloc(n ? n : 1, sizeof *v->pods);
  const char *uid = meta_uid(v->ds);
  bool deleting = is_terminating(v->ds);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *pod = pods[i];
    bool matches = label_selector_matches(sel, meta_labels(pod));
    json_t *ref = cu_controller_ref(pod);
    if (ref) {
      const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
      if (ref_uid == NULL || strcmp(ref_uid, uid) != 0)
        continue;
      if (matches) {
        v->pods[v->npods++] = json_incref(pod);
      } else if (!deleting) {
        k8c_err rerr = {0};
        if (cu_release(c->client, c->pod_res, pod, uid, &rerr) < 0)
          rc = -1;
        k8c_err_clear(&rerr);
      }
      continue;
    }
    if (!matches || deleting || is_terminating(pod))
      continue;
    json_t *adopted = NULL;
    k8c_err aerr = {0};
    if (cu_adopt(c->client, c->pod_res, pod, "apps/v1", "DaemonSet", v->ds, &adopted, &aerr) < 0) {
      if (aerr.status != 404)
        rc = -1;
      k8c_err_clear(&aerr);
      continue;
    }
    v->pods[v->npods++] = adopted;
  }
  informer_objs_free(pods, n);
  if (rc < 0)
    return k8c_error(err, 409, K8C_REASON_CONFLICT, "claiming pods of daemonset %s",
                     meta_name(v->ds));
  return 0;
}

static void
map_pods_to_nodes(struct ds_controller *c, struct ds_view *v)
{
  informer_list(c->node_inf, &v->nodes, &v->nnodes);
  v->ns = xcalloc(v->nnodes ? v->nnodes : 1, sizeof *v->ns);
  ds_placement *p = ds_placement_new(v->ds);
  for (size_t i = 0; i < v->nnodes; i++) {
    struct node_state *s = &v->ns[i];
    s->node = v->nodes[i];
    s->name = meta_name(s->node);
    ds_node_should_run(p, s->node, &s->should_run, &s->should_continue);
    s->pods = xcalloc(v->npods ? v->npods : 1, sizeof *s->pods);
  }
  ds_placement_free(p);
  v->stray = xcalloc(v->npods ? v->npods : 1, sizeof *v->stray);
  for (size_t i = 0; i < v->npods; i++) {
    const char *node = ds_pod_node(v->pods[i]);
    struct node_state *s = NULL;
    for (size_t j = 0; node && j < v->nnodes && s == NULL; j++)
      if (v->ns[j].name && strcmp(v->ns[j].name, node) == 0)
        s = &v->ns[j];
    if (s)
      s->pods[s->npods++] = v->pods[i];
    else
      v->stray[v->nstray++] = v->pods[i];
  }
  for (size_t i = 0; i < v->nnodes; i++)
    qsort(v->ns[i].pods, v->ns[i].npods, sizeof *v->ns[i].pods, cmp_oldest_first);
}

/* The node's pods that are neither terminating nor failed, oldest first (borrowed). */
static size_t
running_pods(const struct node_state *s, json_t **out)
{
  size_t n = 0;
  for (size_t i = 0; i < s->npods; i++)
    if (!is_terminating(s->pods[i]) && !is_failed(s->pods[i]))
      out[n++] = s->pods[i];
  return n;
}

static void
plan_create(struct ds_view *v, const char *node)
{
  v->create_on[v->ncreate++] = node;
}

static void
plan_delete(struct ds_view *v, json_t *pod)
{
  for (size_t i = 0; i < v->ndelete; i++)
    if (v->to_delete[i] == pod)
      return;
  v->to_delete[v->ndelete++] = pod;
}

static long long
max_surge(const struct ds_view *v, long long desired)
{
  const json_t *ru = json_object_get(
      json_object_get(json_object_get(v->ds, "spec"), "updateStrategy"), "rollingUpdate");
  long long surge = 0;
  if (cu_scaled_int_or_percent(json_object_get(ru, "maxSurge"), desired, true, &surge) < 0)
    surge = 0;
  return surge;
}

static long long
max_unavailable(const struct ds_view *v, long long desired)
{
  const json_t *ru = json_object_get(
      json_object_get(json_object_get(v->ds, "spec"), "updateStrategy"), "rollingUpdate");
  long long unavailable = 1;
  json_t *mu = json_object_get(ru, "maxUnavailable");
  if (mu && cu_scaled_int_or_percent(mu, desired, true, &unavailable) < 0)
    unavailable = 1;
  if (unavailable == 0 && max_surge(v, desired) == 0)
    unavailable = 1;
  return unavailable;
}

static bool
is_rolling(const struct ds_view *v)
{
  const char *type = cu_str(v->ds, "spec.updateStrategy.type");
  return type == NULL || strcmp(type, "RollingUpdate") == 0;
}

/* ---------- manage: the right number of pods on every node ---------- */

static void
plan_manage(struct ds_view *v, long long surge)
{
  json_t **running = xcalloc(v->npods ? v->npods : 1, sizeof *running);
  for (size_t i = 0; i < v->nnodes; i++) {
    struct node_state *s = &v->ns[i];
    size_t nrun = running_pods(s, running);
    if (s->should_run && s->npods == 0) {
      plan_create(v, s->name);
      continue;
    }
    if (!s->should_continue) {
      for (size_t j = 0; j < nrun; j++)
        plan_delete(v, running[j]);
      for (size_t j = 0; j < s->npods; j++)
        if (is_failed(s->pods[j]) && !is_terminating(s->pods[j]))
          plan_delete(v, s->pods[j]);
      continue;
    }
    for (size_t j = 0; j < s->npods; j++)
      if (is_failed(s->pods[j]) && !is_terminating(s->pods[j]))
        plan_delete(v, s->pods[j]);
    if (nrun <= 1)
      continue;
    /* Surplus pods: keep the oldest; while surging, the oldest updated one as well. */
    json_t *keep_old = running[0], *keep_new = NULL;
    if (surge > 0) {
      keep_old = NULL;
      for (size_t j = 0; j < nrun; j++) {
        if (is_updated(v, running[j]) && keep_new == NULL)
          keep_new = running[j];
        else if (!is_updated(v, running[j]) && keep_old == NULL)
          keep_old = running[j];
      }
    }
    for (size_t j = 0; j < nrun; j++)
      if (running[j] != keep_old && running[j] != keep_new)
        plan_delete(v, running[j]);
  }
  for (size_t i = 0; i < v->nstray; i++)
    if (!is_terminating(v->stray[i]))
      plan_delete(v, v->stray[i]);
  free(running);
}

/* ---------- rolling update ---------- */

static void
plan_rolling(struct ds_view *v, long long desired)
{
  long long surge = max_surge(v, desired), unavailable = max_unavailable(v, desired);
  json_t **running = xcalloc(v->npods ? v->npods : 1, sizeof *running);
  json_t **candidates = xcalloc(v->nnodes ? v->nnodes : 1, sizeof *candidates);
  size_t ncandidates = 0;
  long long num_unavailable = 0, num_surge = 0;
  for (size_t i = 0; i < v->nnodes; i++) {
    struct node_state *s = &v->ns[i];
    if (!s->should_run)
      continue;
    size_t nrun = running_pods(s, running);
    json_t *new_pod = NULL, *old_pod = NULL;
    for (size_t j = 0; j < nrun; j++) {
      if (is_updated(v, running[j]) && new_pod == NULL)
        new_pod = running[j];
      else if (!is_updated(v, running[j]) && old_pod == NULL)
        old_pod = running[j];
    }
    if (new_pod == NULL && old_pod == NULL) {
      num_unavailable++;
      continue;
    }
    if (new_pod && old_pod) { /* surging here */
      if (is_available(v, new_pod))
        plan_delete(v, old_pod);
      else
        num_surge++;
      continue;
    }
    if (new_pod) {
      if (!is_available(v, new_pod))
        num_unavailable++;
      continue;
    }
    if (!is_available(v, old_pod)) { /* unavailable anyway: replace it at once */
      plan_delete(v, old_pod);
      num_unavailable++;
      continue;
    }
    candidates[ncandidates++] = old_pod;
  }
  if (surge > 0) {
    for (size_t i = 0; i < ncandidates && num_surge < surge; i++, num_surge++)
      plan_create(v, ds_pod_node(candidates[i]));
  } else {
    for (size_t i = 0; i < ncandidates && num_unavailable < unavailable; i++, num_unavailable++)
      plan_delete(v, candidates[i]);
  }
  free(candidates);
  free(running);
}

/* ---------- acting ---------- */

static int
execute_plan(struct ds_controller *c, struct ds_view *v, k8c_err *err)
{
  int rc = 0;
  char **keys = xcalloc(v->ndelete ? v->ndelete : 1, sizeof *keys);
  for (size_t i = 0; i < v->ndelete; i++)
    keys[i] = cu_key(v->to_delete[i]);
  /* One record per key: creations matter most (a duplicate pod on a node). */
  if (v->ncreate > 0)
    expectations_expect_creations(c->exp, v->key, (int)v->ncreate);
  else if (v->ndelete > 0)
    expectations_expect_deletions(c->exp, v->key, keys, v->ndelete);
  /* Deletions first: a surge replaces a node's old pod before the next node surges. */
  for (size_t i = 0; i < v->ndelete; i++) {
    json_t *pod = v->to_delete[i];
    cleanup_json json_t *opts =
        json_pack("{s:{s:s}}", "preconditions", "uid", meta_uid(pod) ? meta_uid(pod) : "");
    k8c_err derr = {0};
    if (client_delete(c->client, c->pod_res, meta_namespace(pod), meta_name(pod), opts, NULL, NULL,
                      &derr) < 0) {
      expectations_deletion_observed(c->exp, v->key, keys[i]);
      if (derr.status != 404 && derr.status != 409) {
        event_record(c->rec, v->ds, "Warning", "FailedDelete", "Error deleting: %s", derr.message);
        if (rc == 0)
          k8c_err_move(err, &derr);
        rc = -1;
      }
      k8c_err_clear(&derr);
      continue;
    }
    event_record(c->rec, v->ds, "Normal", "SuccessfulDelete", "Deleted pod: %s", meta_name(pod));
  }
  for (size_t i = 0; i < v->ncreate; i++) {
    cleanup_json json_t *pod = ds_new_pod(v->ds, v->hash, v->create_on[i]);
    json_t *created = NULL;
    k8c_err cerr = {0};
    if (client_create(c->client, c->pod_res, meta_namespace(v->ds), pod, NULL, &created, &cerr) <
        0) {
      expectations_creation_observed(c->exp, v->key);
      event_record(c->rec, v->ds, "Warning", "FailedCreate", "Error creating: %s", cerr.message);
      if (rc == 0)
        k8c_err_move(err, &cerr);
      k8c_err_clear(&cerr);
      rc = -1;
      continue;
    }
    event_record(c->rec, v->ds, "Normal", "SuccessfulCreate", "Created pod: %s",
                 meta_name(created));
    json_decref(created);
  }
  for (size_t i = 0; i < v->ndelete; i++)
    free(keys[i]);
  free(keys);
  return rc;
}

/* ---------- status ---------- */

static json_t *
compute_status(struct ds_view *v, long long *requeue_ms)
{
  long long desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  for (size_t i = 0; i < v->nnodes; i++) {
    struct node_state *s = &v->ns[i];
    if (!s->should_run) {
      if (s->npods > 0)
        misscheduled++;
      continue;
    }
    desired++;
    if (s->npods == 0)
      continue;
    current++;
    const json_t *pod = s->pods[0];
    if (pod_is_ready(pod)) {
      ready++;
      if (is_available(v, pod))
        available++;
      else if (v->min_ready > 0)
        *requeue_ms = v->min_ready * 1000 + 500;
    }
    for (size_t j = 0; j < s->npods; j++)
      if (is_updated(v, s->pods[j]) && !is_terminating(s->pods[j])) {
        updated++;
        break;
      }
  }
  json_t *status =
      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "observedGeneration",
                (json_int_t)meta_generation(v->ds), "desiredNumberScheduled", (json_int_t)desired,
                "currentNumberScheduled", (json_int_t)current, "numberMisscheduled",
                (json_int_t)misscheduled, "numberReady", (json_int_t)ready, "numberAvailable",
                (json_int_t)available, "updatedNumberScheduled", (json_int_t)updated,
                "numberUnavailable", (json_int_t)(desired > available ? desired - available : 0));
  json_t *old = json_object_get(v->ds, "status");
  const char *kept[] = {"conditions", "collisionCount"};
  for (int i = 0; i < 2; i++) {
    json_t *val = json_object_get(old, kept[i]);
    if (val)
      json_object_set(status, kept[i], val);
  }
  return status;
}

static int
write_status(struct ds_controller *c, struct ds_view *v, json_t *status, k8c_err *err)
{
  json_t *old = json_object_get(v->ds, "status");
  bool same = true;
  const char *k;
  json_t *val;
  json_object_foreach (status, k, val) {
    json_t *o = json_object_get(old, k);
    if (o == NULL && json_is_integer(val) && json_integer_value(val) == 0)
      continue;
    if (!json_equal(o, val))
      same = false;
  }
  if (same)
    return 0;
  cleanup_json json_t *copy = json_deep_copy(v->ds);
  json_object_set(copy, "status", status);
  return client_update_status(c->client, c->ds_res, meta_namespace(v->ds), meta_name(v->ds), copy,
                              NULL, NULL, err);
}

/* ---------- sync ---------- */

static void
view_free(struct ds_view *v)
{
  for (size_t i = 0; v->ns && i < v->nnodes; i++)
    free(v->ns[i].pods);
  free(v->ns);
  informer_objs_free(v->nodes, v->nnodes);
  informer_objs_free(v->pods, v->npods);
  free(v->stray);
  free(v->create_on);
  free(v->to_delete);
  free(v->hash);
  informer_objs_free(v->old_revs, v->nold_revs);
  json_decref(v->ds);
}

int
ds_sync(struct ds_controller *c, const char *key, k8c_err *err)
{
  struct ds_view v = {.key = key};
  v.ds = informer_get(c->ds_inf, key);
  if (v.ds == NULL) {
    expectations_delete(c->exp, key);
    return 0;
  }
  label_selector *sel =
      label_selector_from_json(json_object_get(json_object_get(v.ds, "spec"), "selector"), err);
  if (sel == NULL || label_selector_is_empty(sel)) {
    log_warn("daemonset %s: invalid selector: %s", key, err->message);
    k8c_err_clear(err);
    label_selector_free(sel);
    view_free(&v);
    return 0;
  }
  bool needs_sync = expectations_satisfied(c->exp, key);
  v.min_ready = cu_int(v.ds, "spec.minReadySeconds", 0);
  int rc = claim_pods(c, &v, sel, err);
  if (rc == 0 && !is_terminating(v.ds)) {
    cleanup_json json_t *cur = NULL;
    rc = ds_construct_history(c, v.ds, sel, &cur, &v.old_revs, &v.nold_revs, err);
    const char *hash = json_string_value(json_object_get(meta_labels(cur), DS_LABEL_REVISION));
    if (rc == 0)
      v.hash = xstrdup(hash ? hash : meta_name(cur));
  }
  label_selector_free(sel);
  if (rc < 0) {
    view_free(&v);
    return -1;
  }
  if (v.hash == NULL) {
    /* Being deleted: no revision is made; the template hash tells updated pods apart. */
    json_t *collisions = json_object_get(json_object_get(v.ds, "status"), "collisionCount");
    v.hash = dep_template_hash(json_object_get(json_object_get(v.ds, "spec"), "template"),
                               json_integer_value(collisions) ? collisions : NULL);
  }
  map_pods_to_nodes(c, &v);
  long long desired = 0;
  for (size_t i = 0; i < v.nnodes; i++)
    desired += v.ns[i].should_run;
  v.create_on = xcalloc(v.nnodes ? v.nnodes : 1, sizeof *v.create_on);
  v.to_delete = xcalloc(v.npods ? v.npods : 1, sizeof *v.to_delete);
  if (needs_sync && !is_terminating(v.ds)) {
    plan_manage(&v, is_rolling(&v) ? max_surge(&v, desired) : 0);
    if (v.ncreate == 0 && v.ndelete == 0 && is_rolling(&v))
      plan_rolling(&v, desired);
    rc = execute_plan(c, &v, err);
    if (rc == 0 && ds_cleanup_history(c, v.ds, v.old_revs, v.nold_revs, v.pods, v.npods, err) < 0)
      rc = -1;
  }
  long long requeue_ms = 0;
  cleanup_json json_t *status = compute_status(&v, &requeue_ms);
  k8c_err serr = {0};
  if (write_status(c, &v, status, &serr) < 0) {
    if (rc == 0)
      k8c_err_move(err, &serr);
    k8c_err_clear(&serr);
    rc = -1;
  }
  if (rc == 0 && requeue_ms > 0)
    workqueue_add_after(c->kc.queue, key, requeue_ms);
  view_free(&v);
  return rc;
}
