/* store_write.c — create, update and patch in the generic store. Every write runs the
 * same pipeline (store_admit_and_validate) and commits with optimistic concurrency:
 * a write names the revision it read, and a conflicting writer retries (for patches
 * and unconditional updates) or gets 409 (when the client named a resourceVersion). */
#include "api/schema.h"
#include "apimachinery/meta.h"
#include "apimachinery/patch/jsonpatch.h"
#include "apimachinery/patch/mergepatch.h"
#include "apimachinery/patch/strategicpatch.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/apply.h"
#include "registry/convert.h"
#include "registry/service_alloc.h"
#include "registry/store_internal.h"
#include "registry/strategy_util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Lost write races are retried (re-read, re-apply) for up to this long, like upstream's
 * GuaranteedUpdate which retries until the request's timeout. */
#define UPDATE_RETRY_SECONDS 10

static bool
retry_allowed(int attempt, const struct timespec *start)
{
  if (attempt == 0)
    return true;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec - start->tv_sec < UPDATE_RETRY_SECONDS;
}

/* ---------- shared pipeline ---------- */

static int
check_type_meta(const struct registry_target *t, json_t *obj, k8c_err *err)
{
  if (!json_is_object(obj))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "the body of the request was not a JSON object");
  char want[512]; /* store_api_version's text without the allocation: a group is at most
                   * 253 bytes, a version 63 */
  if (t->res->group[0] == 0)
    path_cat(want, sizeof want, t->res->version, "", NULL);
  else
    path_cat(want, sizeof want, t->res->group, "/", t->res->version);
  const char *api_version = json_string_value(json_object_get(obj, "apiVersion"));
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  if (api_version == NULL || api_version[0] == 0)
    json_object_set_new(obj, "apiVersion", json_string(want));
  else if (strcmp(api_version, want) != 0)
    return k8c_error(
        err, 400, K8C_REASON_BAD_REQUEST,
        "the API version in the data (%s) does not match the expected API version (%s)",
        api_version, want);
  if (kind == NULL || kind[0] == 0)
    json_object_set_new(obj, "kind", json_string(t->res->kind));
  else if (strcmp(kind, t->res->kind) != 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "the kind in the data (%s) does not match the expected kind (%s)", kind,
                     t->res->kind);
  json_t *meta = json_object_get(obj, "metadata");
  if (meta == NULL) {
    meta = json_object();
    json_object_set_new(obj, "metadata", meta);
  } else if (!json_is_object(meta)) {
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "metadata must be an object");
  }
  if (t->res->namespaced) {
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    if (ns && ns[0] && strcmp(ns, t->namespace_) != 0)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "the namespace of the provided object does not match the namespace sent on "
                       "the request");
    json_object_set_new_nocheck(meta, "namespace", obj_string(t->namespace_));
  } else {
    json_object_del(meta, "namespace");
  }
  return 0;
}

/* Removes the field at a dotted path such as spec.containers[0].foo. */
static void
prune_path(json_t *obj, const char *path)
{
  char *copy = xstrdup(path);
  json_t *cur = obj;
  char *save = NULL;
  char *tok = strtok_r(copy, ".", &save);
  while (tok && cur) {
    char *next = strtok_r(NULL, ".", &save);
    char *bracket = strchr(tok, '[');
    long idx = -1;
    if (bracket) {
      *bracket = 0;
      idx = strtol(bracket + 1, NULL, 10);
    }
    if (next == NULL && idx < 0) {
      json_object_del(cur, tok);
      break;
    }
    cur = json_object_get(cur, tok);
    if (idx >= 0)
      cur = json_array_get(cur, (size_t)idx);
    tok = next;
  }
  free(copy);
}

/* Finds the unknown fields in scope (the object, or its member prefix described by
 * definition) and fails or warns about them and prunes them from obj, as the request's
 * field validation asks. */
