/* json_alloc_test.c — jansson through the per-thread block cache: values built and freed
 * on several threads stay intact, freed blocks are reused, and a thread's cache is
 * bounded and released when the thread ends. */
#include "apimachinery/json_alloc.h"
#include "testlib.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *
build(int seed)
{
  json_t *o = json_object();
  for (int i = 0; i < 50; i++) {
    char key[32];
    snprintf(key, sizeof key, "key-%d-%d", seed, i);
    json_object_set_new(o, key, json_pack("{s:i,s:s,s:[i,i]}", "n", i, "s", key, "a", seed, i));
  }
  return o;
}

static void *
churn(void *arg)
{
  int seed = (int)(intptr_t)arg;
  for (int round = 0; round < 200; round++) {
    json_t *o = build(seed + round);
    char *text = json_dumps(o, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    if (!json_equal(o, back))
      abort();
    free(text); /* jansson's output is an ordinary malloc block */
    json_decref(back);
    json_decref(o);
  }
  return NULL;
}

TEST(values_survive_churn_on_many_threads)
{
  json_alloc_install();
  json_alloc_install(); /* idempotent */
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    CHECK_INT(pthread_create(&t[i], NULL, churn, (void *)(intptr_t)(i * 1000)), 0);
  for (int i = 0; i < 4; i++)
    CHECK_INT(pthread_join(t[i], NULL), 0);
  churn((void *)(intptr_t)7);
}

TEST(freed_blocks_are_reused_and_the_cache_is_bounded)
{
  json_alloc_install();
  json_t *o = build(1);
  json_decref(o);
  size_t cached = json_alloc_cached_blocks();
#if defined(__SANITIZE_ADDRESS__)
  CHECK_INT((long long)cached, 0);
#else
  CHECK(cached > 0);
  CHECK(cached < JSON_ALLOC_CACHE_BYTES / 24 + 1); /* at most the cap in the smallest blocks */
  json_t *again = build(2);
  CHECK(json_alloc_cached_blocks() < cached); /* served from the cache */
  json_decref(again);
  for (int i = 0; i < 20; i++)
    json_decref(build(i));
  /* Many values alive at once, then freed together: more than the cap comes back. */
  json_t *many[40];
  for (int i = 0; i < 40; i++)
    many[i] = build(100 + i);
  for (int i = 0; i < 40; i++)
    json_decref(many[i]);
  CHECK(json_alloc_cached_blocks() < JSON_ALLOC_CACHE_BYTES / 24 + 1);
#endif
  /* Values from before and after the switch mix freely. */
  json_t *s = json_string("x");
  json_t *arr = json_array();
  json_array_append_new(arr, s);
  json_decref(arr);
}

TEST_MAIN()
