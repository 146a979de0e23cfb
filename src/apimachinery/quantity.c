/* quantity.c — resource.Quantity parsing, canonical formatting and arithmetic helpers.
 *
 * Parsing accumulates the digits in a 128-bit integer, applies the suffix, rounds up to
 * nano precision and caps the magnitude at int64 max as upstream does; everything after
 * that works on a small normalized (mantissa, exponent) pair. */
#include "apimachinery/quantity.h"

#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

typedef __int128 i128;

#define NANO_EXPONENT (-9)

struct suffix_entry {
  const char *text;
  quantity_format_kind format;
  int power; /* decimal exponent, or binary power of 1024 */
};

static const struct suffix_entry suffixes[] = {
    {"", QUANTITY_DECIMAL_SI, 0},   {"n", QUANTITY_DECIMAL_SI, -9}, {"u", QUANTITY_DECIMAL_SI, -6},
    {"m", QUANTITY_DECIMAL_SI, -3}, {"k", QUANTITY_DECIMAL_SI, 3},  {"M", QUANTITY_DECIMAL_SI, 6},
    {"G", QUANTITY_DECIMAL_SI, 9},  {"T", QUANTITY_DECIMAL_SI, 12}, {"P", QUANTITY_DECIMAL_SI, 15},
    {"E", QUANTITY_DECIMAL_SI, 18}, {"Ki", QUANTITY_BINARY_SI, 1},  {"Mi", QUANTITY_BINARY_SI, 2},
    {"Gi", QUANTITY_BINARY_SI, 3},  {"Ti", QUANTITY_BINARY_SI, 4},  {"Pi", QUANTITY_BINARY_SI, 5},
    {"Ei", QUANTITY_BINARY_SI, 6},
};

static const char *const binary_suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

static i128
pow10_i128(int n)
{
  i128 r = 1;
  while (n-- > 0)
    r *= 10;
  return r;
}

static bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* Does the suffix at least have the shape [eEinumkKMGTP]*[-+]?[0-9]* ? */
static bool
suffix_has_valid_shape(const char *s)
{
  while (*s && strchr("eEinumkKMGTP", *s) != NULL)
    s++;
  if (*s == '+' || *s == '-')
    s++;
  while (is_digit(*s))
    s++;
  return *s == '\0';
}

/* Reads a strict [+-]?[0-9]+ that fits in int32. */
static bool
parse_exponent(const char *s, int64_t *out)
{
  bool negative = false;
  if (*s == '+' || *s == '-')
    negative = *s++ == '-';
  if (!is_digit(*s))
    return false;
  int64_t v = 0;
  for (; is_digit(*s); s++) {
    v = v * 10 + (*s - '0');
    if (v > 2147483648LL)
      return false;
  }
  if (*s != '\0')
    return false;
  v = negative ? -v : v;
  if (v > 2147483647LL)
    return false;
  *out = v;
  return true;
}

/* Drops one low digit, remembering whether anything non-zero was lost. */
static void
drop_digit(i128 *m, int64_t *exp, bool *sticky)
{
  if (*m % 10 != 0)
    *sticky = true;
  *m /= 10;
  (*exp)++;
}

static quantity
normalized(i128 magnitude, int64_t exp, bool negative, quantity_format_kind format)
{
  quantity q = {0, 0, format};
  if (magnitude == 0)
    return q;
  while (magnitude % 10 == 0) {
    magnitude /= 10;
    exp++;
  }
  q.mantissa = (int64_t)(negative ? -magnitude : magnitude);
  q.exponent = (int32_t)exp;
  return q;
}

/* magnitude × 10^exp (exp ≥ -9, magnitude > 0) capped at int64 max, mantissa fitting
 * in int64. */
static void
cap_magnitude(i128 *m, int64_t *exp)
{
  bool sticky = false;
  for (;;) {
    bool too_big;
    if (*exp > 19)
      too_big = true;
    else if (*exp >= 0)
      too_big = *m > (i128)INT64_MAX / pow10_i128((int)*exp);
    else
      too_big = *m > (i128)INT64_MAX * pow10_i128((int)-*exp);
    if (too_big) {
      *m = INT64_MAX;
      *exp = 0;
      return;
    }
    if (*m <= INT64_MAX && !sticky)
      return;
    if (*m <= INT64_MAX && sticky) {
      *m += 1; /* round away from zero, then re-check the cap */
      sticky = false;
      continue;
    }
    drop_digit(m, exp, &sticky);
  }
}