static int
check_unknown_fields(json_t *obj, const json_t *scope, const char *definition, const char *prefix,
                     const struct write_opts *o, k8c_err *err)
{
  json_t *paths = json_array();
  schema_find_unknown_fields(scope, definition, prefix, paths);
  size_t n = json_array_size(paths);
  if (n && o->field_validation == FIELD_VALIDATION_STRICT) {
    buf msg;
    buf_init(&msg);
    buf_puts(&msg, "strict decoding error: ");
    for (size_t i = 0; i < n; i++)
      buf_printf(&msg, "%sunknown field \"%s\"", i ? ", " : "",
                 json_string_value(json_array_get(paths, i)));
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "%s", buf_cstr(&msg));
    buf_free(&msg);
    json_decref(paths);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const char *p = json_string_value(json_array_get(paths, i));
    if (o->field_validation == FIELD_VALIDATION_WARN && o->warnings)
      json_array_append_new(o->warnings, json_sprintf("unknown field \"%s\"", p));
    prune_path(obj, p);
  }
  json_decref(paths);
  return 0;
}

/* Drops members whose value is null, below typed fields: upstream decodes objects into
 * Go structs, where a null and an absent field are the same thing, so a client sending
 * `creationTimestamp: null` in a pod template (kubectl does) must store the same
 * object as one that omits it. Free-form (ANY) subtrees keep their nulls. */
static void
prune_typed_nulls_below(json_t *obj, const char *definition)
{
  if (!json_is_object(obj) || definition == NULL || schema_definition_is_any(definition))
    return;
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe (obj, tmp, k, v) {
    if (json_is_null(v)) {
      json_object_del(obj, k);
      continue;
    }
    const struct schema_field *f = schema_field_lookup(definition, k);
    if (f == NULL || f->ref == NULL)
      continue;
    if (f->kind == SCHEMA_OBJECT) {
      prune_typed_nulls_below(v, f->ref);
    } else if ((f->kind == SCHEMA_ARRAY || f->kind == SCHEMA_MAP) &&
               f->item_kind == SCHEMA_OBJECT) {
      size_t i;
      json_t *item;
      const char *mk;
      if (json_is_array(v))
        json_array_foreach (v, i, item)
          prune_typed_nulls_below(item, f->ref);
      else if (json_is_object(v))
        json_object_foreach (v, mk, item)
          prune_typed_nulls_below(item, f->ref);
    }
  }
}

/* Whether a null appears anywhere in value: without one there is nothing to prune, and
 * this walk needs no schema lookups (almost every request has no null). */
static bool
contains_null(const json_t *value)
{
  if (json_is_object(value)) {
    for (void *it = json_object_iter((json_t *)value); it != NULL;
         it = json_object_iter_next((json_t *)value, it))
      if (json_is_null(json_object_iter_value(it)) || contains_null(json_object_iter_value(it)))
        return true;
  } else if (json_is_array(value)) {
    size_t n = json_array_size(value);
    for (size_t i = 0; i < n; i++)
      if (json_is_null(json_array_get(value, i)) || contains_null(json_array_get(value, i)))
        return true;
  }
  return false;
}

static void
prune_typed_nulls(json_t *obj, const char *definition)
{
  if (contains_null(obj))
    prune_typed_nulls_below(obj, definition);
}

/* Drops ObjectMeta's empty lists and maps: upstream's Go fields for them are omitempty, so
 * a controller that releases a pod's last ownerReference (or a user who clears labels)
 * leaves no `ownerReferences: []` behind. */
static void
prune_empty_meta(json_t *obj)
{
  static const char *const omitempty[] = {"labels", "annotations", "ownerReferences", "finalizers"};
  json_t *meta = json_object_get(obj, "metadata");
  if (!json_is_object(meta))
    return;
  for (size_t i = 0; i < sizeof omitempty / sizeof omitempty[0]; i++) {
    json_t *v = json_object_get(meta, omitempty[i]);
    if ((json_is_array(v) && json_array_size(v) == 0) ||
        (json_is_object(v) && json_object_size(v) == 0))
      json_object_del(meta, omitempty[i]);
  }
}

