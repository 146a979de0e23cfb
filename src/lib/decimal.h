/* decimal.h — the decimal text of an integer (what "%lld" prints) without printf, for
 * the hot paths that stamp one on every request (resourceVersions, JSON numbers, list
 * indexes in field paths). One inline function, so every caller gets the same digits. */
#ifndef K8C_LIB_DECIMAL_H
#define K8C_LIB_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* Longest text: "-9223372036854775808" plus its NUL. */
#define DECIMAL_INT64_MAX 21

/* Writes v's decimal text, NUL-terminated, at the start of out; returns its length. */
static inline size_t
decimal_int64(int64_t v, char out[static DECIMAL_INT64_MAX])
{
  char digits[20];
  size_t n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  size_t len = 0;
  if (v < 0)
    out[len++] = '-';
  while (n > 0)
    out[len++] = digits[--n];
  out[len] = '\0';
  return len;
}

#endif
