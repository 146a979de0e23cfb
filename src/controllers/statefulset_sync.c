/* statefulset_sync.c — one reconcile of a StatefulSet, as upstream's
 * defaultStatefulSetControl: claim the pods (adopting orphans named SET-N), split them
 * into the replicas [start, start+replicas) and the condemned rest, then create missing
 * ordinals (claims first) in order, delete failed pods, scale down from the highest
 * ordinal, and roll pods whose revision differs from the highest ordinal down to the
 * partition. OrderedReady does one step and waits for it (Running and Ready); Parallel
 * creates and deletes at once. A pod below the partition is (re)created from the current
 * revision, the others from the update revision. Status counts the pods and records both
 * revisions; revisions beyond revisionHistoryLimit that nothing uses are pruned. */
#include "apimachinery/labels.h"
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/statefulset_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

struct sts_view {
  json_t *set;
  const char *key;
  long long replicas, start, min_ready;
  bool monotonic, rolling, no_rolling_params;
  long long partition;
  struct sts_revisions revs; /* empty while the set is being deleted */
  const char *update_rev, *current_rev;
  long long collision_count;
  json_t **pods; /* every claimed pod */
  size_t npods;
  json_t **slots;     /* replicas entries: the pod of ordinal start+i, or NULL (borrowed) */
  json_t **condemned; /* pods outside the range, highest ordinal first (borrowed) */
  size_t ncondemned;
  long long requeue_ms;
};

static bool
is_terminating(const json_t *pod)
{
  return json_object_get(meta_get((json_t *)pod), "deletionTimestamp") != NULL;
}

/* Failed or Succeeded: a stateful pod that ended is replaced, as upstream does. */
static bool
is_failed(const json_t *pod)
{
  const char *phase = cu_str(pod, "status.phase");
  return phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0);
}

static bool
is_running_ready(const json_t *pod)
{
  const char *phase = cu_str(pod, "status.phase");
  return phase && strcmp(phase, "Running") == 0 && pod_is_ready(pod);
}

static bool
is_running_available(const json_t *pod, long long min_ready)
{
  return is_running_ready(pod) && pod_is_available(pod, min_ready, cu_now());
}

static bool
is_healthy(const json_t *pod)
{
  return is_running_ready(pod) && !is_terminating(pod);
}

static const char *
pod_revision(const json_t *pod)
{
  return json_string_value(json_object_get(meta_labels(pod), STS_LABEL_REVISION));
}

static bool
str_eq(const char *a, const char *b)
{
  return a && b && strcmp(a, b) == 0;
}

static bool
obj_missing(const json_t *obj, const char *path)
{
  cleanup_free char *copy = xstrdup(path);
  const json_t *at = obj;
  for (char *save = NULL, *part = strtok_r(copy, ".", &save); part;
       part = strtok_r(NULL, ".", &save))
    at = json_object_get(at, part);
  return at == NULL || json_is_null(at);
}

/* ---------- claiming ---------- */

static int
claim_pods(struct sts_controller *c, struct sts_view *v, const label_selector *sel, k8c_err *err)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(v->set), &pods, &n, err) < 0)
    return -1;
  v->pods = xcalloc(n ? n : 1, sizeof *v->pods);
  const char *uid = meta_uid(v->set);
  bool deleting = is_terminating(v->set);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *pod = pods[i];
    bool matches = label_selector_matches(sel, meta_labels(pod));
    json_t *ref = cu_controller_ref(pod);
    if (ref) {
      if (!str_eq(json_string_value(json_object_get(ref, "uid")), uid))
        continue;
      if (matches && sts_pod_ordinal(v->set, pod) >= 0) {
        v->pods[v->npods++] = json_incref(pod);
      } else if (!deleting) {
        k8c_err rerr = {0};
        if (cu_release(c->client, c->pod_res, pod, uid, &rerr) < 0) {
          k8c_err_clear(&rerr);
          rc = -1;
        }
      }
      continue;
    }
    if (!matches || deleting || sts_pod_ordinal(v->set, pod) < 0 || is_terminating(pod))
      continue;
    json_t *adopted = NULL;
    k8c_err aerr = {0};
    if (cu_adopt(c->client, c->pod_res, pod, "apps/v1", "StatefulSet", v->set, &adopted, &aerr) <
        0) {
      if (aerr.status != 404)
        rc = -1;
      k8c_err_clear(&aerr);
      continue;
    }
    v->pods[v->npods++] = adopted;
  }
  informer_objs_free(pods, n);
  if (rc < 0)
    return k8c_error(err, 409, K8C_REASON_CONFLICT, "claiming pods of statefulset %s",
                     meta_name(v->set));
  return 0;
}