/* Checks for unknown fields and drops typed nulls in what the request supplies: the
 * whole object, or for a status update only its status, as everything else is the
 * stored object's (checked when it was written). */
static int
check_request_fields(const struct registry_target *t, json_t *obj, const json_t *old,
                     const struct write_opts *o, k8c_err *err)
{
  const struct schema_field *f = NULL;
  if (old != NULL && strcmp(t->subresource, "status") == 0 && t->res->definition != NULL)
    f = schema_field_lookup(t->res->definition, "status");
  if (f == NULL || f->kind != SCHEMA_OBJECT || f->ref == NULL || schema_definition_is_any(f->ref)) {
    if (check_unknown_fields(obj, obj, t->res->definition, "", o, err) < 0)
      return -1;
    prune_typed_nulls(obj, t->res->definition);
    return 0;
  }
  json_t *status = json_object_get(obj, "status");
  if (json_is_null(status)) {
    json_object_del(obj, "status");
    return 0;
  }
  if (check_unknown_fields(obj, status, f->ref, "status", o, err) < 0)
    return -1;
  prune_typed_nulls(status, f->ref);
  return 0;
}

int
store_admit_and_validate(struct registry *r, const struct registry_target *t, json_t *obj,
                         const json_t *old, const struct write_opts *o, k8c_err *err)
{
  const struct resource_strategy *st = strategy_for(t->res->group, t->res->plural);
  if (check_request_fields(t, obj, old, o, err) < 0)
    return -1;
  prune_empty_meta(obj);
  if (st->defaults)
    st->defaults(obj);
  /* As upstream's handlers: the writer's managedFields entry is computed on the decoded,
   * defaulted object, before mutating admission and the strategy's PrepareFor*, so what
   * those add (the service account's volume, priority, default tolerations, status) is
   * owned by nobody. A server-side apply computed its managedFields itself. */
  if (!o->managed_fields_applied)
    apply_track_update(obj, old, o->field_manager, "Update", t->subresource);
  if (old == NULL && st->prepare_create && st->prepare_create(&r->env, obj, err) < 0)
    return -1;
  if (old != NULL && st->prepare_update && st->prepare_update(&r->env, obj, old, err) < 0)
    return -1;
  if (service_is_service(t->res) && service_allocate(r, obj, old, err) < 0)
    return -1;
  if (st->validate && st->validate(obj, old, err) < 0)
    return -1;
  return 0;
}

int
store_commit_update(struct registry *r, const struct api_resource *res, const char *key,
                    json_t *obj, int64_t expected_rev, bool dry_run, int64_t *new_rev, k8c_err *err)
{
  if (dry_run) {
    *new_rev = expected_rev;
    return 0;
  }
  size_t len = 0;
  cleanup_free char *data = store_serialize_for(res, obj, &len);
  bool prepared =
      watchcache_prepare(r->cache, key, data, len, convert_needed(res) ? NULL : obj, NULL) == 0;
  int rc = expected_rev == 0
               ? r->store->ops->create(r->store, key, data, len, new_rev, err)
               : r->store->ops->update(r->store, key, data, len, expected_rev, new_rev, err);
  if (prepared)
    watchcache_unprepare(r->cache, data);
  if (rc < 0 && expected_rev != 0)
    store_mark_race(err);
  return rc;
}

/* ---------- create ---------- */

static int create_locked(struct registry *r, const struct registry_target *t, json_t *body,
                         const struct write_opts *o, json_t **out, int *status, k8c_err *err);

int
registry_create(struct registry *r, const struct registry_target *t, json_t *body,
                const struct write_opts *o, json_t **out, int *status, k8c_err *err)
{
  bool lock = service_is_service(t->res);
  if (lock)
    pthread_mutex_lock(&r->alloc_lock);
  int rc = create_locked(r, t, body, o, out, status, err);
  if (lock)
    pthread_mutex_unlock(&r->alloc_lock);
  return rc;
}

