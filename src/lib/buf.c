/* buf.c — growable byte buffer (see buf.h). */
#include "lib/buf.h"

#include "lib/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
buf_init(buf *b)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void
buf_free(buf *b)
{
  free(b->data);
  buf_init(b);
}

void
buf_reset(buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = 0;
}

static void
buf_reserve(buf *b, size_t extra)
{
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

void
buf_append(buf *b, const void *data, size_t len)
{
  buf_reserve(b, len);
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = 0;
}

void
buf_puts(buf *b, const char *s)
{
  buf_append(b, s, strlen(s));
}

void
buf_printf(buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    buf_append(b, small, (size_t)n);
    return;
  }
  buf_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

const char *
buf_cstr(buf *b)
{
  buf_reserve(b, 0);
  b->data[b->len] = 0;
  return b->data;
}

char *
buf_steal(buf *b, size_t *len)
{
  buf_reserve(b, 0);
  b->data[b->len] = 0;
  char *d = b->data;
  if (len)
    *len = b->len;
  buf_init(b);
  return d;
}
