/* cooler.c — keeps the text of idle cached objects compressed (issue 3's memory).
 *
 * A background thread owned by the cache wakes every COOL_INTERVAL_MS and runs one
 * bounded pass: under the shared lock it walks up to WATCHCACHE_COOL_SCAN current
 * objects from where the last pass stopped and picks those not read for idle_seconds;
 * it compresses them with no lock held (against a dictionary per resource type, taken
 * from the first object of that type it packs); then, under the write lock for a moment,
 * it drops the plain text of each one that nobody outside the cache holds. Holding the
 * write lock, no reader can take a new reference, and a reader that holds one is
 * counted in the object's refs, so "refs == the cache's own references" proves that no
 * borrowed text pointer is alive (see cache_obj.h). Writers never wait for compression. */
#include "storage/watchcache/watchcache_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { COOL_INTERVAL_MS = 500, DEFAULT_LEVEL = 3, COOL_LOG_EVERY = 10000, LOCK_SPAN = 512 };

/* The objects that share a dictionary: those of one resource type. The key's directory
 * less its last segment when it has two or more ("/registry/pods/" for
 * "/registry/pods/NS/NAME", "/registry/apps/deployments/" for
 * "/registry/apps/deployments/NS/NAME", "/registry/nodes/" for "/registry/nodes/NAME";
 * a group's cluster-scoped types share "/registry/GROUP/", which only costs ratio). */
static void
type_prefix(const char *key, char *out, size_t size)
{
  const char *rest = strncmp(key, "/registry/", 10) == 0 ? key + 10 : key;
  const char *dir_end = strrchr(rest, '/'); /* the directory is key up to here */
  size_t n = 0;
  if (dir_end) {
    const char *parent_end = memrchr(rest, '/', (size_t)(dir_end - rest));
    n = (size_t)((parent_end ? parent_end : dir_end) - key) + 1;
  }
  if (n >= size)
    n = size - 1;
  memcpy(out, key, n);
  out[n] = 0;
}

static cache_dict *
dict_for(struct watchcache_cooler *c, const cache_obj *o, const char *text)
{
  char prefix[256];
  type_prefix(o->key, prefix, sizeof prefix);
  cache_dict *d = hashmap_get(c->dicts, prefix);
  if (d == NULL) {
    /* The first object of the type stands for all: its siblings differ in names, uids,
     * addresses and timestamps, so most of their text is found in it. */
    d = cache_dict_new(text, o->len);
    hashmap_put(c->dicts, prefix, d);
  }
  return d;
}

/* With wc->lock held exclusively: whether every reference to o besides `mine` belongs
 * to the cache itself (the objects map, o's own history entry and the events memoized
 * there that nobody else holds), so no reader can be using o's text. */
static bool
held_only_by_cache(watchcache *wc, cache_obj *o, int mine)
{
  if (hashmap_get(wc->by_key, o->key) != o)
    return false; /* replaced or deleted meanwhile: it will go with its history */
  int expected = 1 + mine;
  size_t i = watchcache_history_find(wc, o->rev - 1);
  if (i < wc->history_len) {
    struct history_entry *e = watchcache_history_entry(wc, i);
    if (e->rev == o->rev && e->obj == o) {
      expected++;
      for (size_t t = 0; t < sizeof e->events / sizeof e->events[0]; t++) {
        watch_event *ev = e->events[t];
        if (ev == NULL || ev->obj != o)
          continue;
        if (atomic_load_explicit(&ev->refs, memory_order_acquire) != 1)
          return false; /* queued for a watcher, or being written out */
        expected++;
      }
    }
  }
  return atomic_load_explicit(&o->refs, memory_order_acquire) == expected;
}

static bool
idle_enough(const struct watchcache_cooler *c, unsigned used, unsigned now)
{
  return used != 0 && now - used >= c->idle_seconds;
}

