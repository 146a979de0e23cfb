/* store_delete.c — delete and deletecollection in the generic store: preconditions,
 * finalizers and deletionTimestamp, graceful deletion of scheduled pods, deletion
 * propagation (Orphan and Foreground become finalizers the garbage collector lifts;
 * Background deletes now and leaves dependents to it) and namespaces held Terminating
 * until the namespace controller has emptied them. */
#include "apimachinery/meta.h"
#include "lib/mem.h"
#include "registry/store_internal.h"

#include <stdio.h>
#include <string.h>

/* The garbage collector's finalizers (metav1.FinalizerOrphanDependents and
 * metav1.FinalizerDeleteDependents). */
#define FINALIZER_ORPHAN "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"

int
store_delete_now(struct registry *r, const struct registry_target *t, const char *key, json_t *obj,
                 int64_t rev, bool dry_run, json_t **out, k8c_err *err)
{
  if (!dry_run) {
    int64_t del_rev = 0;
    if (r->store->ops->delete (r->store, key, rev, &del_rev, err) < 0) {
      if (err && err->status == 404)
        return store_not_found(t->res, t->name, err);
      store_mark_race(err);
      return -1;
    }
  }
  *out = json_incref(obj);
  return 0;
}

static int
check_preconditions(const struct registry_target *t, const json_t *obj, int64_t rev,
                    const json_t *opts, k8c_err *err)
{
  json_t *pre = json_object_get(opts, "preconditions");
  if (!json_is_object(pre))
    return 0;
  const char *uid = json_string_value(json_object_get(pre, "uid"));
  const char *have_uid =
      json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
  char why[256];
  if (uid && have_uid && strcmp(uid, have_uid) != 0) {
    snprintf(why, sizeof why,
             "Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, have_uid);
    return store_conflict(t->res, t->name, why, err);
  }
  const char *rv = json_string_value(json_object_get(pre, "resourceVersion"));
  if (rv) {
    char cur[32];
    snprintf(cur, sizeof cur, "%lld", (long long)rev);
    if (strcmp(rv, cur) != 0) {
      snprintf(
          why, sizeof why,
          "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object "
          "meta: %s",
          rv, cur);
      return store_conflict(t->res, t->name, why, err);
    }
  }
  return 0;
}

/* ---------- deletion propagation (DeleteOptions.propagationPolicy) ---------- */

enum propagation {
  PROPAGATION_DEFAULT = 0, /* the client asked nothing: keep what the object says */
  PROPAGATION_ORPHAN,
  PROPAGATION_BACKGROUND,
  PROPAGATION_FOREGROUND
};

static int
read_propagation(const json_t *opts, enum propagation *out, k8c_err *err)
{
  *out = PROPAGATION_DEFAULT;
  json_t *policy = json_object_get(opts, "propagationPolicy");
  json_t *orphan = json_object_get(opts, "orphanDependents");
  if (json_is_boolean(orphan) && json_is_string(policy))
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid "
                     "value: \"%s\": orphanDependents and deletionPropagation cannot be both set",
                     json_string_value(policy));
  if (json_is_boolean(orphan)) {
    *out = json_is_true(orphan) ? PROPAGATION_ORPHAN : PROPAGATION_BACKGROUND;
    return 0;
  }
  if (policy == NULL || json_is_null(policy))
    return 0;
  const char *p = json_string_value(policy);
  if (p && strcmp(p, "Orphan") == 0)
    *out = PROPAGATION_ORPHAN;
  else if (p && strcmp(p, "Background") == 0)
    *out = PROPAGATION_BACKGROUND;
  else if (p && strcmp(p, "Foreground") == 0)
    *out = PROPAGATION_FOREGROUND;
  else
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported "
                     "value: \"%s\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
                     p ? p : "");
  return 0;
}

static bool
has_finalizer(const json_t *finalizers, const char *name)
{
  size_t i;
  json_t *f;
  json_array_foreach (finalizers, i, f) {
    if (json_string_value(f) && strcmp(json_string_value(f), name) == 0)
      return true;
  }
  return false;
}

