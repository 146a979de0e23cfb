/* garbagecollector_sync.c — one queued object's turn in the garbage collector, after
 * upstream's attemptToDeleteItem and orphanDependents: owners are checked by uid (a new
 * object under an old owner's name is not the owner), first in the informers' caches and
 * then, before anything is deleted, against the API itself. */
#include "controllers/garbagecollector.h"

#include "apimachinery/meta.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

/* A change to an object's metadata; returns true if it changed anything. */
typedef bool (*gc_mutation)(json_t *obj, const void *arg);

/* ---------- reading and writing through the client ---------- */

/* The live object if it still is the one with uid: 1 (*out new reference), 0 gone or
 * replaced, -1 error. */
static int
live_get(struct gc *gc, const struct gc_resource *gr, const char *ns, const char *name,
         const char *uid, json_t **out, k8c_err *err)
{
  *out = NULL;
  json_t *obj = NULL;
  k8c_err gerr = {0};
  if (client_get(gc->client, gr->res, ns, name, &obj, &gerr) < 0) {
    if (gerr.status == 404) {
      k8c_err_clear(&gerr);
      return 0;
    }
    k8c_err_move(err, &gerr);
    return -1;
  }
  const char *have = meta_uid(obj);
  if (uid && uid[0] && (have == NULL || strcmp(have, uid) != 0)) {
    json_decref(obj);
    return 0;
  }
  *out = obj;
  return 1;
}

/* Applies mutate to the live object (if it is still the one with uid) and writes it with
 * its resourceVersion as precondition, re-reading after conflicts. */
static int
update_live(struct gc *gc, const struct gc_resource *gr, const char *ns, const char *name,
            const char *uid, gc_mutation mutate, const void *arg, k8c_err *err)
{
  for (int attempt = 0; attempt < 8; attempt++) {
    json_t *cur = NULL;
    int rc = live_get(gc, gr, ns, name, uid, &cur, err);
    if (rc <= 0)
      return rc;
    cleanup_json json_t *copy = json_deep_copy(cur);
    json_decref(cur);
    if (!mutate(copy, arg))
      return 0;
    k8c_err uerr = {0};
    if (client_update(gc->client, gr->res, ns, name, copy, NULL, NULL, &uerr) == 0)
      return 0;
    if (uerr.status == 404) {
      k8c_err_clear(&uerr);
      return 0;
    }
    if (uerr.status != 409) {
      k8c_err_move(err, &uerr);
      return -1;
    }
    k8c_err_clear(&uerr);
  }
  return k8c_error(err, 409, K8C_REASON_CONFLICT, "%s %s/%s keeps changing", gr->res->plural, ns,
                   name);
}

static bool
uid_listed(const json_t *uids, const char *uid)
{
  size_t i;
  json_t *u;
  json_array_foreach (uids, i, u) {
    if (uid && json_string_value(u) && strcmp(json_string_value(u), uid) == 0)
      return true;
  }
  return false;
}

/* arg: a JSON array of owner uids whose references go. */
static bool
drop_owner_refs(json_t *obj, const void *arg)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *refs = json_object_get(meta, "ownerReferences");
  json_t *kept = json_array();
  size_t i;
  json_t *ref;
  json_array_foreach (refs, i, ref) {
    if (!uid_listed(arg, json_string_value(json_object_get(ref, "uid"))))
      json_array_append(kept, ref);
  }
  bool changed = json_array_size(kept) != json_array_size(refs);
  if (changed && json_array_size(kept) == 0)
    json_object_del(meta, "ownerReferences");
  else if (changed)
    json_object_set(meta, "ownerReferences", kept);
  json_decref(kept);
  return changed;
}

/* arg: a JSON array of owner uids whose references stop blocking their owner's deletion. */
static bool
unblock_owner_refs(json_t *obj, const void *arg)
{
  bool changed = false;
  size_t i;
  json_t *ref;
  json_array_foreach (json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i,
                      ref) {
    if (uid_listed(arg, json_string_value(json_object_get(ref, "uid"))) &&
        json_is_true(json_object_get(ref, "blockOwnerDeletion"))) {
      json_object_set_new(ref, "blockOwnerDeletion", json_false());
      changed = true;
    }
  }
  return changed;
}

