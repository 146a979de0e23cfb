/* watchcache_internal.h — the cache's shared state, for watchcache.c (objects, history,
 * applying store events) and watcher.c (per-watcher queues and dispatch).
 *
 * One rwlock guards objects, history and the watcher list: readers (get/list) share
 * it, the store's writer thread takes it exclusively to apply and dispatch a change. */
#ifndef K8C_STORAGE_WATCHCACHE_INTERNAL_H
#define K8C_STORAGE_WATCHCACHE_INTERNAL_H

#include "lib/hashmap.h"
#include "lib/skiplist.h"
#include "storage/watchcache/watchcache.h"

#include <pthread.h>

/* One applied change. obj: the new state (for a deletion, the last state with the
 * deletion's revision); prev: the state before, NULL on creation. events[] memoizes the
 * shared watch_event of each type, made on first use. */
struct history_entry {
  int64_t rev;
  bool deleted;
  cache_obj *obj;
  cache_obj *prev;
  cache_obj *prev_at_rev; /* prev with resourceVersion = rev, made on first use */
  watch_event *events[4]; /* indexed by enum watch_event_type */
  size_t charge;          /* bytes of object text only this entry keeps alive */
};

/* The compressor of idle objects (cooler.c). mu serializes passes and guards the rest. */
struct watchcache_cooler {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* wakes the thread to stop */
  pthread_t thread;
  bool running, stop;
  unsigned idle_seconds;
  int level;
  hashmap *dicts; /* type prefix ("/registry/pods/") → cache_dict (one reference) */
  char *cursor;   /* key the next pass starts from; NULL = the first */
  struct watchcache_cool_stats stats;
};

struct watchcache {
  storage *store;
  watchcache_indexer indexer;
  void *indexer_ctx;
  string_map_shapes *shapes; /* the key lists of the objects' index maps, stored once */

  pthread_rwlock_t lock;
  hashmap *by_key;               /* key → cache_obj (holds one reference) */
  skiplist *ordered;             /* key → the same cache_obj (borrowed), for prefix scans */
  int64_t rev;                   /* newest applied revision */
  struct history_entry *history; /* ring */
  size_t history_cap, history_start, history_len;
  int64_t history_floor; /* every change after this revision is in the history */
  size_t history_bytes;  /* sum of the entries' charge */
  size_t history_max_bytes;
  size_t history_min; /* entries kept whatever their bytes */
  size_t max_queued;
  struct watcher *watchers; /* doubly linked */

  pthread_mutex_t rev_mu;
  pthread_cond_t rev_cv;
  int64_t published_rev; /* under rev_mu, for watchcache_wait_revision */

  pthread_mutex_t prep_mu;
  hashmap *prepared; /* "%p" of a value about to be written → cache_obj (owned), see prepare */

  struct watchcache_cooler cooler;
};

struct watcher {
  watchcache *wc;
  char *prefix;
  size_t prefix_len;
  watchcache_match_fn match;
  void *match_ctx;
  int64_t after_rev; /* live events at or below this are skipped */
  bool linked;       /* in wc->watchers (under wc->lock) */
  struct watcher *prev, *next;

  pthread_mutex_t mu;
  pthread_cond_t cv;
  watch_event **queue; /* ring */
  size_t q_start, q_len, q_cap;
  size_t limit;
  cache_obj **initial; /* synthetic ADDED events still to send */
  size_t initial_count, initial_next;
  int64_t initial_rev;
  bool closed, overflowed, interrupted;
  int in_next;
};

/* watchcache.c — with wc->lock held. */
/* Index of the first history entry with rev > after (history_len if none). */
size_t watchcache_history_find(watchcache *wc, int64_t after);
struct history_entry *watchcache_history_entry(watchcache *wc, size_t i);

/* cooler.c — init before the cache is shared, start once it is loaded, destroy first
 * when freeing (stops the thread). */
void watchcache_cooler_init(watchcache *wc);
void watchcache_cooler_start(watchcache *wc);
void watchcache_cooler_destroy(watchcache *wc);

/* watcher.c — all with wc->lock held exclusively. */
/* Offers one history entry to every watcher. */
void watchcache_dispatch(watchcache *wc, struct history_entry *e);
/* The event a watcher with this filter should get for e, or NULL; not referenced. */
watch_event *watchcache_event_for(struct history_entry *e, const char *prefix, size_t prefix_len,
                                  watchcache_match_fn match, void *ctx);
/* Queues ev (adding a reference) without an overflow check. */
void watcher_enqueue(struct watcher *w, watch_event *ev);
void watcher_free_queue(struct watcher *w);

#endif
