/* buf.h — a growable byte buffer for building responses, keys and log lines. */
#ifndef K8C_LIB_BUF_H
#define K8C_LIB_BUF_H

#include <stddef.h>

typedef struct buf {
  char *data; /* owned; always NUL-terminated when len > 0 or after buf_cstr() */
  size_t len;
  size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the contents as a C string (never NULL); the buffer keeps ownership. */
const char *buf_cstr(buf *b);
/* Hands the contents to the caller (free() it) and resets the buffer. */
char *buf_steal(buf *b, size_t *len);

#endif
