/* store_delete.c — delete and deletecollection in the generic store: preconditions,
 * finalizers and deletionTimestamp, graceful deletion of scheduled pods, and the
 * removal of a namespace's contents before the namespace itself. */
#include "apimachinery/meta.h"
#include "lib/mem.h"
#include "registry/store_internal.h"

#include <stdio.h>
#include <string.h>

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

/* Deletes every object in namespace ns (the namespace controller's job, done inline
 * until the controller manager exists). */
static int
delete_namespace_contents(struct registry *r, const char *ns, bool dry_run, k8c_err *err)
{
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *res = &api_resources[i];
    if (!res->namespaced)
      continue;
    /* Resources sharing storage (events in two groups) are deleted once. */
    if (api_resource_find(res->group, res->version, res->plural) != res)
      continue;
    cleanup_free char *prefix = registry_prefix(res, ns);
    cache_obj **items = NULL;
    size_t count = 0;
    int64_t list_rev = 0;
    if (watchcache_list(r->cache, prefix, NULL, NULL, &items, &count, &list_rev, err) < 0)
      return -1;
    for (size_t j = 0; j < count; j++) {
      if (!dry_run) {
        int64_t del_rev = 0;
        k8c_err derr = {0};
        if (r->store->ops->delete (r->store, cache_obj_key(items[j]), 0, &del_rev, &derr) < 0 &&
            derr.status != 404) {
          k8c_err_move(err, &derr);
          for (size_t k = j; k < count; k++)
            cache_obj_unref(items[k]);
          free(items);
          return -1;
        }
        k8c_err_clear(&derr);
      }
      cache_obj_unref(items[j]);
    }
    free(items);
  }
  return 0;
}

int
registry_delete(struct registry *r, const struct registry_target *t, json_t *delete_options,
                const struct write_opts *o, json_t **out, int *status, k8c_err *err)
{
  cleanup_free char *key = registry_key(t->res, t->namespace_, t->name);
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
    bool is_namespace = t->res->group[0] == 0 && strcmp(t->res->plural, "namespaces") == 0;
    if (is_namespace && delete_namespace_contents(r, t->name, o->dry_run, err) < 0)
      return -1;

    json_int_t grace = -1;
    json_t *g = json_object_get(delete_options, "gracePeriodSeconds");
    if (json_is_integer(g))
      grace = json_integer_value(g);
    bool is_pod = t->res->group[0] == 0 && strcmp(t->res->plural, "pods") == 0;
    const char *node = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
    bool graceful = false;
    if (is_pod && node && node[0]) {
      if (grace < 0)
        grace = json_integer_value(
            json_object_get(json_object_get(obj, "spec"), "terminationGracePeriodSeconds"));
      graceful = grace > 0;
    }
    json_t *finalizers = json_object_get(meta, "finalizers");
    bool has_finalizers = json_array_size(finalizers) > 0;

    if (!graceful && !has_finalizers) {
      k8c_err derr = {0};
      if (store_delete_now(r, t, key, obj, rev, o->dry_run, out, &derr) == 0) {
        *status = 200;
        return 0;
      }
      if (derr.status == 409) {
        k8c_err_clear(&derr);
        continue;
      }
      k8c_err_move(err, &derr);
      return -1;
    }
    /* Mark for deletion; finalizers (or the kubelet) finish it. */
    if (json_object_get(meta, "deletionTimestamp") == NULL) {
      cleanup_free char *now = meta_now_rfc3339();
      json_object_set_new(meta, "deletionTimestamp", json_string(now));
      json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(graceful ? grace : 0));
      if (store_tracks_generation(t->res)) {
        json_int_t gen = json_integer_value(json_object_get(meta, "generation"));
        json_object_set_new(meta, "generation", json_integer(gen + 1));
      }
      int64_t new_rev = 0;
      k8c_err uerr = {0};
      if (store_commit_update(r, t->res, key, obj, rev, o->dry_run, &new_rev, &uerr) < 0) {
        if (uerr.status == 409) {
          k8c_err_clear(&uerr);
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
