/* queue.h — the scheduling queue (upstream's PriorityQueue): an active heap ordered by
 * priority, then by when the pod was first queued; a back-off heap (per pod 1 s doubling
 * to 10 s by default); and the unschedulable pods, moved back when a cluster event that
 * could help happens (node added/changed, pod deleted) or after 5 minutes. A pod popped
 * for scheduling is "in flight" until requeued or done; updates and events meanwhile are
 * remembered so that it is not parked as unschedulable on stale information.
 * Thread-safe. */
#ifndef K8C_SCHEDULER_QUEUE_H
#define K8C_SCHEDULER_QUEUE_H

#include "scheduler/podinfo.h"

struct sched_queue;

struct sched_queue *sched_queue_new(long long initial_backoff_ms, long long max_backoff_ms);
void sched_queue_free(struct sched_queue *q);

/* Adds a pending pod or replaces the queued version (a reference to pi is taken).
 * spec_changed: the update could make the pod schedulable (moves it out of the
 * unschedulable set); status-only updates just refresh the stored object. */
void sched_queue_add(struct sched_queue *q, struct pod_info *pi, bool spec_changed);
/* Forgets the pod (deleted, or bound by someone). */
void sched_queue_delete(struct sched_queue *q, const char *key);
/* Blocks until a pod is ready; returns a new reference (the pod is now in flight), or
 * NULL after shutdown. */
struct pod_info *sched_queue_pop(struct sched_queue *q);
/* After a failed attempt of an in-flight pod: unschedulable = no node fits (parked until
 * an event, unless one happened during the attempt); otherwise an error (back-off). */
void sched_queue_requeue(struct sched_queue *q, const char *key, bool unschedulable);
/* The in-flight pod was scheduled: forget it and its back-off. */
void sched_queue_done(struct sched_queue *q, const char *key);
/* A cluster event: every unschedulable pod goes to back-off (or active if its back-off
 * has passed). */
void sched_queue_move_all(struct sched_queue *q);
void sched_queue_shutdown(struct sched_queue *q);

struct sched_queue_counts {
  size_t active, backoff, unschedulable, in_flight;
};
void sched_queue_counts(struct sched_queue *q, struct sched_queue_counts *out);

#endif
