/* workqueue.c — a FIFO of keys with dirty/processing sets (client-go's queue), a min-heap
 * of delayed keys, and a rate limiter, under one mutex.
 *
 * Delayed keys need no timer thread: whoever takes the lock first moves the keys whose
 * time has come into the FIFO, and an idle worker sleeps exactly until the earliest
 * delayed key is due (a timed wait), so nothing polls. */
#include "client/workqueue.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The value of every key in the dirty and processing sets. */
#define MEMBER ((void *)1)

struct delayed_key {
  char *key;
  int64_t ready_ns;
  uint64_t seq; /* ties keep insertion order */
  size_t heap_index;
};

struct workqueue {
  pthread_mutex_t mu;
  pthread_cond_t ready_cv;   /* a key was queued, a delay changed, or shutdown */
  pthread_cond_t drained_cv; /* the processing set became empty */

  char **fifo; /* ring of owned keys */
  size_t fifo_start, fifo_len, fifo_cap;
  hashmap *dirty;      /* keys queued or to be queued again after done (value MEMBER) */
  hashmap *processing; /* keys handed out and not done (value MEMBER) */

  struct delayed_key **heap; /* min-heap by (ready_ns, seq) */
  size_t heap_len, heap_cap;
  hashmap *waiting; /* key -> its struct delayed_key in the heap */
  uint64_t seq;

  ratelimiter *limiter;
  bool shutting_down;
};

static int64_t now_ns(void);
static void promote_ready(workqueue *q, int64_t now);
static void add_locked(workqueue *q, const char *key);
static void fifo_push(workqueue *q, const char *key);
static void add_after_locked(workqueue *q, const char *key, int64_t delay_ms);
static void heap_clear(workqueue *q);

/* ---------- public ---------- */

workqueue *
workqueue_new(const struct ratelimiter_config *limits)
{
  workqueue *q = xcalloc(1, sizeof *q);
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&q->ready_cv, &attr);
  pthread_cond_init(&q->drained_cv, &attr);
  pthread_condattr_destroy(&attr);
  q->dirty = hashmap_new();
  q->processing = hashmap_new();
  q->waiting = hashmap_new();
  q->limiter = ratelimiter_new(limits);
  return q;
}

void
workqueue_free(workqueue *q)
{
  if (q == NULL)
    return;
  for (size_t i = 0; i < q->fifo_len; i++)
    free(q->fifo[(q->fifo_start + i) % q->fifo_cap]);
  free(q->fifo);
  heap_clear(q);
  free(q->heap);
  hashmap_free(q->dirty, NULL);
  hashmap_free(q->processing, NULL);
  hashmap_free(q->waiting, NULL);
  ratelimiter_free(q->limiter);
  pthread_cond_destroy(&q->ready_cv);
  pthread_cond_destroy(&q->drained_cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

void
workqueue_add(workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  promote_ready(q, now_ns());
  add_locked(q, key);
  pthread_mutex_unlock(&q->mu);
}

void
workqueue_add_after(workqueue *q, const char *key, long long delay_ms)
{
  pthread_mutex_lock(&q->mu);
  promote_ready(q, now_ns());
  add_after_locked(q, key, delay_ms);
  pthread_mutex_unlock(&q->mu);
}

void
workqueue_add_rate_limited(workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  int64_t now = now_ns();
  promote_ready(q, now);
  if (!q->shutting_down)
    add_after_locked(q, key, ratelimiter_when(q->limiter, key, now));
  pthread_mutex_unlock(&q->mu);
}

void
workqueue_forget(workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  ratelimiter_forget(q->limiter, key);
  pthread_mutex_unlock(&q->mu);
}

int
workqueue_num_requeues(workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  int n = ratelimiter_num_requeues(q->limiter, key);
  pthread_mutex_unlock(&q->mu);
  return n;
}

bool
workqueue_get(workqueue *q, char **key)
{
  pthread_mutex_lock(&q->mu);
  for (;;) {
    promote_ready(q, now_ns());
    if (q->fifo_len > 0 || q->shutting_down)
      break;
    if (q->heap_len == 0) {
      pthread_cond_wait(&q->ready_cv, &q->mu);
    } else {
      int64_t due = q->heap[0]->ready_ns;
      struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
      int rc = pthread_cond_timedwait(&q->ready_cv, &q->mu, &ts);
      if (rc != 0 && rc != ETIMEDOUT)
        abort(); /* EINVAL/EPERM: a programming error */
    }
  }
  if (q->fifo_len == 0) {
    pthread_mutex_unlock(&q->mu);
    return false;
  }
  char *k = q->fifo[q->fifo_start];
  q->fifo_start = (q->fifo_start + 1) % q->fifo_cap;
  q->fifo_len--;
  hashmap_put(q->processing, k, MEMBER);
  hashmap_remove(q->dirty, k);
  /* More keys may be waiting for a worker; the signal that queued them woke only one. */
  if (q->fifo_len > 0)
    pthread_cond_signal(&q->ready_cv);
  pthread_mutex_unlock(&q->mu);
  *key = k;
  return true;
}

void
workqueue_done(workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  if (hashmap_remove(q->processing, key) && hashmap_get(q->dirty, key)) {
    /* Added while it was processed: its turn comes now. */
    fifo_push(q, key);
    pthread_cond_signal(&q->ready_cv);
  }
  if (hashmap_count(q->processing) == 0)
    pthread_cond_broadcast(&q->drained_cv);
  pthread_mutex_unlock(&q->mu);
}

void
workqueue_shutdown(workqueue *q)
{
  pthread_mutex_lock(&q->mu);
  q->shutting_down = true;
  heap_clear(q);
  pthread_cond_broadcast(&q->ready_cv);
  pthread_mutex_unlock(&q->mu);
}

void
workqueue_shutdown_with_drain(workqueue *q)
{
  workqueue_shutdown(q);
  pthread_mutex_lock(&q->mu);
  while (hashmap_count(q->processing) > 0)
    pthread_cond_wait(&q->drained_cv, &q->mu);
  pthread_mutex_unlock(&q->mu);
}

bool
workqueue_shutting_down(workqueue *q)
{
  pthread_mutex_lock(&q->mu);
  bool s = q->shutting_down;
  pthread_mutex_unlock(&q->mu);
  return s;
}

size_t
workqueue_len(workqueue *q)
{
  pthread_mutex_lock(&q->mu);
  promote_ready(q, now_ns());
  size_t n = q->fifo_len;
  pthread_mutex_unlock(&q->mu);
  return n;
}

/* ---------- the FIFO with its sets ---------- */

static int64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
fifo_push(workqueue *q, const char *key)
{
  if (q->fifo_len == q->fifo_cap) {
    size_t cap = q->fifo_cap ? q->fifo_cap * 2 : 16;
    char **ring = xmalloc(cap * sizeof *ring);
    for (size_t i = 0; i < q->fifo_len; i++)
      ring[i] = q->fifo[(q->fifo_start + i) % q->fifo_cap];
    free(q->fifo);
    q->fifo = ring;
    q->fifo_cap = cap;
    q->fifo_start = 0;
  }
  q->fifo[(q->fifo_start + q->fifo_len) % q->fifo_cap] = xstrdup(key);
  q->fifo_len++;
}

static void
add_locked(workqueue *q, const char *key)
{
  if (q->shutting_down)
    return;
  if (hashmap_get(q->dirty, key))
    return;
  hashmap_put(q->dirty, key, MEMBER);
  if (hashmap_get(q->processing, key))
    return;
  fifo_push(q, key);
  pthread_cond_signal(&q->ready_cv);
}

/* ---------- delayed keys ---------- */

static bool
delayed_before(const struct delayed_key *a, const struct delayed_key *b)
{
  return a->ready_ns < b->ready_ns || (a->ready_ns == b->ready_ns && a->seq < b->seq);
}

static void
heap_set(workqueue *q, size_t i, struct delayed_key *d)
{
  q->heap[i] = d;
  d->heap_index = i;
}

static void
heap_sift_up(workqueue *q, size_t i)
{
  struct delayed_key *d = q->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!delayed_before(d, q->heap[parent]))
      break;
    heap_set(q, i, q->heap[parent]);
    i = parent;
  }
  heap_set(q, i, d);
}