/* arg: the finalizer's name. */
static bool
drop_finalizer(json_t *obj, const void *arg)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *fins = json_object_get(meta, "finalizers");
  size_t i;
  json_t *f;
  json_array_foreach (fins, i, f) {
    if (json_string_value(f) && strcmp(json_string_value(f), arg) == 0) {
      json_array_remove(fins, i);
      if (json_array_size(fins) == 0)
        json_object_del(meta, "finalizers");
      return true;
    }
  }
  return false;
}

/* Deletes the object if it still has uid; gone already is fine. */
static int
delete_object(struct gc *gc, const struct gc_resource *gr, const char *ns, const char *name,
              const char *uid, const char *policy, k8c_err *err)
{
  cleanup_json json_t *opts =
      json_pack("{s:s, s:{s:s}}", "propagationPolicy", policy, "preconditions", "uid", uid);
  k8c_err derr = {0};
  if (client_delete(gc->client, gr->res, ns, name, opts, NULL, NULL, &derr) == 0) {
    log_debug("garbagecollector: deleted %s %s/%s (%s)", gr->res->plural, ns, name, policy);
    return 0;
  }
  /* 409: the uid precondition failed, the object was replaced. */
  if (derr.status == 404 || derr.status == 409) {
    k8c_err_clear(&derr);
    return 0;
  }
  k8c_err_move(err, &derr);
  return -1;
}

/* ---------- owners ---------- */

enum owner_state { OWNER_SOLID, OWNER_DANGLING, OWNER_WAITING };

/* Whether the owner a reference names exists with the reference's uid (checked live when
 * the cache says no), and whether it waits for its dependents' deletion. References the
 * collector cannot resolve (unknown kinds, a namespaced owner of a cluster-scoped object)
 * count as solid: it never collects what it cannot judge. */
static int
owner_state(struct gc *gc, const struct gc_resource *gr, const char *ns, const json_t *ref,
            enum owner_state *state, k8c_err *err)
{
  *state = OWNER_SOLID;
  struct gc_resource *ogr = gc_resource_for_ref(gc, ref);
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  if (ogr == NULL || name == NULL || uid == NULL || (ogr->res->namespaced && !gr->res->namespaced))
    return 0;
  const char *owner_ns = ogr->res->namespaced ? ns : "";
  cleanup_free char *cache_key = owner_ns[0] ? xasprintf("%s/%s", owner_ns, name) : xstrdup(name);
  json_t *owner = informer_get(ogr->inf, cache_key);
  if (owner == NULL || meta_uid(owner) == NULL || strcmp(meta_uid(owner), uid) != 0) {
    json_decref(owner);
    int rc = live_get(gc, ogr, owner_ns, name, uid, &owner, err);
    if (rc < 0)
      return -1;
    if (rc == 0) {
      *state = OWNER_DANGLING;
      return 0;
    }
  }
  if (json_object_get(json_object_get(owner, "metadata"), "deletionTimestamp") &&
      gc_has_finalizer(owner, GC_FINALIZER_FOREGROUND))
    *state = OWNER_WAITING;
  json_decref(owner);
  return 0;
}

/* An owner deleted in the foreground: its dependents are being deleted (queued when it
 * was marked); once none with blockOwnerDeletion is left, its finalizer goes. */
