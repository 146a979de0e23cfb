/* rv_splice_test.c — resourceVersion splicing gives the same object as parse + set. */
#include "storage/watchcache/rv_splice.h"
#include "testlib.h"

#include <stdint.h>
#include <stdlib.h>

static void
check_splice(const char *in, int64_t rev, const char *want)
{
  size_t len = 0;
  char *out = rv_splice(in, strlen(in), rev, &len);
  CHECK(out != NULL);
  if (out == NULL)
    return;
  CHECK_INT(len, strlen(out));
  json_error_t jerr;
  json_t *got = json_loads(out, 0, &jerr);
  CHECK(got != NULL);
  CHECK_JSON(got, want);
  json_decref(got);
  free(out);
}

TEST(inserts_into_metadata)
{
  check_splice(
      "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"}\"}},\"spec\":{}}", 42,
      "{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"42\",\"name\":\"a\",\"labels\":{\"x\":"
      "\"}\"}},\"spec\":{}}");
}

TEST(inserts_into_empty_metadata)
{
  check_splice("{\"metadata\":{}}", 7, "{\"metadata\":{\"resourceVersion\":\"7\"}}");
}

TEST(replaces_existing_value)
{
  check_splice("{\"a\":[1,{\"metadata\":{}}],\"metadata\":{\"name\":\"n\",\"resourceVersion\":"
               "\"5\",\"uid\":\"u\"}}",
               123456789012LL,
               "{\"a\":[1,{\"metadata\":{}}],\"metadata\":{\"name\":\"n\",\"resourceVersion\":"
               "\"123456789012\",\"uid\":\"u\"}}");
}

TEST(skips_nested_metadata_and_escaped_quotes)
{
  check_splice(
      "{\"spec\":{\"metadata\":{\"q\":\"\\\"metadata\\\":{\"}},\"metadata\":{\"name\":\"x\"}}", 3,
      "{\"spec\":{\"metadata\":{\"q\":\"\\\"metadata\\\":{\"}},\"metadata\":{\"resourceVersion\":"
      "\"3\",\"name\":\"x\"}}");
}

/* The exact bytes: everything but the revision is copied unchanged. */
static void
check_bytes(const char *in, int64_t rev, const char *want)
{
  size_t len = 0;
  char *out = rv_splice(in, strlen(in), rev, &len);
  CHECK(out != NULL);
  if (out == NULL)
    return;
  CHECK_STR(out, want);
  CHECK_INT(len, strlen(want));
  free(out);
}

TEST(keeps_every_other_byte)
{
  check_bytes("{ \"metadata\" : { \"name\" : \"a\" } , \"x\":1}", 9,
              "{ \"metadata\" : {\"resourceVersion\":\"9\", \"name\" : \"a\" } , \"x\":1}");
  check_bytes("{\"metadata\":{ }}", 0, "{\"metadata\":{\"resourceVersion\":\"0\" }}");
  check_bytes("{\"metadata\":{\"resourceVersion\":\"\\\"old\\\\\",\"b\":[]}}", -12,
              "{\"metadata\":{\"resourceVersion\":\"-12\",\"b\":[]}}");
  check_bytes("{\"metadata\":{\"resourceVersion\":\"1\"}}", INT64_MAX,
              "{\"metadata\":{\"resourceVersion\":\"9223372036854775807\"}}");
  check_bytes("{\"metadata\":{\"a\":\"\\\\\",\"resourceVersion\":\"1\"}}", INT64_MIN,
              "{\"metadata\":{\"a\":\"\\\\\",\"resourceVersion\":\"-9223372036854775808\"}}");
}