static void
heap_sift_down(workqueue *q, size_t i)
{
  struct delayed_key *d = q->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= q->heap_len)
      break;
    if (child + 1 < q->heap_len && delayed_before(q->heap[child + 1], q->heap[child]))
      child++;
    if (!delayed_before(q->heap[child], d))
      break;
    heap_set(q, i, q->heap[child]);
    i = child;
  }
  heap_set(q, i, d);
}

static struct delayed_key *
heap_pop(workqueue *q)
{
  struct delayed_key *top = q->heap[0];
  q->heap_len--;
  if (q->heap_len > 0) {
    heap_set(q, 0, q->heap[q->heap_len]);
    heap_sift_down(q, 0);
  }
  return top;
}

static void
heap_clear(workqueue *q)
{
  for (size_t i = 0; i < q->heap_len; i++) {
    hashmap_remove(q->waiting, q->heap[i]->key);
    free(q->heap[i]->key);
    free(q->heap[i]);
  }
  q->heap_len = 0;
}

/* Moves every delayed key whose time has come into the FIFO, earliest first. */
static void
promote_ready(workqueue *q, int64_t now)
{
  while (q->heap_len > 0 && q->heap[0]->ready_ns <= now) {
    struct delayed_key *d = heap_pop(q);
    hashmap_remove(q->waiting, d->key);
    add_locked(q, d->key);
    free(d->key);
    free(d);
  }
}

static void
add_after_locked(workqueue *q, const char *key, int64_t delay_ms)
{
  if (q->shutting_down)
    return;
  if (delay_ms <= 0) {
    add_locked(q, key);
    return;
  }
  int64_t ready = now_ns() + delay_ms * 1000000;
  struct delayed_key *d = hashmap_get(q->waiting, key);
  if (d) {
    if (ready < d->ready_ns) {
      d->ready_ns = ready;
      heap_sift_up(q, d->heap_index);
      pthread_cond_broadcast(&q->ready_cv); /* sleepers may now wake too late */
    }
    return;
  }
  d = xcalloc(1, sizeof *d);
  d->key = xstrdup(key);
  d->ready_ns = ready;
  d->seq = q->seq++;
  if (q->heap_len == q->heap_cap) {
    q->heap_cap = q->heap_cap ? q->heap_cap * 2 : 16;
    q->heap = xrealloc(q->heap, q->heap_cap * sizeof *q->heap);
  }
  q->heap[q->heap_len] = d;
  d->heap_index = q->heap_len++;
  heap_sift_up(q, d->heap_index);
  hashmap_put(q->waiting, key, d);
  if (q->heap[0] == d)
    pthread_cond_broadcast(&q->ready_cv);
}
