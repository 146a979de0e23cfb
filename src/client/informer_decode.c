/* informer_decode.c — finds metadata.managedFields in an object's JSON text by skipping
 * over values (strings with their escapes, nested objects and arrays) without building
 * any, then parses the text with that member cut out. Anything unexpected makes it parse
 * the text whole, so it is never wrong, only sometimes not faster. */
#include "client/informer_decode.h"

#include "lib/mem.h"

#include <string.h>

static char
at(const char *t, size_t len, size_t i)
{
  return i < len ? t[i] : '\0';
}

static size_t
skip_ws(const char *t, size_t len, size_t i)
{
  while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
    i++;
  return i;
}

/* t[*i] is '"': moves *i past the closing quote. */
static bool
skip_string(const char *t, size_t len, size_t *i)
{
  size_t j = *i + 1;
  while (j < len) {
    if (t[j] == '\\') {
      j += 2;
    } else if (t[j] == '"') {
      *i = j + 1;
      return true;
    } else {
      j++;
    }
  }
  return false;
}

/* Moves *i past the value starting there. */
static bool
skip_value(const char *t, size_t len, size_t *i)
{
  char c = at(t, len, *i);
  if (c == '"')
    return skip_string(t, len, i);
  if (c == '{' || c == '[') {
    size_t j = *i;
    int depth = 0;
    while (j < len) {
      c = t[j];
      if (c == '"') {
        if (!skip_string(t, len, &j))
          return false;
        continue;
      }
      j++;
      if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          *i = j;
          return true;
        }
      }
    }
    return false;
  }
  size_t j = *i; /* a number, true, false or null */
  while (j < len && !strchr(",}] \t\r\n", t[j]))
    j++;
  if (j == *i)
    return false;
  *i = j;
  return true;
}

struct member {
  size_t key_start;   /* the key's opening quote */
  size_t value_start; /* the value's first character */
  size_t value_end;   /* just past the value */
  size_t prev_end;    /* just past the previous member's value; 0 if this one is first */
};

/* Finds the member called name in the object starting at t[obj] ('{'). Keys are compared
 * as written (an escaped spelling does not match). */
static bool
find_member(const char *t, size_t len, size_t obj, const char *name, struct member *m)
{
  size_t name_len = strlen(name);
  size_t i = obj + 1;
  m->prev_end = 0;
  for (;;) {
    i = skip_ws(t, len, i);
    if (at(t, len, i) != '"')
      return false; /* '}' (not found) or not JSON */
    m->key_start = i;
    if (!skip_string(t, len, &i))
      return false;
    bool match =
        i - m->key_start == name_len + 2 && memcmp(t + m->key_start + 1, name, name_len) == 0;
    i = skip_ws(t, len, i);
    if (at(t, len, i) != ':')
      return false;
    i = skip_ws(t, len, i + 1);
    m->value_start = i;
    if (!skip_value(t, len, &i))
      return false;
    m->value_end = i;
    if (match)
      return true;
    m->prev_end = i;
    i = skip_ws(t, len, i);
    if (at(t, len, i) != ',')
      return false;
    i++;
  }
}

bool
informer_managed_fields_span(const char *text, size_t len, size_t *cut_start, size_t *cut_end)
{
  size_t top = skip_ws(text, len, 0);
  if (at(text, len, top) != '{')
    return false;
  struct member md, mf;
  if (!find_member(text, len, top, "metadata", &md) || text[md.value_start] != '{')
    return false;
  if (!find_member(text, len, md.value_start, "managedFields", &mf))
    return false;
  if (mf.prev_end) { /* `, "managedFields": [...]` */
    *cut_start = mf.prev_end;
    *cut_end = mf.value_end;
    return true;
  }
  size_t next = skip_ws(text, len, mf.value_end); /* the first member: `"managedFields": [...],` */
  *cut_start = mf.key_start;
  *cut_end = at(text, len, next) == ',' ? next + 1 : mf.value_end;
  return true;
}

json_t *
informer_decode_object(const char *text, size_t len)
{
  json_error_t jerr;
  size_t cut_start, cut_end;
  if (!informer_managed_fields_span(text, len, &cut_start, &cut_end))
    return json_loadb(text, len, 0, &jerr);
  size_t n = len - (cut_end - cut_start);
  char *buf = xmalloc(n + 1);
  memcpy(buf, text, cut_start);
  memcpy(buf + cut_start, text + cut_end, len - cut_end);
  buf[n] = '\0';
  json_t *obj = json_loadb(buf, n, 0, &jerr);
  free(buf);
  return obj;
}
