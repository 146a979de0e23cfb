/* string_map_test.c — the watch cache's compact string maps: every string member kept,
 * other members skipped, lookups exact, references counted, and selectors matching
 * through them exactly as through the JSON they came from. */
#include "apimachinery/fields.h"
#include "apimachinery/labels.h"
#include "storage/watchcache/string_map.h"
#include "testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

TEST(members_lookups_and_references)
{
  json_t *obj =
      json_loads("{\"app\":\"web\",\"tier\":\"\",\"n\":3,\"x.io/long-key\":\"v\"}", 0, NULL);
  string_map *m = string_map_from_json(obj);
  CHECK_INT(string_map_size(m), 3);
  CHECK_STR(string_map_get(m, "app"), "web");
  CHECK_STR(string_map_get(m, "tier"), "");
  CHECK_STR(string_map_get(m, "x.io/long-key"), "v");
  CHECK(string_map_get(m, "n") == NULL);
  CHECK(string_map_get(m, "ap") == NULL);
  CHECK(string_map_get(NULL, "app") == NULL);
  CHECK(string_map_ref(m) == m);
  string_map_unref(m);
  CHECK_STR(string_map_get(m, "app"), "web"); /* still held */
  string_map_unref(m);
  json_t *none = json_loads("{\"n\":1}", 0, NULL);
  CHECK(string_map_from_json(none) == NULL);
  CHECK(string_map_from_json(NULL) == NULL);
  json_decref(none);
  json_decref(obj);
}

TEST(selectors_match_as_on_json)
{
  const char *objects[] = {"{\"app\":\"web\",\"tier\":\"fe\",\"v\":\"3\"}", "{\"app\":\"db\"}",
                           "{}", NULL};
  const char *selectors[] = {
      "app=web", "app!=web",        "tier", "!tier", "app in (web,db)", "app notin (db)", "v>2",
      "v<2",     "app=web,tier=fe", "",     NULL};
  for (int i = 0; objects[i]; i++) {
    json_t *obj = json_loads(objects[i], 0, NULL);
    string_map *m = string_map_from_json(obj);
    for (int j = 0; selectors[j]; j++) {
      k8c_err err = {0};
      label_selector *sel = label_selector_parse(selectors[j], &err);
      CHECK(sel != NULL);
      CHECK_INT(label_selector_matches_lookup(sel, string_map_lookup, m),
                label_selector_matches(sel, obj));
      label_selector_free(sel);
    }
    string_map_unref(m);
    json_decref(obj);
  }
  json_t *fields = json_loads("{\"metadata.name\":\"a\",\"status.phase\":\"Running\"}", 0, NULL);
  string_map *fm = string_map_from_json(fields);
  const char *fsel[] = {"metadata.name=a", "status.phase!=Running", "spec.nodeName=", NULL};
  for (int j = 0; fsel[j]; j++) {
    k8c_err err = {0};
    field_selector *sel = field_selector_parse(fsel[j], &err);
    CHECK(sel != NULL);
    CHECK_INT(field_selector_matches_lookup(sel, string_map_lookup, fm),
              field_selector_matches(sel, fields));
    field_selector_free(sel);
  }
  string_map_unref(fm);
  json_decref(fields);
}

