/* deployment_history.c — revisions of a Deployment (upstream's getNewReplicaSet and
 * cleanupDeployment): the new RS is the oldest one whose template equals the
 * deployment's, ignoring pod-template-hash — so `kubectl rollout undo`, which copies an
 * old RS's template back, makes the controller reuse that RS with the next revision
 * number (the old number kept in revision-history). Old zero-sized RSes beyond
 * revisionHistoryLimit are deleted, lowest revision first. */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

static bool
skip_copied_annotation(const char *key)
{
  static const char *const skipped[] = {"kubectl.kubernetes.io/last-applied-configuration",
                                        DEP_ANN_REVISION,
                                        DEP_ANN_REVISION_HISTORY,
                                        DEP_ANN_DESIRED_REPLICAS,
                                        DEP_ANN_MAX_REPLICAS,
                                        "deprecated.deployment.rollback.to",
                                        NULL};
  for (int i = 0; skipped[i]; i++)
    if (strcmp(key, skipped[i]) == 0)
      return true;
  return false;
}

static json_t *
ensure_annotations(json_t *obj)
{
  json_t *meta = meta_get(obj);
  json_t *ann = json_object_get(meta, "annotations");
  if (!json_is_object(ann)) {
    ann = json_object();
    json_object_set_new(meta, "annotations", ann);
  }
  return ann;
}

/* Copies the deployment's annotations and raises the revision (keeping the old one in
 * revision-history); on a new RS also the replica annotations. True if rs changed. */
static bool
set_new_rs_annotations(const json_t *d, json_t *rs, long long new_revision, bool exists)
{
  json_t *ann = ensure_annotations(rs);
  bool changed = false;
  const char *k;
  json_t *v;
  json_object_foreach (meta_annotations(d), k, v) {
    if (skip_copied_annotation(k) || json_equal(json_object_get(ann, k), v))
      continue;
    json_object_set(ann, k, v);
    changed = true;
  }
  const char *old_s = json_string_value(json_object_get(ann, DEP_ANN_REVISION));
  long long old_rev = 0;
  if (old_s) {
    char *end = NULL;
    old_rev = strtoll(old_s, &end, 10);
    if (end == old_s || *end)
      return changed;
  }
  if (old_rev < new_revision) {
    char rev[32];
    snprintf(rev, sizeof rev, "%lld", new_revision);
    if (old_s) {
      const char *hist = json_string_value(json_object_get(ann, DEP_ANN_REVISION_HISTORY));
      cleanup_free char *joined =
          hist && hist[0] ? xasprintf("%s,%lld", hist, old_rev) : xasprintf("%lld", old_rev);
      char *start = joined;
      while (strlen(start) > DEP_REVISION_HISTORY_MAX_CHARS && strchr(start, ','))
        start = strchr(start, ',') + 1;
      json_object_set_new(ann, DEP_ANN_REVISION_HISTORY, json_string(start));
    }
    json_object_set_new(ann, DEP_ANN_REVISION, json_string(rev));
    changed = true;
  }
  if (!exists) {
    char desired[32], max[32];
    snprintf(desired, sizeof desired, "%lld", dep_replicas(d));
    snprintf(max, sizeof max, "%lld", dep_replicas(d) + dep_max_surge(d));
    json_object_set_new(ann, DEP_ANN_DESIRED_REPLICAS, json_string(desired));
    json_object_set_new(ann, DEP_ANN_MAX_REPLICAS, json_string(max));
    changed = true;
  }
  return changed;
}

/* Sets the deployment's revision annotation; true if it changed. */
static bool
set_deployment_revision(json_t *d, const char *revision)
{
  if (revision == NULL)
    return false;
  json_t *ann = ensure_annotations(d);
  const char *cur = json_string_value(json_object_get(ann, DEP_ANN_REVISION));
  if (cur && strcmp(cur, revision) == 0)
    return false;
  json_object_set_new(ann, DEP_ANN_REVISION, json_string(revision));
  return true;
}

/* Writes the deployment's revision annotation (metadata) and status if they changed. */
static int
write_revision_and_status(struct dsync *s, bool revision_changed, json_t *status, k8c_err *err)
{
  if (revision_changed) {
    cleanup_json json_t *keep_status = json_deep_copy(status);
    if (dep_update(s, err) < 0)
      return -1;
    json_object_set(s->d, "status", keep_status);
  }
  return dep_write_status(s, status, err);
}

