/* json_fastparse_test.c — the fast body parser against jansson: on every document it
 * accepts, the tree is the one json_loadb builds (same members in the same order), and
 * it accepts nothing jansson rejects; checked on hand-written cases and on thousands of
 * mutations of a pod manifest. */
#include "apimachinery/json_fastparse.h"
#include "testlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char POD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\",\"namespace\":"
    "\"demo\",\"labels\":{\"app\":\"web\"},\"annotations\":{\"note\":\"a \\\"quoted\\\" "
    "word\\n\\ttab\\/slash\\\\\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"
    "\"nginx:1.27\",\"ports\":[{\"containerPort\":80}],\"args\":[],\"tty\":false,\"stdin\":true,"
    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},\"periodSeconds\":-5}}],"
    "\"nodeSelector\":null,\"priority\":0}}";

/* 1: fast parse gave a tree equal to jansson's; 0: fast declined; -1: a disagreement. */
static int
compare_with_jansson(const char *text, size_t len)
{
  json_t *fast = json_fastparse(text, len);
  json_error_t jerr;
  json_t *slow = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  int result = 0;
  if (fast != NULL) {
    result = -1;
    if (slow != NULL && json_equal(fast, slow)) {
      char *a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
      char *b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
      if (a && b && strcmp(a, b) == 0)
        result = 1; /* same members in the same order */
      free(a);
      free(b);
    }
  }
  json_decref(fast);
  json_decref(slow);
  return result;
}

static int
check_text(const char *text)
{
  return compare_with_jansson(text, strlen(text));
}

TEST(accepts_plain_documents_exactly_as_jansson)
{
  CHECK_INT(check_text(POD), 1);
  CHECK_INT(check_text("{}"), 1);
  CHECK_INT(check_text(" [ ] "), 1);
  CHECK_INT(check_text("\n{\"a\" : [1, -2, 0, -0, 123456789012345678, true, null, {}]}\r\n"), 1);
  CHECK_INT(check_text("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"x\\\"y\", \"\x7f\"]"), 1);
  CHECK_INT(check_text("{\"k\\\"ey\":1,\"k\\\\ey\":2}"), 1);
}

TEST(declines_what_jansson_rejects_or_what_is_outside_the_subset)
{
  static const char *const declined[] = {
      "",
      "   ",
      "\"top-level string\"",
      "42",
      "{\"a\":1,\"a\":2}",           /* duplicate */
      "{\"a\":1.5}",                 /* real */
      "{\"a\":1e3}",                 /* exponent */
      "{\"a\":01}",                  /* leading zero */
      "{\"a\":-}",                   /* sign alone */
      "{\"a\":1234567890123456789}", /* more digits than the fast path takes */
      "{\"a\":\"\\u00e9\"}",         /* \u escape */
      "{\"a\":\"caf\xc3\xa9\"}",     /* non-ASCII */
      "{\"a\":\"tab\there\"}",       /* raw control character */
      "{\"a\":\"\\x\"}",             /* bad escape */
      "{\"a\":tru}",
      "{\"a\":truex}",
      "{\"a\":nul}",
      "{\"a\" 1}",
      "{\"a\":1,}",
      "[1,]",
      "[1 2]",
      "{\"a\":1}}",
      "{\"a\":1} x",
      "{\"a\":\"unterminated}",
      "{\"a\":[1,2}",
      "{'a':1}",
  };
  for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
    json_t *v = json_fastparse(declined[i], strlen(declined[i]));
    if (v != NULL)
      testlib_fail(__FILE__, __LINE__, "accepted: %s", declined[i]);
    json_decref(v);
  }
  CHECK(json_fastparse("[1]\0", 4) == NULL); /* a NUL after the value */
}

TEST(deep_nesting_is_left_to_jansson)
{
  char deep[1200];
  size_t n = 0;
  for (int i = 0; i < 300; i++)
    deep[n++] = '[';
  for (int i = 0; i < 300; i++)
    deep[n++] = ']';
  CHECK(json_fastparse(deep, n) == NULL);
  CHECK_INT(compare_with_jansson(deep, 200), 0); /* unbalanced: both refuse */
  CHECK_INT(compare_with_jansson("[[[[]]]]", 8), 1);
}

/* xorshift: deterministic mutations, so a failure reproduces. */
static uint32_t
next_random(uint32_t *state)
{
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

TEST(mutated_manifests_never_disagree_with_jansson)
{
  static const char alphabet[] = "{}[]\":,\\ 0-1e.tnfu\x01\x7f\xc3\xa9"
                                 "az/";
  uint32_t state = 2463534242u;
  size_t len = strlen(POD);
  char *text = malloc(len + 8);
  int accepted = 0, disagreements = 0;
  for (int round = 0; round < 20000; round++) {
    memcpy(text, POD, len + 1);
    size_t n = len;
    int edits = 1 + (int)(next_random(&state) % 3);
    for (int e = 0; e < edits && n > 0; e++) {
      size_t at = next_random(&state) % n;
      switch (next_random(&state) % 3) {
      case 0: /* replace a byte */
        text[at] = alphabet[next_random(&state) % (sizeof alphabet - 1)];
        break;
      case 1: /* delete a byte */
        memmove(text + at, text + at + 1, n - at);
        n--;
        break;
      default: /* truncate */
        n = at + 1;
        break;
      }
    }
    int r = compare_with_jansson(text, n);
    if (r < 0 && disagreements++ < 5)
      testlib_fail(__FILE__, __LINE__, "disagrees with jansson on: %.*s", (int)n, text);
    accepted += r > 0;
  }
  free(text);
  CHECK_INT(disagreements, 0);
  CHECK(accepted > 1000); /* the mutations do reach the accepting paths */
}

TEST_MAIN()