static int
create_locked(struct registry *r, const struct registry_target *t, json_t *body,
              const struct write_opts *o, json_t **out, int *status, k8c_err *err)
{
  cleanup_json json_t *obj = o->body_is_scratch ? json_incref(body) : json_deep_copy(body);
  if (check_type_meta(t, obj, err) < 0)
    return -1;
  json_t *meta = json_object_get(obj, "metadata");
  const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
  if (rv && rv[0])
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "resourceVersion should not be set on objects to be created");
  const char *name = json_string_value(json_object_get(meta, "name"));
  if ((name == NULL || name[0] == 0) && json_string_value(json_object_get(meta, "generateName")))
    meta_generate_name(obj);
  name = json_string_value(json_object_get(meta, "name"));
  if (name == NULL || name[0] == 0) {
    k8c_error(err, 422, K8C_REASON_INVALID,
              "%s \"\" is invalid: metadata.name: Required value: name or generateName is required",
              t->res->kind);
    k8c_err_add_cause(err, "FieldValueRequired", "metadata.name",
                      "Required value: name or generateName is required");
    return -1;
  }
  if (t->res->namespaced && store_check_namespace(r, t->namespace_, err) < 0)
    return -1;

  cleanup_free char *uid = meta_new_uid();
  cleanup_free char *now = meta_now_rfc3339();
  /* our own ASCII text under literal keys: nothing for jansson to check */
  json_object_set_new_nocheck(meta, "uid", json_string_nocheck(uid));
  json_object_set_new_nocheck(meta, "creationTimestamp", json_string_nocheck(now));
  json_object_del(meta, "deletionTimestamp");
  json_object_del(meta, "deletionGracePeriodSeconds");
  if (store_tracks_generation(t->res))
    json_object_set_new(meta, "generation", json_integer(1));
  else
    json_object_del(meta, "generation");
  /* Most kinds start with an empty status; Nodes (as upstream) and Namespaces keep theirs. */
  if (t->res->has_status && strcmp(t->res->plural, "namespaces") != 0 &&
      strcmp(t->res->plural, "nodes") != 0)
    json_object_del(obj, "status");
  if (store_admit_and_validate(r, t, obj, NULL, o, err) < 0)
    return -1;

  cleanup_free char *key = registry_key(t->res, t->namespace_, name);
  int64_t rev = 0;
  if (!o->dry_run) {
    if (store_commit_update(r, t->res, key, obj, 0, false, &rev, err) < 0) {
      if (err && err->status == 409) {
        char qr[256];
        store_qualified_resource(t->res, qr, sizeof qr);
        return k8c_error(err, 409, K8C_REASON_ALREADY_EXISTS, "%s \"%s\" already exists", qr, name);
      }
      return -1;
    }
    store_set_rv(obj, rev);
  }
  *status = 201;
  *out = steal_ptr(obj);
  return 0;
}

/* ---------- update ---------- */

/* Everything but metadata and status: a change here bumps the generation. */
static bool
spec_changed(const json_t *a, const json_t *b)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)a, k, v) {
    if (strcmp(k, "metadata") == 0 || strcmp(k, "status") == 0)
      continue;
    if (!json_equal(v, json_object_get(b, k)))
      return true;
  }
  json_object_foreach ((json_t *)b, k, v) {
    if (strcmp(k, "metadata") == 0 || strcmp(k, "status") == 0)
      continue;
    if (json_object_get(a, k) == NULL)
      return true;
  }
  return false;
}

/* Builds the object to store from the client's object and the stored one, keeping the
 * fields clients cannot change and honouring the status/spec split. */