static int
cmp_ordinal_desc(const void *a, const void *b, void *set)
{
  long long oa = sts_pod_ordinal(set, *(json_t *const *)a);
  long long ob = sts_pod_ordinal(set, *(json_t *const *)b);
  return oa < ob ? 1 : oa > ob ? -1 : 0;
}

static void
split_pods(struct sts_view *v)
{
  v->slots = xcalloc(v->replicas > 0 ? (size_t)v->replicas : 1, sizeof *v->slots);
  v->condemned = xcalloc(v->npods ? v->npods : 1, sizeof *v->condemned);
  for (size_t i = 0; i < v->npods; i++) {
    long long ord = sts_pod_ordinal(v->set, v->pods[i]);
    if (ord >= v->start && ord < v->start + v->replicas)
      v->slots[ord - v->start] = v->pods[i];
    else
      v->condemned[v->ncondemned++] = v->pods[i];
  }
  qsort_r(v->condemned, v->ncondemned, sizeof *v->condemned, cmp_ordinal_desc, v->set);
}

/* ---------- acting on pods ---------- */

static int
create_pod(struct sts_controller *c, struct sts_view *v, long long ord, k8c_err *err)
{
  if (sts_create_claims(c, v->set, ord, err) < 0)
    return -1;
  bool current =
      v->rolling && v->revs.current_set != NULL &&
      (ord < v->start + v->partition ||
       (v->no_rolling_params && ord < v->start + cu_int(v->set, "status.currentReplicas", 0)));
  cleanup_json json_t *pod =
      current ? sts_new_pod(v->revs.current_set, ord, v->current_rev)
              : sts_new_pod(v->revs.update_set ? v->revs.update_set : v->set, ord, v->update_rev);
  k8c_err cerr = {0};
  if (client_create(c->client, c->pod_res, meta_namespace(v->set), pod, NULL, NULL, &cerr) < 0) {
    if (cerr.status == 409) { /* our cache is behind: it exists */
      k8c_err_clear(&cerr);
      return 0;
    }
    event_record(c->rec, v->set, "Warning", "FailedCreate",
                 "create Pod %s in StatefulSet %s failed error: %s", meta_name(pod),
                 meta_name(v->set), cerr.message);
    k8c_err_move(err, &cerr);
    return -1;
  }
  event_record(c->rec, v->set, "Normal", "SuccessfulCreate",
               "create Pod %s in StatefulSet %s successful", meta_name(pod), meta_name(v->set));
  return 0;
}

static int
delete_pod(struct sts_controller *c, struct sts_view *v, const json_t *pod, k8c_err *err)
{
  cleanup_json json_t *opts =
      json_pack("{s:{s:s}}", "preconditions", "uid", meta_uid(pod) ? meta_uid(pod) : "");
  k8c_err derr = {0};
  if (client_delete(c->client, c->pod_res, meta_namespace(pod), meta_name(pod), opts, NULL, NULL,
                    &derr) < 0) {
    if (derr.status == 404 || derr.status == 409) {
      k8c_err_clear(&derr);
      return 0;
    }
    event_record(c->rec, v->set, "Warning", "FailedDelete",
                 "delete Pod %s in StatefulSet %s failed error: %s", meta_name(pod),
                 meta_name(v->set), derr.message);
    k8c_err_move(err, &derr);
    return -1;
  }
  event_record(c->rec, v->set, "Normal", "SuccessfulDelete",
               "delete Pod %s in StatefulSet %s successful", meta_name(pod), meta_name(v->set));
  return 0;
}

