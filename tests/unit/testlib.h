/* testlib.h — the tiny test harness every C test binary uses: CHECK macros that record
 * failures with file:line, TEST() registration, and a closing "N passed, N failed" line. */
#ifndef K8C_TESTLIB_H
#define K8C_TESTLIB_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct test_case {
  const char *name;
  void (*fn)(void);
  struct test_case *next;
};

void testlib_register(struct test_case *tc);
void testlib_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Runs every registered test (or only those whose name contains argv[1]); returns the
 * process exit code. */
int testlib_main(int argc, char **argv);

#define TEST(name)                                                                                 \
  static void test_##name(void);                                                                   \
  static struct test_case tc_##name = {#name, test_##name, NULL};                                  \
  __attribute__((constructor)) static void register_##name(void)                                   \
  {                                                                                                \
    testlib_register(&tc_##name);                                                                  \
  }                                                                                                \
  static void test_##name(void)

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      testlib_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                        \
  } while (0)

#define CHECK_INT(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ != b_)                                                                                  \
      testlib_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_);         \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *a_ = (a), *b_ = (b);                                                               \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                           \
      testlib_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)",    \
                   b_ ? b_ : "(null)");                                                            \
  } while (0)

/* Compares two JSON values structurally; b is a JSON text. */
#define CHECK_JSON(actual, expected_text)                                                          \
  testlib_check_json(__FILE__, __LINE__, (actual), (expected_text))

#include <jansson.h>
void testlib_check_json(const char *file, int line, const json_t *actual, const char *expected);

#define TEST_MAIN()                                                                                \
  int main(int argc, char **argv)                                                                  \
  {                                                                                                \
    return testlib_main(argc, argv);                                                               \
  }

#endif
