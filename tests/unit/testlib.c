/* testlib.c — registration, failure recording and the summary line (see testlib.h). */
#include "testlib.h"

#include <stdarg.h>
#include <stdlib.h>

static struct test_case *tests_head;
static int current_failures;

void
testlib_register(struct test_case *tc)
{
  struct test_case **p = &tests_head;
  while (*p)
    p = &(*p)->next;
  *p = tc;
}

void
testlib_fail(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "  %s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  current_failures++;
}

void
testlib_check_json(const char *file, int line, const json_t *actual, const char *expected)
{
  json_error_t jerr;
  json_t *exp = json_loads(expected, JSON_DECODE_ANY, &jerr);
  if (exp == NULL) {
    testlib_fail(file, line, "bad expected JSON: %s", jerr.text);
    return;
  }
  if (actual == NULL || !json_equal(actual, exp)) {
    char *got = actual ? json_dumps(actual, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    char *want = json_dumps(exp, JSON_SORT_KEYS | JSON_ENCODE_ANY);
    testlib_fail(file, line, "JSON mismatch\n    got:  %s\n    want: %s", got ? got : "(null)",
                 want);
    free(got);
    free(want);
  }
  json_decref(exp);
}

int
testlib_main(int argc, char **argv)
{
  int passed = 0, failed = 0;
  for (struct test_case *tc = tests_head; tc; tc = tc->next) {
    if (argc > 1 && strstr(tc->name, argv[1]) == NULL)
      continue;
    current_failures = 0;
    tc->fn();
    if (current_failures) {
      fprintf(stderr, "FAIL %s\n", tc->name);
      failed++;
    } else {
      fprintf(stderr, "ok   %s\n", tc->name);
      passed++;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