/* Keeps monotonic waits honest with minReadySeconds: sync again when pod may be available. */
static void
wait_available(struct sts_view *v, const json_t *pod)
{
  if (v->min_ready > 0 && is_running_ready(pod))
    v->requeue_ms = v->min_ready * 1000 + 500;
}

/* The replicas: create what is missing, replace failed pods; false when a monotonic set
 * must wait for this step before doing anything else. */
static bool
manage_replicas(struct sts_controller *c, struct sts_view *v, int *rc, k8c_err *err)
{
  for (long long i = 0; i < v->replicas; i++) {
    json_t *pod = v->slots[i];
    if (pod == NULL) {
      if (create_pod(c, v, v->start + i, err) < 0) {
        *rc = -1;
        return false;
      }
      if (v->monotonic)
        return false;
      continue;
    }
    if (is_failed(pod) && !is_terminating(pod)) {
      if (delete_pod(c, v, pod, err) < 0) {
        *rc = -1;
        return false;
      }
      if (v->monotonic)
        return false;
      continue;
    }
    if (is_terminating(pod) || !is_running_available(pod, v->min_ready)) {
      if (v->monotonic) {
        wait_available(v, pod);
        return false;
      }
    }
  }
  return true;
}

/* The condemned, highest ordinal first. */
static bool
manage_condemned(struct sts_controller *c, struct sts_view *v, int *rc, k8c_err *err)
{
  const char *when_scaled = cu_str(v->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled");
  bool delete_claims = str_eq(when_scaled, "Delete");
  for (size_t i = 0; i < v->ncondemned; i++) {
    json_t *pod = v->condemned[i];
    if (is_terminating(pod)) {
      if (v->monotonic)
        return false;
      continue;
    }
    if (delete_pod(c, v, pod, err) < 0) {
      *rc = -1;
      return false;
    }
    if (delete_claims && sts_delete_claims(c, v->set, sts_pod_ordinal(v->set, pod), err) < 0) {
      *rc = -1;
      return false;
    }
    if (v->monotonic)
      return false;
  }
  return true;
}

/* RollingUpdate: from the highest ordinal down to the partition, one pod at a time. */
static void
rolling_update(struct sts_controller *c, struct sts_view *v, int *rc, k8c_err *err)
{
  if (!v->rolling)
    return;
  for (long long i = v->replicas - 1; i >= v->partition && i >= 0; i--) {
    json_t *pod = v->slots[i];
    if (pod == NULL)
      return;
    if (!str_eq(pod_revision(pod), v->update_rev) && !is_terminating(pod)) {
      if (delete_pod(c, v, pod, err) < 0)
        *rc = -1;
      return;
    }
    if (!is_healthy(pod))
      return;
  }
}

/* ---------- status ---------- */

static json_t *
compute_status(struct sts_view *v)
{
  long long replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  for (size_t i = 0; i < v->npods; i++) {
    json_t *pod = v->pods[i];
    replicas++;
    if (is_running_ready(pod))
      ready++;
    if (is_running_available(pod, v->min_ready))
      available++;
    if (is_terminating(pod))
      continue;
    if (str_eq(pod_revision(pod), v->current_rev))
      current++;
    if (str_eq(pod_revision(pod), v->update_rev))
      updated++;
  }
  const char *current_rev = v->current_rev;
  if (v->rolling && updated == replicas && ready == replicas && replicas == v->replicas) {
    current = updated;
    current_rev = v->update_rev;
  }
  json_t *old = json_object_get(v->set, "status");
  json_t *status = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I}", "observedGeneration",
      (json_int_t)meta_generation(v->set), "replicas", (json_int_t)replicas, "readyReplicas",
      (json_int_t)ready, "availableReplicas", (json_int_t)available, "currentReplicas",
      (json_int_t)current, "updatedReplicas", (json_int_t)updated, "currentRevision", current_rev,
      "updateRevision", v->update_rev, "collisionCount", (json_int_t)v->collision_count);
  json_t *conds = json_object_get(old, "conditions");
  if (json_array_size(conds) > 0)
    json_object_set(status, "conditions", conds);
  return status;
}

