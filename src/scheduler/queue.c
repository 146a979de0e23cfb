/* queue.c — the scheduling queue (see queue.h): two binary heaps and a map of entries,
 * under one mutex; waiting is on a condition variable with a deadline at the earliest
 * back-off expiry. */
#include "scheduler/queue.h"

#include "lib/clock.h"
#include "lib/hashmap.h"
#include "lib/mem.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define UNSCHEDULABLE_FLUSH_MS (5LL * 60 * 1000)
#define FLUSH_CHECK_MS 30000LL

enum entry_state { IN_ACTIVE, IN_BACKOFF, IN_UNSCHEDULABLE, IN_FLIGHT };

struct entry {
  struct pod_info *pi;
  char *key;
  long long queued_at; /* first time queued (ordering among equal priorities) */
  long long parked_at; /* when it became unschedulable */
  long long backoff_until;
  int attempts;
  enum entry_state state;
  size_t heap_index;
  bool deleted; /* while in flight */
  bool moved;   /* an event or update arrived while in flight */
};

struct heap {
  struct entry **items;
  size_t n, cap;
  bool (*less)(const struct entry *a, const struct entry *b);
};

struct sched_queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  hashmap *entries;
  struct heap active, backoff;
  size_t unschedulable, in_flight;
  long long initial_backoff_ms, max_backoff_ms;
  long long last_flush;
  bool shutdown;
};

/* ---------- heaps ---------- */

static bool
active_less(const struct entry *a, const struct entry *b)
{
  if (a->pi->priority != b->pi->priority)
    return a->pi->priority > b->pi->priority;
  return a->queued_at < b->queued_at;
}

static bool
backoff_less(const struct entry *a, const struct entry *b)
{
  return a->backoff_until < b->backoff_until;
}

static void
heap_swap(struct heap *h, size_t i, size_t j)
{
  struct entry *t = h->items[i];
  h->items[i] = h->items[j];
  h->items[j] = t;
  h->items[i]->heap_index = i;
  h->items[j]->heap_index = j;
}

static void
heap_up(struct heap *h, size_t i)
{
  while (i > 0 && h->less(h->items[i], h->items[(i - 1) / 2])) {
    heap_swap(h, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void
heap_down(struct heap *h, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && h->less(h->items[l], h->items[m]))
      m = l;
    if (r < h->n && h->less(h->items[r], h->items[m]))
      m = r;
    if (m == i)
      return;
    heap_swap(h, i, m);
    i = m;
  }
}

static void
heap_push(struct heap *h, struct entry *e)
{
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 64;
    h->items = xrealloc(h->items, h->cap * sizeof *h->items);
  }
  e->heap_index = h->n;
  h->items[h->n++] = e;
  heap_up(h, e->heap_index);
}

static void
heap_remove(struct heap *h, struct entry *e)
{
  size_t i = e->heap_index;
  heap_swap(h, i, h->n - 1);
  h->n--;
  if (i < h->n) {
    heap_up(h, i);
    heap_down(h, h->items[i]->heap_index);
  }
}

/* ---------- entries ---------- */

static void
entry_free(void *p)
{
  struct entry *e = p;
  pod_info_unref(e->pi);
  free(e->key);
  free(e);
}

/* Takes e out of wherever it is (not in flight). */
static void
detach(struct sched_queue *q, struct entry *e)
{
  switch (e->state) {
  case IN_ACTIVE:
    heap_remove(&q->active, e);
    break;
  case IN_BACKOFF:
    heap_remove(&q->backoff, e);
    break;
  case IN_UNSCHEDULABLE:
    q->unschedulable--;
    break;
  case IN_FLIGHT:
    q->in_flight--;
    break;
  }
}

static void
to_active(struct sched_queue *q, struct entry *e)
{
  e->state = IN_ACTIVE;
  heap_push(&q->active, e);
  pthread_cond_signal(&q->cv);
}

/* To back-off if it is still backing off, else straight to active. */
static void
to_backoff_or_active(struct sched_queue *q, struct entry *e, long long now)
{
  if (e->backoff_until > now) {
    e->state = IN_BACKOFF;
    heap_push(&q->backoff, e);
    pthread_cond_signal(&q->cv);
  } else {
    to_active(q, e);
  }
}

static long long
backoff_duration(const struct sched_queue *q, int attempts)
{
  long long d = q->initial_backoff_ms;
  for (int i = 1; i < attempts; i++) {
    d *= 2;
    if (d >= q->max_backoff_ms)
      return q->max_backoff_ms;
  }
  return d;
}

/* ---------- public ---------- */

struct sched_queue *
sched_queue_new(long long initial_backoff_ms, long long max_backoff_ms)
{
  struct sched_queue *q = xcalloc(1, sizeof *q);
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cv, &attr);
  pthread_condattr_destroy(&attr);
  q->entries = hashmap_new();
  q->active.less = active_less;
  q->backoff.less = backoff_less;
  q->initial_backoff_ms = initial_backoff_ms > 0 ? initial_backoff_ms : 1000;
  q->max_backoff_ms = max_backoff_ms > 0 ? max_backoff_ms : 10000;
  q->last_flush = clock_monotonic_ms();
  return q;
}

void
sched_queue_free(struct sched_queue *q)
{
  if (q == NULL)
    return;
  hashmap_free(q->entries, entry_free);
  free(q->active.items);
  free(q->backoff.items);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
}