static int
process_deleting_dependents(struct gc *gc, const struct gc_resource *gr, const json_t *item,
                            k8c_err *err)
{
  const char *uid = meta_uid(item);
  json_t **deps = NULL;
  struct gc_resource **res = NULL;
  size_t n = 0;
  gc_dependents(gc, uid, &deps, &res, &n);
  size_t blocking = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j;
    json_t *ref;
    json_array_foreach (json_object_get(json_object_get(deps[i], "metadata"), "ownerReferences"), j,
                        ref) {
      const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
      if (ref_uid && strcmp(ref_uid, uid) == 0 &&
          json_is_true(json_object_get(ref, "blockOwnerDeletion")))
        blocking++;
    }
    if (json_object_get(json_object_get(deps[i], "metadata"), "deletionTimestamp") == NULL) {
      cleanup_free char *key = gc_key(res[i], deps[i]);
      workqueue_add(gc->attempt_to_delete, key);
    }
  }
  informer_objs_free(deps, n);
  free(res);
  if (blocking > 0)
    return 0; /* each blocking dependent's deletion queues this owner again */
  return update_live(gc, gr, meta_namespace(item) ? meta_namespace(item) : "", meta_name(item), uid,
                     drop_finalizer, GC_FINALIZER_FOREGROUND, err);
}

/* 0: no dependents; 1: some; 2: some, one of which is itself deleting its dependents
 * (a possible cycle). */
static int
dependents_state(struct gc *gc, const char *uid)
{
  json_t **deps = NULL;
  struct gc_resource **res = NULL;
  size_t n = 0;
  gc_dependents(gc, uid, &deps, &res, &n);
  int state = n > 0;
  for (size_t i = 0; i < n; i++)
    if (json_object_get(json_object_get(deps[i], "metadata"), "deletionTimestamp") &&
        gc_has_finalizer(deps[i], GC_FINALIZER_FOREGROUND))
      state = 2;
  informer_objs_free(deps, n);
  free(res);
  return state;
}

/* Whether the cache alone shows there is nothing to do for the item: it is there with
 * this uid, not being deleted, and every owner it names is cached with the named uid and
 * not waiting for its dependents (upstream's graph, too, only looks further for owners
 * it does not know). Any change that could make work arrives as an event that queues
 * the item again, so the live checks are kept for when the cache is not enough. Spares
 * a live GET for every new object with an owner, e.g. each pod of a ReplicaSet. */
static bool
settled_in_cache(struct gc *gc, const struct gc_resource *gr, const char *ns, const char *name,
                 const char *uid)
{
  cleanup_free char *key = ns[0] ? xasprintf("%s/%s", ns, name) : xstrdup(name);
  cleanup_json json_t *item = informer_get(gr->inf, key);
  if (item == NULL || meta_uid(item) == NULL || strcmp(meta_uid(item), uid) != 0 ||
      json_object_get(json_object_get(item, "metadata"), "deletionTimestamp"))
    return false;
  size_t i;
  json_t *ref;
  json_array_foreach (json_object_get(json_object_get(item, "metadata"), "ownerReferences"), i,
                      ref) {
    struct gc_resource *ogr = gc_resource_for_ref(gc, ref);
    const char *oname = json_string_value(json_object_get(ref, "name"));
    const char *ouid = json_string_value(json_object_get(ref, "uid"));
    if (ogr == NULL || oname == NULL || ouid == NULL ||
        (ogr->res->namespaced && !gr->res->namespaced))
      continue; /* unresolvable: solid, as owner_state says */
    cleanup_free char *okey =
        ogr->res->namespaced && ns[0] ? xasprintf("%s/%s", ns, oname) : xstrdup(oname);
    cleanup_json json_t *owner = informer_get(ogr->inf, okey);
    if (owner == NULL || meta_uid(owner) == NULL || strcmp(meta_uid(owner), ouid) != 0 ||
        (json_object_get(json_object_get(owner, "metadata"), "deletionTimestamp") &&
         gc_has_finalizer(owner, GC_FINALIZER_FOREGROUND)))
      return false;
  }
  return true;
}

/* ---------- the two queues' turns ---------- */

