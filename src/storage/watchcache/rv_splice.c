/* rv_splice.c — a minimal JSON scanner that finds the top-level "metadata" object and
 * its "resourceVersion" member, so the cache can set the revision by copying bytes
 * (see rv_splice.h). It tracks strings and nesting only; anything it does not
 * understand makes it give up, never guess. */
#include "storage/watchcache/rv_splice.h"
#include "lib/decimal.h"

#include "lib/mem.h"

#include <stdbool.h>
#include <string.h>

/* Index just past the JSON string starting at json[i] (a '"'), or 0 if unterminated. A
 * quote ends the string when the run of backslashes right before it (inside the string)
 * is even: that run starts where no escape is pending, so its pairs are escaped
 * backslashes. memchr jumps from quote to quote instead of testing every byte. */
static size_t
skip_string(const char *json, size_t len, size_t i)
{
  size_t from = i + 1;
  for (;;) {
    const char *quote = memchr(json + from, '"', len - from);
    if (quote == NULL)
      return 0;
    size_t at = (size_t)(quote - json);
    size_t run = 0;
    while (at - run > i + 1 && json[at - run - 1] == '\\')
      run++;
    if (run % 2 == 0)
      return at + 1;
    from = at + 1;
  }
}

static size_t
skip_ws(const char *json, size_t len, size_t i)
{
  while (i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' || json[i] == '\r'))
    i++;
  return i;
}

/* What the nesting scan of skip_value stops at; every other byte is skipped by one table
 * lookup. */
enum byte_class { OTHER = 0, QUOTE, OPEN, CLOSE };
static const unsigned char byte_class[256] = {
    ['"'] = QUOTE, ['{'] = OPEN, ['['] = OPEN, ['}'] = CLOSE, [']'] = CLOSE,
};

/* Index just past the value starting at json[i], or 0 on malformed input. */
static size_t
skip_value(const char *json, size_t len, size_t i)
{
  if (i >= len)
    return 0;
  if (json[i] == '"')
    return skip_string(json, len, i);
  if (json[i] == '{' || json[i] == '[') {
    int depth = 0;
    for (;;) {
      while (i < len && byte_class[(unsigned char)json[i]] == OTHER)
        i++;
      if (i >= len)
        return 0;
      switch (byte_class[(unsigned char)json[i]]) {
      case QUOTE:
        i = skip_string(json, len, i);
        if (i == 0)
          return 0;
        continue;
      case OPEN:
        depth++;
        break;
      default: /* CLOSE */
        if (--depth == 0)
          return i + 1;
        break;
      }
      i++;
    }
    return 0;
  }
  while (i < len && json[i] != ',' && json[i] != '}' && json[i] != ']')
    i++;
  return i;
}

/* Finds member `name` in the object whose '{' is at json[obj]; sets *key_at to the
 * member's key start and *value_at to its value start. Returns false if absent; then
 * *close_at is the index of the object's closing '}' if the scan reached it, else 0. */
static bool
find_member(const char *json, size_t len, size_t obj, const char *name, size_t *key_at,
            size_t *value_at, size_t *close_at)
{
  *close_at = 0;
  size_t nlen = strlen(name);
  size_t i = skip_ws(json, len, obj + 1);
  if (i < len && json[i] == '}')
    *close_at = i;
  while (i < len && json[i] == '"') {
    size_t kend = skip_string(json, len, i);
    if (kend == 0)
      return false;
    /* An escaped key might spell `name` ("resource\u0056ersion"): give up rather than
     * miss it (jansson, which writes stored values, never escapes a letter). */
    if (memchr(json + i + 1, '\\', kend - i - 2) != NULL)
      return false;
    size_t colon = skip_ws(json, len, kend);
    if (colon >= len || json[colon] != ':')
      return false;
    size_t v = skip_ws(json, len, colon + 1);
    if (kend - i - 2 == nlen && memcmp(json + i + 1, name, nlen) == 0) {
      *key_at = i;
      *value_at = v;
      return true;
    }
    size_t vend = skip_value(json, len, v);
    if (vend == 0)
      return false;
    i = skip_ws(json, len, vend);
    if (i < len && json[i] == ',') {
      i = skip_ws(json, len, i + 1);
    } else {
      if (i < len && json[i] == '}')
        *close_at = i;
      return false;
    }
  }
  return false;
}

bool
rv_splice_find(const char *json, size_t len, struct rv_splice_point *point)
{
  size_t start = skip_ws(json, len, 0);
  if (start >= len || json[start] != '{')
    return false;
  size_t meta_key, meta, close;
  if (!find_member(json, len, start, "metadata", &meta_key, &meta, &close) || meta >= len ||
      json[meta] != '{')
    return false;
  size_t rv_key, rv_value, meta_close;
  point->len = len;
  if (find_member(json, len, meta, "resourceVersion", &rv_key, &rv_value, &meta_close)) {
    if (rv_value >= len || json[rv_value] != '"')
      return false;
    size_t rv_end = skip_string(json, len, rv_value);
    if (rv_end == 0)
      return false;
    point->from = rv_value;
    point->to = rv_end;
    point->insert = false;
    point->comma = false;
    return true;
  }
  if (meta_close == 0)
    return false; /* metadata object not closed (or not understood): do not guess */
  point->from = point->to = meta + 1;
  point->insert = true;
  point->comma = meta_close != skip_ws(json, len, meta + 1);
  return true;
}

char *
rv_splice_at(const char *json, size_t len, const struct rv_splice_point *point, int64_t rev,
             size_t *out_len)
{
  if (point->len != len || point->from > point->to || point->to > len)
    return NULL;
  static const char key[] = "\"resourceVersion\":\"";
  char rv[DECIMAL_INT64_MAX];
  size_t rvlen = decimal_int64(rev, rv);
  size_t klen = point->insert ? sizeof key - 1 : 1; /* the member's head, or the value's quote */
  size_t mlen = klen + rvlen + 1 + (point->comma ? 1 : 0);
  size_t n = point->from + mlen + (len - point->to);
  char *out = xmalloc(n + 1);
  memcpy(out, json, point->from);
  char *at = out + point->from;
  memcpy(at, point->insert ? key : "\"", klen);
  memcpy(at + klen, rv, rvlen);
  at[klen + rvlen] = '"';
  if (point->comma)
    at[klen + rvlen + 1] = ',';
  memcpy(at + mlen, json + point->to, len - point->to);
  out[n] = 0;
  *out_len = n;
  return out;
}

char *
rv_splice(const char *json, size_t len, int64_t rev, size_t *out_len)
{
  struct rv_splice_point point;
  if (!rv_splice_find(json, len, &point))
    return NULL;
  return rv_splice_at(json, len, &point, rev, out_len);
}
