/* watcher.c — watches on the cache: choosing the event a filtered watcher sees for a
 * change, queueing it, and handing it out in watcher_next.
 *
 * Dispatch runs in the store's writer thread. Per watcher it only evaluates the filter
 * and appends a pointer to a shared, immutable event; a watcher whose queue grows past
 * its limit is terminated rather than allowed to hold memory without bound. */
#include "storage/watchcache/watchcache_internal.h"

#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* ---- choosing events ------------------------------------------------------------------- */

static watch_event *
memoized_event(struct history_entry *e, enum watch_event_type type, cache_obj *obj)
{
  if (!e->events[type])
    e->events[type] = watch_event_new(type, obj, e->rev);
  return e->events[type];
}

watch_event *
watchcache_event_for(struct history_entry *e, const char *prefix, size_t prefix_len,
                     watchcache_match_fn match, void *ctx)
{
  if (strncmp(e->obj->key, prefix, prefix_len) != 0)
    return NULL;
  if (e->deleted) {
    /* The deleted object carries the same content as its last state. */
    if (match && !match(ctx, e->obj))
      return NULL;
    return memoized_event(e, WATCH_DELETED, e->obj);
  }
  bool now = !match || match(ctx, e->obj);
  if (!e->prev)
    return now ? memoized_event(e, WATCH_ADDED, e->obj) : NULL;
  bool before = !match || match(ctx, e->prev);
  if (now && before)
    return memoized_event(e, WATCH_MODIFIED, e->obj);
  if (now)
    return memoized_event(e, WATCH_ADDED, e->obj);
  if (!before)
    return NULL;
  /* Left the selection: DELETED with the last matching content, at this revision
   * (as upstream's cacher does). */
  if (!e->prev_at_rev)
    e->prev_at_rev = cache_obj_with_revision(e->prev, e->rev);
  return memoized_event(e, WATCH_DELETED, e->prev_at_rev ? e->prev_at_rev : e->obj);
}

/* ---- queues ------------------------------------------------------------------------------- */

void
watcher_enqueue(struct watcher *w, watch_event *ev)
{
  if (w->q_len == w->q_cap) {
    size_t cap = w->q_cap ? w->q_cap * 2 : 16;
    watch_event **q = xmalloc(cap * sizeof(*q));
    for (size_t i = 0; i < w->q_len; i++)
      q[i] = w->queue[(w->q_start + i) % w->q_cap];
    free(w->queue);
    w->queue = q;
    w->q_cap = cap;
    w->q_start = 0;
  }
  w->queue[(w->q_start + w->q_len) % w->q_cap] = watch_event_ref(ev);
  w->q_len++;
}

void
watcher_free_queue(struct watcher *w)
{
  for (size_t i = 0; i < w->q_len; i++)
    watch_event_unref(w->queue[(w->q_start + i) % w->q_cap]);
  free(w->queue);
  w->queue = NULL;
  w->q_len = w->q_cap = w->q_start = 0;
}

static void
unlink_watcher(watchcache *wc, struct watcher *w)
{
  if (!w->linked)
    return;
  if (w->prev)
    w->prev->next = w->next;
  else
    wc->watchers = w->next;
  if (w->next)
    w->next->prev = w->prev;
  w->prev = w->next = NULL;
  w->linked = false;
}