void
sched_queue_add(struct sched_queue *q, struct pod_info *pi, bool spec_changed)
{
  pthread_mutex_lock(&q->mu);
  if (q->shutdown) {
    pthread_mutex_unlock(&q->mu);
    return;
  }
  struct entry *e = hashmap_get(q->entries, pi->key);
  if (e == NULL) {
    e = xcalloc(1, sizeof *e);
    e->key = xstrdup(pi->key);
    e->pi = pod_info_ref(pi);
    e->queued_at = clock_monotonic_ms();
    hashmap_put(q->entries, e->key, e);
    to_active(q, e);
    pthread_mutex_unlock(&q->mu);
    return;
  }
  struct pod_info *old = e->pi;
  e->pi = pod_info_ref(pi);
  switch (e->state) {
  case IN_ACTIVE: /* the priority may have changed */
    heap_remove(&q->active, e);
    heap_push(&q->active, e);
    break;
  case IN_BACKOFF:
    break;
  case IN_UNSCHEDULABLE:
    if (spec_changed) {
      detach(q, e);
      to_backoff_or_active(q, e, clock_monotonic_ms());
    }
    break;
  case IN_FLIGHT:
    if (spec_changed)
      e->moved = true;
    break;
  }
  pod_info_unref(old);
  pthread_mutex_unlock(&q->mu);
}

void
sched_queue_delete(struct sched_queue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  struct entry *e = hashmap_get(q->entries, key);
  if (e && e->state == IN_FLIGHT) {
    e->deleted = true;
  } else if (e) {
    detach(q, e);
    hashmap_remove(q->entries, key);
    entry_free(e);
  }
  pthread_mutex_unlock(&q->mu);
}

static void
flush_backoff(struct sched_queue *q, long long now)
{
  while (q->backoff.n && q->backoff.items[0]->backoff_until <= now) {
    struct entry *e = q->backoff.items[0];
    heap_remove(&q->backoff, e);
    to_active(q, e);
  }
  if (now - q->last_flush < FLUSH_CHECK_MS || q->unschedulable == 0)
    return;
  q->last_flush = now;
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(q->entries, &it, &k, &v)) {
    struct entry *e = v;
    if (e->state == IN_UNSCHEDULABLE && now - e->parked_at >= UNSCHEDULABLE_FLUSH_MS) {
      detach(q, e);
      to_backoff_or_active(q, e, now);
    }
  }
}

struct pod_info *
sched_queue_pop(struct sched_queue *q)
{
  pthread_mutex_lock(&q->mu);
  for (;;) {
    if (q->shutdown) {
      pthread_mutex_unlock(&q->mu);
      return NULL;
    }
    long long now = clock_monotonic_ms();
    flush_backoff(q, now);
    if (q->active.n) {
      struct entry *e = q->active.items[0];
      heap_remove(&q->active, e);
      e->state = IN_FLIGHT;
      e->attempts++;
      e->moved = false;
      q->in_flight++;
      struct pod_info *pi = pod_info_ref(e->pi);
      pi->queued_ms = e->queued_at;
      pthread_mutex_unlock(&q->mu);
      return pi;
    }
    long long wait_ms = FLUSH_CHECK_MS;
    if (q->backoff.n && q->backoff.items[0]->backoff_until - now < wait_ms)
      wait_ms = q->backoff.items[0]->backoff_until - now;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (wait_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    int rc = pthread_cond_timedwait(&q->cv, &q->mu, &deadline);
    (void)rc; /* timeouts and wake-ups are handled alike: re-check */
  }
}

void
sched_queue_requeue(struct sched_queue *q, const char *key, bool unschedulable)
{
  pthread_mutex_lock(&q->mu);
  struct entry *e = hashmap_get(q->entries, key);
  if (e == NULL || e->state != IN_FLIGHT) {
    pthread_mutex_unlock(&q->mu);
    return;
  }
  detach(q, e);
  if (e->deleted || q->shutdown) {
    hashmap_remove(q->entries, key);
    entry_free(e);
    pthread_mutex_unlock(&q->mu);
    return;
  }
  long long now = clock_monotonic_ms();
  e->backoff_until = now + backoff_duration(q, e->attempts);
  if (unschedulable && !e->moved) {
    e->state = IN_UNSCHEDULABLE;
    e->parked_at = now;
    q->unschedulable++;
  } else {
    to_backoff_or_active(q, e, now);
  }
  pthread_mutex_unlock(&q->mu);
}

void
sched_queue_done(struct sched_queue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  struct entry *e = hashmap_get(q->entries, key);
  if (e && e->state == IN_FLIGHT) {
    detach(q, e);
    hashmap_remove(q->entries, key);
    entry_free(e);
  }
  pthread_mutex_unlock(&q->mu);
}

void
sched_queue_move_all(struct sched_queue *q)
{
  pthread_mutex_lock(&q->mu);
  long long now = clock_monotonic_ms();
  hashmap_iter it = {0};
  const char *k;
  void *v;
  if (q->unschedulable || q->in_flight)
    while (hashmap_next(q->entries, &it, &k, &v)) {
      struct entry *e = v;
      if (e->state == IN_FLIGHT) {
        e->moved = true;
      } else if (e->state == IN_UNSCHEDULABLE) {
        detach(q, e);
        to_backoff_or_active(q, e, now);
      }
    }
  pthread_mutex_unlock(&q->mu);
}

void
sched_queue_shutdown(struct sched_queue *q)
{
  pthread_mutex_lock(&q->mu);
  q->shutdown = true;
  /* Nothing more is handed out: queued pods are dropped with the queue. */
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

void
sched_queue_counts(struct sched_queue *q, struct sched_queue_counts *out)
{
  pthread_mutex_lock(&q->mu);
  out->active = q->active.n;
  out->backoff = q->backoff.n;
  out->unschedulable = q->unschedulable;
  out->in_flight = q->in_flight;
  pthread_mutex_unlock(&q->mu);
}
