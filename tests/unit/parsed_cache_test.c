/* parsed_cache_test.c — the registry's cache of parsed objects: exact-revision lookups,
 * newer revisions winning, the entry and byte bounds, and that cached trees are shared
 * (by reference), never changed, and released when they leave. */
#include "registry/parsed_cache.h"
#include "testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *
tree(const char *name, int n)
{
  return json_pack("{s:{s:s,s:i},s:[i,i]}", "metadata", "name", name, "n", n, "items", n, n + 1);
}

TEST(get_needs_the_exact_revision)
{
  parsed_cache *pc = parsed_cache_new(8, 1 << 20);
  CHECK(parsed_cache_get(pc, "/registry/pods/ns/a", 5) == NULL);
  json_t *t = tree("a", 1);
  parsed_cache_put(pc, "/registry/pods/ns/a", 5, t, 100);
  json_t *got = parsed_cache_get(pc, "/registry/pods/ns/a", 5);
  CHECK(got == t); /* shared, not copied */
  CHECK(parsed_cache_get(pc, "/registry/pods/ns/a", 4) == NULL);
  CHECK(parsed_cache_get(pc, "/registry/pods/ns/a", 6) == NULL);
  CHECK(parsed_cache_get(pc, "/registry/pods/ns/b", 5) == NULL);
  struct parsed_cache_stats st;
  parsed_cache_stats(pc, &st);
  CHECK_INT(st.entries, 1);
  CHECK_INT(st.text_bytes, 100);
  CHECK_INT(st.hits, 1);
  CHECK_INT(st.misses, 4);
  json_decref(got);
  json_decref(t);
  parsed_cache_free(pc);
}

TEST(a_newer_revision_replaces_an_older_one_never_the_reverse)
{
  parsed_cache *pc = parsed_cache_new(8, 1 << 20);
  json_t *v1 = tree("a", 1), *v2 = tree("a", 2), *v0 = tree("a", 0);
  parsed_cache_put(pc, "k", 10, v1, 50);
  CHECK_INT(v1->refcount, 2);
  parsed_cache_put(pc, "k", 20, v2, 60);
  CHECK_INT(v1->refcount, 1); /* released when replaced */
  parsed_cache_put(pc, "k", 15, v0, 70);
  CHECK_INT(v0->refcount, 1); /* older than the cached one: not taken */
  json_t *got = parsed_cache_get(pc, "k", 20);
  CHECK(got == v2);
  json_decref(got);
  CHECK(parsed_cache_get(pc, "k", 10) == NULL);
  struct parsed_cache_stats st;
  parsed_cache_stats(pc, &st);
  CHECK_INT(st.entries, 1);
  CHECK_INT(st.text_bytes, 60);
  parsed_cache_free(pc);
  CHECK_INT(v2->refcount, 1);
  json_decref(v0);
  json_decref(v1);
  json_decref(v2);
}

TEST(bounded_by_entries_oldest_first)
{
  parsed_cache *pc = parsed_cache_new(3, 1 << 20);
  json_t *t[5];
  for (int i = 0; i < 5; i++) {
    char key[8];
    snprintf(key, sizeof key, "k%d", i);
    t[i] = tree(key, i);
    parsed_cache_put(pc, key, i + 1, t[i], 10);
  }
  struct parsed_cache_stats st;
  parsed_cache_stats(pc, &st);
  CHECK_INT(st.entries, 3);
  CHECK_INT(st.text_bytes, 30);
  CHECK(parsed_cache_get(pc, "k0", 1) == NULL);
  CHECK(parsed_cache_get(pc, "k1", 2) == NULL);
  CHECK_INT(t[0]->refcount, 1);
  CHECK_INT(t[1]->refcount, 1);
  for (int i = 2; i < 5; i++) {
    char key[8];
    snprintf(key, sizeof key, "k%d", i);
    json_t *got = parsed_cache_get(pc, key, i + 1);
    CHECK(got == t[i]);
    json_decref(got);
  }
  /* Re-putting a key makes it the newest: the next eviction takes k3, not k2's successor. */
  json_t *k2b = tree("k2", 22);
  parsed_cache_put(pc, "k2", 30, k2b, 10);
  json_t *k5 = tree("k5", 5);
  parsed_cache_put(pc, "k5", 6, k5, 10);
  CHECK(parsed_cache_get(pc, "k3", 4) == NULL);
  json_t *got = parsed_cache_get(pc, "k2", 30);
  CHECK(got == k2b);
  json_decref(got);
  parsed_cache_free(pc);
  for (int i = 0; i < 5; i++) {
    CHECK_INT(t[i]->refcount, 1);
    json_decref(t[i]);
  }
  json_decref(k2b);
  json_decref(k5);
}

