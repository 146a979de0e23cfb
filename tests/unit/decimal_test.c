/* decimal_test.c — decimal_int64 against snprintf("%lld") at the edges and across many
 * magnitudes, both signs. */
#include "lib/decimal.h"
#include "testlib.h"

#include <stdio.h>

static void
check_like_printf(int64_t v)
{
  char want[32], got[DECIMAL_INT64_MAX];
  int n = snprintf(want, sizeof want, "%lld", (long long)v);
  size_t len = decimal_int64(v, got);
  CHECK_STR(got, want);
  CHECK_INT((int)len, n);
}

TEST(edges)
{
  check_like_printf(0);
  check_like_printf(1);
  check_like_printf(-1);
  check_like_printf(INT64_MAX);
  check_like_printf(INT64_MIN);
}

TEST(every_power_of_ten_and_neighbours)
{
  int64_t p = 1;
  for (int i = 0; i < 19; i++) {
    if (i > 0)
      p *= 10;
    check_like_printf(p - 1);
    check_like_printf(p);
    check_like_printf(p + 1);
    check_like_printf(-p);
    check_like_printf(-p + 1);
  }
}

TEST_MAIN()
