/* json_encode_test.c — json_encode_compact writes exactly what jansson's compact,
 * order-preserving dump writes, for API-shaped objects and every escaping rule. */
#include "apimachinery/json_encode.h"
#include "testlib.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Encodes v both ways and checks the bytes (and the reported length) agree. */
static void
check_same(const json_t *v)
{
  char *want = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
  size_t len = 0;
  char *got = json_encode_compact(v, &len);
  CHECK(want != NULL);
  CHECK(got != NULL);
  if (want && got) {
    CHECK_STR(got, want);
    CHECK_INT((long long)len, (long long)strlen(want));
  }
  free(want);
  free(got);
}

static void
check_text(const char *text)
{
  json_error_t jerr;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
  CHECK(v != NULL);
  if (v)
    check_same(v);
  json_decref(v);
}

TEST(pod_like_object_keeps_member_order)
{
  check_text("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-1\","
             "\"namespace\":\"demo\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"},"
             "\"annotations\":{}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
             "\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
             "\"resources\":{\"limits\":{\"cpu\":\"500m\"}}}],\"restartPolicy\":\"Always\","
             "\"terminationGracePeriodSeconds\":30,\"hostNetwork\":false,\"nodeName\":null},"
             "\"status\":{\"conditions\":[]}}");
}

TEST(members_added_later_come_last)
{
  json_t *o = json_pack("{s:i,s:s}", "z", 1, "a", "x");
  json_object_set_new(o, "m", json_true());
  json_object_del(o, "z");
  json_object_set_new(o, "z", json_integer(-9223372036854775807LL - 1));
  check_same(o);
  json_decref(o);
}

TEST(escapes_like_jansson)
{
  check_text("\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\"");
  check_text("\"ctl \\u0001 \\u001f \\u007f end\"");
  check_text("{\"k\\\"ey\\n\":\"v\"}");
  json_t *nul = json_stringn("a\0b", 3);
  check_same(nul);
  json_decref(nul);
  json_t *nul_key = json_object(); /* jansson prints a key's whole length, NULs escaped */
  json_object_setn_new(nul_key, "a\0b", 3, json_integer(1));
  check_same(nul_key);
  json_decref(nul_key);
}

TEST(utf8_passes_through)
{
  check_text("\"caf\\u00e9 \\u65e5\\u672c \\ud83d\\ude00\"");
  check_text("{\"\\u00fcber\":[\"\\u2603\"]}");
}

TEST(invalid_utf8_fails_as_in_jansson)
{
  json_t *bad = json_stringn_nocheck("a\xC3(", 3);
  CHECK(json_dumps(bad, JSON_COMPACT | JSON_ENCODE_ANY) == NULL);
  CHECK(json_encode_compact(bad, NULL) == NULL);
  json_decref(bad);
}

TEST(numbers_literals_and_empties)
{
  check_text("[0,-1,42,9223372036854775807,1.5,-0.25,1e+300,3.0,true,false,null,{},[],\"\"]");
  check_text("{\"a\":{\"b\":{\"c\":[[],[{}]]}}}");
  json_t *nan = json_real(0.1);
  check_same(nan);
  json_decref(nan);
}

TEST(every_byte_at_every_offset_of_a_long_string)
{
  /* The plain-byte scan goes a word at a time: a byte that needs escaping (or starts a
   * UTF-8 sequence) must be caught wherever it sits in the word. */
  for (int c = 1; c < 256; c++) {
    for (size_t at = 0; at < 19; at++) {
      char text[20];
      memset(text, 'a', sizeof text);
      text[at] = (char)c;
      if (c >= 0xC2 && c <= 0xDF && at + 1 < sizeof text)
        text[at + 1] = (char)0xA9; /* make a valid two-byte sequence */
      json_t *v = json_stringn_nocheck(text, sizeof text);
      char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      char *got = json_encode_compact(v, NULL);
      CHECK((want == NULL) == (got == NULL));
      if (want && got && strcmp(want, got) != 0) {
        CHECK_STR(got, want);
        c = 256;
      }
      free(want);
      free(got);
      json_decref(v);
      if (c == 256)
        break;
    }
  }
}

TEST(every_byte_at_every_offset_of_short_strings_and_keys)
{
  /* Short strings take the half-word and byte paths, keys their own fast path: a byte
   * that needs care must be caught at every offset of every length from 1 to 17. */
  for (size_t n = 1; n <= 17; n++) {
    for (int c = 1; c < 256; c++) {
      for (size_t at = 0; at < n; at++) {
        char text[17];
        memset(text, 'a', sizeof text);
        text[at] = (char)c;
        if (c >= 0xC2 && c <= 0xDF && at + 1 < n)
          text[at + 1] = (char)0xA9; /* make a valid two-byte sequence */
        json_t *v = json_array();
        json_array_append_new(v, json_stringn_nocheck(text, n));
        json_t *o = json_object(); /* the same bytes as a key (nocheck: may be invalid) */
        json_object_setn_new_nocheck(o, text, n, json_true());
        json_array_append_new(v, o);
        char *want = json_dumps(v, JSON_COMPACT);
        char *got = json_encode_compact(v, NULL);
        bool same = (want == NULL) == (got == NULL) && (want == NULL || strcmp(want, got) == 0);
        if (!same) {
          CHECK((want == NULL) == (got == NULL));
          if (want && got)
            CHECK_STR(got, want);
          c = 256;
        }
        free(want);
        free(got);
        json_decref(v);
        if (c == 256)
          break;
      }
    }
  }
}

TEST(integer_extremes)
{
  check_text("[-9223372036854775808,9223372036854775807,-10,10,-9,9,100,-100]");
}

TEST_MAIN()
