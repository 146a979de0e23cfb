/* quantity_test.c — resource.Quantity: parsing, upstream's canonical strings, scaled
 * values, comparison and rejected inputs. */
#include "apimachinery/quantity.h"
#include "lib/mem.h"
#include "testlib.h"

static void
check_canonical(const char *in, const char *want)
{
  k8c_err err = {0};
  char *got = quantity_canonicalize(in, &err);
  if (got == NULL)
    testlib_fail(__FILE__, __LINE__, "parsing %s failed: %s", in, err.message);
  else if (strcmp(got, want) != 0)
    testlib_fail(__FILE__, __LINE__, "%s canonicalized to %s, want %s", in, got, want);
  free(got);
  k8c_err_clear(&err);
}

static quantity
parse_ok(const char *s)
{
  quantity q = {0};
  k8c_err err = {0};
  if (quantity_parse(s, &q, &err) < 0)
    testlib_fail(__FILE__, __LINE__, "parsing %s failed: %s", s, err.message);
  k8c_err_clear(&err);
  return q;
}

TEST(canonical_forms_match_upstream)
{
  check_canonical("100m", "100m");
  check_canonical("1.5", "1500m");
  check_canonical("1000", "1k");
  check_canonical("1024", "1024");
  check_canonical("1Gi", "1Gi");
  check_canonical("1.5Gi", "1536Mi");
  check_canonical("1024Ki", "1Mi");
  check_canonical("0.5Ki", "512");
  check_canonical("1.1Ki", "1126400m");
  check_canonical("1e3", "1e3");
  check_canonical("12E6", "12e6");
  check_canonical("1E", "1E");
  check_canonical("0", "0");
  check_canonical("-0", "0");
  check_canonical("0Mi", "0");
  check_canonical("1n", "1n");
  check_canonical("1e-10", "1e-9");
  check_canonical("0.0000000001", "1n");
  check_canonical("0.0001", "100u");
  check_canonical("-1.5Gi", "-1536Mi");
  check_canonical("+2k", "2k");
  check_canonical(".5", "500m");
  check_canonical("5.", "5");
  check_canonical("1000000000000000000000000000000000000000000", "9223372036854775807");
  check_canonical("10000000000E", "9223372036854775807");
  check_canonical("128974848", "128974848");
  check_canonical("129e6", "129e6");
  check_canonical("123Mi", "123Mi");
  check_canonical("100000m", "100");
}

TEST(scaled_values)
{
  quantity q = parse_ok("100m");
  CHECK_INT(quantity_milli_value(&q), 100);
  CHECK_INT(quantity_value(&q), 1); /* rounded up */
  q = parse_ok("1.5Gi");
  CHECK_INT(quantity_value(&q), 1610612736LL);
  CHECK_INT(quantity_milli_value(&q), 1610612736000LL);
  q = parse_ok("1n");
  CHECK_INT(quantity_milli_value(&q), 1);
  q = parse_ok("-2500m");
  CHECK_INT(quantity_value(&q), -3);
  CHECK(quantity_is_negative(&q));
  q = parse_ok("8E");
  CHECK_INT(quantity_milli_value(&q), INT64_MAX);
  q = parse_ok("-8E");
  CHECK_INT(quantity_milli_value(&q), INT64_MIN);
  q = quantity_from_milli(250, QUANTITY_DECIMAL_SI);
  char *s = quantity_format(&q);
  CHECK_STR(s, "250m");
  free(s);
  q = quantity_from_int64(2048, QUANTITY_BINARY_SI);
  s = quantity_format(&q);
  CHECK_STR(s, "2Ki");
  free(s);
}

TEST(comparison_by_value)
{
  quantity a = parse_ok("1Gi"), b = parse_ok("1G"), c = parse_ok("1000m"), d = parse_ok("1");
  CHECK_INT(quantity_cmp(&a, &b), 1);
  CHECK_INT(quantity_cmp(&b, &a), -1);
  CHECK_INT(quantity_cmp(&c, &d), 0);
  quantity n = parse_ok("-1"), z = parse_ok("0");
  CHECK_INT(quantity_cmp(&n, &z), -1);
  CHECK(quantity_is_zero(&z));
  CHECK(!quantity_is_zero(&n));
}

TEST(rejects_bad_input)
{
  static const char *const bad_format[] = {"",   "abc",  "1.2.3", "1 Gi", "+",   ".",
                                           "Mi", "1Gi ", " 1",    "1x",   "--1", NULL};
  for (int i = 0; bad_format[i]; i++) {
    quantity q;
    k8c_err err = {0};
    CHECK_INT(quantity_parse(bad_format[i], &q, &err), -1);
    CHECK_INT(err.status, 400);
    CHECK_STR(err.message, QUANTITY_FORMAT_ERROR);
    k8c_err_clear(&err);
  }
  static const char *const bad_suffix[] = {"1e", "1Mi5", "1mm", "1ki", "1e99999999999", NULL};
  for (int i = 0; bad_suffix[i]; i++) {
    quantity q;
    k8c_err err = {0};
    CHECK_INT(quantity_parse(bad_suffix[i], &q, &err), -1);
    CHECK_STR(err.message, "unable to parse quantity's suffix");
    k8c_err_clear(&err);
  }
}

TEST(extreme_exponents_are_bounded)
{
  check_canonical("1e-2000000000", "1e-9");
  check_canonical("1e2000000000", "9223372036854775807");
  check_canonical("0e2000000000", "0");
}

TEST_MAIN()
