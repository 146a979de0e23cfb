/* json_decode.c — a single-pass JSON reader over a memory buffer that builds jansson
 * values directly, several times cheaper than json_loadb's character stream. Its one
 * idea: it only handles the plain cases exactly and gives up on everything else, in
 * which case json_decode re-reads the text with json_loadb, so it can never accept or
 * build something jansson would not. */
#include "apimachinery/json_decode.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512

struct reader {
  const char *p;
  const char *end;
  char *scratch; /* unescaped string bytes */
  size_t scratch_cap;
  int depth;
};

static json_t *read_value(struct reader *r);

static void
skip_space(struct reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 if invalid. */
static size_t
utf8_sequence(const unsigned char *s, const unsigned char *end)
{
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if ((size_t)(end - s) < n)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

static bool
scratch_reserve(struct reader *r, size_t need)
{
  if (need <= r->scratch_cap)
    return true;
  size_t cap = r->scratch_cap ? r->scratch_cap : 256;
  while (cap < need)
    cap *= 2;
  char *grown = realloc(r->scratch, cap);
  if (grown == NULL)
    return false;
  r->scratch = grown;
  r->scratch_cap = cap;
  return true;
}

static int
hex4(const char *s, uint32_t *out)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static size_t
put_utf8(char *out, uint32_t cp)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Reads the string whose opening quote r->p is past. Sets *text and *len to its bytes
 * (pointing into the input when it has no escapes, else into scratch). */
static bool
read_string(struct reader *r, const char **text, size_t *len)
{
  const char *start = r->p;
  const char *s = start;
  while (s < r->end) { /* the common case: no escapes */
    unsigned char c = (unsigned char)*s;
    if (c == '"') {
      *text = start;
      *len = (size_t)(s - start);
      r->p = s + 1;
      return true;
    }
    if (c == '\\')
      break;
    if (c < 0x20)
      return false;
    if (c >= 0x80) {
      size_t n = utf8_sequence((const unsigned char *)s, (const unsigned char *)r->end);
      if (n == 0)
        return false;
      s += n;
    } else {
      s++;
    }
  }
  if (s >= r->end)
    return false;
  /* escapes: unescape everything into scratch (at most as long as the input) */
  if (!scratch_reserve(r, (size_t)(r->end - start) + 4))
    return false;
  size_t o = (size_t)(s - start);
  memcpy(r->scratch, start, o);
  while (s < r->end) {
    unsigned char c = (unsigned char)*s;
    if (c == '"') {
      *text = r->scratch;
      *len = o;
      r->p = s + 1;
      return true;
    }
    if (c < 0x20)
      return false;
    if (c >= 0x80) {
      size_t n = utf8_sequence((const unsigned char *)s, (const unsigned char *)r->end);
      if (n == 0)
        return false;
      memcpy(r->scratch + o, s, n);
      o += n;
      s += n;
      continue;
    }
    if (c != '\\') {
      r->scratch[o++] = (char)c;
      s++;
      continue;
    }
    if (r->end - s < 2)
      return false;
    char e = s[1];
    s += 2;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      r->scratch[o++] = e;
      break;
    case 'b':
      r->scratch[o++] = '\b';
      break;
    case 'f':
      r->scratch[o++] = '\f';
      break;
    case 'n':
      r->scratch[o++] = '\n';
      break;
    case 'r':
      r->scratch[o++] = '\r';
      break;
    case 't':
      r->scratch[o++] = '\t';
      break;
    case 'u': {
      uint32_t cp;
      if (r->end - s < 4 || hex4(s, &cp) < 0)
        return false;
      s += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t low;
        if (r->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &low) < 0 ||
            low < 0xDC00 || low > 0xDFFF)
          return false;
        s += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
        return false; /* a lone low surrogate, or NUL (json_loadb's call) */
      }
      o += put_utf8(r->scratch + o, cp); /* never longer than the 6+ bytes it came from */
      break;
    }
    default:
      return false;
    }
  }
  return false;
}

