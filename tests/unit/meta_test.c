/* meta_test.c — ObjectMeta accessors, uid and timestamp formats, generateName. */
#include "apimachinery/meta.h"
#include "lib/mem.h"
#include "testlib.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

TEST(accessors_read_metadata)
{
  json_t *obj = json_loads("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"u\","
                           "\"generation\":4,\"labels\":{\"a\":\"b\"}}}",
                           0, NULL);
  CHECK_STR(meta_name(obj), "web");
  CHECK_STR(meta_namespace(obj), "ns");
  CHECK_STR(meta_uid(obj), "u");
  CHECK_INT(meta_generation(obj), 4);
  CHECK_JSON(meta_labels(obj), "{\"a\":\"b\"}");
  CHECK(meta_annotations(obj) == NULL);
  CHECK(meta_resource_version(obj) == NULL);
  json_decref(obj);
  CHECK(meta_name(NULL) == NULL);
  CHECK_INT(meta_generation(NULL), 0);
}

TEST(meta_get_creates_and_set_string)
{
  json_t *obj = json_object();
  json_t *m = meta_get(obj);
  CHECK(json_is_object(m));
  CHECK(meta_get(obj) == m);
  meta_set_string(obj, "name", "x");
  CHECK_STR(meta_name(obj), "x");
  meta_set_string(obj, "name", NULL);
  CHECK(meta_name(obj) == NULL);
  json_t *bad = json_pack("{s:i}", "metadata", 3);
  meta_set_string(bad, "namespace", "n");
  CHECK_STR(meta_namespace(bad), "n");
  CHECK(meta_get(NULL) == NULL);
  json_decref(obj);
  json_decref(bad);
}

TEST(timestamp_format)
{
  char *now = meta_now_rfc3339();
  CHECK_INT(strlen(now), 20);
  CHECK(now[4] == '-' && now[7] == '-' && now[10] == 'T' && now[13] == ':' && now[19] == 'Z');
  CHECK(strncmp(now, "20", 2) == 0);
  free(now);
}

TEST(timestamp_digits_match_strftime)
{
  const time_t times[] = {
      0,           59, 951782400 /* 2000-02-29 */, 1700000000, 4102444799 /* 2099 */,
      253402300799 /* 9999-12-31T23:59:59 */};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    struct tm tm;
    CHECK(gmtime_r(&times[i], &tm) != NULL);
    char want[32], got[32];
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    meta_format_rfc3339(times[i], got);
    CHECK_STR(got, want);
  }
  char got[32];
  meta_format_rfc3339(1700000000, got);
  CHECK_STR(got, "2023-11-14T22:13:20Z");
}

TEST(uids_stay_distinct_across_pool_refills)
{
  /* 200 uids and suffixes draw several blocks of the per-thread random pool */
  enum { N = 200 };
  char *uids[N];
  for (int i = 0; i < N; i++) {
    uids[i] = meta_new_uid();
    CHECK(uids[i][14] == '4');
    char suffix[6];
    meta_random_suffix(suffix);
    CHECK_INT(strlen(suffix), 5);
  }
  int repeats = 0;
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j++)
      repeats += strcmp(uids[i], uids[j]) == 0;
  CHECK_INT(repeats, 0);
  for (int i = 0; i < N; i++)
    free(uids[i]);
}

TEST(derived_suffixes_depend_on_the_seed_alone)
{
  char a[6], b[6], c[6];
  meta_derived_suffix("5aed8baa-e650-429e-acbc-3dff6257cdd3", a);
  meta_derived_suffix("5aed8baa-e650-429e-acbc-3dff6257cdd3", b);
  meta_derived_suffix("d483fac2-4967-4a19-8b31-17a187bd2be0", c);
  CHECK_INT(strlen(a), 5);
  CHECK_STR(a, b);
  CHECK(strcmp(a, c) != 0);
  CHECK_INT(strspn(a, "bcdfghjklmnpqrstvwxz2456789"), 5);
  CHECK_INT(strspn(c, "bcdfghjklmnpqrstvwxz2456789"), 5);
}

TEST(uids_are_v4_and_distinct)
{
  char *a = meta_new_uid(), *b = meta_new_uid();
  CHECK_INT(strlen(a), 36);
  CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
  CHECK(a[14] == '4');
  CHECK(strchr("89ab", a[19]) != NULL);
  CHECK(strcmp(a, b) != 0);
  for (int i = 0; i < 36; i++)
    if (i != 8 && i != 13 && i != 18 && i != 23)
      CHECK(strchr("0123456789abcdef", a[i]) != NULL && a[i] != '\0');
  free(a);
  free(b);
}

TEST(generate_name)
{
  json_t *obj = json_pack("{s:{s:s}}", "metadata", "generateName", "web-");
  CHECK_INT(meta_generate_name(obj), 1);
  const char *name = meta_name(obj);
  CHECK_INT(strlen(name), 9);
  CHECK(strncmp(name, "web-", 4) == 0);
  for (int i = 4; i < 9; i++)
    CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", name[i]) != NULL);
  CHECK_INT(meta_generate_name(obj), 0); /* already named */
  json_decref(obj);

  char longp[80];
  memset(longp, 'a', 70);
  longp[70] = 0;
  obj = json_pack("{s:{s:s}}", "metadata", "generateName", longp);
  CHECK_INT(meta_generate_name(obj), 1);
  CHECK_INT(strlen(meta_name(obj)), 63);
  json_decref(obj);

  obj = json_pack("{s:{s:s}}", "metadata", "name", "x");
  CHECK_INT(meta_generate_name(obj), 0);
  json_decref(obj);
}

TEST_MAIN()
