/* string_map_test.c — the watch cache's compact string maps: every string member kept,
 * other members skipped, lookups exact, references counted, and selectors matching
 * through them exactly as through the JSON they came from. */
#include "apimachinery/fields.h"
#include "apimachinery/labels.h"
#include "storage/watchcache/string_map.h"
#include "testlib.h"

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

TEST_MAIN()