/* Up to `cap` referenced candidates from the cursor on, looking at LOCK_SPAN objects per
 * hold of the shared lock (the store's writer waits for it in its serial section). */
static size_t
pick_candidates(watchcache *wc, struct watchcache_cooler *c, unsigned now, cache_obj **out,
                size_t cap)
{
  size_t n = 0, scanned = 0;
  bool at_end = false;
  while (!at_end && n < cap && scanned < WATCHCACHE_COOL_SCAN) {
    pthread_rwlock_rdlock(&wc->lock);
    skiplist_node *node = skiplist_seek(wc->ordered, c->cursor);
    for (size_t span = 0; node && n < cap && span < LOCK_SPAN;
         span++, node = skiplist_node_next(node)) {
      cache_obj *o = skiplist_node_value(node);
      if (cache_obj_is_cold(o) || cache_obj_pack_state(o) < 0)
        continue;
      unsigned used = atomic_load_explicit(&o->used, memory_order_relaxed);
      if (used == 0) /* first seen now: idle from here on unless read */
        atomic_store_explicit(&o->used, now, memory_order_relaxed);
      else if (idle_enough(c, used, now))
        out[n++] = cache_obj_ref(o);
    }
    scanned += LOCK_SPAN;
    free(c->cursor);
    c->cursor = node ? xstrdup(skiplist_node_key(node)) : NULL;
    at_end = node == NULL;
    pthread_rwlock_unlock(&wc->lock);
  }
  return n;
}

static uint64_t
thread_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t
watchcache_cool_pass(watchcache *wc)
{
  struct watchcache_cooler *c = &wc->cooler;
  pthread_mutex_lock(&c->mu);
  if (c->idle_seconds == WATCHCACHE_COOL_NEVER) {
    pthread_mutex_unlock(&c->mu);
    return 0;
  }
  unsigned now = cache_obj_clock();
  cache_obj *batch[WATCHCACHE_COOL_BATCH];
  size_t n = pick_candidates(wc, c, now, batch, WATCHCACHE_COOL_BATCH);

  /* Compress with no lock held: readers and the store's writer go on meanwhile. The
   * deflate state (some 300 KB) exists only while a pass has texts to compress. */
  cache_deflater *z = NULL;
  uint64_t t0 = thread_cpu_ns();
  for (size_t i = 0; i < n; i++) {
    cache_obj *o = batch[i];
    if (cache_obj_pack_state(o) != 0)
      continue; /* packed already (re-warmed by a reader since), or futile */
    const char *text = atomic_load_explicit(&o->text, memory_order_acquire);
    if (z == NULL)
      z = cache_deflater_new(c->level);
    if (cache_obj_pack(o, z, dict_for(c, o, text)) == 0) {
      c->stats.packed++;
      c->stats.plain_bytes += o->len;
      c->stats.packed_bytes += cache_packed_size(atomic_load(&o->packed));
    } else {
      c->stats.unpackable++;
    }
  }
  cache_deflater_free(z);
  c->stats.pack_ns += thread_cpu_ns() - t0;

  /* Drop plain texts under the write lock, a quarter LOCK_SPAN objects per hold. */
  char *dropped[WATCHCACHE_COOL_BATCH];
  size_t n_dropped = 0;
  for (size_t from = 0; from < n; from += LOCK_SPAN / 4) {
    size_t to = from + LOCK_SPAN / 4 < n ? from + LOCK_SPAN / 4 : n;
    pthread_rwlock_wrlock(&wc->lock);
    for (size_t i = from; i < to; i++) {
      cache_obj *o = batch[i];
      unsigned used = atomic_load_explicit(&o->used, memory_order_relaxed);
      if (cache_obj_pack_state(o) != 1 || !idle_enough(c, used, now) ||
          !held_only_by_cache(wc, o, 1))
        continue;
      char *text = cache_obj_drop_text(o);
      if (text)
        dropped[n_dropped++] = text;
    }
    pthread_rwlock_unlock(&wc->lock);
  }
  if (n_dropped)
    log_debug("watch cache: a pass froze %zu of %zu idle texts", n_dropped, n);
  size_t before = c->stats.cooled;
  c->stats.cooled += n_dropped;
  if (c->stats.cooled / COOL_LOG_EVERY != before / COOL_LOG_EVERY)
    log_info("watch cache: %zu texts compressed, %zu -> %zu bytes, %.1f us CPU each; %zu "
             "plain texts freed",
             c->stats.packed, c->stats.plain_bytes, c->stats.packed_bytes,
             c->stats.packed ? (double)c->stats.pack_ns / 1000.0 / (double)c->stats.packed : 0.0,
             c->stats.cooled);
  pthread_mutex_unlock(&c->mu);
  for (size_t i = 0; i < n_dropped; i++)
    free(dropped[i]);
  for (size_t i = 0; i < n; i++)
    cache_obj_unref(batch[i]);
  return n_dropped;
}

