/* conn.c — the byte pipe a streaming session runs over once the HTTP connection is
 * upgraded: either the socket itself, or (port-forward from kubectl 1.31+) SPDY bytes
 * carried in WebSocket binary messages, which this file unwraps and wraps so the SPDY
 * session above never knows the difference. */
#include "kubelet/server/server_internal.h"

#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define MAX_TUNNEL_MESSAGE (16u * 1024u * 1024u)

void
session_request_free(struct session_request *r)
{
  if (r == NULL)
    return;
  free(r->namespace_);
  free(r->pod);
  free(r->pod_uid);
  free(r->container);
  for (size_t i = 0; r->argv && r->argv[i]; i++)
    free(r->argv[i]);
  free(r->argv);
  free(r);
}

void
session_target(const struct session_request *r, struct stream_target *t)
{
  t->namespace_ = r->namespace_;
  t->pod = r->pod;
  t->pod_uid = r->pod_uid;
  t->container = r->container;
}

int
write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void
stream_conn_free(struct stream_conn *c)
{
  ws_reader_free(&c->ws);
  buf_free(&c->raw);
  buf_free(&c->app);
}

static int
decode_tunnel(struct stream_conn *c, k8c_err *err)
{
  size_t used = 0;
  for (;;) {
    struct ws_message m;
    bool have = false;
    ssize_t n =
        ws_reader_feed(&c->ws, (uint8_t *)c->raw.data + used, c->raw.len - used, &m, &have, err);
    if (n < 0)
      return -1;
    used += (size_t)n;
    if (!have)
      break;
    if (m.opcode == WS_OP_BINARY || m.opcode == WS_OP_TEXT) {
      buf_append(&c->app, m.payload, m.len);
    } else if (m.opcode == WS_OP_PING) {
      buf pong;
      buf_init(&pong);
      ws_frame_encode(&pong, WS_OP_PONG, m.payload, m.len, NULL);
      if (write_all(c->fd, pong.data, pong.len) < 0)
        c->eof = true;
      buf_free(&pong);
    } else if (m.opcode == WS_OP_CLOSE) {
      c->eof = true;
      break;
    }
  }
  if (c->raw.data) /* empty buffers have no storage yet */
    memmove(c->raw.data, c->raw.data + used, c->raw.len - used);
  c->raw.len -= used;
  return 0;
}

int
stream_conn_fill(struct stream_conn *c, k8c_err *err)
{
  char chunk[32768];
  ssize_t n;
  do
    n = read(c->fd, chunk, sizeof chunk);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    c->eof = true;
    return 0;
  }
  if (!c->ws_tunnel) {
    buf_append(&c->app, chunk, (size_t)n);
    return 0;
  }
  buf_append(&c->raw, chunk, (size_t)n);
  return decode_tunnel(c, err);
}

void
stream_conn_init(struct stream_conn *c, int fd, bool ws_tunnel, const char *extra, size_t extra_len)
{
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->ws_tunnel = ws_tunnel;
  ws_reader_init(&c->ws, MAX_TUNNEL_MESSAGE);
  buf_init(&c->raw);
  buf_init(&c->app);
  if (extra_len == 0)
    return;
  if (!ws_tunnel) {
    buf_append(&c->app, extra, extra_len);
    return;
  }
  buf_append(&c->raw, extra, extra_len); /* bytes that arrived with the upgrade */
  k8c_err err = {0};
  if (decode_tunnel(c, &err) < 0)
    c->eof = true;
  k8c_err_clear(&err);
}

int
stream_conn_write(struct stream_conn *c, const void *data, size_t len)
{
  if (!c->ws_tunnel)
    return write_all(c->fd, data, len);
  buf frame;
  buf_init(&frame);
  ws_frame_encode(&frame, WS_OP_BINARY, data, len, NULL);
  int rc = write_all(c->fd, frame.data, frame.len);
  buf_free(&frame);
  return rc;
}

void
stream_conn_consume(struct stream_conn *c, size_t n)
{
  if (n > c->app.len)
    n = c->app.len;
  if (c->app.data) /* empty buffers have no storage yet */
    memmove(c->app.data, c->app.data + n, c->app.len - n);
  c->app.len -= n;
}
