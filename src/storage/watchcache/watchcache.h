/* watchcache.h — the in-memory cache of every object in the store, serving the API
 * server's gets, lists and watches without touching the store (upstream's cacher).
 *
 * The cache subscribes to the store; each committed change becomes one immutable,
 * shared cache_obj plus an entry in a bounded history from which watches resume. Keys
 * are plain strings and every prefix ("/registry/pods/", "/registry/pods/ns/") is just a
 * string prefix. Thread-safe: any thread may call any function here. */
#ifndef K8C_STORAGE_WATCHCACHE_WATCHCACHE_H
#define K8C_STORAGE_WATCHCACHE_WATCHCACHE_H

#include "storage/storage.h"
#include "storage/watchcache/cache_obj.h"

#include <limits.h>
#include <stdbool.h>

typedef struct watchcache watchcache;
typedef struct watcher watcher;

/* Decides whether an object belongs to a list or watch (label/field selectors). Called
 * from any thread, including the store's writer; must be quick and must not call back
 * into the cache. */
typedef bool (*watchcache_match_fn)(void *ctx, const cache_obj *o);

enum {
  WATCHCACHE_DEFAULT_HISTORY = 10000, /* events kept for resuming watches */
  /* ... unless the superseded states they keep alive exceed this many bytes of text, in
   * which case the oldest go, down to WATCHCACHE_MIN_HISTORY events */
  WATCHCACHE_DEFAULT_HISTORY_BYTES = 16 << 20,
  WATCHCACHE_MIN_HISTORY = 1000,
  WATCHCACHE_DEFAULT_MAX_QUEUED = 10000 /* a watcher further behind is terminated */
};

/* Lists everything under "/registry/" from s and subscribes to its changes. s must
 * outlive the cache. Returns NULL with err set on failure. Free with watchcache_free. */
watchcache *watchcache_new(storage *s, watchcache_indexer indexer, void *indexer_ctx, k8c_err *err);

/* Unsubscribes from the store and frees the cache. Every watcher must be closed first. */
void watchcache_free(watchcache *wc);

/* Changes how many events the history keeps and how far a watcher may fall behind
 * (tests use small values). Affects watchers created afterwards. */
void watchcache_set_limits(watchcache *wc, size_t history, size_t max_queued);
/* Changes the byte bound of the history (see WATCHCACHE_DEFAULT_HISTORY_BYTES) and the
 * number of events kept regardless of it. */
void watchcache_set_history_bytes(watchcache *wc, size_t max_bytes, size_t min_events);

/* ---- cold objects (cooler.c) ----
 * A thread of the cache compresses the text of objects nobody has read or written for
 * idle_seconds (zlib, a dictionary per resource type) and frees the plain text; a read
 * inflates it again (cache_obj_text). Readers see the same bytes either way. */
enum {
  WATCHCACHE_DEFAULT_COOL_SECONDS = 15,
  WATCHCACHE_COOL_BATCH = 1024, /* objects compressed per pass at most */
  WATCHCACHE_COOL_SCAN = 8192   /* objects looked at per pass at most */
};

#define WATCHCACHE_COOL_NEVER UINT_MAX /* as idle_seconds: never compress */

struct watchcache_cool_stats {
  size_t packed;       /* texts compressed */
  size_t plain_bytes;  /* their plain size */
  size_t packed_bytes; /* their compressed size (with headers) */
  size_t unpackable;   /* texts that would not compress (kept plain, not tried again) */
  size_t cooled;       /* plain texts freed (includes re-cooling a re-warmed object) */
  uint64_t pack_ns;    /* thread CPU time spent compressing */
};

/* The environment variable K8C_WATCHCACHE_COOL_SECONDS (seconds, or "off") overrides
 * WATCHCACHE_DEFAULT_COOL_SECONDS for every cache (tests exercise cold reads with 1). */
/* Objects idle this many seconds get compressed (0: any not read since the previous
 * pass saw them; WATCHCACHE_COOL_NEVER: none); level: zlib level 1..9 (else unchanged). */
void watchcache_set_cooling(watchcache *wc, unsigned idle_seconds, int level);
/* Runs one bounded pass now (the thread runs one every half second). Returns how many
 * plain texts it freed. */
size_t watchcache_cool_pass(watchcache *wc);
void watchcache_cool_stats(watchcache *wc, struct watchcache_cool_stats *out);

/* Optional fast path for writers: parse and index value (the exact buffer that will be
 * passed to the store's create/update) now, in the caller's thread, so the store's serial
 * section only splices in the revision. `parsed` (may be NULL) is value as an object, to
 * index without parsing. Call watchcache_unprepare(value) after the write
 * returns, whatever its outcome. */
int watchcache_prepare(watchcache *wc, const char *key, const char *value, size_t len,
                       const json_t *parsed, k8c_err *err);
void watchcache_unprepare(watchcache *wc, const char *value);

/* The object under key, referenced (release with cache_obj_unref). 404 if absent. */
int watchcache_get(watchcache *wc, const char *key, cache_obj **out, k8c_err *err);

/* Every object whose key starts with prefix and that match accepts (match NULL = all),
 * sorted by key. *out is a new array of referenced objects (release it with
 * cache_obj_array_free(*out, *count)); *list_rev is the revision the list reflects. */
int watchcache_list(watchcache *wc, const char *prefix, watchcache_match_fn match, void *match_ctx,
                    cache_obj ***out, size_t *count, int64_t *list_rev, k8c_err *err);

/* The newest revision the cache has applied. */
int64_t watchcache_revision(watchcache *wc);

/* Blocks until the cache has applied rev (0 at once if it has); -1 after timeout_ms. */
int watchcache_wait_revision(watchcache *wc, int64_t rev, int timeout_ms);

/* Starts a watch of keys with prefix, filtered by match (NULL = all; match_ctx must stay
 * valid until watcher_close).
 *   send_initial: first an ADDED event for every current matching object, then every
 *                 change after the current revision (from_rev is ignored);
 *   from_rev > 0: every change after from_rev, replayed from the history; 410 Expired
 *                 ("too old resource version: FROM (OLDEST)") if it no longer has them;
 *   from_rev = 0: only changes from now on.
 * Returns a watcher the caller must watcher_close, or NULL with err. */
watcher *watchcache_watch(watchcache *wc, const char *prefix, int64_t from_rev, bool send_initial,
                          watchcache_match_fn match, void *match_ctx, k8c_err *err);

/* Waits up to timeout_ms (-1 = forever, 0 = poll) for the next event. Returns 1 with a
 * referenced *ev (release with watch_event_unref), 0 on timeout, -1 if the watcher was
 * closed or terminated for falling too far behind. One thread at a time per watcher. */
int watcher_next(watcher *w, watch_event **ev, int timeout_ms);

/* Makes watcher_next return -1 from now on, waking a thread blocked in it, without
 * freeing anything (for a thread other than the reader that wants the watch to end).
 * Must not be called after watcher_close. */
void watcher_interrupt(watcher *w);

/* Stops the watcher, wakes a thread blocked in watcher_next (which returns -1), waits
 * for it to leave, and frees the watcher. No watcher_next may start after this. */
void watcher_close(watcher *w);

#endif