TEST(bounded_by_text_bytes)
{
  parsed_cache *pc = parsed_cache_new(100, 100);
  json_t *a = tree("a", 1), *b = tree("b", 2), *c = tree("c", 3), *big = tree("big", 4);
  parsed_cache_put(pc, "a", 1, a, 40);
  parsed_cache_put(pc, "b", 1, b, 40);
  parsed_cache_put(pc, "c", 1, c, 40); /* 120 > 100: a goes */
  struct parsed_cache_stats st;
  parsed_cache_stats(pc, &st);
  CHECK_INT(st.entries, 2);
  CHECK_INT(st.text_bytes, 80);
  CHECK(parsed_cache_get(pc, "a", 1) == NULL);
  parsed_cache_put(pc, "big", 1, big, 101); /* larger than the whole bound: not taken */
  CHECK(parsed_cache_get(pc, "big", 1) == NULL);
  CHECK_INT(big->refcount, 1);
  parsed_cache_stats(pc, &st);
  CHECK_INT(st.entries, 2);
  parsed_cache_forget(pc, "b");
  CHECK(parsed_cache_get(pc, "b", 1) == NULL);
  CHECK_INT(b->refcount, 1);
  parsed_cache_stats(pc, &st);
  CHECK_INT(st.text_bytes, 40);
  parsed_cache_free(pc);
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(big);
}

TEST(trees_are_kept_unchanged_and_outlive_the_writer)
{
  parsed_cache *pc = parsed_cache_new(4, 1 << 20);
  json_t *t = tree("a", 7);
  char *before = json_dumps(t, JSON_COMPACT);
  parsed_cache_put(pc, "a", 3, t, 10);
  json_decref(t); /* the writer lets go: the cache still holds it */
  json_t *got = parsed_cache_get(pc, "a", 3);
  CHECK(got != NULL);
  char *after = json_dumps(got, JSON_COMPACT);
  CHECK_STR(after, before);
  free(after);
  free(before);
  json_decref(got);
  parsed_cache_free(pc);
}

struct race {
  parsed_cache *pc;
  int id;
};

static void *
race_main(void *arg)
{
  struct race *r = arg;
  for (int i = 0; i < 2000; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i % 7);
    if ((i + r->id) % 2 == 0) {
      json_t *t = tree(key, i);
      parsed_cache_put(r->pc, key, i, t, 10);
      json_decref(t);
    } else {
      json_t *got = parsed_cache_get(r->pc, key, i - 1);
      if (got)
        CHECK_INT(json_integer_value(json_object_get(json_object_get(got, "metadata"), "n")),
                  i - 1);
      json_decref(got);
    }
  }
  return NULL;
}

TEST(threads_share_it)
{
  parsed_cache *pc = parsed_cache_new(5, 1 << 20);
  pthread_t th[4];
  struct race rs[4];
  for (int i = 0; i < 4; i++) {
    rs[i] = (struct race){pc, i};
    CHECK_INT(pthread_create(&th[i], NULL, race_main, &rs[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  struct parsed_cache_stats st;
  parsed_cache_stats(pc, &st);
  CHECK(st.entries <= 5);
  parsed_cache_free(pc);
}

TEST_MAIN()