static void
merge_system_fields(const struct registry_target *t, json_t *obj, const json_t *old)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *old_meta = json_object_get(old, "metadata");
  static const char *const kept[] = {
      "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
      NULL};
  for (int i = 0; kept[i]; i++) {
    json_t *v = json_object_get(old_meta, kept[i]);
    if (v)
      json_object_set(meta, kept[i], v);
    else
      json_object_del(meta, kept[i]);
  }
  if (strcmp(t->subresource, "status") == 0) {
    /* Only status changes through the status subresource. The stored object's other
     * members are shared with old, not copied (as upstream's status strategies assign
     * the old spec): nothing below rewrites them except idempotent normalisation such
     * as defaulting, which a stored object already has. metadata gets its own top
     * level, since the pipeline sets members of it (generation, managedFields). */
    json_t *status = json_object_get(obj, "status");
    json_incref(status);
    json_object_clear(obj);
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)old, k, v) {
      if (strcmp(k, "metadata") == 0)
        json_object_set_new(obj, k, json_copy(v));
      else if (strcmp(k, "status") != 0)
        json_object_set(obj, k, v);
    }
    if (status)
      json_object_set_new(obj, "status", status);
    return;
  }
  if (t->res->has_status) {
    json_t *old_status = json_object_get(old, "status");
    if (old_status)
      json_object_set(obj, "status", old_status);
    else
      json_object_del(obj, "status");
  }
}

/* One attempt of an update from a complete new object (PUT, or a patch's result). */
static int
update_once(struct registry *r, const struct registry_target *t, json_t *newobj, const json_t *old,
            int64_t old_rev, const char *key, const struct write_opts *o, json_t **out,
            k8c_err *err)
{
  if (check_type_meta(t, newobj, err) < 0)
    return -1;
  json_t *meta = json_object_get(newobj, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  if (name == NULL || strcmp(name, t->name) != 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "the name of the object (%s) does not match the name on the URL (%s)",
                     name ? name : "", t->name);
  const char *old_uid = json_string_value(json_object_get(json_object_get(old, "metadata"), "uid"));
  const char *new_uid = json_string_value(json_object_get(meta, "uid"));
  if (new_uid && new_uid[0] && old_uid && strcmp(new_uid, old_uid) != 0) {
    char why[160];
    snprintf(why, sizeof why,
             "Precondition failed: UID in precondition: %s, UID in object meta: %s", new_uid,
             old_uid);
    return store_conflict(t->res, t->name, why, err);
  }
  merge_system_fields(t, newobj, old);
  if (store_admit_and_validate(r, t, newobj, old, o, err) < 0)
    return -1;
  /* Both may have replaced newobj's metadata (a status update rebuilds newobj from old,
   * freeing the metadata meta pointed to): look it up again. */
  meta = json_object_get(newobj, "metadata");
  if (store_tracks_generation(t->res) && spec_changed(newobj, old)) {
    json_int_t gen =
        json_integer_value(json_object_get(json_object_get(old, "metadata"), "generation"));
    json_object_set_new(meta, "generation", json_integer(gen + 1));
  }

  /* No change: no write, same resourceVersion (kubectl apply's "unchanged"). */
  json_t *old_rv = json_object_get(json_object_get(old, "metadata"), "resourceVersion");
  if (old_rv)
    json_object_set(meta, "resourceVersion", old_rv);
  else
    json_object_del(meta, "resourceVersion");
  bool same = json_equal(newobj, old);
  json_object_del(meta, "resourceVersion");
  if (same) {
    store_set_rv(newobj, old_rev);
    *out = json_incref(newobj);
    return 0;
  }

  /* A terminating object whose last finalizer is removed goes away now. */
  if (store_deletion_finished(t->res, newobj)) {
    struct registry_target dt = *t;
    return store_delete_now(r, &dt, key, newobj, old_rev, o->dry_run, out, err);
  }
  int64_t rev = 0;
  if (store_commit_update(r, t->res, key, newobj, old_rev, o->dry_run, &rev, err) < 0)
    return -1;
  store_set_rv(newobj, rev);
  *out = json_incref(newobj);
  return 0;
}

/* update_once under the allocation lock for kinds that allocate (Services). */
static int
update_once_locked(struct registry *r, const struct registry_target *t, json_t *newobj,
                   const json_t *old, int64_t old_rev, const char *key, const struct write_opts *o,
                   json_t **out, k8c_err *err)
{
  bool lock = service_is_service(t->res);
  if (lock)
    pthread_mutex_lock(&r->alloc_lock);
  int rc = update_once(r, t, newobj, old, old_rev, key, o, out, err);
  if (lock)
    pthread_mutex_unlock(&r->alloc_lock);
  return rc;
}

/* The object an update attempt works on, owned by the caller: a deep copy of the body,
 * except for status updates, which keep only the body's type meta, metadata (one level
 * copied: the pipeline sets members of it) and status: merge_system_fields replaces
 * everything else with the stored object's members. */
static json_t *
update_working_copy(const struct registry_target *t, const json_t *body)
{
  if (strcmp(t->subresource, "status") != 0)
    return json_deep_copy(body);
  json_t *obj = json_object();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)body, k, v) {
    if (strcmp(k, "metadata") == 0)
      json_object_set_new(obj, k, json_is_object(v) ? json_copy(v) : json_deep_copy(v));
    else if (strcmp(k, "status") == 0)
      json_object_set_new(obj, k, json_deep_copy(v));
    else if (strcmp(k, "apiVersion") == 0 || strcmp(k, "kind") == 0)
      json_object_set(obj, k, v);
  }
  return obj;
}

