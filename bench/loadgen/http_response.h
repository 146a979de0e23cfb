/* http_response.h — a small HTTP/1.1 response parser for the raw load-generator client:
 * the status line and the three headers that frame a response, then the body, either a
 * Content-Length, chunked transfer encoding, or everything until the peer closes.
 *
 * It works on bytes the caller already has in memory and never allocates, except that
 * decoded body bytes are appended to a caller-owned buf (which keeps its capacity). */
#ifndef K8C_BENCH_HTTP_RESPONSE_H
#define K8C_BENCH_HTTP_RESPONSE_H

#include "lib/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef enum http_body_framing {
  HTTP_BODY_NONE,       /* 1xx, 204, 304: no body at all */
  HTTP_BODY_LENGTH,     /* Content-Length bytes */
  HTTP_BODY_CHUNKED,    /* Transfer-Encoding: chunked */
  HTTP_BODY_UNTIL_CLOSE /* neither: the body ends when the connection does */
} http_body_framing;

typedef struct http_head {
  int status;
  http_body_framing framing;
  uint64_t content_length; /* when framing == HTTP_BODY_LENGTH */
  int close;               /* the server will close the connection after this response */
} http_head;

/* Parses the status line and headers at the start of data (len bytes). Returns the length
 * of the head including the blank line that ends it, 0 if the head is not complete yet,
 * or -1 if it is malformed (not HTTP/1.x, bad status, bad or conflicting Content-Length). */
long http_head_parse(const char *data, size_t len, http_head *head);

typedef enum chunked_state {
  CHUNK_SIZE,      /* hex digits of the next chunk's size */
  CHUNK_SIZE_TAIL, /* chunk extensions / CR up to the LF that ends the size line */
  CHUNK_DATA,      /* remaining bytes of the current chunk */
  CHUNK_DATA_CR,   /* the CR after the data */
  CHUNK_DATA_LF,   /* the LF after the data */
  CHUNK_TRAILER,   /* start of a trailer line, or the final empty line */
  CHUNK_TRAILER_SKIP,
  CHUNK_FINAL_LF,
  CHUNK_DONE,
} chunked_state;

/* Incremental decoder of a chunked body: feed it the bytes in any pieces. */
typedef struct chunked_decoder {
  chunked_state state;
  uint64_t remaining; /* of the current chunk (CHUNK_DATA), or the size being read */
  int digits;         /* hex digits read in the current size line */
} chunked_decoder;

void chunked_decoder_init(chunked_decoder *decoder);

/* Decodes up to len bytes of in, appending chunk data to out. *consumed receives how many
 * bytes of in belong to the body (less than len only when the body ended inside in).
 * Returns 1 when the whole body (last chunk and trailers) has been read, 0 when more bytes
 * are needed, -1 on malformed framing. */
int chunked_decoder_feed(chunked_decoder *decoder, const char *in, size_t len, buf *out,
                         size_t *consumed);

#endif