static void *
cooler_main(void *arg)
{
  watchcache *wc = arg;
  struct watchcache_cooler *c = &wc->cooler;
  pthread_mutex_lock(&c->mu);
  while (!c->stop) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += COOL_INTERVAL_MS * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    int rc = pthread_cond_timedwait(&c->cv, &c->mu, &deadline);
    if (c->stop)
      break;
    if (rc != ETIMEDOUT)
      continue;
    pthread_mutex_unlock(&c->mu);
    (void)watchcache_cool_pass(wc);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

void
watchcache_cooler_init(watchcache *wc)
{
  struct watchcache_cooler *c = &wc->cooler;
  pthread_mutex_init(&c->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&c->cv, &attr);
  pthread_condattr_destroy(&attr);
  c->idle_seconds = WATCHCACHE_DEFAULT_COOL_SECONDS;
  const char *env = getenv("K8C_WATCHCACHE_COOL_SECONDS");
  if (env && strcmp(env, "off") == 0) {
    c->idle_seconds = WATCHCACHE_COOL_NEVER;
  } else if (env && *env) {
    char *end = NULL;
    unsigned long v = strtoul(env, &end, 10);
    if (*end == 0 && v < 86400)
      c->idle_seconds = (unsigned)v;
    else
      log_warn("watch cache: ignoring K8C_WATCHCACHE_COOL_SECONDS=%s", env);
  }
  c->level = DEFAULT_LEVEL;
  c->dicts = hashmap_new();
}

void
watchcache_cooler_start(watchcache *wc)
{
  struct watchcache_cooler *c = &wc->cooler;
  if (pthread_create(&c->thread, NULL, cooler_main, wc) != 0) {
    log_error("watch cache: cannot start the cooler thread; texts stay uncompressed");
    return;
  }
  c->running = true;
}

static void
unref_dict(void *d)
{
  cache_dict_unref(d);
}

void
watchcache_cooler_destroy(watchcache *wc)
{
  struct watchcache_cooler *c = &wc->cooler;
  if (c->running) {
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->running = false;
  }
  /* Packed texts hold their own dictionary references: these are only the cooler's. */
  hashmap_free(c->dicts, unref_dict);
  free(c->cursor);
  pthread_cond_destroy(&c->cv);
  pthread_mutex_destroy(&c->mu);
}

void
watchcache_set_cooling(watchcache *wc, unsigned idle_seconds, int level)
{
  struct watchcache_cooler *c = &wc->cooler;
  pthread_mutex_lock(&c->mu);
  c->idle_seconds = idle_seconds;
  if (level >= 1 && level <= 9)
    c->level = level;
  pthread_mutex_unlock(&c->mu);
}

void
watchcache_cool_stats(watchcache *wc, struct watchcache_cool_stats *out)
{
  pthread_mutex_lock(&wc->cooler.mu);
  *out = wc->cooler.stats;
  pthread_mutex_unlock(&wc->cooler.mu);
}
