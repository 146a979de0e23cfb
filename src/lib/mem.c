/* mem.c — the single place where allocation failure aborts the process. */
#include "lib/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
oom(size_t n)
{
  fprintf(stderr, "k8c: out of memory allocating %zu bytes\n", n);
  abort();
}

void *
xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    oom(n);
  return p;
}

void *
xcalloc(size_t count, size_t n)
{
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (p == NULL)
    oom(count * n);
  return p;
}

void *
xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    oom(n);
  return q;
}

char *
xstrdup(const char *s)
{
  char *p = strdup(s ? s : "");
  if (p == NULL)
    oom(strlen(s));
  return p;
}

char *
xstrndup(const char *s, size_t n)
{
  char *p = strndup(s, n);
  if (p == NULL)
    oom(n);
  return p;
}

char *
xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *out = NULL;
  int r = vasprintf(&out, fmt, ap);
  va_end(ap);
  if (r < 0)
    oom(0);
  return out;
}