static int
sync_existing_new_rs(struct dsync *s, long long new_revision, k8c_err *err)
{
  cleanup_json json_t *copy = json_deep_copy(s->new_rs);
  bool ann_changed = set_new_rs_annotations(s->d, copy, new_revision, true);
  long long min_ready = cu_int(s->d, "spec.minReadySeconds", 0);
  if (ann_changed || cu_int(copy, "spec.minReadySeconds", 0) != min_ready) {
    json_object_set_new(json_object_get(copy, "spec"), "minReadySeconds", json_integer(min_ready));
    json_t *updated = NULL;
    if (client_update(s->dc->client, s->dc->rs_res, meta_namespace(copy), meta_name(copy), copy,
                      NULL, &updated, err) < 0)
      return -1;
    json_decref(s->new_rs);
    s->new_rs = updated;
  }
  const char *rev =
      json_string_value(json_object_get(meta_annotations(s->new_rs), DEP_ANN_REVISION));
  bool rev_changed = set_deployment_revision(s->d, rev);
  cleanup_json json_t *status = json_deep_copy(json_object_get(s->d, "status"));
  if (status == NULL)
    status = json_object();
  bool status_changed = false;
  if (dep_has_progress_deadline(s->d) && dep_condition(status, "Progressing") == NULL) {
    cleanup_free char *msg = xasprintf("Found new replica set \"%s\"", meta_name(s->new_rs));
    dep_set_condition(status, "Progressing", "True", "FoundNewReplicaSet", msg);
    status_changed = true;
  }
  if (rev_changed || status_changed)
    return write_revision_and_status(s, rev_changed, status, err);
  return 0;
}

static int
create_new_rs(struct dsync *s, long long new_revision, k8c_err *err)
{
  const json_t *spec = json_object_get(s->d, "spec");
  const json_t *collisions = json_object_get(json_object_get(s->d, "status"), "collisionCount");
  cleanup_free char *hash = dep_template_hash(json_object_get(spec, "template"), collisions);
  cleanup_json json_t *tpl = json_deep_copy(json_object_get(spec, "template"));
  json_t *tmeta = json_object_get(tpl, "metadata");
  if (!json_is_object(tmeta)) {
    tmeta = json_object();
    json_object_set_new(tpl, "metadata", tmeta);
  }
  json_t *labels = json_object_get(tmeta, "labels");
  if (!json_is_object(labels)) {
    labels = json_object();
    json_object_set_new(tmeta, "labels", labels);
  }
  json_object_set_new(labels, DEP_LABEL_HASH, json_string(hash));
  json_t *selector = json_deep_copy(json_object_get(spec, "selector"));
  json_t *match = json_object_get(selector, "matchLabels");
  if (!json_is_object(match)) {
    match = json_object();
    json_object_set_new(selector, "matchLabels", match);
  }
  json_object_set_new(match, DEP_LABEL_HASH, json_string(hash));
  cleanup_free char *name = xasprintf("%s-%s", meta_name(s->d), hash);
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("apps/v1", "Deployment", s->d));
  long long replicas = dep_new_rs_replicas(s, NULL);
  cleanup_json json_t *rs = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:I, s:I, s:o, s:O}}", "apiVersion", "apps/v1", "kind",
      "ReplicaSet", "metadata", "name", name, "namespace", meta_namespace(s->d), "labels",
      json_deep_copy(labels), "ownerReferences", refs, "spec", "replicas", (json_int_t)replicas,
      "minReadySeconds", (json_int_t)cu_int(s->d, "spec.minReadySeconds", 0), "selector", selector,
      "template", tpl);
  set_new_rs_annotations(s->d, rs, new_revision, false);

  json_t *created = NULL;
  bool already_exists = false;
  k8c_err cerr = {0};
  if (client_create(s->dc->client, s->dc->rs_res, meta_namespace(s->d), rs, NULL, &created, &cerr) <
      0) {
    if (cerr.status != 409) {
      k8c_err_move(err, &cerr);
      return -1;
    }
    k8c_err_clear(&cerr);
    /* Ours (a stale cache) if controlled by us with the same template; else a collision. */
    json_t *existing = NULL;
    if (client_get(s->dc->client, s->dc->rs_res, meta_namespace(s->d), name, &existing, err) < 0)
      return -1;
    json_t *ref = cu_controller_ref(existing);
    const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
    if (ref_uid && strcmp(ref_uid, meta_uid(s->d)) == 0 &&
        dep_templates_equal(json_object_get(json_object_get(existing, "spec"), "template"),
                            json_object_get(spec, "template"))) {
      created = existing;
      already_exists = true;
    } else {
      json_decref(existing);
      cleanup_json json_t *status = json_deep_copy(json_object_get(s->d, "status"));
      if (status == NULL)
        status = json_object();
      json_object_set_new(status, "collisionCount",
                          json_integer(cu_int(status, "collisionCount", 0) + 1));
      if (dep_write_status(s, status, err) < 0)
        return -1;
      return k8c_error(err, 409, K8C_REASON_ALREADY_EXISTS,
                       "hash collision for replica set %s; collisionCount raised", name);
    }
  }
  s->new_rs = created;
  if (!already_exists && replicas > 0)
    event_record(s->dc->rec, s->d, "Normal", "ScalingReplicaSet",
                 "Scaled up replica set %s from 0 to %lld", meta_name(created), replicas);
  char rev[32];
  snprintf(rev, sizeof rev, "%lld", new_revision);
  bool rev_changed = set_deployment_revision(s->d, rev);
  cleanup_json json_t *status = json_deep_copy(json_object_get(s->d, "status"));
  if (status == NULL)
    status = json_object();
  bool status_changed = false;
  if (!already_exists && dep_has_progress_deadline(s->d)) {
    cleanup_free char *msg = xasprintf("Created new replica set \"%s\"", meta_name(created));
    dep_set_condition(status, "Progressing", "True", "NewReplicaSetCreated", msg);
    status_changed = true;
  }
  if (rev_changed || status_changed)
    return write_revision_and_status(s, rev_changed, status, err);
  return 0;
}

