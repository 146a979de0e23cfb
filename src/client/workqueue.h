/* workqueue.h — client-go's rate-limited work queue, the heart of every controller: keys
 * ("ns/name") are queued, deduplicated, handed to one worker at a time, retried with
 * back-off, and delayed on request.
 *
 * Guarantees (as client-go): a key is in the queue at most once however often it is
 * added; a key being processed (between get and done) is never handed to another worker,
 * and if it is added meanwhile it is queued again when done() is called; keys come out
 * in the order they became ready. Thread-safe; waiting is on condition variables only. */
#ifndef K8C_CLIENT_WORKQUEUE_H
#define K8C_CLIENT_WORKQUEUE_H

#include "client/ratelimiter.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct workqueue workqueue;

/* limits NULL = client-go's default controller rate limiter (ratelimiter.h). Free with
 * workqueue_free once no thread uses the queue. */
workqueue *workqueue_new(const struct ratelimiter_config *limits);
void workqueue_free(workqueue *q);

/* Queues key (copied) unless it is already queued; ignored after shutdown. */
void workqueue_add(workqueue *q, const char *key);
/* Queues key after delay_ms (at once if <= 0). A key already waiting keeps the earlier
 * of its two ready times. */
void workqueue_add_after(workqueue *q, const char *key, long long delay_ms);
/* Queues key after the rate limiter's delay for it (one more failure recorded). */
void workqueue_add_rate_limited(workqueue *q, const char *key);
/* Clears key's failure history (call when it was processed successfully). */
void workqueue_forget(workqueue *q, const char *key);
/* How often key was added rate-limited since it was last forgotten. */
int workqueue_num_requeues(workqueue *q, const char *key);

/* Blocks until a key is ready and returns true with *key (caller frees) — call
 * workqueue_done(q, *key) when finished with it. Returns false once the queue is shut
 * down and empty. */
bool workqueue_get(workqueue *q, char **key);
/* Marks key as no longer processed; re-queues it if it was added meanwhile. */
void workqueue_done(workqueue *q, const char *key);

/* Stops accepting keys, drops delayed ones, and wakes every blocked workqueue_get; keys
 * already queued are still handed out, then get returns false. */
void workqueue_shutdown(workqueue *q);
/* Like workqueue_shutdown, then waits until every key handed out is done. */
void workqueue_shutdown_with_drain(workqueue *q);
bool workqueue_shutting_down(workqueue *q);

/* Keys ready to be handed out (not counting those processed or still delayed). */
size_t workqueue_len(workqueue *q);

#endif
