/* json_decode_test.c — json_decode builds exactly what json_loadb builds: the same
 * values (member order included) for valid text, and NULL for text jansson rejects,
 * whether the fast reader handles it or hands it back to jansson. */
#include "apimachinery/json_decode.h"
#include "apimachinery/json_encode.h"
#include "testlib.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Decodes text both ways and compares values and their compact encodings (which
 * include member order). */
static void
check_same(const char *text, size_t len)
{
  json_error_t e1, e2;
  json_t *want = json_loadb(text, len, 0, &e1);
  json_t *got = json_decode(text, len, &e2);
  if (want == NULL) {
    CHECK(got == NULL);
    json_decref(got);
    return;
  }
  CHECK(got != NULL);
  if (got == NULL) {
    json_decref(want);
    return;
  }
  CHECK(json_equal(want, got));
  char *a = json_encode_compact(want, NULL);
  char *b = json_encode_compact(got, NULL);
  CHECK_STR(b, a);
  free(a);
  free(b);
  json_decref(want);
  json_decref(got);
}

static void
check_text(const char *text)
{
  check_same(text, strlen(text));
}

TEST(plain_documents)
{
  check_text("{}");
  check_text("[]");
  check_text(" { \"a\" : 1 , \"b\" : [ true , false , null ] , \"c\" : { } }\n");
  check_text("{\"z\":1,\"a\":2,\"m\":{\"y\":[1,2,{\"x\":\"s\"}]}}");
  check_text("{\"a\":1,\"a\":2}"); /* the later duplicate wins, in the first one's place */
  check_text("[[[[[[[[[[[]]]]]]]]]]]");
}

TEST(numbers)
{
  check_text("[0,-0,1,-1,9223372036854775807,-9223372036854775808]");
  check_text("[0.5,-1.25,1e3,1E-3,2.5e+10,-0.0,123456789.123456789]");
  check_text("[9223372036854775808]"); /* too big: jansson's error */
  check_text("[1e400]");               /* overflow */
  check_text("[01]");                  /* leading zero */
  check_text("[1.]");
  check_text("[.5]");
  check_text("[-]");
  check_text("[1e]");
  check_text("[+1]");
}

TEST(strings_and_escapes)
{
  check_text("[\"\",\"plain\",\"q\\\"b\\\\s\\/\",\"\\b\\f\\n\\r\\t\"]");
  check_text(
      "[\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\",\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
  check_text("{\"k\\u00e9y\":\"v\",\"a\\nb\":1}");
  check_text("[\"\\u003chtml\\u003e \\u0026\"]");
  check_text("[\"\\u0000\"]");        /* NUL: rejected without JSON_ALLOW_NUL */
  check_text("[\"\\ud800\"]");        /* lone high surrogate */
  check_text("[\"\\udc00\"]");        /* lone low surrogate */
  check_text("[\"\\ud800\\u0041\"]"); /* high surrogate without a low one */
  check_text("[\"\\x\"]");
  check_text("[\"\\u12\"]");
  check_text("[\"tab\there\"]");    /* raw control character */
  check_text("[\"\xc3\x28\"]");     /* invalid UTF-8 */
  check_text("[\"\xed\xa0\x80\"]"); /* an encoded surrogate */
  check_text("[\"\xc0\xaf\"]");     /* overlong */
  check_text("[\"unterminated]");
}

TEST(bad_syntax)
{
  check_text("");
  check_text("   ");
  check_text("1");
  check_text("\"s\"");
  check_text("{\"a\":1,}");
  check_text("[1,]");
  check_text("{\"a\" 1}");
  check_text("{a:1}");
  check_text("[1] x");
  check_text("[1][2]");
  check_text("[tru]");
  check_text("[nul]");
  check_text("{\"a\":1");
  check_same("[1]\0", 4);
  check_same("[\"a\0b\"]", 7);
}

TEST(deep_nesting_matches_jansson)
{
  for (size_t depth = 500; depth <= 2100; depth += 800) {
    char *text = malloc(2 * depth + 1);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[2 * depth] = 0;
    check_same(text, 2 * depth);
    free(text);
  }
}

TEST(stored_pod_round_trips)
{
  const char *pod =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
      "\"default\",\"uid\":\"1b4e28ba-2fa1-11d2-883f-0016d3cca427\",\"resourceVersion\":\"42\","
      "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"labels\":{\"app\":\"web\"},"
      "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"a\\\":"
      "\\\"b\\\"}\\n\"},\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\","
      "\"apiVersion\":\"v1\",\"time\":\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\","
      "\"fieldsV1\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{}}}}}}]},"
      "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"resources\":{\"requests\":"
      "{\"cpu\":\"50m\"}},\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}]}],"
      "\"terminationGracePeriodSeconds\":30,\"priority\":0,\"enableServiceLinks\":true},"
      "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.5\"}}";
  check_text(pod);
  json_t *v = json_decode(pod, strlen(pod), NULL);
  CHECK_INT(json_integer_value(
                json_object_get(json_object_get(v, "spec"), "terminationGracePeriodSeconds")),
            30);
  char *again = json_encode_compact(v, NULL);
  CHECK_STR(again, pod);
  free(again);
  json_decref(v);
}

TEST_MAIN()
