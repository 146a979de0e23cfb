/* workqueue_test.c — the work queue's client-go semantics: deduplication, one worker per
 * key (checked with 4 worker threads), re-adding while processed, delayed keys coming out
 * in ready order, exponential back-off timings and forget, the token bucket, and
 * shutdown waking blocked getters. */
#include "client/ratelimiter.h"
#include "client/workqueue.h"
#include "testlib.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes one key, checks it, and marks it done. */
static void
expect_get(workqueue *q, const char *want)
{
  char *key = NULL;
  CHECK(workqueue_get(q, &key));
  CHECK_STR(key, want);
  if (key)
    workqueue_done(q, key);
  free(key);
}

TEST(add_deduplicates_and_keeps_fifo_order)
{
  workqueue *q = workqueue_new(NULL);
  workqueue_add(q, "a");
  workqueue_add(q, "b");
  workqueue_add(q, "a");
  workqueue_add(q, "c");
  workqueue_add(q, "b");
  CHECK_INT(workqueue_len(q), 3);
  expect_get(q, "a");
  expect_get(q, "b");
  expect_get(q, "c");
  CHECK_INT(workqueue_len(q), 0);
  workqueue_free(q);
}

TEST(key_added_while_processing_is_requeued_after_done)
{
  workqueue *q = workqueue_new(NULL);
  workqueue_add(q, "a");
  char *key = NULL;
  CHECK(workqueue_get(q, &key));
  CHECK_STR(key, "a");
  workqueue_add(q, "a");
  workqueue_add(q, "a");
  /* Not handed out again while processing. */
  CHECK_INT(workqueue_len(q), 0);
  workqueue_done(q, key);
  free(key);
  CHECK_INT(workqueue_len(q), 1);
  expect_get(q, "a");
  CHECK_INT(workqueue_len(q), 0);
  workqueue_free(q);
}

/* ---- 4 workers: a key is never processed by two at once ---- */

#define KEYS 8
struct workers {
  workqueue *q;
  atomic_int active[KEYS];
  atomic_int processed;
  atomic_int overlaps;
};

static void *
worker_main(void *arg)
{
  struct workers *w = arg;
  char *key = NULL;
  while (workqueue_get(w->q, &key)) {
    int k = key[0] - 'a';
    if (atomic_fetch_add(&w->active[k], 1) != 0)
      atomic_fetch_add(&w->overlaps, 1);
    usleep(200);
    atomic_fetch_sub(&w->active[k], 1);
    atomic_fetch_add(&w->processed, 1);
    workqueue_done(w->q, key);
    free(key);
  }
  return NULL;
}

TEST(four_workers_never_share_a_key)
{
  struct workers w = {.q = workqueue_new(NULL)};
  pthread_t threads[4];
  for (int i = 0; i < 4; i++)
    CHECK_INT(pthread_create(&threads[i], NULL, worker_main, &w), 0);
  for (int round = 0; round < 2000; round++) {
    char key[2] = {(char)('a' + round % KEYS), 0};
    workqueue_add(w.q, key);
    if (round % 50 == 0)
      usleep(100);
  }
  /* Let the workers drain the queue, then stop them. */
  long long deadline = now_ms() + 5000;
  while (workqueue_len(w.q) > 0 && now_ms() < deadline)
    usleep(1000);
  workqueue_shutdown_with_drain(w.q);
  for (int i = 0; i < 4; i++)
    pthread_join(threads[i], NULL);
  CHECK_INT(atomic_load(&w.overlaps), 0);
  /* Deduplication folds many adds, but each key was processed at least once. */
  CHECK(atomic_load(&w.processed) >= KEYS);
  CHECK(atomic_load(&w.processed) <= 2000);
  workqueue_free(w.q);
}

TEST(add_after_releases_keys_in_ready_order)
{
  workqueue *q = workqueue_new(NULL);
  long long start = now_ms();
  workqueue_add_after(q, "late", 120);
  workqueue_add_after(q, "early", 40);
  workqueue_add_after(q, "middle", 80);
  workqueue_add_after(q, "late", 300); /* later than what is waiting: ignored */
  CHECK_INT(workqueue_len(q), 0);
  expect_get(q, "early");
  long long t_early = now_ms() - start;
  expect_get(q, "middle");
  expect_get(q, "late");
  long long t_late = now_ms() - start;
  CHECK(t_early >= 40);
  CHECK(t_late >= 120);
  CHECK(t_late < 280);
  /* An earlier time for a waiting key wins. */
  start = now_ms();
  workqueue_add_after(q, "k", 1000);
  workqueue_add_after(q, "k", 30);
  expect_get(q, "k");
  CHECK(now_ms() - start < 500);
  /* A delayed key already queued is not queued twice. */
  workqueue_add(q, "dup");
  workqueue_add_after(q, "dup", 10);
  usleep(30 * 1000);
  CHECK_INT(workqueue_len(q), 1);
  expect_get(q, "dup");
  CHECK_INT(workqueue_len(q), 0);
  workqueue_free(q);
}