/* Sets the garbage collector's finalizers ("orphan", "foregroundDeletion") on meta as the
 * policy asks, as upstream's store does: an explicit policy replaces whatever the object
 * had; without one the object keeps its choice (orphan winning over foreground), and the
 * default is Background (no finalizer: the owner goes now, the GC deletes dependents).
 * Returns true if metadata.finalizers changed. */
static bool
apply_gc_finalizers(json_t *meta, enum propagation policy)
{
  json_t *old = json_object_get(meta, "finalizers");
  bool orphan = false, foreground = false;
  switch (policy) {
  case PROPAGATION_ORPHAN:
    orphan = true;
    break;
  case PROPAGATION_FOREGROUND:
    foreground = true;
    break;
  case PROPAGATION_BACKGROUND:
    break;
  case PROPAGATION_DEFAULT:
    orphan = has_finalizer(old, FINALIZER_ORPHAN);
    foreground = !orphan && has_finalizer(old, FINALIZER_FOREGROUND);
    break;
  }
  json_t *next = json_array();
  size_t i;
  json_t *f;
  json_array_foreach (old, i, f) {
    const char *name = json_string_value(f);
    if (name && (strcmp(name, FINALIZER_ORPHAN) == 0 || strcmp(name, FINALIZER_FOREGROUND) == 0))
      continue;
    json_array_append(next, f);
  }
  if (orphan)
    json_array_append_new(next, json_string(FINALIZER_ORPHAN));
  if (foreground)
    json_array_append_new(next, json_string(FINALIZER_FOREGROUND));
  bool changed = old ? !json_equal(next, old) : json_array_size(next) > 0;
  if (!changed) {
    json_decref(next);
    return false;
  }
  if (json_array_size(next) == 0) {
    json_decref(next);
    json_object_del(meta, "finalizers");
  } else {
    json_object_set_new(meta, "finalizers", next);
  }
  return true;
}

static bool
is_core(const struct api_resource *res, const char *plural)
{
  return res->group[0] == 0 && strcmp(res->plural, plural) == 0;
}

