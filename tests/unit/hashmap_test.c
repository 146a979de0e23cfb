/* hashmap_test.c — the string-keyed hash map and the ordered skip list from src/lib:
 * put/get/replace/remove, growth, deletion keeping probe runs intact, ordered seeks. */
#include "lib/hashmap.h"
#include "lib/skiplist.h"
#include "testlib.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

TEST(hashmap_put_get_replace_remove)
{
  hashmap *m = hashmap_new();
  int a = 1, b = 2, c = 3;
  CHECK(hashmap_put(m, "a", &a) == NULL);
  CHECK(hashmap_put(m, "b", &b) == NULL);
  CHECK(hashmap_get(m, "a") == &a);
  CHECK(hashmap_put(m, "a", &c) == &a);
  CHECK(hashmap_get(m, "a") == &c);
  CHECK_INT(hashmap_count(m), 2);
  CHECK(hashmap_remove(m, "a") == &c);
  CHECK(hashmap_get(m, "a") == NULL);
  CHECK(hashmap_remove(m, "a") == NULL);
  CHECK_INT(hashmap_count(m), 1);
  hashmap_free(m, NULL);
}

TEST(hashmap_grows_and_survives_many_removals)
{
  hashmap *m = hashmap_new();
  char key[32];
  for (intptr_t i = 0; i < 20000; i++) {
    snprintf(key, sizeof key, "/registry/pods/ns/p%ld", (long)i);
    CHECK(hashmap_put(m, key, (void *)(i + 1)) == NULL);
  }
  CHECK_INT(hashmap_count(m), 20000);
  /* Remove every other key; the rest must stay reachable (backward shift). */
  for (intptr_t i = 0; i < 20000; i += 2) {
    snprintf(key, sizeof key, "/registry/pods/ns/p%ld", (long)i);
    CHECK(hashmap_remove(m, key) == (void *)(i + 1));
  }
  int bad = 0;
  for (intptr_t i = 0; i < 20000; i++) {
    snprintf(key, sizeof key, "/registry/pods/ns/p%ld", (long)i);
    void *want = i % 2 ? (void *)(i + 1) : NULL;
    if (hashmap_get(m, key) != want)
      bad++;
  }
  CHECK_INT(bad, 0);
  CHECK_INT(hashmap_count(m), 10000);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  size_t seen = 0;
  while (hashmap_next(m, &it, &k, &v))
    seen++;
  CHECK_INT(seen, 10000);
  hashmap_free(m, NULL);
}

TEST(hashmap_free_releases_values)
{
  hashmap *m = hashmap_new();
  hashmap_put(m, "x", malloc(10));
  hashmap_put(m, "y", malloc(10));
  hashmap_free(m, free); /* ASan reports a leak if values were not freed */
}

TEST(skiplist_keeps_keys_sorted_and_seeks)
{
  skiplist *l = skiplist_new();
  const char *keys[] = {"/registry/pods/b/2", "/registry/pods/a/1", "/registry/pods/b/1",
                        "/registry/podsx/z", "/registry/nodes/n"};
  for (int i = 0; i < 5; i++)
    CHECK(skiplist_put(l, keys[i], (void *)keys[i]) == NULL);
  CHECK(skiplist_put(l, "/registry/pods/a/1", (void *)"replaced") == keys[1]);
  CHECK_INT(skiplist_count(l), 5);
  skiplist_node *n = skiplist_seek(l, "/registry/pods/");
  CHECK_STR(skiplist_node_key(n), "/registry/pods/a/1");
  CHECK_STR(skiplist_node_value(n), "replaced");
  n = skiplist_node_next(n);
  CHECK_STR(skiplist_node_key(n), "/registry/pods/b/1");
  n = skiplist_node_next(n);
  CHECK_STR(skiplist_node_key(n), "/registry/pods/b/2");
  CHECK(skiplist_remove(l, "/registry/pods/b/1") == keys[2]);
  CHECK(skiplist_remove(l, "/registry/pods/b/1") == NULL);
  CHECK(skiplist_get(l, "/registry/pods/b/1") == NULL);
  CHECK(skiplist_get(l, "/registry/nodes/n") == keys[4]);
  CHECK_STR(skiplist_node_key(skiplist_seek(l, NULL)), "/registry/nodes/n");
  CHECK(skiplist_seek(l, "/zzz") == NULL);
  skiplist_free(l, NULL);
}

TEST(skiplist_large_random_order)
{
  skiplist *l = skiplist_new();
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "k%05d", (i * 7919) % 5000);
    CHECK(skiplist_put(l, key, NULL) == NULL);
  }
  int i = 0, bad = 0;
  for (skiplist_node *n = skiplist_seek(l, NULL); n; n = skiplist_node_next(n), i++) {
    snprintf(key, sizeof key, "k%05d", i);
    if (strcmp(key, skiplist_node_key(n)) != 0)
      bad++;
  }
  CHECK_INT(i, 5000);
  CHECK_INT(bad, 0);
  for (int j = 0; j < 5000; j += 3) {
    snprintf(key, sizeof key, "k%05d", j);
    skiplist_remove(l, key);
  }
  CHECK_INT(skiplist_count(l), 5000 - 1667);
  skiplist_free(l, NULL);
}

TEST_MAIN()
