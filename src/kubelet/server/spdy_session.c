/* spdy_session.c — the server half of a SPDY/3.1 connection as moby/spdystream's client
 * expects it: every SYN_STREAM gets a SYN_REPLY (the client waits for it), PINGs are
 * echoed, and frames are handed up one at a time straight from the receive buffer.
 * Flow control windows are not enforced by spdystream, so none are kept here. */
#include "kubelet/server/server_internal.h"

#include <string.h>

#define DATA_PIECE 32768

int
spdy_session_init(struct spdy_session *s, int fd, bool ws_tunnel, const char *extra,
                  size_t extra_len, k8c_err *err)
{
  memset(s, 0, sizeof *s);
  if (spdy_codec_init(&s->codec, err) < 0)
    return -1;
  stream_conn_init(&s->conn, fd, ws_tunnel, extra, extra_len);
  return 0;
}

void
spdy_session_free(struct spdy_session *s)
{
  spdy_codec_free(&s->codec);
  stream_conn_free(&s->conn);
}

int
spdy_session_send_raw(struct spdy_session *s, buf *frames)
{
  int rc = stream_conn_write(&s->conn, frames->data, frames->len);
  buf_reset(frames);
  return rc;
}

int
spdy_session_send_data(struct spdy_session *s, uint32_t stream_id, const void *data, size_t len,
                       bool fin)
{
  buf out;
  buf_init(&out);
  const char *p = data;
  do {
    size_t piece = len > DATA_PIECE ? DATA_PIECE : len;
    bool last = piece == len;
    spdy_data_encode(&out, stream_id, last && fin ? SPDY_FLAG_FIN : 0, p, piece);
    p += piece;
    len -= piece;
  } while (len > 0);
  int rc = spdy_session_send_raw(s, &out);
  buf_free(&out);
  return rc;
}

int
spdy_session_next(struct spdy_session *s, struct spdy_frame *f, json_t **headers, k8c_err *err)
{
  *headers = NULL;
  for (;;) {
    stream_conn_consume(&s->conn, s->consumed);
    s->consumed = 0;
    ssize_t n = spdy_frame_decode((const uint8_t *)s->conn.app.data, s->conn.app.len,
                                  SPDY_MAX_FRAME, f, err);
    if (n <= 0)
      return (int)n;
    s->consumed = (size_t)n;
    if (f->type == SPDY_PING) {
      buf out;
      buf_init(&out);
      spdy_ping_encode(&out, f->value);
      int rc = spdy_session_send_raw(s, &out);
      buf_free(&out);
      if (rc < 0)
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "spdy: peer gone");
      continue;
    }
    if (f->type == SPDY_SYN_STREAM) {
      *headers = spdy_headers_decode(&s->codec, f->payload, f->len, err);
      if (*headers == NULL)
        return -1;
      if (f->stream_id > s->last_client_stream)
        s->last_client_stream = f->stream_id;
      buf out;
      buf_init(&out);
      spdy_syn_reply_encode(&s->codec, &out, f->stream_id, 0, NULL);
      int rc = spdy_session_send_raw(s, &out);
      buf_free(&out);
      if (rc < 0) {
        json_decref(*headers);
        *headers = NULL;
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "spdy: peer gone");
      }
    } else if (f->type == SPDY_HEADERS) {
      /* keep the zlib stream in step even though nothing here needs these headers */
      json_t *h = spdy_headers_decode(&s->codec, f->payload, f->len, err);
      if (h == NULL)
        return -1;
      json_decref(h);
    }
    return 1;
  }
}