bool
store_deletion_finished(const struct api_resource *res, const json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  if (json_object_get(meta, "deletionTimestamp") == NULL)
    return false;
  if (json_array_size(json_object_get(meta, "finalizers")) > 0)
    return false;
  if (is_core(res, "namespaces") &&
      json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")) > 0)
    return false;
  /* A pod in graceful termination waits for its kubelet's final delete. */
  return json_integer_value(json_object_get(meta, "deletionGracePeriodSeconds")) == 0;
}

/* ---------- delete ---------- */

int
registry_delete(struct registry *r, const struct registry_target *t, json_t *delete_options,
                const struct write_opts *o, json_t **out, int *status, k8c_err *err)
{
  enum propagation policy = PROPAGATION_DEFAULT;
  if (read_propagation(delete_options, &policy, err) < 0)
    return -1;
  cleanup_free char *key = registry_key(t->res, t->namespace_, t->name);
  bool is_namespace = is_core(t->res, "namespaces");
  bool is_pod = is_core(t->res, "pods");
  for (int attempt = 0; attempt < 16; attempt++) {
    cleanup_json json_t *obj = NULL;
    int64_t rev = 0;
    k8c_err rerr = {0};
    if (store_read_current(r, t->res, key, &obj, &rev, &rerr) < 0) {
      if (rerr.status == 404) {
        k8c_err_clear(&rerr);
        return store_not_found(t->res, t->name, err);
      }
      k8c_err_move(err, &rerr);
      return -1;
    }
    if (check_preconditions(t, obj, rev, delete_options, err) < 0)
      return -1;
    json_t *meta = json_object_get(obj, "metadata");
    bool terminating = json_object_get(meta, "deletionTimestamp") != NULL;
    /* A namespace's content is removed by the namespace controller, which then lifts the
     * "kubernetes" finalizer through namespaces/finalize. */
    bool namespace_held =
        is_namespace &&
        json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")) > 0;
    if (namespace_held && terminating)
      return store_conflict(t->res, t->name,
                            "The system is ensuring all content is removed from this namespace.  "
                            "Upon completion, this namespace will automatically be purged by the "
                            "system.",
                            err);

    json_int_t grace = -1;
    json_t *g = json_object_get(delete_options, "gracePeriodSeconds");
    if (json_is_integer(g))
      grace = json_integer_value(g);
    const char *node = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
    bool graceful = false;
    if (is_pod && node && node[0]) {
      if (grace < 0)
        grace = json_integer_value(
            json_object_get(json_object_get(obj, "spec"), "terminationGracePeriodSeconds"));
      graceful = grace > 0;
    }
    bool finalizers_changed = apply_gc_finalizers(meta, policy);
    bool has_finalizers = json_array_size(json_object_get(meta, "finalizers")) > 0;

    if (!graceful && !has_finalizers && !namespace_held) {
      k8c_err derr = {0};
      if (store_delete_now(r, t, key, obj, rev, o->dry_run, out, &derr) == 0) {
        *status = 200;
        return 0;
      }
      if (derr.status == 409) {
        k8c_err_clear(&derr);
        store_catch_up(r);
        continue;
      }
      k8c_err_move(err, &derr);
      return -1;
    }
    /* Mark for deletion; finalizers (the garbage collector, the namespace controller,
     * others') or the kubelet finish it. */
    if (!terminating) {
      cleanup_free char *now = meta_now_rfc3339();
      json_object_set_new(meta, "deletionTimestamp", json_string(now));
      json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(graceful ? grace : 0));
      if (store_tracks_generation(t->res)) {
        json_int_t gen = json_integer_value(json_object_get(meta, "generation"));
        json_object_set_new(meta, "generation", json_integer(gen + 1));
      }
      if (is_namespace) {
        json_t *st = json_object_get(obj, "status");
        if (!json_is_object(st)) {
          st = json_object();
          json_object_set_new(obj, "status", st);
        }
        json_object_set_new(st, "phase", json_string("Terminating"));
      }
    }
    if (!terminating || finalizers_changed) {
      int64_t new_rev = 0;
      k8c_err uerr = {0};
      if (store_commit_update(r, t->res, key, obj, rev, o->dry_run, &new_rev, &uerr) < 0) {
        if (uerr.status == 409) {
          k8c_err_clear(&uerr);
          store_catch_up(r);
          continue;
        }
        k8c_err_move(err, &uerr);
        return -1;
      }
      store_set_rv(obj, new_rev);
    } else {
      store_set_rv(obj, rev);
    }
    *out = steal_ptr(obj);
    *status = 202;
    return 0;
  }
  return store_conflict(t->res, t->name, "too many concurrent updates; try again", err);
}

int
registry_delete_collection(struct registry *r, const struct registry_target *t,
                           const struct list_opts *lo, json_t *delete_options,
                           const struct write_opts *o, json_t **out, k8c_err *err)
{
  struct list_result lr = {0};
  struct list_opts all = *lo;
  all.limit = 0;
  all.continue_token = NULL;
  if (registry_list(r, t, &all, &lr, err) < 0)
    return -1;
  json_t *items = json_array();
  int rc = 0;
  for (size_t i = 0; i < lr.count; i++) {
    json_t *obj = store_parse(lr.items[i].json, lr.items[i].len, err);
    if (obj == NULL) {
      rc = -1;
      break;
    }
    json_t *meta = json_object_get(obj, "metadata");
    struct registry_target one = *t;
    one.namespace_ = json_string_value(json_object_get(meta, "namespace"));
    if (one.namespace_ == NULL)
      one.namespace_ = "";
    one.name = json_string_value(json_object_get(meta, "name"));
    json_t *deleted = NULL;
    int st = 0;
    k8c_err derr = {0};
    if (registry_delete(r, &one, delete_options, o, &deleted, &st, &derr) == 0)
      json_array_append_new(items, deleted);
    else if (derr.status != 404) {
      k8c_err_move(err, &derr);
      json_decref(obj);
      rc = -1;
      break;
    }
    k8c_err_clear(&derr);
    json_decref(obj);
  }
  list_result_free(&lr);
  if (rc < 0) {
    json_decref(items);
    return -1;
  }
  *out = items;
  return 0;
}