static json_t *
read_number(struct reader *r)
{
  const char *s = r->p;
  const char *start = s;
  if (s < r->end && *s == '-')
    s++;
  if (s >= r->end || *s < '0' || *s > '9')
    return NULL;
  if (*s == '0' && s + 1 < r->end && s[1] >= '0' && s[1] <= '9')
    return NULL;
  while (s < r->end && *s >= '0' && *s <= '9')
    s++;
  bool real = false;
  if (s < r->end && *s == '.') {
    real = true;
    s++;
    if (s >= r->end || *s < '0' || *s > '9')
      return NULL;
    while (s < r->end && *s >= '0' && *s <= '9')
      s++;
  }
  if (s < r->end && (*s == 'e' || *s == 'E')) {
    real = true;
    s++;
    if (s < r->end && (*s == '+' || *s == '-'))
      s++;
    if (s >= r->end || *s < '0' || *s > '9')
      return NULL;
    while (s < r->end && *s >= '0' && *s <= '9')
      s++;
  }
  size_t n = (size_t)(s - start);
  char buf[64];
  if (n >= sizeof buf)
    return NULL;
  memcpy(buf, start, n);
  buf[n] = 0;
  char *stop = NULL;
  errno = 0;
  json_t *v;
  if (real) {
    double d = strtod(buf, &stop);
    if (errno == ERANGE || stop != buf + n)
      return NULL; /* json_loadb decides on overflow and underflow */
    v = json_real(d);
  } else {
    long long i = strtoll(buf, &stop, 10);
    if (errno == ERANGE || stop != buf + n)
      return NULL;
    v = json_integer((json_int_t)i);
  }
  r->p = s;
  return v;
}

static json_t *
read_object(struct reader *r)
{
  json_t *obj = json_object();
  skip_space(r);
  if (r->p < r->end && *r->p == '}') {
    r->p++;
    return obj;
  }
  for (;;) {
    skip_space(r);
    if (r->p >= r->end || *r->p != '"')
      break;
    r->p++;
    const char *key;
    size_t key_len;
    if (!read_string(r, &key, &key_len) || memchr(key, 0, key_len) != NULL)
      break;
    char small[128];
    char *k = key_len < sizeof small ? small : malloc(key_len + 1);
    if (k == NULL)
      break;
    memcpy(k, key, key_len);
    k[key_len] = 0;
    skip_space(r);
    json_t *v = NULL;
    if (r->p < r->end && *r->p == ':') {
      r->p++;
      v = read_value(r);
    }
    int rc = v ? json_object_set_new_nocheck(obj, k, v) : -1;
    if (k != small)
      free(k);
    if (rc < 0)
      break;
    skip_space(r);
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    if (r->p < r->end && *r->p == '}') {
      r->p++;
      return obj;
    }
    break;
  }
  json_decref(obj);
  return NULL;
}

static json_t *
read_array(struct reader *r)
{
  json_t *arr = json_array();
  skip_space(r);
  if (r->p < r->end && *r->p == ']') {
    r->p++;
    return arr;
  }
  for (;;) {
    json_t *v = read_value(r);
    if (v == NULL || json_array_append_new(arr, v) < 0)
      break;
    skip_space(r);
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    if (r->p < r->end && *r->p == ']') {
      r->p++;
      return arr;
    }
    break;
  }
  json_decref(arr);
  return NULL;
}

static bool
take_word(struct reader *r, const char *word, size_t n)
{
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
    return false;
  r->p += n;
  return true;
}

static json_t *
read_value(struct reader *r)
{
  skip_space(r);
  if (r->p >= r->end)
    return NULL;
  char c = *r->p;
  json_t *v = NULL;
  switch (c) {
  case '{':
  case '[':
    if (++r->depth > MAX_DEPTH)
      return NULL;
    r->p++;
    v = c == '{' ? read_object(r) : read_array(r);
    r->depth--;
    return v;
  case '"': {
    r->p++;
    const char *text;
    size_t len;
    if (!read_string(r, &text, &len))
      return NULL;
    return json_stringn_nocheck(text, len);
  }
  case 't':
    return take_word(r, "true", 4) ? json_true() : NULL;
  case 'f':
    return take_word(r, "false", 5) ? json_false() : NULL;
  case 'n':
    return take_word(r, "null", 4) ? json_null() : NULL;
  default:
    return read_number(r);
  }
}

json_t *
json_decode(const char *text, size_t len, json_error_t *error)
{
  struct reader r = {.p = text, .end = text + len};
  skip_space(&r);
  json_t *v = NULL;
  if (r.p < r.end && (*r.p == '{' || *r.p == '[')) {
    v = read_value(&r);
    skip_space(&r);
    if (v != NULL && r.p != r.end) {
      json_decref(v);
      v = NULL;
    }
  }
  free(r.scratch);
  if (v != NULL)
    return v;
  json_error_t local;
  return json_loadb(text, len, 0, error ? error : &local);
}
