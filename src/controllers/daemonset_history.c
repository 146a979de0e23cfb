/* daemonset_history.c — a DaemonSet's ControllerRevisions, as upstream's constructHistory,
 * snapshot and cleanupHistory: the revision whose data equals the DaemonSet's template is
 * current (created as DS-HASH when missing, renumbered above the others when an older one
 * comes back through a rollback); the others are history, pruned oldest first down to
 * revisionHistoryLimit while no pod still carries their hash. */
#include "apimachinery/meta.h"
#include "controllers/daemonset_internal.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

#include <string.h>

static const char *
rev_hash(const json_t *rev)
{
  return json_string_value(json_object_get(meta_labels(rev), DS_LABEL_REVISION));
}

/* Gives a revision without a hash label its name as hash, as upstream does. */
static int
ensure_hash_label(struct ds_controller *c, json_t **rev, k8c_err *err)
{
  if (rev_hash(*rev) != NULL)
    return 0;
  cleanup_json json_t *copy = json_deep_copy(*rev);
  json_t *meta = meta_get(copy);
  json_t *labels = json_object_get(meta, "labels");
  if (!json_is_object(labels)) {
    labels = json_object();
    json_object_set_new(meta, "labels", labels);
  }
  json_object_set_new(labels, DS_LABEL_REVISION, json_string(meta_name(copy)));
  json_t *updated = NULL;
  if (client_update(c->client, c->history.res, meta_namespace(copy), meta_name(copy), copy, NULL,
                    &updated, err) < 0)
    return -1;
  json_decref(*rev);
  *rev = updated;
  return 0;
}

/* upstream's snapshot: creates the revision of ds's template; a name taken by another
 * template bumps status.collisionCount and fails. *out: new reference. */
static int
snapshot(struct ds_controller *c, const json_t *ds, json_t *data, long long revision, json_t **out,
         k8c_err *err)
{
  json_t *collisions = json_object_get(json_object_get(ds, "status"), "collisionCount");
  cleanup_free char *hash =
      dep_template_hash(json_object_get(json_object_get(ds, "spec"), "template"),
                        json_integer_value(collisions) ? collisions : NULL);
  cleanup_json json_t *rev = history_new(&c->history, ds, data, revision, hash);
  k8c_err cerr = {0};
  if (client_create(c->client, c->history.res, meta_namespace(ds), rev, NULL, out, &cerr) == 0)
    return 0;
  if (cerr.status != 409) {
    k8c_err_move(err, &cerr);
    return -1;
  }
  k8c_err_clear(&cerr);
  cleanup_json json_t *exists = NULL;
  if (client_get(c->client, c->history.res, meta_namespace(ds), meta_name(rev), &exists, err) < 0)
    return -1;
  json_t *ref = cu_controller_ref(exists);
  const char *owner_uid = json_string_value(json_object_get(ref, "uid"));
  if (owner_uid && meta_uid(ds) && strcmp(owner_uid, meta_uid(ds)) == 0 &&
      json_equal(json_object_get(exists, "data"), data)) {
    *out = json_incref(exists);
    return 0;
  }
  cleanup_json json_t *fresh = NULL;
  if (client_get(c->client, c->ds_res, meta_namespace(ds), meta_name(ds), &fresh, err) < 0)
    return -1;
  long long seen = cu_int(ds, "status.collisionCount", 0);
  long long now = cu_int(fresh, "status.collisionCount", 0);
  if (seen != now)
    return k8c_error(err, 409, K8C_REASON_CONFLICT,
                     "found a stale collision count (%lld, expected %lld) of DaemonSet %s; will "
                     "retry until it is updated",
                     seen, now, meta_name(ds));
  json_t *status = json_object_get(fresh, "status");
  if (!json_is_object(status)) {
    status = json_object();
    json_object_set_new(fresh, "status", status);
  }
  json_object_set_new(status, "collisionCount", json_integer(now + 1));
  if (client_update_status(c->client, c->ds_res, meta_namespace(ds), meta_name(ds), fresh, NULL,
                           NULL, err) < 0)
    return -1;
  return k8c_error(err, 409, K8C_REASON_ALREADY_EXISTS,
                   "revision %s of DaemonSet %s collides with another template; collisionCount "
                   "bumped to %lld",
                   meta_name(rev), meta_name(ds), now + 1);
}

/* upstream's dedupCurHistories: keeps the highest-numbered of the equal revisions and
 * deletes the rest. Returns the kept one (new reference). */
static json_t *
dedup_current(struct ds_controller *c, json_t *const *cur, size_t ncur, k8c_err *err)
{
  json_t *keep = cur[0];
  for (size_t i = 1; i < ncur; i++)
    if (history_revision(cur[i]) > history_revision(keep))
      keep = cur[i];
  for (size_t i = 0; i < ncur; i++)
    if (cur[i] != keep && history_delete(&c->history, cur[i], err) < 0)
      return NULL;
  return json_incref(keep);
}

int
ds_construct_history(struct ds_controller *c, const json_t *ds, const label_selector *sel,
                     json_t **cur_out, json_t ***old_out, size_t *nold_out, k8c_err *err)
{
  json_t **revs = NULL;
  size_t n = 0;
  *cur_out = NULL;
  *old_out = NULL;
  *nold_out = 0;
  if (history_list(&c->history, ds, sel, &revs, &n, err) < 0) {
    informer_objs_free(revs, n);
    return -1;
  }
  cleanup_json json_t *data = history_patch(ds);
  json_t **cur = xcalloc(n ? n : 1, sizeof *cur);
  json_t **old = xcalloc(n ? n : 1, sizeof *old);
  size_t ncur = 0, nold = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    if (rc == 0 && ensure_hash_label(c, &revs[i], err) < 0)
      rc = -1;
    if (json_equal(json_object_get(revs[i], "data"), data))
      cur[ncur++] = json_incref(revs[i]);
    else
      old[nold++] = json_incref(revs[i]);
  }
  informer_objs_free(revs, n);
  long long next = history_next_revision(old, nold);
  json_t *chosen = NULL;
  if (rc == 0 && ncur == 0) {
    if (snapshot(c, ds, data, next, &chosen, err) < 0)
      rc = -1;
  } else if (rc == 0) {
    json_t *kept = dedup_current(c, cur, ncur, err);
    if (kept == NULL) {
      rc = -1;
    } else if (history_revision(kept) < next) {
      if (history_set_revision(&c->history, kept, next, &chosen, err) < 0)
        rc = -1;
      json_decref(kept);
    } else {
      chosen = kept;
    }
  }
  informer_objs_free(cur, ncur);
  if (rc < 0) {
    informer_objs_free(old, nold);
    json_decref(chosen);
    return -1;
  }
  *cur_out = chosen;
  *old_out = old;
  *nold_out = nold;
  return 0;
}

int
ds_cleanup_history(struct ds_controller *c, const json_t *ds, json_t *const *old, size_t nold,
                   json_t *const *pods, size_t npods, k8c_err *err)
{
  long long limit = cu_int(ds, "spec.revisionHistoryLimit", 10);
  long long to_kill = (long long)nold - (limit < 0 ? 0 : limit);
  for (size_t i = 0; i < nold && to_kill > 0; i++) {
    const char *hash = rev_hash(old[i]);
    bool live = false;
    for (size_t j = 0; j < npods && hash && !live; j++) {
      const char *h = json_string_value(json_object_get(meta_labels(pods[j]), DS_LABEL_REVISION));
      live = h && strcmp(h, hash) == 0;
    }
    if (live)
      continue;
    if (history_delete(&c->history, old[i], err) < 0)
      return -1;
    to_kill--;
  }
  return 0;
}
