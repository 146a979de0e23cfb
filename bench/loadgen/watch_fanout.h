/* watch_fanout.h — many watch streams on one namespace, and when each tracked pod's
 * event has reached all of them.
 *
 * Tracked pods are named <prefix>-<index> (index 0..events). A watcher counts an
 * event the first time a line of its stream names a tracked pod; the watcher whose
 * count completes the set stamps the time, so "all watchers received pod i" is one
 * timestamp per pod with no per-watcher bookkeeping on the reader side. */
#ifndef K8C_BENCH_WATCH_FANOUT_H
#define K8C_BENCH_WATCH_FANOUT_H

#include "loadgen.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fanout_tracker {
  char *name_prefix; /* owned: "<prefix>-" as it appears before the index */
  size_t name_prefix_len;
  int events;                   /* tracked indexes are 0..events (inclusive) */
  _Atomic int expected;         /* watchers that must see an event for it to be complete */
  _Atomic int *received;        /* owned; [events + 1] watchers that saw each index */
  _Atomic int64_t *complete_us; /* owned; [events + 1] monotonic µs, 0 until complete */
} fanout_tracker;

void fanout_tracker_init(fanout_tracker *tracker, const char *name_prefix, int events,
                         int expected);
void fanout_tracker_free(fanout_tracker *tracker);

typedef struct watch_fleet watch_fleet;

/* Opens watchers streams on path (e.g. ".../pods?watch=1&resourceVersion=RV"), spread
 * over threads threads. Returns the fleet (owned; stop it with watch_fleet_stop) or
 * NULL with err filled. */
watch_fleet *watch_fleet_start(const bench_target *target, const char *path, int watchers,
                               int threads, fanout_tracker *tracker, k8c_err *err);
/* Streams that ended (server closed, HTTP error) so far. */
int watch_fleet_ended(watch_fleet *fleet);
/* Closes every stream, joins the threads and frees the fleet. */
void watch_fleet_stop(watch_fleet *fleet);

#endif
