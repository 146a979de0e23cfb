/* watchcache.c — building the cache from the store, applying each store event
 * (objects map, ordered index, history ring) and the read side: get, list, revision.
 *
 * A store event is turned into a cache_obj before the lock is taken; under the lock
 * it only swaps pointers, records history and dispatches (watcher.c). */
#include "storage/watchcache/watchcache_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- history ring ----------------------------------------------------------------- */

static void
history_entry_release(struct history_entry *e)
{
  cache_obj_unref(e->obj);
  cache_obj_unref(e->prev);
  cache_obj_unref(e->prev_at_rev);
  for (size_t i = 0; i < sizeof e->events / sizeof e->events[0]; i++)
    watch_event_unref(e->events[i]);
  memset(e, 0, sizeof(*e));
}

static struct history_entry *
history_at(watchcache *wc, size_t i)
{
  return &wc->history[(wc->history_start + i) % wc->history_cap];
}

static void
history_drop_oldest(watchcache *wc)
{
  struct history_entry *oldest = history_at(wc, 0);
  wc->history_floor = oldest->rev;
  wc->history_bytes -= oldest->charge;
  history_entry_release(oldest);
  wc->history_start = (wc->history_start + 1) % wc->history_cap;
  wc->history_len--;
}

static struct history_entry *
history_push(watchcache *wc)
{
  if (wc->history_len == wc->history_cap)
    history_drop_oldest(wc);
  struct history_entry *e = history_at(wc, wc->history_len);
  wc->history_len++;
  return e;
}

