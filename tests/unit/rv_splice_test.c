/* rv_splice_test.c — resourceVersion splicing gives the same object as parse + set. */
#include "storage/watchcache/rv_splice.h"
#include "testlib.h"

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

TEST(gives_up_on_what_it_cannot_place)
{
  size_t len = 0;
  CHECK(rv_splice("[1,2]", 5, 1, &len) == NULL);
  CHECK(rv_splice("{\"kind\":\"x\"}", 12, 1, &len) == NULL);
  CHECK(rv_splice("{\"metadata\":5}", 14, 1, &len) == NULL);
  CHECK(rv_splice("{\"metadata\":{\"name\":\"unterminated}", 33, 1, &len) == NULL);
}

TEST_MAIN()