int
registry_update(struct registry *r, const struct registry_target *t, json_t *body,
                const struct write_opts *o, json_t **out, int *status, k8c_err *err)
{
  if (!json_is_object(body))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "the body of the request was not a JSON object");
  if (strcmp(t->subresource, "finalize") == 0 && t->res->group[0] == 0 &&
      strcmp(t->res->plural, "namespaces") == 0) {
    *status = 200;
    return registry_finalize_namespace(r, t->name, body, o, out, err);
  }
  const char *want_rv =
      json_string_value(json_object_get(json_object_get(body, "metadata"), "resourceVersion"));
  cleanup_free char *key = registry_key(t->res, t->namespace_, t->name);
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  for (int attempt = 0; retry_allowed(attempt, &started); attempt++) {
    cleanup_json json_t *old = NULL;
    int64_t old_rev = 0;
    k8c_err rerr = {0};
    if (store_read_current(r, t->res, key, &old, &old_rev, &rerr) < 0) {
      if (rerr.status == 404) {
        k8c_err_clear(&rerr);
        if (strcmp(t->subresource, "") != 0)
          return store_not_found(t->res, t->name, err);
        /* Update of a missing object is a create only for the kinds upstream allows. */
        return store_not_found(t->res, t->name, err);
      }
      k8c_err_move(err, &rerr);
      return -1;
    }
    if (want_rv && want_rv[0]) {
      char cur[32];
      snprintf(cur, sizeof cur, "%lld", (long long)old_rev);
      if (strcmp(cur, want_rv) != 0)
        return store_conflict(t->res, t->name,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again",
                              err);
    }
    cleanup_json json_t *newobj = update_working_copy(t, body);
    k8c_err uerr = {0};
    if (update_once_locked(r, t, newobj, old, old_rev, key, o, out, &uerr) == 0) {
      *status = 200;
      return 0;
    }
    if (store_is_race(&uerr)) {
      k8c_err_clear(&uerr);
      if (!(want_rv && want_rv[0])) {
        store_catch_up(r); /* someone wrote in between: read again and retry */
        continue;
      }
      return store_conflict(t->res, t->name,
                            "the object has been modified; please apply your changes to the latest "
                            "version and try again",
                            err);
    }
    k8c_err_move(err, &uerr);
    return -1;
  }
  return store_conflict(t->res, t->name, "too many concurrent updates; try again", err);
}

