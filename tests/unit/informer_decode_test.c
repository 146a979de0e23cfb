/* informer_decode_test.c — cutting metadata.managedFields out of an object's JSON text
 * before parsing: wherever the member sits, whatever the strings around it contain, the
 * result equals parsing everything and deleting the member; odd text parses whole. */
#include "client/informer_decode.h"
#include "testlib.h"

#include <stdlib.h>

/* informer_decode_object(text) must equal json_loads(text) minus metadata.managedFields. */
static void
check_same_as_parse_then_delete(const char *text)
{
  json_error_t jerr;
  json_t *want = json_loads(text, 0, &jerr);
  json_object_del(json_object_get(want, "metadata"), "managedFields");
  json_t *got = informer_decode_object(text, strlen(text));
  if (!(want == NULL ? got == NULL : got != NULL && json_equal(want, got)))
    testlib_fail(__FILE__, __LINE__, "decoding %s differs from parsing it", text);
  json_decref(want);
  json_decref(got);
}

/* What the text becomes once the span is cut, or NULL when there is nothing to cut. */
static char *
cut(const char *text)
{
  size_t a, b, len = strlen(text);
  if (!informer_managed_fields_span(text, len, &a, &b))
    return NULL;
  char *out = calloc(1, len + 1);
  memcpy(out, text, a);
  memcpy(out + a, text + b, len - b);
  return out;
}

TEST(cuts_the_member_wherever_it_is_in_metadata)
{
  char *s = cut("{\"metadata\":{\"name\":\"a\",\"managedFields\":[{\"x\":1}],\"uid\":\"u\"}}");
  CHECK_STR(s, "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"}}");
  free(s);
  s = cut("{\"metadata\":{\"managedFields\":[{\"x\":1}],\"name\":\"a\"}}");
  CHECK_STR(s, "{\"metadata\":{\"name\":\"a\"}}");
  free(s);
  s = cut("{\"metadata\":{\"name\":\"a\",\"managedFields\":[]}}");
  CHECK_STR(s, "{\"metadata\":{\"name\":\"a\"}}");
  free(s);
  s = cut("{\"metadata\":{\"managedFields\":[]}}");
  CHECK_STR(s, "{\"metadata\":{}}");
  free(s);
  s = cut(" { \"kind\" : \"Pod\" , \"metadata\" : { \"name\" : \"a\" ,\n \"managedFields\" : "
          "[ { \"f:spec\" : { \"}\" : [ 1, 2.5e3, true, null ] } } ] \n, \"b\" : 1 } } ");
  CHECK_STR(s, " { \"kind\" : \"Pod\" , \"metadata\" : { \"name\" : \"a\" \n, \"b\" : 1 } } ");
  free(s);
}

TEST(only_metadata_managed_fields_are_cut)
{
  /* Elsewhere, or mentioned inside strings, the word is left alone. */
  CHECK(cut("{\"spec\":{\"managedFields\":[1]},\"metadata\":{\"name\":\"a\"}}") == NULL);
  CHECK(
      cut("{\"metadata\":{\"annotations\":{\"x\":\"\\\"managedFields\\\":[]\"},\"name\":\"a\"}}") ==
      NULL);
  CHECK(cut("{\"metadata\":{\"labels\":{\"managedFields\":\"1\"}}}") == NULL);
  CHECK(cut("{\"meta\\u0064ata\":{\"managedFields\":[]}}") == NULL); /* escaped: parsed whole */
  char *s = cut("{\"status\":{\"message\":\"}{\\\\\"},\"metadata\":{\"managedFields\":[\"]\"]}}");
  CHECK_STR(s, "{\"status\":{\"message\":\"}{\\\\\"},\"metadata\":{}}");
  free(s);
}

TEST(odd_text_is_left_to_the_parser)
{
  CHECK(cut("") == NULL);
  CHECK(cut("[1,2]") == NULL);
  CHECK(cut("{\"metadata\":[]}") == NULL);
  CHECK(cut("{\"metadata\":{\"managedFields\":[") == NULL);
  CHECK(cut("{\"metadata\":{\"managedFields\":\"unterminated}}") == NULL);
  CHECK(cut("{\"metadata\":{\"name\" \"a\",\"managedFields\":[]}}") == NULL);
  CHECK(cut("{\"a\":,\"metadata\":{\"managedFields\":[]}}") == NULL);
  CHECK(informer_decode_object("{\"metadata\":{\"managedFields\":[}", 31) == NULL);
  CHECK(informer_decode_object("not json", 8) == NULL);
}

TEST(decoding_equals_parsing_then_deleting)
{
  check_same_as_parse_then_delete(
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
      "\"labels\":{\"app\":\"web\"},\"managedFields\":[{\"manager\":\"k\",\"operation\":"
      "\"Update\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:containers\":{"
      "\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{}}}}}}],\"uid\":\"1\"},\"spec\":{\"nodeName\":"
      "\"n\"},\"status\":{\"phase\":\"Running\"}}");
  check_same_as_parse_then_delete("{\"metadata\":{\"name\":\"no-managed-fields\"}}");
  check_same_as_parse_then_delete("{\"kind\":\"Status\",\"code\":410}");
  check_same_as_parse_then_delete("{\"metadata\":{\"managedFields\":null,\"a\":-1.5E+2}}");
  check_same_as_parse_then_delete("{}");
}

TEST_MAIN()
