/* strategy_util_test.c — the field-path builders strategies use for their causes: the
 * same text (and the same truncation) as the snprintf calls they replace. */
#include "registry/strategy_util.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>

TEST(path_cat_joins_two_or_three_parts)
{
  char out[64];
  path_cat(out, sizeof out, "spec.containers[0]", ".name", NULL);
  CHECK_STR(out, "spec.containers[0].name");
  path_cat(out, sizeof out, "spec", ".", "nodeName");
  CHECK_STR(out, "spec.nodeName");
  path_cat(out, sizeof out, "", "", "");
  CHECK_STR(out, "");
}

TEST(path_cat_index_formats_the_index)
{
  char out[64];
  path_cat_index(out, sizeof out, "spec.containers[0]", ".ports[", 0, "].name");
  CHECK_STR(out, "spec.containers[0].ports[0].name");
  path_cat_index(out, sizeof out, "spec", ".volumes[", 12345, "]");
  CHECK_STR(out, "spec.volumes[12345]");
}

TEST(truncates_like_snprintf)
{
  for (size_t cap = 1; cap < 40; cap++) {
    char got[40], want[40];
    path_cat(got, cap, "spec.template.spec", ".", "containers");
    snprintf(want, cap, "%s.%s", "spec.template.spec", "containers");
    CHECK_STR(got, want);
    path_cat_index(got, cap, "spec", ".ports[", 987, "].containerPort");
    snprintf(want, cap, "%s.ports[%zu].containerPort", "spec", (size_t)987);
    CHECK_STR(got, want);
  }
}

TEST(obj_string_checks_only_non_ascii)
{
  json_t *a = obj_string("plain text");
  CHECK_STR(json_string_value(a), "plain text");
  json_decref(a);
  json_t *u = obj_string("caf\xc3\xa9");
  CHECK_STR(json_string_value(u), "caf\xc3\xa9");
  json_decref(u);
  CHECK(obj_string("bad \xc3(") == NULL); /* not UTF-8: refused, as json_string does */
  CHECK(obj_string(NULL) == NULL);
}

TEST_MAIN()