TEST(finds_members_after_escapes_and_nested_metadata)
{
  /* Values full of escaped quotes and backslash runs, a nested "metadata" and a
   * "resourceVersion" inside a value: only the top-level metadata's own member counts. */
  check_bytes("{\"k\":\"\\\\\\\"}\\\\\",\"spec\":{\"metadata\":{\"resourceVersion\":\"1\"}},"
              "\"metadata\":{\"managedFields\":[{\"f\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{}}}],"
              "\"annotations\":{\"resourceVersion\":\"x\",\"q\":\"\\\"resourceVersion\\\":\"},"
              "\"resourceVersion\":\"77\",\"z\":[\"]\",\"}\"]}}",
              5,
              "{\"k\":\"\\\\\\\"}\\\\\",\"spec\":{\"metadata\":{\"resourceVersion\":\"1\"}},"
              "\"metadata\":{\"managedFields\":[{\"f\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{}}}],"
              "\"annotations\":{\"resourceVersion\":\"x\",\"q\":\"\\\"resourceVersion\\\":\"},"
              "\"resourceVersion\":\"5\",\"z\":[\"]\",\"}\"]}}");
  check_bytes("{\"metadata\":{\"managedFields\":[{\"fieldsV1\":{\"f:metadata\":{\"f:name\":{}}}}],"
              "\"name\":\"p\"},\"spec\":{}}",
              31,
              "{\"metadata\":{\"resourceVersion\":\"31\",\"managedFields\":[{\"fieldsV1\":{"
              "\"f:metadata\":{\"f:name\":{}}}}],\"name\":\"p\"},\"spec\":{}}");
}

TEST(gives_up_on_escaped_keys_and_broken_nesting)
{
  size_t len = 0;
  /* An escaped key may be resourceVersion itself: parsing decides, not the splice. */
  const char *escaped = "{\"metadata\":{\"resource\\u0056ersion\":\"1\"}}";
  CHECK(rv_splice(escaped, strlen(escaped), 2, &len) == NULL);
  const char *escaped_top = "{\"a\\\"\":1,\"metadata\":{}}";
  CHECK(rv_splice(escaped_top, strlen(escaped_top), 2, &len) == NULL);
  const char *open_value = "{\"metadata\":{\"a\":{\"b\":[1,2}";
  CHECK(rv_splice(open_value, strlen(open_value), 2, &len) == NULL);
  const char *escaped_end = "{\"metadata\":{\"a\":\"x\\\"}}";
  CHECK(rv_splice(escaped_end, strlen(escaped_end), 2, &len) == NULL);
  const char *trailing_backslash = "{\"metadata\":{\"a\":\"\\";
  CHECK(rv_splice(trailing_backslash, strlen(trailing_backslash), 2, &len) == NULL);
}

TEST(point_found_once_serves_any_revision)
{
  const char *in = "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"4\"},\"spec\":{}}";
  struct rv_splice_point point;
  CHECK(rv_splice_find(in, strlen(in), &point));
  CHECK(!point.insert);
  for (int64_t rev = 1; rev < 200000; rev *= 7) {
    size_t a_len = 0, b_len = 0;
    char *a = rv_splice_at(in, strlen(in), &point, rev, &a_len);
    char *b = rv_splice(in, strlen(in), rev, &b_len);
    CHECK(a != NULL && b != NULL);
    if (a && b) {
      CHECK_STR(a, b);
      CHECK_INT(a_len, b_len);
    }
    free(a);
    free(b);
  }
  const char *empty = "{\"metadata\":{}}";
  CHECK(rv_splice_find(empty, strlen(empty), &point));
  CHECK(point.insert && !point.comma);
  size_t len = 0;
  /* A point is only used on the text it was found in: another length is refused. */
  CHECK(rv_splice_at(in, strlen(in), &point, 3, &len) == NULL);
  CHECK(!rv_splice_find("{\"metadata\":[]}", 15, &point));
}

TEST(gives_up_on_what_it_cannot_place)
{
  size_t len = 0;
  CHECK(rv_splice("[1,2]", 5, 1, &len) == NULL);
  CHECK(rv_splice("{\"kind\":\"x\"}", 12, 1, &len) == NULL);
  CHECK(rv_splice("{\"metadata\":5}", 14, 1, &len) == NULL);
  CHECK(rv_splice("{\"metadata\":{\"name\":\"unterminated}", 33, 1, &len) == NULL);
}

TEST_MAIN()