void
watchcache_dispatch(watchcache *wc, struct history_entry *e)
{
  struct watcher *next;
  for (struct watcher *w = wc->watchers; w; w = next) {
    next = w->next;
    if (e->rev <= w->after_rev)
      continue;
    watch_event *ev = watchcache_event_for(e, w->prefix, w->prefix_len, w->match, w->match_ctx);
    if (!ev)
      continue;
    pthread_mutex_lock(&w->mu);
    if (w->q_len >= w->limit) {
      w->overflowed = true;
      watcher_free_queue(w);
      unlink_watcher(wc, w);
    } else {
      watcher_enqueue(w, ev);
    }
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
}

/* ---- the watcher API ------------------------------------------------------------------------ */

static struct watcher *
watcher_alloc(watchcache *wc, const char *prefix, watchcache_match_fn match, void *match_ctx)
{
  struct watcher *w = xcalloc(1, sizeof(*w));
  w->wc = wc;
  w->prefix = xstrdup(prefix);
  w->prefix_len = strlen(prefix);
  w->match = match;
  w->match_ctx = match_ctx;
  pthread_mutex_init(&w->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cv, &attr);
  pthread_condattr_destroy(&attr);
  return w;
}

static void
watcher_destroy(struct watcher *w)
{
  watcher_free_queue(w);
  for (size_t i = w->initial_next; i < w->initial_count; i++)
    cache_obj_unref(w->initial[i]);
  free(w->initial);
  free(w->prefix);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
}

watcher *
watchcache_watch(watchcache *wc, const char *prefix, int64_t from_rev, bool send_initial,
                 watchcache_match_fn match, void *match_ctx, k8c_err *err)
{
  struct watcher *w = watcher_alloc(wc, prefix, match, match_ctx);
  pthread_rwlock_wrlock(&wc->lock);
  size_t replayed = 0;
  if (send_initial) {
    size_t cap = 0;
    for (skiplist_node *n = skiplist_seek(wc->ordered, prefix); n; n = skiplist_node_next(n)) {
      if (strncmp(skiplist_node_key(n), prefix, w->prefix_len) != 0)
        break;
      cache_obj *o = skiplist_node_value(n);
      if (match && !match(match_ctx, o))
        continue;
      if (w->initial_count == cap) {
        cap = cap ? cap * 2 : 64;
        w->initial = xrealloc(w->initial, cap * sizeof(*w->initial));
      }
      w->initial[w->initial_count++] = cache_obj_ref(o);
    }
    w->after_rev = w->initial_rev = wc->rev;
  } else if (from_rev > 0) {
    if (from_rev < wc->history_floor) {
      int64_t floor = wc->history_floor;
      pthread_rwlock_unlock(&wc->lock);
      watcher_destroy(w);
      return k8c_error(err, 410, K8C_REASON_GONE, "too old resource version: %lld (%lld)",
                       (long long)from_rev, (long long)floor),
             NULL;
    }
    for (size_t i = watchcache_history_find(wc, from_rev); i < wc->history_len; i++) {
      watch_event *ev = watchcache_event_for(watchcache_history_entry(wc, i), prefix, w->prefix_len,
                                             match, match_ctx);
      if (ev) {
        watcher_enqueue(w, ev);
        replayed++;
      }
    }
    /* A revision from the future: skip live changes up to it. */
    w->after_rev = from_rev > wc->rev ? from_rev : wc->rev;
  } else {
    w->after_rev = wc->rev;
  }
  w->limit = wc->max_queued + replayed;
  w->next = wc->watchers;
  if (w->next)
    w->next->prev = w;
  wc->watchers = w;
  w->linked = true;
  pthread_rwlock_unlock(&wc->lock);
  return w;
}

void
watcher_interrupt(watcher *w)
{
  pthread_mutex_lock(&w->mu);
  w->interrupted = true;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void
deadline_after(struct timespec *ts, int timeout_ms)
{
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += timeout_ms / 1000;
  ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

int
watcher_next(watcher *w, watch_event **ev, int timeout_ms)
{
  struct timespec deadline;
  if (timeout_ms > 0)
    deadline_after(&deadline, timeout_ms);
  int ret = 0;
  pthread_mutex_lock(&w->mu);
  w->in_next++;
  for (;;) {
    if (w->closed || w->overflowed || w->interrupted) {
      ret = -1;
      break;
    }
    if (w->initial_next < w->initial_count) {
      cache_obj *o = w->initial[w->initial_next++];
      *ev = watch_event_new(WATCH_ADDED, o, o->rev);
      cache_obj_unref(o);
      ret = 1;
      break;
    }
    if (w->q_len > 0) {
      *ev = w->queue[w->q_start];
      w->q_start = (w->q_start + 1) % w->q_cap;
      w->q_len--;
      ret = 1;
      break;
    }
    if (timeout_ms == 0)
      break;
    if (timeout_ms < 0) {
      pthread_cond_wait(&w->cv, &w->mu);
    } else if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline) == ETIMEDOUT) {
      timeout_ms = 0; /* one last look, then report the timeout */
    }
  }
  w->in_next--;
  if (w->closed)
    pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return ret;
}

void
watcher_close(watcher *w)
{
  if (!w)
    return;
  watchcache *wc = w->wc;
  pthread_rwlock_wrlock(&wc->lock);
  unlink_watcher(wc, w);
  pthread_rwlock_unlock(&wc->lock);
  pthread_mutex_lock(&w->mu);
  w->closed = true;
  pthread_cond_broadcast(&w->cv);
  while (w->in_next > 0)
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  watcher_destroy(w);
}
