/* garbagecollector.c — the garbage collector controller: one shared informer per served
 * resource (events and leases excepted: they own nothing and churn), each indexing its
 * objects by owner uid; handlers queue whoever a change concerns (an object whose owners
 * changed, the dependents of a deleted or foreground-deleting owner, an orphaning owner),
 * and workers settle each queued object (garbagecollector_sync.c) with bounded,
 * rate-limited retries. */
#include "controllers/garbagecollector.h"

#include "apimachinery/meta.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

/* Failures of one key before it is dropped (a later change of it queues it again). */
#define GC_MAX_RETRIES 12

static void *gc_start(struct controller_context *ctx, k8c_err *err);
static void gc_stop(void *state);

const struct controller_def garbagecollector_controller = {
    .name = "garbagecollector",
    .start = gc_start,
    .stop = gc_stop,
};

/* ---------- keys, lookups ---------- */

char *
gc_key(const struct gc_resource *gr, const json_t *obj)
{
  const char *ns = meta_namespace(obj);
  const char *name = meta_name(obj);
  const char *uid = meta_uid(obj);
  return xasprintf("%zu|%s|%s|%s", (size_t)(gr - gr->gc->resources), ns ? ns : "", name ? name : "",
                   uid ? uid : "");
}

struct gc_resource *
gc_parse_key(struct gc *gc, char *buf, const char **ns, const char **name, const char **uid)
{
  char *parts[4];
  char *p = buf;
  for (int i = 0; i < 4; i++) {
    parts[i] = p;
    char *bar = i < 3 ? strchr(p, '|') : NULL;
    if (i < 3 && bar == NULL)
      return NULL;
    if (bar) {
      *bar = 0;
      p = bar + 1;
    }
  }
  char *end = NULL;
  unsigned long idx = strtoul(parts[0], &end, 10);
  if (end == parts[0] || *end || idx >= gc->count)
    return NULL;
  *ns = parts[1];
  *name = parts[2];
  *uid = parts[3];
  return &gc->resources[idx];
}

struct gc_resource *
gc_resource_for_ref(struct gc *gc, const json_t *ref)
{
  const char *api_version = json_string_value(json_object_get(ref, "apiVersion"));
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  if (api_version == NULL || kind == NULL)
    return NULL;
  const char *slash = strchr(api_version, '/');
  size_t group_len = slash ? (size_t)(slash - api_version) : 0;
  for (size_t i = 0; i < gc->count; i++) {
    const struct api_resource *res = gc->resources[i].res;
    if (strlen(res->group) == group_len && strncmp(res->group, api_version, group_len) == 0 &&
        strcmp(res->kind, kind) == 0)
      return &gc->resources[i];
  }
  return NULL;
}

void
gc_dependents(struct gc *gc, const char *uid, json_t ***objs, struct gc_resource ***res, size_t *n)
{
  *objs = NULL;
  *res = NULL;
  *n = 0;
  size_t cap = 0;
  for (size_t i = 0; i < gc->count; i++) {
    json_t **found = NULL;
    size_t nfound = 0;
    if (informer_by_index(gc->resources[i].inf, GC_OWNER_INDEX, uid, &found, &nfound, NULL) < 0)
      continue;
    for (size_t j = 0; j < nfound; j++) {
      if (*n == cap) {
        cap = cap ? cap * 2 : 8;
        *objs = xrealloc(*objs, cap * sizeof **objs);
        *res = xrealloc(*res, cap * sizeof **res);
      }
      (*objs)[*n] = found[j];
      (*res)[*n] = &gc->resources[i];
      (*n)++;
    }
    free(found);
  }
}

bool
gc_has_finalizer(const json_t *obj, const char *finalizer)
{
  size_t i;
  json_t *f;
  json_array_foreach (json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f) {
    if (json_string_value(f) && strcmp(json_string_value(f), finalizer) == 0)
      return true;
  }
  return false;
}

static json_t *
owner_refs(const json_t *obj)
{
  return json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
}