static int
write_status(struct sts_controller *c, struct sts_view *v, json_t *status, k8c_err *err)
{
  json_t *old = json_object_get(v->set, "status");
  bool same = true;
  const char *k;
  json_t *val;
  json_object_foreach (status, k, val) {
    json_t *o = json_object_get(old, k);
    bool zero = json_is_integer(val) && json_integer_value(val) == 0;
    if (o == NULL && zero)
      continue;
    if (!json_equal(o, val))
      same = false;
  }
  if (same)
    return 0;
  cleanup_json json_t *copy = json_deep_copy(v->set);
  json_object_set(copy, "status", status);
  return client_update_status(c->client, c->sts_res, meta_namespace(v->set), meta_name(v->set),
                              copy, NULL, NULL, err);
}

/* ---------- sync ---------- */

static void
view_free(struct sts_view *v)
{
  informer_objs_free(v->pods, v->npods);
  free(v->slots);
  free(v->condemned);
  sts_revisions_free(&v->revs);
  json_decref(v->set);
}

int
sts_sync(struct sts_controller *c, const char *key, k8c_err *err)
{
  struct sts_view v = {.key = key};
  v.set = informer_get(c->sts_inf, key);
  if (v.set == NULL)
    return 0;
  label_selector *sel =
      label_selector_from_json(json_object_get(json_object_get(v.set, "spec"), "selector"), err);
  if (sel == NULL || label_selector_is_empty(sel)) {
    log_warn("statefulset %s: invalid selector: %s", key, err->message);
    k8c_err_clear(err);
    label_selector_free(sel);
    view_free(&v);
    return 0;
  }
  v.replicas = cu_int(v.set, "spec.replicas", 1);
  v.start = cu_int(v.set, "spec.ordinals.start", 0);
  v.min_ready = cu_int(v.set, "spec.minReadySeconds", 0);
  const char *policy = cu_str(v.set, "spec.podManagementPolicy");
  v.monotonic = !str_eq(policy, "Parallel");
  const char *strategy = cu_str(v.set, "spec.updateStrategy.type");
  v.rolling = strategy == NULL || strcmp(strategy, "RollingUpdate") == 0;
  v.partition = cu_int(v.set, "spec.updateStrategy.rollingUpdate.partition", 0);
  v.no_rolling_params = obj_missing(v.set, "spec.updateStrategy.rollingUpdate");
  v.collision_count = cu_int(v.set, "status.collisionCount", 0);
  v.update_rev = cu_str(v.set, "status.updateRevision");
  v.current_rev = cu_str(v.set, "status.currentRevision");

  int rc = claim_pods(c, &v, sel, err);
  if (rc == 0 && !is_terminating(v.set)) {
    rc = sts_revisions_get(c, v.set, sel, &v.revs, err);
    if (rc == 0) {
      v.update_rev = meta_name(v.revs.update);
      v.current_rev = meta_name(v.revs.current);
      v.collision_count = v.revs.collision_count;
    }
  }
  label_selector_free(sel);
  if (rc < 0) {
    view_free(&v);
    return -1;
  }
  if (v.update_rev == NULL)
    v.update_rev = v.current_rev ? v.current_rev : "";
  if (v.current_rev == NULL)
    v.current_rev = v.update_rev;
  split_pods(&v);
  if (!is_terminating(v.set)) {
    if (manage_replicas(c, &v, &rc, err) && manage_condemned(c, &v, &rc, err))
      rolling_update(c, &v, &rc, err);
  }
  cleanup_json json_t *status = compute_status(&v);
  k8c_err serr = {0};
  if (write_status(c, &v, status, &serr) < 0) {
    if (rc == 0)
      k8c_err_move(err, &serr);
    k8c_err_clear(&serr);
    rc = -1;
  }
  if (v.revs.update != NULL) {
    k8c_err terr = {0};
    if (sts_truncate_history(c, v.set, v.pods, v.npods, &v.revs, &terr) < 0) {
      if (rc == 0)
        k8c_err_move(err, &terr);
      k8c_err_clear(&terr);
      rc = -1;
    }
  }
  if (rc == 0 && v.requeue_ms > 0)
    workqueue_add_after(c->kc.queue, key, v.requeue_ms);
  view_free(&v);
  return rc;
}
