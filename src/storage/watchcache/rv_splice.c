/* rv_splice.c — a minimal JSON scanner that finds the top-level "metadata" object and
 * its "resourceVersion" member, so the cache can set the revision by copying bytes
 * (see rv_splice.h). It tracks strings and nesting only; anything it does not
 * understand makes it give up, never guess. */
#include "storage/watchcache/rv_splice.h"

#include "lib/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Index just past the JSON string starting at json[i] (a '"'), or 0 if unterminated. */
static size_t
skip_string(const char *json, size_t len, size_t i)
{
  for (i++; i < len; i++) {
    if (json[i] == '\\')
      i++;
    else if (json[i] == '"')
      return i + 1;
  }
  return 0;
}

static size_t
skip_ws(const char *json, size_t len, size_t i)
{
  while (i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' || json[i] == '\r'))
    i++;
  return i;
}

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
    while (i < len) {
      char c = json[i];
      if (c == '"') {
        i = skip_string(json, len, i);
        if (i == 0)
          return 0;
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']') {
        depth--;
        if (depth == 0)
          return i + 1;
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

char *
rv_splice(const char *json, size_t len, int64_t rev, size_t *out_len)
{
  size_t start = skip_ws(json, len, 0);
  if (start >= len || json[start] != '{')
    return NULL;
  size_t meta_key, meta, close;
  if (!find_member(json, len, start, "metadata", &meta_key, &meta, &close) || meta >= len ||
      json[meta] != '{')
    return NULL;
  char rv[32];
  int rvlen = snprintf(rv, sizeof rv, "%lld", (long long)rev);
  size_t rv_key, rv_value;
  size_t meta_close;
  if (find_member(json, len, meta, "resourceVersion", &rv_key, &rv_value, &meta_close)) {
    if (rv_value >= len || json[rv_value] != '"')
      return NULL;
    size_t rv_end = skip_string(json, len, rv_value);
    if (rv_end == 0)
      return NULL;
    size_t n = rv_value + 1 + (size_t)rvlen + 1 + (len - rv_end);
    char *out = xmalloc(n + 1);
    memcpy(out, json, rv_value);
    out[rv_value] = '"';
    memcpy(out + rv_value + 1, rv, (size_t)rvlen);
    out[rv_value + 1 + rvlen] = '"';
    memcpy(out + rv_value + 2 + rvlen, json + rv_end, len - rv_end);
    out[n] = 0;
    *out_len = n;
    return out;
  }
  if (meta_close == 0)
    return NULL; /* metadata object not closed (or not understood): do not guess */
  size_t after_brace = meta + 1;
  bool empty = meta_close == skip_ws(json, len, after_brace);
  char member[64];
  int mlen = snprintf(member, sizeof member, "\"resourceVersion\":\"%s\"%s", rv, empty ? "" : ",");
  size_t n = len + (size_t)mlen;
  char *out = xmalloc(n + 1);
  memcpy(out, json, after_brace);
  memcpy(out + after_brace, member, (size_t)mlen);
  memcpy(out + after_brace + mlen, json + after_brace, len - after_brace);
  out[n] = 0;
  *out_len = n;
  return out;
}
