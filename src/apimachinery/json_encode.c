/* json_encode.c — a compact JSON writer for jansson trees (see json_encode.h). It walks
 * the tree once into one growing buffer and copies runs of plain string bytes with
 * memcpy; jansson's own dump calls a callback per fragment and decodes every UTF-8
 * code point. Output rules follow jansson's: escape '"', '\\' and control characters
 * (\b \f \n \r \t by name, others as \u00XX), keep other bytes, keep member order, and
 * leave reals to jansson itself (they are rare in API objects). */
#include "apimachinery/json_encode.h"
#include "lib/decimal.h"

#include "lib/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out {
  char *data;
  size_t len;
  size_t cap;
};

static void
reserve(struct out *o, size_t more)
{
  if (o->len + more + 1 <= o->cap)
    return;
  size_t cap = o->cap ? o->cap : 256;
  while (cap < o->len + more + 1)
    cap *= 2;
  o->data = xrealloc(o->data, cap);
  o->cap = cap;
}

static inline void
put(struct out *o, const char *s, size_t n)
{
  reserve(o, n);
  memcpy(o->data + o->len, s, n);
  o->len += n;
}

static inline void
put_char(struct out *o, char c)
{
  reserve(o, 1);
  o->data[o->len++] = c;
}

/* Whether s[0..n) is valid UTF-8 (jansson refuses to dump anything else). */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i <= extra)
      return false;
    for (size_t k = 1; k <= extra; k++) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

/* Whether any byte of the 8 in w needs the per-byte path: below 0x20, '"', '\\' or
 * non-ASCII (the classic "has zero byte" bit trick on w and on w XOR each special). */
static inline bool
word_needs_care(uint64_t w)
{
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
  uint64_t special = ((w - ones * 0x20) | (quote - ones) | (backslash - ones)) & ~w;
  return ((special | w) & highs) != 0;
}

/* word_needs_care for four bytes. */
static inline bool
half_needs_care(uint32_t w)
{
  const uint32_t ones = 0x01010101U, highs = 0x80808080U;
  uint32_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
  uint32_t special = ((w - ones * 0x20) | (quote - ones) | (backslash - ones)) & ~w;
  return ((special | w) & highs) != 0;
}

/* Whether byte c can be copied as it is (printable ASCII other than '"' and '\\'). */
static inline bool
plain_byte(unsigned char c)
{
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The fast path of put_string for plain printable ASCII (nearly every key and value):
 * checks and copies in one pass, eight bytes per step while whole words remain (never
 * reading past the source's end), then writes the quotes and `suffix` (':' after a key,
 * or 0 for none). Returns false, having committed nothing, if any byte needs care. */
static inline bool
put_plain(struct out *o, const unsigned char *s, size_t n, char suffix)
{
  reserve(o, n + 3);
  char *d = o->data + o->len + 1;
  if (n >= 8) { /* whole words, the last one overlapping the one before */
    uint64_t w;
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&w, s + i, 8);
      if (word_needs_care(w))
        return false;
      memcpy(d + i, &w, 8);
    }
    memcpy(&w, s + n - 8, 8);
    if (word_needs_care(w))
      return false;
    memcpy(d + n - 8, &w, 8);
  } else if (n >= 4) { /* two half words, overlapping */
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + n - 4, 4);
    if (half_needs_care(a) || half_needs_care(b))
      return false;
    memcpy(d, &a, 4);
    memcpy(d + n - 4, &b, 4);
  } else {
    for (size_t i = 0; i < n; i++) {
      if (!plain_byte(s[i]))
        return false;
      d[i] = (char)s[i];
    }
  }
  d[-1] = '"';
  d[n] = '"';
  size_t len = n + 2;
  if (suffix)
    d[n + 1] = suffix, len++;
  o->len += len;
  return true;
}

static bool
put_string(struct out *o, const char *str, size_t n)
{
  const unsigned char *s = (const unsigned char *)str;
  if (put_plain(o, s, n, 0))
    return true;
  bool ascii = true;
  reserve(o, n + 2);
  o->data[o->len++] = '"';
  size_t run = 0;
  size_t i = 0;
  for (;;) {
    /* Plain ASCII runs (almost every API string) go eight bytes per step. */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (word_needs_care(w))
        break;
      i += 8;
    }
    if (i >= n)
      break;
    unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      ascii &= c < 0x80;
      i++;
      continue;
    }
    put(o, str + run, i - run);
    run = i + 1;
    i++;
    switch (c) {
    case '"':
      put(o, "\\\"", 2);
      break;
    case '\\':
      put(o, "\\\\", 2);
      break;
    case '\b':
      put(o, "\\b", 2);
      break;
    case '\f':
      put(o, "\\f", 2);
      break;
    case '\n':
      put(o, "\\n", 2);
      break;
    case '\r':
      put(o, "\\r", 2);
      break;
    case '\t':
      put(o, "\\t", 2);
      break;
    default: {
      char seq[8];
      snprintf(seq, sizeof seq, "\\u%04X", (unsigned)c);
      put(o, seq, 6);
    }
    }
  }
  put(o, str + run, n - run);
  put_char(o, '"');
  return ascii || valid_utf8(s, n);
}

/* Decimal text of v (what "%lld" prints), without the cost of printf. */
static void
put_integer(struct out *o, json_int_t v)
{
  char digits[DECIMAL_INT64_MAX];
  put(o, digits, decimal_int64(v, digits));
}

static bool
put_value(struct out *o, const json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    put_char(o, '{');
    /* The iterator directly: json_object_foreach goes from key back to iterator twice
     * per member, and the key's length is stored. */
    bool first = true;
    for (void *it = json_object_iter((json_t *)v); it != NULL;
         it = json_object_iter_next((json_t *)v, it)) {
      if (!first)
        put_char(o, ',');
      first = false;
      const char *key = json_object_iter_key(it);
      size_t key_len = json_object_iter_key_len(it);
      if (!put_plain(o, (const unsigned char *)key, key_len, ':')) {
        if (!put_string(o, key, key_len))
          return false;
        put_char(o, ':');
      }
      if (!put_value(o, json_object_iter_value(it)))
        return false;
    }
    put_char(o, '}');
    return true;
  }
  case JSON_ARRAY: {
    put_char(o, '[');
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
      if (i)
        put_char(o, ',');
      if (!put_value(o, json_array_get(v, i)))
        return false;
    }
    put_char(o, ']');
    return true;
  }
  case JSON_STRING:
    return put_string(o, json_string_value(v), json_string_length(v));
  case JSON_INTEGER:
    put_integer(o, json_integer_value(v));
    return true;
  case JSON_REAL: {
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
      return false;
    put(o, text, strlen(text));
    free(text);
    return true;
  }
  case JSON_TRUE:
    put(o, "true", 4);
    return true;
  case JSON_FALSE:
    put(o, "false", 5);
    return true;
  case JSON_NULL:
    put(o, "null", 4);
    return true;
  }
  return false;
}

char *
json_encode_compact(const json_t *v, size_t *len)
{
  struct out o = {0};
  if (v == NULL || !put_value(&o, v)) {
    free(o.data);
    return NULL;
  }
  reserve(&o, 0);
  o.data[o.len] = '\0';
  if (len)
    *len = o.len;
  return o.data;
}