static json_t *
index_owner_uids(void *ctx, json_t *obj)
{
  (void)ctx;
  json_t *refs = owner_refs(obj);
  if (json_array_size(refs) == 0)
    return NULL;
  json_t *uids = json_array();
  size_t i;
  json_t *ref;
  json_array_foreach (refs, i, ref) {
    json_t *uid = json_object_get(ref, "uid");
    if (json_is_string(uid))
      json_array_append(uids, uid);
  }
  return uids;
}

/* ---------- event handlers ---------- */

static void
queue_object(workqueue *q, const struct gc_resource *gr, const json_t *obj)
{
  cleanup_free char *key = gc_key(gr, obj);
  workqueue_add(q, key);
}

static void
queue_dependents(struct gc *gc, const char *uid)
{
  if (uid == NULL)
    return;
  json_t **deps = NULL;
  struct gc_resource **res = NULL;
  size_t n = 0;
  gc_dependents(gc, uid, &deps, &res, &n);
  for (size_t i = 0; i < n; i++)
    queue_object(gc->attempt_to_delete, res[i], deps[i]);
  informer_objs_free(deps, n);
  free(res);
}

/* Queues the owners obj names (their own dependents changed: a foreground-deleting owner
 * may be free to go). The key's uid is the reference's. */
static void
queue_owners(struct gc *gc, const struct gc_resource *gr, const json_t *obj)
{
  size_t i;
  json_t *ref;
  json_array_foreach (owner_refs(obj), i, ref) {
    struct gc_resource *ogr = gc_resource_for_ref(gc, ref);
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    if (ogr == NULL || name == NULL || uid == NULL)
      continue;
    const char *ns = ogr->res->namespaced ? meta_namespace(obj) : "";
    if (ogr->res->namespaced && !gr->res->namespaced)
      continue;
    cleanup_free char *key =
        xasprintf("%zu|%s|%s|%s", (size_t)(ogr - gc->resources), ns ? ns : "", name, uid);
    workqueue_add(gc->attempt_to_delete, key);
  }
}

static void
observe(struct gc_resource *gr, json_t *old_obj, json_t *obj)
{
  struct gc *gc = gr->gc;
  json_t *meta = json_object_get(obj, "metadata");
  bool deleting = json_object_get(meta, "deletionTimestamp") != NULL;
  if (deleting && gc_has_finalizer(obj, GC_FINALIZER_ORPHAN))
    queue_object(gc->attempt_to_orphan, gr, obj);
  if (deleting && gc_has_finalizer(obj, GC_FINALIZER_FOREGROUND)) {
    queue_object(gc->attempt_to_delete, gr, obj);
    bool was = old_obj &&
               json_object_get(json_object_get(old_obj, "metadata"), "deletionTimestamp") &&
               gc_has_finalizer(old_obj, GC_FINALIZER_FOREGROUND);
    if (!was || old_obj == obj)
      queue_dependents(gc, meta_uid(obj));
  }
  json_t *refs = owner_refs(obj);
  json_t *old_refs = old_obj ? owner_refs(old_obj) : NULL;
  bool refs_changed = old_obj == NULL || old_obj == obj || !json_equal(refs, old_refs);
  if (refs_changed && json_array_size(refs) > 0)
    queue_object(gc->attempt_to_delete, gr, obj);
  if (old_obj && old_obj != obj && refs_changed)
    queue_owners(gc, gr, old_obj);
}

static void
on_add(void *ctx, json_t *obj)
{
  observe(ctx, NULL, obj);
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  observe(ctx, old_obj, new_obj);
}

static void
on_delete(void *ctx, json_t *obj)
{
  struct gc_resource *gr = ctx;
  queue_dependents(gr->gc, meta_uid(obj));
  queue_owners(gr->gc, gr, obj);
}

/* ---------- workers ---------- */

static void
run_queue(struct gc *gc, workqueue *q, int (*sync)(struct gc *, const char *, k8c_err *))
{
  char *key = NULL;
  while (workqueue_get(q, &key)) {
    k8c_err err = {0};
    if (sync(gc, key, &err) == 0) {
      workqueue_forget(q, key);
    } else if (workqueue_num_requeues(q, key) < GC_MAX_RETRIES) {
      log_debug("garbagecollector: %s: %s; retrying", key, err.message);
      workqueue_add_rate_limited(q, key);
    } else {
      log_warn("garbagecollector: giving up on %s: %s", key, err.message);
      workqueue_forget(q, key);
    }
    k8c_err_clear(&err);
    workqueue_done(q, key);
    free(key);
  }
}

