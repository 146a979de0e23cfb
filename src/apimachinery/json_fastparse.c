/* json_fastparse.c — the plain-subset JSON parser in front of jansson's (see
 * json_fastparse.h). One pass over the bytes, values built with jansson's own
 * constructors in document order; the first thing outside the subset abandons the whole
 * parse (NULL), never guesses. */
#include "apimachinery/json_fastparse.h"

#include "lib/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 256
#define MAX_INT_DIGITS 18 /* always fits an int64 */

struct parser {
  const char *p;
  const char *end;
  int depth;
};

static inline void
skip_ws(struct parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
    ps->p++;
}

/* The escape character after a backslash, or 0 if it is not one of the simple ones. */
static inline char
unescape(char c)
{
  switch (c) {
  case '"':
  case '\\':
  case '/':
    return c;
  case 'b':
    return '\b';
  case 'f':
    return '\f';
  case 'n':
    return '\n';
  case 'r':
    return '\r';
  case 't':
    return '\t';
  default:
    return 0;
  }
}

/* A decoded string: points into the input when it had no escapes, else into `owned`. */
struct str {
  const char *s;
  size_t n;
  char *owned;
};

/* Reads the string whose opening quote is at ps->p. */
static bool
read_string(struct parser *ps, struct str *out)
{
  const char *start = ps->p + 1;
  const char *q = start;
  out->owned = NULL;
  while (q < ps->end) {
    unsigned char c = (unsigned char)*q;
    if (c == '"') {
      out->s = start;
      out->n = (size_t)(q - start);
      ps->p = q + 1;
      return true;
    }
    if (c < 0x20 || c >= 0x80)
      return false;
    if (c == '\\')
      break;
    q++;
  }
  if (q >= ps->end)
    return false;
  /* Escapes: decode into a copy (never longer than the input). */
  char *buf = xmalloc((size_t)(ps->end - start) + 1);
  size_t n = (size_t)(q - start);
  memcpy(buf, start, n);
  while (q < ps->end) {
    unsigned char c = (unsigned char)*q;
    if (c == '"') {
      out->s = buf;
      out->n = n;
      out->owned = buf;
      ps->p = q + 1;
      return true;
    }
    if (c < 0x20 || c >= 0x80)
      break;
    if (c == '\\') {
      char e = q + 1 < ps->end ? unescape(q[1]) : 0;
      if (e == 0)
        break; /* \u escapes and anything invalid: jansson decides */
      buf[n++] = e;
      q += 2;
      continue;
    }
    buf[n++] = (char)c;
    q++;
  }
  free(buf);
  return false;
}

static json_t *parse_value(struct parser *ps);

static bool
at_delimiter(const struct parser *ps)
{
  if (ps->p >= ps->end)
    return true;
  char c = *ps->p;
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static json_t *
parse_number(struct parser *ps)
{
  const char *s = ps->p;
  bool negative = s < ps->end && *s == '-';
  if (negative)
    s++;
  const char *digits = s;
  int64_t v = 0;
  while (s < ps->end && *s >= '0' && *s <= '9') {
    v = v * 10 + (*s - '0');
    s++;
  }
  size_t n = (size_t)(s - digits);
  if (n == 0 || n > MAX_INT_DIGITS || (n > 1 && digits[0] == '0'))
    return NULL;
  ps->p = s;
  if (!at_delimiter(ps)) /* a fraction, an exponent or garbage */
    return NULL;
  return json_integer(negative ? -v : v);
}

static json_t *
parse_literal(struct parser *ps, const char *word, size_t len, json_t *value)
{
  if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
    return NULL;
  ps->p += len;
  return at_delimiter(ps) ? value : NULL;
}

static json_t *
parse_object(struct parser *ps)
{
  ps->p++; /* '{' */
  json_t *obj = json_object();
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return obj;
  }
  for (;;) {
    skip_ws(ps);
    struct str key;
    if (ps->p >= ps->end || *ps->p != '"' || !read_string(ps, &key))
      break;
    skip_ws(ps);
    json_t *value = NULL;
    if (ps->p < ps->end && *ps->p == ':') {
      ps->p++;
      skip_ws(ps);
      value = parse_value(ps);
    }
    size_t before = json_object_size(obj);
    /* A duplicate replaces the earlier member: the size does not grow. */
    bool added = value && json_object_setn_new_nocheck(obj, key.s, key.n, value) == 0 &&
                 json_object_size(obj) == before + 1;
    free(key.owned);
    if (!added)
      break;
    skip_ws(ps);
    if (ps->p >= ps->end)
      break;
    if (*ps->p == '}') {
      ps->p++;
      return obj;
    }
    if (*ps->p != ',')
      break;
    ps->p++;
  }
  json_decref(obj);
  return NULL;
}

static json_t *
parse_array(struct parser *ps)
{
  ps->p++; /* '[' */
  json_t *arr = json_array();
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return arr;
  }
  for (;;) {
    skip_ws(ps);
    json_t *item = parse_value(ps);
    if (item == NULL || json_array_append_new(arr, item) != 0)
      break;
    skip_ws(ps);
    if (ps->p >= ps->end)
      break;
    if (*ps->p == ']') {
      ps->p++;
      return arr;
    }
    if (*ps->p != ',')
      break;
    ps->p++;
  }
  json_decref(arr);
  return NULL;
}

static json_t *
parse_value(struct parser *ps)
{
  if (ps->p >= ps->end)
    return NULL;
  json_t *v = NULL;
  switch (*ps->p) {
  case '{':
  case '[':
    if (ps->depth >= MAX_DEPTH)
      return NULL;
    ps->depth++;
    v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
    ps->depth--;
    return v;
  case '"': {
    struct str s;
    if (!read_string(ps, &s))
      return NULL;
    v = json_stringn_nocheck(s.s, s.n);
    free(s.owned);
    return v;
  }
  case 't':
    return parse_literal(ps, "true", 4, json_true());
  case 'f':
    return parse_literal(ps, "false", 5, json_false());
  case 'n':
    return parse_literal(ps, "null", 4, json_null());
  default:
    return parse_number(ps);
  }
}

json_t *
json_fastparse(const char *text, size_t len)
{
  struct parser ps = {.p = text, .end = text + len};
  skip_ws(&ps);
  if (ps.p >= ps.end || (*ps.p != '{' && *ps.p != '['))
    return NULL;
  json_t *v = parse_value(&ps);
  if (v == NULL)
    return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    json_decref(v);
    return NULL;
  }
  return v;
}