/* Index of the first entry with rev > after (history_len if none). */
size_t
watchcache_history_find(watchcache *wc, int64_t after)
{
  size_t lo = 0, hi = wc->history_len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (history_at(wc, mid)->rev <= after)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

struct history_entry *
watchcache_history_entry(watchcache *wc, size_t i)
{
  return history_at(wc, i);
}

/* ---- applying store events ---------------------------------------------------------- */

static void
publish_revision(watchcache *wc, int64_t rev)
{
  pthread_mutex_lock(&wc->rev_mu);
  wc->published_rev = rev;
  pthread_cond_broadcast(&wc->rev_cv);
  pthread_mutex_unlock(&wc->rev_mu);
}

static void
pointer_key(const void *p, char out[32])
{
  snprintf(out, 32, "%p", p);
}

int
watchcache_prepare(watchcache *wc, const char *key, const char *value, size_t len,
                   const json_t *parsed, k8c_err *err)
{
  cache_obj *o =
      cache_obj_prepare(key, value, len, parsed, wc->indexer, wc->indexer_ctx, wc->shapes, err);
  if (o == NULL)
    return -1;
  char pk[32];
  pointer_key(value, pk);
  pthread_mutex_lock(&wc->prep_mu);
  cache_obj *old = hashmap_put(wc->prepared, pk, o);
  pthread_mutex_unlock(&wc->prep_mu);
  cache_obj_unref(old);
  return 0;
}

void
watchcache_unprepare(watchcache *wc, const char *value)
{
  char pk[32];
  pointer_key(value, pk);
  pthread_mutex_lock(&wc->prep_mu);
  cache_obj *o = hashmap_remove(wc->prepared, pk);
  pthread_mutex_unlock(&wc->prep_mu);
  cache_obj_unref(o);
}

/* The cached form of an event's value without parsing it when possible: a PUT whose
 * value was prepared by the writer, or a DELETE of an object the cache holds. */
static cache_obj *
object_for_event(watchcache *wc, const storage_event *ev, k8c_err *err)
{
  if (ev->type == STORAGE_EVENT_PUT) {
    char pk[32];
    pointer_key(ev->value, pk);
    pthread_mutex_lock(&wc->prep_mu);
    cache_obj *prepared = hashmap_remove(wc->prepared, pk);
    pthread_mutex_unlock(&wc->prep_mu);
    cache_obj *obj = NULL;
    if (prepared && strcmp(prepared->key, ev->key) == 0)
      obj = cache_obj_finish(prepared, ev->value, ev->value_len, ev->revision, ev->create_revision);
    cache_obj_unref(prepared);
    if (obj)
      return obj;
  } else {
    pthread_rwlock_rdlock(&wc->lock);
    cache_obj *current = hashmap_get(wc->by_key, ev->key);
    cache_obj *obj = current ? cache_obj_with_revision(current, ev->revision) : NULL;
    pthread_rwlock_unlock(&wc->lock);
    if (obj)
      return obj;
  }
  return cache_obj_new(ev->key, ev->value, ev->value_len, ev->revision, ev->create_revision,
                       wc->indexer, wc->indexer_ctx, wc->shapes, err);
}

/* Runs in the store's writer thread, in revision order. */
static void
apply_store_event(void *ctx, const storage_event *ev)
{
  watchcache *wc = ctx;
  k8c_err err = {0};
  cache_obj *obj = object_for_event(wc, ev, &err);
  if (!obj) {
    log_error("watch cache: skipping revision %lld: %s", (long long)ev->revision, err.message);
    k8c_err_clear(&err);
  }

  pthread_rwlock_wrlock(&wc->lock);
  if (obj) {
    cache_obj *prev;
    bool deleted = ev->type == STORAGE_EVENT_DELETE;
    if (deleted) {
      prev = hashmap_remove(wc->by_key, ev->key);
      skiplist_remove(wc->ordered, ev->key);
    } else {
      prev = hashmap_put(wc->by_key, ev->key, cache_obj_ref(obj));
      skiplist_put(wc->ordered, ev->key, obj);
    }
    /* What only the history keeps alive: the state this change superseded, and for a
     * deletion the last state too (the live objects are the cache's). */
    size_t charge = (prev ? prev->len : 0) + (deleted ? obj->len : 0);
    while (wc->history_len + 1 > wc->history_min && wc->history_len > 0 &&
           wc->history_bytes + charge > wc->history_max_bytes)
      history_drop_oldest(wc);
    struct history_entry *e = history_push(wc);
    *e = (struct history_entry){
        .rev = ev->revision, .deleted = deleted, .obj = obj, .prev = prev, .charge = charge};
    wc->history_bytes += charge;
    wc->rev = ev->revision;
    watchcache_dispatch(wc, e);
  } else {
    /* Nothing to show watchers, but resuming across this revision stays exact only if
     * the history says it cannot: move the floor past it. */
    while (wc->history_len)
      history_drop_oldest(wc);
    wc->history_floor = ev->revision;
    wc->rev = ev->revision;
  }
  pthread_rwlock_unlock(&wc->lock);
  publish_revision(wc, ev->revision);
}

/* ---- lifecycle -------------------------------------------------------------------- */

static int
load_initial(watchcache *wc, int64_t *list_rev, k8c_err *err)
{
  storage_kv_list l = {0};
  int more = 0;
  if (wc->store->ops->list(wc->store, "/registry/", NULL, 0, 0, &l, list_rev, &more, err) < 0) {
    storage_kv_list_free(&l);
    return k8c_err_prefix(err, "watch cache: listing the store");
  }
  for (size_t i = 0; i < l.count; i++) {
    storage_kv *kv = &l.items[i];
    k8c_err obj_err = {0};
    cache_obj *obj =
        cache_obj_new(kv->key, kv->value, kv->value_len, kv->mod_revision, kv->create_revision,
                      wc->indexer, wc->indexer_ctx, wc->shapes, &obj_err);
    if (!obj) {
      log_error("watch cache: skipping %s: %s", kv->key, obj_err.message);
      k8c_err_clear(&obj_err);
      continue;
    }
    hashmap_put(wc->by_key, kv->key, obj);
    skiplist_put(wc->ordered, kv->key, obj);
  }
  storage_kv_list_free(&l);
  return 0;
}

watchcache *
watchcache_new(storage *s, watchcache_indexer indexer, void *indexer_ctx, k8c_err *err)
{
  watchcache *wc = xcalloc(1, sizeof(*wc));
  wc->store = s;
  wc->indexer = indexer;
  wc->indexer_ctx = indexer_ctx;
  wc->shapes = string_map_shapes_new();
  pthread_rwlock_init(&wc->lock, NULL);
  pthread_mutex_init(&wc->rev_mu, NULL);
  pthread_mutex_init(&wc->prep_mu, NULL);
  wc->prepared = hashmap_new();
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&wc->rev_cv, &attr);
  pthread_condattr_destroy(&attr);
  wc->by_key = hashmap_new();
  wc->ordered = skiplist_new();
  wc->history_cap = WATCHCACHE_DEFAULT_HISTORY;
  wc->history = xcalloc(wc->history_cap, sizeof(*wc->history));
  wc->history_max_bytes = WATCHCACHE_DEFAULT_HISTORY_BYTES;
  wc->history_min = WATCHCACHE_MIN_HISTORY;
  wc->max_queued = WATCHCACHE_DEFAULT_MAX_QUEUED;
  watchcache_cooler_init(wc);

  int64_t list_rev = 0;
  if (load_initial(wc, &list_rev, err) < 0) {
    watchcache_free(wc);
    return NULL;
  }
  wc->rev = wc->history_floor = wc->published_rev = list_rev;
  /* Changes committed since the list are replayed first, through the same path. */
  if (s->ops->watch(s, list_rev, apply_store_event, wc, err) < 0) {
    k8c_err_prefix(err, "watch cache: subscribing to the store");
    wc->store = NULL;
    watchcache_free(wc);
    return NULL;
  }
  watchcache_cooler_start(wc);
  return wc;
}

