/* mem.h — allocation that aborts on exhaustion, and cleanup attributes for locals.
 *
 * Out-of-memory is not an error callers can handle sensibly, so x* functions abort in
 * one place. The cleanup_* macros free a local when it goes out of scope, so early
 * returns leak nothing (crun's habit). */
#ifndef K8C_LIB_MEM_H
#define K8C_LIB_MEM_H

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Allocates a formatted string; never NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void
cleanup_free_fn(void *p)
{
  free(*(void **)p);
}
static inline void
cleanup_close_fn(int *fd)
{
  if (*fd >= 0)
    close(*fd);
}
static inline void
cleanup_json_fn(json_t **j)
{
  json_decref(*j);
}

#define cleanup_free __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_json __attribute__((cleanup(cleanup_json_fn)))

/* Hands ownership out of a cleanup_* local: return steal_ptr(p); */
#define steal_ptr(p)                                                                               \
  ({                                                                                               \
    __typeof__(p) stolen_ = (p);                                                                   \
    (p) = NULL;                                                                                    \
    stolen_;                                                                                       \
  })

#endif