/* ---------- patch ---------- */

static json_t *
apply_patch(const struct registry_target *t, const char *content_type, const json_t *current,
            json_t *patch, const struct write_opts *o, k8c_err *err)
{
  if (strncmp(content_type, "application/json-patch+json", 27) == 0)
    return json_patch_apply(current, patch, err);
  if (strncmp(content_type, "application/merge-patch+json", 28) == 0)
    return merge_patch_apply(current, patch, err);
  if (strncmp(content_type, "application/strategic-merge-patch+json", 38) == 0)
    return strategic_merge_patch_apply(current, patch, t->res->definition, err);
  if (strncmp(content_type, "application/apply-patch+yaml", 28) == 0)
    return apply_server_side(current, patch, t->res->definition, o->field_manager, o->force, err);
  k8c_error(err, 415, K8C_REASON_UNSUPPORTED_MEDIA,
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml, application/strategic-merge-patch+json");
  return NULL;
}

int
registry_patch(struct registry *r, const struct registry_target *t, const char *content_type,
               json_t *patch, const struct write_opts *o, json_t **out, int *status, k8c_err *err)
{
  bool is_apply = strncmp(content_type, "application/apply-patch", 23) == 0;
  if (is_apply && (o->field_manager == NULL || o->field_manager[0] == 0))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
                     "required for apply patch");
  struct write_opts wo = *o; /* an apply's result carries its own managedFields */
  wo.managed_fields_applied = is_apply;
  cleanup_free char *key = registry_key(t->res, t->namespace_, t->name);
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  for (int attempt = 0; retry_allowed(attempt, &started); attempt++) {
    cleanup_json json_t *old = NULL;
    int64_t old_rev = 0;
    k8c_err rerr = {0};
    if (store_read_current(r, t->res, key, &old, &old_rev, &rerr) < 0) {
      if (rerr.status == 404 && is_apply && t->subresource[0] == 0) {
        k8c_err_clear(&rerr);
        cleanup_json json_t *created =
            apply_server_side(NULL, patch, t->res->definition, o->field_manager, o->force, err);
        if (created == NULL)
          return -1;
        return registry_create(r, t, created, &wo, out, status, err);
      }
      if (rerr.status == 404) {
        k8c_err_clear(&rerr);
        return store_not_found(t->res, t->name, err);
      }
      k8c_err_move(err, &rerr);
      return -1;
    }
    cleanup_json json_t *patched = apply_patch(t, content_type, old, patch, o, err);
    if (patched == NULL)
      return -1;
    if (!json_is_object(patched))
      return k8c_error(err, 422, K8C_REASON_INVALID,
                       "the patch produced something that is not an object");
    /* A resourceVersion in the patch is a precondition. */
    const char *want_rv =
        json_string_value(json_object_get(json_object_get(patch, "metadata"), "resourceVersion"));
    if (want_rv && want_rv[0]) {
      char cur[32];
      snprintf(cur, sizeof cur, "%lld", (long long)old_rev);
      if (strcmp(cur, want_rv) != 0)
        return store_conflict(t->res, t->name,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again",
                              err);
    }
    k8c_err uerr = {0};
    if (update_once_locked(r, t, patched, old, old_rev, key, &wo, out, &uerr) == 0) {
      *status = 200;
      return 0;
    }
    if (store_is_race(&uerr)) {
      k8c_err_clear(&uerr);
      if (!(want_rv && want_rv[0])) {
        store_catch_up(r);
        continue;
      }
      return store_conflict(t->res, t->name,
                            "the object has been modified; please apply your changes to the latest "
                            "version and try again",
                            err);
    }
    k8c_err_move(err, &uerr);
    return -1;
  }
  return store_conflict(t->res, t->name, "too many concurrent updates; try again", err);
}