int
quantity_parse(const char *s, quantity *out, k8c_err *err)
{
  if (s == NULL || *s == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "%s", QUANTITY_FORMAT_ERROR);
  const char *p = s;
  bool negative = false;
  if (*p == '+' || *p == '-')
    negative = *p++ == '-';

  /* digits: keep up to 36 significant ones exactly, note whether the rest were zero */
  const i128 limit = pow10_i128(36);
  i128 m = 0;
  int64_t exp = 0;
  bool sticky = false;
  size_t ndigits = 0;
  bool in_fraction = false;
  for (;; p++) {
    if (*p == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!is_digit(*p))
      break;
    ndigits++;
    int d = *p - '0';
    if (m < limit) {
      m = m * 10 + d;
      if (in_fraction)
        exp--;
    } else {
      sticky |= d != 0;
      if (!in_fraction)
        exp++;
    }
  }
  if (ndigits == 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "%s", QUANTITY_FORMAT_ERROR);

  const char *suffix = p;
  if (!suffix_has_valid_shape(suffix))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "%s", QUANTITY_FORMAT_ERROR);
  quantity_format_kind format = QUANTITY_DECIMAL_SI;
  int binary_power = 0;
  int64_t decimal_power = 0;
  bool known = false;
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    if (strcmp(suffix, suffixes[i].text) == 0) {
      format = suffixes[i].format;
      if (format == QUANTITY_BINARY_SI)
        binary_power = suffixes[i].power;
      else
        decimal_power = suffixes[i].power;
      known = true;
      break;
    }
  }
  if (!known) {
    if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix[1] != '\0' &&
        parse_exponent(suffix + 1, &decimal_power))
      format = QUANTITY_DECIMAL_EXPONENT;
    else
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "unable to parse quantity's suffix");
  }

  if (m == 0) {
    *out = (quantity){0, 0, format};
    return 0;
  }
  exp += decimal_power;
  if (binary_power > 0) {
    while (m >= pow10_i128(18))
      drop_digit(&m, &exp, &sticky);
    if (sticky) {
      m += 1;
      sticky = false;
    }
    m <<= 10 * binary_power;
  }
  /* round up (away from zero) to nano precision */
  if (exp < NANO_EXPONENT - 40) {
    m = 0;
    sticky = true;
    exp = NANO_EXPONENT;
  }
  while (exp < NANO_EXPONENT)
    drop_digit(&m, &exp, &sticky);
  if (sticky)
    m += 1;
  cap_magnitude(&m, &exp);

  /* a binary quantity below one is shown in decimal (upstream does the same) */
  if (format == QUANTITY_BINARY_SI && exp < 0 && m < pow10_i128((int)-exp))
    format = QUANTITY_DECIMAL_SI;
  *out = normalized(m, exp, negative, format);
  return 0;
}

quantity
quantity_from_int64(int64_t value, quantity_format_kind format)
{
  i128 m = value;
  return normalized(m < 0 ? -m : m, 0, value < 0, format);
}

quantity
quantity_from_milli(int64_t milli, quantity_format_kind format)
{
  i128 m = milli;
  return normalized(m < 0 ? -m : m, -3, milli < 0, format);
}

/* |q| × 10^scale_shift rounded away from zero, as a 128-bit value. */
static i128
scaled_magnitude(const quantity *q, int scale_shift)
{
  i128 m = q->mantissa < 0 ? -(i128)q->mantissa : (i128)q->mantissa;
  int e = q->exponent + scale_shift;
  if (e >= 0) {
    if (e > 30)
      return (i128)INT64_MAX + 1; /* saturates below */
    return m * pow10_i128(e);
  }
  if (-e > 30)
    return m != 0 ? 1 : 0;
  i128 div = pow10_i128(-e);
  return m / div + (m % div != 0 ? 1 : 0);
}

static int64_t
saturate(i128 magnitude, bool negative)
{
  if (magnitude > (i128)INT64_MAX)
    return negative ? INT64_MIN : INT64_MAX;
  return (int64_t)(negative ? -magnitude : magnitude);
}

int64_t
quantity_milli_value(const quantity *q)
{
  return saturate(scaled_magnitude(q, 3), q->mantissa < 0);
}

int64_t
quantity_value(const quantity *q)
{
  return saturate(scaled_magnitude(q, 0), q->mantissa < 0);
}

bool
quantity_is_zero(const quantity *q)
{
  return q->mantissa == 0;
}

bool
quantity_is_negative(const quantity *q)
{
  return q->mantissa < 0;
}

int
quantity_cmp(const quantity *a, const quantity *b)
{
  /* both are at most int64 max in magnitude with exponent >= -9: compare in nanos */
  i128 an = scaled_magnitude(a, 9), bn = scaled_magnitude(b, 9);
  if (a->mantissa < 0)
    an = -an;
  if (b->mantissa < 0)
    bn = -bn;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

static void
append_i128(char *out, size_t size, i128 v)
{
  char digits[64];
  int n = 0;
  bool negative = v < 0;
  unsigned __int128 u = negative ? -(unsigned __int128)v : (unsigned __int128)v;
  do {
    digits[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0);
  size_t len = strlen(out);
  if (negative && len + 1 < size)
    out[len++] = '-';
  while (n > 0 && len + 1 < size)
    out[len++] = digits[--n];
  out[len] = '\0';
}

char *
quantity_format(const quantity *q)
{
  if (q->mantissa == 0)
    return xstrdup("0");
  char out[96] = "";
  quantity_format_kind format = q->format;
  if (format == QUANTITY_BINARY_SI) {
    i128 magnitude = scaled_magnitude(q, 0);
    if (q->exponent < 0 || magnitude < 1024 || magnitude > (i128)INT64_MAX) {
      format = QUANTITY_DECIMAL_SI;
    } else {
      int power = 0;
      while (power < 6 && magnitude % 1024 == 0) {
        magnitude /= 1024;
        power++;
      }
      append_i128(out, sizeof out, q->mantissa < 0 ? -magnitude : magnitude);
      return xasprintf("%s%s", out, binary_suffixes[power]);
    }
  }
  /* decimal: exponent to a multiple of three, mantissa takes the difference */
  i128 m = q->mantissa;
  int e = q->exponent;
  int r = e % 3;
  if (r == 1 || r == -2) {
    m *= 10;
    e -= 1;
  } else if (r == 2 || r == -1) {
    m *= 100;
    e -= 2;
  }
  append_i128(out, sizeof out, m);
  if (format == QUANTITY_DECIMAL_SI) {
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
      if (suffixes[i].format == QUANTITY_DECIMAL_SI && suffixes[i].power == e)
        return xasprintf("%s%s", out, suffixes[i].text);
  }
  if (e == 0)
    return xstrdup(out);
  return xasprintf("%se%d", out, e);
}

char *
quantity_canonicalize(const char *s, k8c_err *err)
{
  quantity q;
  if (quantity_parse(s, &q, err) < 0)
    return NULL;
  return quantity_format(&q);
}