int
gc_attempt_to_delete(struct gc *gc, const char *key, k8c_err *err)
{
  cleanup_free char *buf = xstrdup(key);
  const char *ns, *name, *uid;
  struct gc_resource *gr = gc_parse_key(gc, buf, &ns, &name, &uid);
  if (gr == NULL)
    return 0;
  if (settled_in_cache(gc, gr, ns, name, uid))
    return 0;
  cleanup_json json_t *item = NULL;
  int rc = live_get(gc, gr, ns, name, uid, &item, err);
  if (rc <= 0)
    return rc;
  if (json_object_get(json_object_get(item, "metadata"), "deletionTimestamp")) {
    if (!gc_has_finalizer(item, GC_FINALIZER_FOREGROUND))
      return 0;
    return process_deleting_dependents(gc, gr, item, err);
  }
  json_t *refs = json_object_get(json_object_get(item, "metadata"), "ownerReferences");
  if (json_array_size(refs) == 0)
    return 0;
  size_t solid = 0;
  cleanup_json json_t *dangling = json_array();
  cleanup_json json_t *waiting = json_array();
  size_t i;
  json_t *ref;
  json_array_foreach (refs, i, ref) {
    enum owner_state state = OWNER_SOLID;
    if (owner_state(gc, gr, ns, ref, &state, err) < 0)
      return -1;
    json_t *ref_uid = json_object_get(ref, "uid");
    if (state == OWNER_SOLID)
      solid++;
    else
      json_array_append(state == OWNER_DANGLING ? dangling : waiting, ref_uid);
  }
  if (solid > 0) {
    /* Still owned: only the references to owners that are gone or going are dropped. */
    if (json_array_size(dangling) + json_array_size(waiting) == 0)
      return 0;
    json_array_extend(dangling, waiting);
    return update_live(gc, gr, ns, name, uid, drop_owner_refs, dangling, err);
  }
  const char *policy = "Background";
  int deps = json_array_size(waiting) > 0 ? dependents_state(gc, uid) : 0;
  if (deps > 0) {
    /* Its own dependents go first (it is deleted in the foreground too); if one of them
     * already waits on its own dependents, its references stop blocking the waiting
     * owners, lest a cycle deadlock (upstream's cautious cycle check). */
    if (deps == 2 && update_live(gc, gr, ns, name, uid, unblock_owner_refs, waiting, err) < 0)
      return -1;
    policy = "Foreground";
  } else if (gc_has_finalizer(item, GC_FINALIZER_ORPHAN)) {
    policy = "Orphan";
  } else if (gc_has_finalizer(item, GC_FINALIZER_FOREGROUND)) {
    policy = "Foreground";
  }
  return delete_object(gc, gr, ns, name, uid, policy, err);
}

int
gc_attempt_to_orphan(struct gc *gc, const char *key, k8c_err *err)
{
  cleanup_free char *buf = xstrdup(key);
  const char *ns, *name, *uid;
  struct gc_resource *gr = gc_parse_key(gc, buf, &ns, &name, &uid);
  if (gr == NULL)
    return 0;
  cleanup_json json_t *item = NULL;
  int rc = live_get(gc, gr, ns, name, uid, &item, err);
  if (rc <= 0)
    return rc;
  if (json_object_get(json_object_get(item, "metadata"), "deletionTimestamp") == NULL ||
      !gc_has_finalizer(item, GC_FINALIZER_ORPHAN))
    return 0;
  json_t **deps = NULL;
  struct gc_resource **res = NULL;
  size_t n = 0;
  gc_dependents(gc, uid, &deps, &res, &n);
  cleanup_json json_t *owner_uid = json_pack("[s]", uid);
  int failed = 0;
  for (size_t i = 0; i < n && failed == 0; i++) {
    const char *dns = meta_namespace(deps[i]);
    if (update_live(gc, res[i], dns ? dns : "", meta_name(deps[i]), meta_uid(deps[i]),
                    drop_owner_refs, owner_uid, err) < 0)
      failed = -1;
  }
  informer_objs_free(deps, n);
  free(res);
  if (failed < 0)
    return -1;
  return update_live(gc, gr, ns, name, uid, drop_finalizer, GC_FINALIZER_ORPHAN, err);
}
