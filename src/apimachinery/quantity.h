/* quantity.h — resource.Quantity: "100m", "64Mi", "1.5", "2e3" parsed to an exact
 * decimal (int64 mantissa × 10^exponent) that remembers its suffix family, so it can be
 * printed back in upstream's canonical form ("1.5Gi" → "1536Mi", "0.5" → "500m").
 *
 * Like upstream, precision below 1n (10^-9) is rounded up; values whose mantissa does not
 * fit in int64 lose low digits (rounded away from zero) instead of growing without bound. */
#ifndef K8C_APIMACHINERY_QUANTITY_H
#define K8C_APIMACHINERY_QUANTITY_H

#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>

/* The suffix family a quantity was written in (upstream's Format). */
typedef enum quantity_format_kind {
  QUANTITY_DECIMAL_SI,       /* "", m, k, M, G, T, P, E (and n, u) */
  QUANTITY_BINARY_SI,        /* Ki, Mi, Gi, Ti, Pi, Ei */
  QUANTITY_DECIMAL_EXPONENT, /* 1e3, 5E-2 */
} quantity_format_kind;

/* value = mantissa × 10^exponent; mantissa has no trailing zeros (0 has exponent 0). */
typedef struct quantity {
  int64_t mantissa;
  int32_t exponent;
  quantity_format_kind format;
} quantity;

/* Upstream's message for an unparsable quantity. */
#define QUANTITY_FORMAT_ERROR                                                                      \
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

/* Parses s into *out. On failure returns -1 with a 400 BadRequest whose message is
 * upstream's ("quantities must match the regular expression ...", "unable to parse
 * quantity's suffix"). */
int quantity_parse(const char *s, quantity *out, k8c_err *err);

/* A quantity of value units (format DECIMAL_SI) / milli-units. */
quantity quantity_from_int64(int64_t value, quantity_format_kind format);
quantity quantity_from_milli(int64_t milli, quantity_format_kind format);

/* The value in milli-units / units, rounded away from zero, saturating at INT64_MIN/MAX
 * (upstream's MilliValue() / Value()). */
int64_t quantity_milli_value(const quantity *q);
int64_t quantity_value(const quantity *q);

/* Upstream's canonical string (Quantity.String()). Caller frees. */
char *quantity_format(const quantity *q);

/* -1, 0 or 1 as a <, ==, > b (by value; the format does not matter). */
int quantity_cmp(const quantity *a, const quantity *b);
bool quantity_is_zero(const quantity *q);
bool quantity_is_negative(const quantity *q);

/* Convenience: parses s and returns its canonical form, or NULL with err filled. */
char *quantity_canonicalize(const char *s, k8c_err *err);

#endif