static void *
delete_worker(void *arg)
{
  struct gc *gc = arg;
  pthread_setname_np(pthread_self(), "ctl-gc-delete");
  run_queue(gc, gc->attempt_to_delete, gc_attempt_to_delete);
  return NULL;
}

static void *
orphan_worker(void *arg)
{
  struct gc *gc = arg;
  pthread_setname_np(pthread_self(), "ctl-gc-orphan");
  run_queue(gc, gc->attempt_to_orphan, gc_attempt_to_orphan);
  return NULL;
}

/* ---------- start, stop ---------- */

static bool
has_verb(const struct api_resource *res, const char *verb)
{
  for (const char *const *v = res->verbs; v && *v; v++)
    if (strcmp(*v, verb) == 0)
      return true;
  return false;
}

/* Resources the collector watches: one version of each stored resource that can be
 * listed, watched and deleted, except events and leases. */
static bool
collectable(const struct api_resource *res, size_t index)
{
  if (!res->preferred || !has_verb(res, "watch") || !has_verb(res, "list") ||
      !has_verb(res, "delete"))
    return false;
  if (strcmp(res->storage_resource, "events") == 0 || strcmp(res->plural, "leases") == 0)
    return false;
  for (size_t i = 0; i < index; i++)
    if (api_resources[i].preferred &&
        strcmp(api_resources[i].storage_resource, res->storage_resource) == 0)
      return false;
  return true;
}

static void *
gc_start(struct controller_context *ctx, k8c_err *err)
{
  struct gc *gc = xcalloc(1, sizeof *gc);
  gc->client = ctx->client;
  gc->resources = xcalloc(api_resources_count, sizeof *gc->resources);
  gc->attempt_to_delete = workqueue_new(NULL);
  gc->attempt_to_orphan = workqueue_new(NULL);
  for (size_t i = 0; i < api_resources_count; i++) {
    if (!collectable(&api_resources[i], i))
      continue;
    struct gc_resource *gr = &gc->resources[gc->count++];
    gr->gc = gc;
    gr->res = &api_resources[i];
    gr->inf = informer_factory_get(ctx->informers, gr->res, "", NULL, NULL);
    (void)informer_add_index(gr->inf, GC_OWNER_INDEX, index_owner_uids, NULL);
  }
  /* Handlers only once every resource is known: they look owners up across all. */
  for (size_t i = 0; i < gc->count; i++) {
    struct informer_handlers h = {.on_add = on_add,
                                  .on_update = on_update,
                                  .on_delete = on_delete,
                                  .ctx = &gc->resources[i],
                                  .resync_period_ms = -1};
    informer_add_handlers(gc->resources[i].inf, &h);
  }
  size_t delete_workers = ctx->cfg.workers > 2 ? (size_t)ctx->cfg.workers : 2;
  gc->threads = xcalloc(delete_workers + 1, sizeof *gc->threads);
  for (size_t i = 0; i <= delete_workers; i++) {
    void *(*fn)(void *) = i == delete_workers ? orphan_worker : delete_worker;
    if (pthread_create(&gc->threads[i], NULL, fn, gc) != 0) {
      k8c_error(err, 500, K8C_REASON_INTERNAL, "cannot start a garbage collector worker");
      gc_stop(gc);
      return NULL;
    }
    gc->nthreads++;
  }
  return gc;
}

static void
gc_stop(void *state)
{
  struct gc *gc = state;
  /* The shared informers outlive this state: take our handlers off them so that none
   * runs on it after it is freed. */
  for (size_t i = 0; i < gc->count; i++)
    informer_remove_handlers(gc->resources[i].inf, &gc->resources[i]);
  workqueue_shutdown(gc->attempt_to_delete);
  workqueue_shutdown(gc->attempt_to_orphan);
  for (size_t i = 0; i < gc->nthreads; i++)
    pthread_join(gc->threads[i], NULL);
  workqueue_free(gc->attempt_to_delete);
  workqueue_free(gc->attempt_to_orphan);
  free(gc->threads);
  free(gc->resources);
  free(gc);
}