static void
unref_value(void *v)
{
  cache_obj_unref(v);
}

void
watchcache_free(watchcache *wc)
{
  if (!wc)
    return;
  watchcache_cooler_destroy(wc);
  if (wc->store) {
    k8c_err err = {0};
    if (wc->store->ops->watch(wc->store, 0, NULL, NULL, &err) < 0) {
      log_error("watch cache: unsubscribing: %s", err.message);
      k8c_err_clear(&err);
    }
  }
  while (wc->history_len)
    history_drop_oldest(wc);
  free(wc->history);
  skiplist_free(wc->ordered, NULL);
  hashmap_free(wc->by_key, unref_value);
  hashmap_free(wc->prepared, unref_value);
  string_map_shapes_free(wc->shapes);
  pthread_mutex_destroy(&wc->prep_mu);
  pthread_rwlock_destroy(&wc->lock);
  pthread_mutex_destroy(&wc->rev_mu);
  pthread_cond_destroy(&wc->rev_cv);
  free(wc);
}

void
watchcache_set_limits(watchcache *wc, size_t history, size_t max_queued)
{
  pthread_rwlock_wrlock(&wc->lock);
  if (history < 1)
    history = 1;
  while (wc->history_len > history)
    history_drop_oldest(wc);
  struct history_entry *ring = xcalloc(history, sizeof(*ring));
  for (size_t i = 0; i < wc->history_len; i++)
    ring[i] = *history_at(wc, i);
  free(wc->history);
  wc->history = ring;
  wc->history_cap = history;
  wc->history_start = 0;
  wc->max_queued = max_queued;
  pthread_rwlock_unlock(&wc->lock);
}

void
watchcache_set_history_bytes(watchcache *wc, size_t max_bytes, size_t min_events)
{
  pthread_rwlock_wrlock(&wc->lock);
  wc->history_max_bytes = max_bytes;
  wc->history_min = min_events;
  while (wc->history_len > wc->history_min && wc->history_bytes > wc->history_max_bytes)
    history_drop_oldest(wc);
  pthread_rwlock_unlock(&wc->lock);
}

/* ---- reads -------------------------------------------------------------------------- */

int
watchcache_get(watchcache *wc, const char *key, cache_obj **out, k8c_err *err)
{
  pthread_rwlock_rdlock(&wc->lock);
  cache_obj *o = hashmap_get(wc->by_key, key);
  if (o)
    cache_obj_ref(o);
  pthread_rwlock_unlock(&wc->lock);
  if (!o)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "key \"%s\" not found", key);
  *out = o;
  return 0;
}

int
watchcache_list(watchcache *wc, const char *prefix, watchcache_match_fn match, void *match_ctx,
                cache_obj ***out, size_t *count, int64_t *list_rev, k8c_err *err)
{
  size_t n = 0, cap = 0;
  cache_obj **objs = NULL;
  size_t prefix_len = strlen(prefix);
  pthread_rwlock_rdlock(&wc->lock);
  for (skiplist_node *node = skiplist_seek(wc->ordered, prefix); node;
       node = skiplist_node_next(node)) {
    if (strncmp(skiplist_node_key(node), prefix, prefix_len) != 0)
      break;
    cache_obj *o = skiplist_node_value(node);
    if (match && !match(match_ctx, o))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      objs = xrealloc(objs, cap * sizeof(*objs));
    }
    objs[n++] = cache_obj_ref(o);
  }
  if (list_rev)
    *list_rev = wc->rev;
  pthread_rwlock_unlock(&wc->lock);
  *out = objs;
  *count = n;
  return 0;
}

int64_t
watchcache_revision(watchcache *wc)
{
  pthread_rwlock_rdlock(&wc->lock);
  int64_t rev = wc->rev;
  pthread_rwlock_unlock(&wc->lock);
  return rev;
}

int
watchcache_wait_revision(watchcache *wc, int64_t rev, int timeout_ms)
{
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  int ret = 0;
  pthread_mutex_lock(&wc->rev_mu);
  while (wc->published_rev < rev) {
    if (timeout_ms >= 0 &&
        pthread_cond_timedwait(&wc->rev_cv, &wc->rev_mu, &deadline) == ETIMEDOUT &&
        wc->published_rev < rev) {
      ret = -1;
      break;
    }
    if (timeout_ms < 0)
      pthread_cond_wait(&wc->rev_cv, &wc->rev_mu);
  }
  pthread_mutex_unlock(&wc->rev_mu);
  return ret;
}