static void
clear_classification(struct dsync *s)
{
  json_decref(s->new_rs);
  s->new_rs = NULL;
  for (size_t i = 0; i < s->nold; i++)
    json_decref(s->old[i]);
  free(s->old);
  s->old = NULL;
  s->nold = 0;
}

int
dep_get_all_rs(struct dsync *s, bool create, k8c_err *err)
{
  clear_classification(s);
  json_t **sorted = xcalloc(s->nrs ? s->nrs : 1, sizeof *sorted);
  memcpy(sorted, s->rs, s->nrs * sizeof *sorted);
  dep_sort_by_creation(sorted, s->nrs, false);
  const json_t *tpl = json_object_get(json_object_get(s->d, "spec"), "template");
  s->old = xcalloc(s->nrs ? s->nrs : 1, sizeof *s->old);
  for (size_t i = 0; i < s->nrs; i++) {
    const json_t *rstpl = json_object_get(json_object_get(sorted[i], "spec"), "template");
    if (s->new_rs == NULL && dep_templates_equal(rstpl, tpl))
      s->new_rs = json_incref(sorted[i]);
    else
      s->old[s->nold++] = json_incref(sorted[i]);
  }
  free(sorted);
  long long max_old = 0;
  for (size_t i = 0; i < s->nold; i++)
    if (dep_revision(s->old[i]) > max_old)
      max_old = dep_revision(s->old[i]);
  int rc = 0;
  if (s->new_rs)
    rc = sync_existing_new_rs(s, max_old + 1, err);
  else if (create)
    rc = create_new_rs(s, max_old + 1, err);
  dep_refresh_rs_list(s);
  return rc;
}

void
dep_refresh_rs_list(struct dsync *s)
{
  for (size_t i = 0; i < s->nrs; i++)
    json_decref(s->rs[i]);
  free(s->rs);
  s->rs = xcalloc(s->nold + 1, sizeof *s->rs);
  s->nrs = 0;
  for (size_t i = 0; i < s->nold; i++)
    s->rs[s->nrs++] = json_incref(s->old[i]);
  if (s->new_rs)
    s->rs[s->nrs++] = json_incref(s->new_rs);
}

static int
by_revision(const void *pa, const void *pb)
{
  const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
  long long ra = dep_revision(a), rb = dep_revision(b);
  if (ra != rb)
    return ra < rb ? -1 : 1;
  time_t ta = cu_parse_time(meta_string(a, "creationTimestamp"));
  time_t tb = cu_parse_time(meta_string(b, "creationTimestamp"));
  if (ta != tb)
    return ta < tb ? -1 : 1;
  return strcmp(meta_name(a), meta_name(b));
}

int
dep_cleanup(struct dsync *s, k8c_err *err)
{
  json_t *limit_v = json_object_get(json_object_get(s->d, "spec"), "revisionHistoryLimit");
  if (!json_is_integer(limit_v))
    return 0;
  long long limit = json_integer_value(limit_v);
  json_t **alive = xcalloc(s->nold ? s->nold : 1, sizeof *alive);
  size_t n = 0;
  for (size_t i = 0; i < s->nold; i++)
    if (json_object_get(meta_get(s->old[i]), "deletionTimestamp") == NULL)
      alive[n++] = s->old[i];
  long long diff = (long long)n - limit;
  int rc = 0;
  if (diff > 0) {
    qsort(alive, n, sizeof *alive, by_revision);
    for (long long i = 0; i < diff; i++) {
      json_t *rs = alive[i];
      if (rs_status_int(rs, "replicas") != 0 || rs_replicas(rs) != 0 ||
          meta_generation(rs) > rs_status_int(rs, "observedGeneration"))
        continue;
      k8c_err derr = {0};
      if (client_delete(s->dc->client, s->dc->rs_res, meta_namespace(rs), meta_name(rs), NULL, NULL,
                        NULL, &derr) < 0 &&
          derr.status != 404) {
        log_warn("deployment %s: deleting old replica set %s: %s", s->key, meta_name(rs),
                 derr.message);
        if (rc == 0)
          k8c_err_move(err, &derr);
        rc = -1;
      }
      k8c_err_clear(&derr);
    }
  }
  free(alive);
  return rc;
}