TEST(shared_key_lists_are_stored_once_and_pruned)
{
  string_map_shapes *shapes = string_map_shapes_new();
  json_t *a = json_loads("{\"metadata.name\":\"a\",\"n\":1,\"status.phase\":\"Running\"}", 0, NULL);
  json_t *b = json_loads("{\"metadata.name\":\"bb\",\"status.phase\":\"\"}", 0, NULL);
  json_t *c = json_loads("{\"status.phase\":\"x\",\"metadata.name\":\"c\"}", 0, NULL);
  string_map *ma = string_map_from_json_shared(a, shapes);
  string_map *mb = string_map_from_json_shared(b, shapes);
  CHECK_INT(string_map_shapes_count(shapes), 1); /* same keys in the same order */
  string_map *mc = string_map_from_json_shared(c, shapes);
  CHECK_INT(string_map_shapes_count(shapes), 2); /* another order is another list */
  CHECK_INT(string_map_size(ma), 2);
  CHECK_STR(string_map_get(ma, "metadata.name"), "a");
  CHECK_STR(string_map_get(ma, "status.phase"), "Running");
  CHECK(string_map_get(ma, "n") == NULL);
  CHECK_STR(string_map_get(mb, "metadata.name"), "bb");
  CHECK_STR(string_map_get(mb, "status.phase"), "");
  CHECK_STR(string_map_get(mc, "status.phase"), "x");
  CHECK_STR(string_map_get(mc, "metadata.name"), "c");
  CHECK(string_map_get(mc, "metadata") == NULL);
  CHECK(string_map_from_json_shared(NULL, shapes) == NULL);
  string_map_unref(mc);
  /* Many one-off key lists: those no map holds go as the set grows; held ones stay. */
  for (int i = 0; i < 1000; i++) {
    char text[64];
    snprintf(text, sizeof text, "{\"k%d\":\"v\"}", i);
    json_t *o = json_loads(text, 0, NULL);
    string_map *m = string_map_from_json_shared(o, shapes);
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    CHECK_STR(string_map_get(m, key), "v");
    string_map_unref(m);
    json_decref(o);
  }
  CHECK(string_map_shapes_count(shapes) < 200);
  /* Keys longer than the stack scratch block. */
  char long_key[1500];
  memset(long_key, 'k', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  json_t *big = json_pack("{s:s, s:s}", long_key, "v1", "short", "v2");
  string_map *mbig = string_map_from_json_shared(big, shapes);
  string_map *mbig2 = string_map_from_json_shared(big, shapes);
  CHECK_STR(string_map_get(mbig, long_key), "v1");
  CHECK_STR(string_map_get(mbig2, "short"), "v2");
  string_map_unref(mbig);
  string_map_unref(mbig2);
  json_decref(big);
  string_map *ma2 = string_map_from_json_shared(a, shapes);
  CHECK_STR(string_map_get(ma2, "status.phase"), "Running");
  /* Maps outlive the set. */
  string_map_shapes_free(shapes);
  CHECK_STR(string_map_get(ma, "metadata.name"), "a");
  CHECK_STR(string_map_get(mb, "metadata.name"), "bb");
  CHECK_STR(string_map_get(ma2, "metadata.name"), "a");
  string_map_unref(ma);
  string_map_unref(mb);
  string_map_unref(ma2);
  json_decref(a);
  json_decref(b);
  json_decref(c);
}

struct shapes_worker {
  string_map_shapes *shapes;
  int id;
  int bad;
};

static void *
shapes_worker_main(void *arg)
{
  struct shapes_worker *w = arg;
  for (int i = 0; i < 2000; i++) {
    char text[96];
    snprintf(text, sizeof text, "{\"a\":\"%d\",\"k%d\":\"%d\"}", w->id, i % 50, i);
    json_t *o = json_loads(text, 0, NULL);
    string_map *m = string_map_from_json_shared(o, w->shapes);
    char key[16], want[16], id[16];
    snprintf(key, sizeof key, "k%d", i % 50);
    snprintf(want, sizeof want, "%d", i);
    snprintf(id, sizeof id, "%d", w->id);
    const char *got = string_map_get(m, key), *got_id = string_map_get(m, "a");
    if (!got || strcmp(got, want) != 0 || !got_id || strcmp(got_id, id) != 0)
      w->bad++;
    string_map_unref(m);
    json_decref(o);
  }
  return NULL;
}

TEST(shared_key_lists_from_many_threads)
{
  string_map_shapes *shapes = string_map_shapes_new();
  pthread_t threads[4];
  struct shapes_worker workers[4];
  for (int i = 0; i < 4; i++) {
    workers[i] = (struct shapes_worker){shapes, i, 0};
    CHECK(pthread_create(&threads[i], NULL, shapes_worker_main, &workers[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK_INT(workers[i].bad, 0);
  }
  CHECK(string_map_shapes_count(shapes) <= 64 * 2);
  string_map_shapes_free(shapes);
}

TEST_MAIN()