TEST(rate_limited_adds_back_off_exponentially_until_forgotten)
{
  workqueue *q = workqueue_new(NULL);
  long long expect[] = {5, 10, 20, 40, 80, 160};
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    long long start = now_ms();
    workqueue_add_rate_limited(q, "k");
    CHECK_INT(workqueue_num_requeues(q, "k"), (int)i + 1);
    expect_get(q, "k");
    long long took = now_ms() - start;
    if (took < expect[i] || took > expect[i] * 3 / 2 + 50)
      testlib_fail(__FILE__, __LINE__, "retry %zu took %lld ms, expected ~%lld", i, took,
                   expect[i]);
  }
  workqueue_forget(q, "k");
  CHECK_INT(workqueue_num_requeues(q, "k"), 0);
  long long start = now_ms();
  workqueue_add_rate_limited(q, "k");
  expect_get(q, "k");
  CHECK(now_ms() - start < 60); /* back to the 5 ms base, not 320 ms */
  /* Other keys have their own back-off. */
  for (int i = 0; i < 3; i++)
    workqueue_add_rate_limited(q, "x");
  CHECK_INT(workqueue_num_requeues(q, "x"), 3);
  CHECK_INT(workqueue_num_requeues(q, "k"), 1);
  workqueue_free(q);
}

TEST(default_limiter_caps_back_off_and_buckets_overall_rate)
{
  ratelimiter *rl = ratelimiter_new(NULL);
  int64_t t = 1000000000;
  /* Per key: 5 ms doubling, capped at 1000 s. */
  CHECK_INT(ratelimiter_when(rl, "a", t), 5);
  CHECK_INT(ratelimiter_when(rl, "a", t), 10);
  for (int i = 0; i < 40; i++)
    (void)ratelimiter_when(rl, "a", t);
  CHECK_INT(ratelimiter_when(rl, "a", t), 1000 * 1000);
  ratelimiter_forget(rl, "a");
  CHECK_INT(ratelimiter_num_requeues(rl, "a"), 0);
  ratelimiter_free(rl);

  /* Overall: a burst of 100 passes; past it, new keys wait 100 ms per token owed. */
  rl = ratelimiter_new(NULL);
  char key[16];
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    CHECK_INT(ratelimiter_when(rl, key, t), 5);
  }
  CHECK_INT(ratelimiter_when(rl, "k100", t), 100);
  CHECK_INT(ratelimiter_when(rl, "k101", t), 200);
  /* Half a second later five tokens came back: the debt of 2 is repaid, no wait. */
  CHECK_INT(ratelimiter_when(rl, "k102", t + 500000000), 5);
  ratelimiter_free(rl);
}

struct getter {
  workqueue *q;
  atomic_int returned_false;
};

static void *
getter_main(void *arg)
{
  struct getter *g = arg;
  char *key = NULL;
  if (!workqueue_get(g->q, &key))
    atomic_fetch_add(&g->returned_false, 1);
  free(key);
  return NULL;
}

TEST(shutdown_unblocks_getters_and_drops_new_keys)
{
  struct getter g = {.q = workqueue_new(NULL)};
  pthread_t threads[3];
  for (int i = 0; i < 3; i++)
    CHECK_INT(pthread_create(&threads[i], NULL, getter_main, &g), 0);
  workqueue_add_after(g.q, "never", 60 * 1000);
  usleep(50 * 1000);
  CHECK_INT(atomic_load(&g.returned_false), 0);
  long long start = now_ms();
  workqueue_shutdown(g.q);
  for (int i = 0; i < 3; i++)
    pthread_join(threads[i], NULL);
  CHECK_INT(atomic_load(&g.returned_false), 3);
  CHECK(now_ms() - start < 1000);
  CHECK(workqueue_shutting_down(g.q));
  workqueue_add(g.q, "x");
  CHECK_INT(workqueue_len(g.q), 0);
  char *key = NULL;
  CHECK(!workqueue_get(g.q, &key));
  workqueue_free(g.q);
}

TEST(shutdown_still_hands_out_queued_keys)
{
  workqueue *q = workqueue_new(NULL);
  workqueue_add(q, "a");
  workqueue_shutdown(q);
  expect_get(q, "a");
  char *key = NULL;
  CHECK(!workqueue_get(q, &key));
  workqueue_free(q);
}

TEST_MAIN()
