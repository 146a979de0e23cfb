/* async_conn.c — a non-blocking keep-alive HTTPS connection for the event loop (see
 * async_conn.h).
 *
 * GnuTLS reads through the buffered transport of tls_conn.h. The plaintext accumulates in rx until
 * the head and the whole body are there; the body is then copied (or de-chunked) into the caller's
 * buffer, as the blocking raw client does. */
#include "async_conn.h"

#include "http_response.h"
#include "raw_http.h"
#include "tls_conn.h"

#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

enum {
  ASYNC_RX_CAP = 64 * 1024,   /* plaintext of one response head plus buffered body */
  ASYNC_WAIT_MS = 120 * 1000, /* async_conn_wait and full-socket sends give up after */
};

struct async_conn {
  tls_conn tls;  /* owned */
  buf head_tail; /* header lines every request carries */
  buf base_path; /* path prefix of the server URL */
  buf request;   /* scratch */
  char *rx;      /* owned; ASYNC_RX_CAP bytes of plaintext */
  size_t rx_len;
  /* the response being read */
  bool have_head;
  http_head head;
  size_t body_pos; /* where undecoded body bytes start in rx */
  uint64_t remaining;
  chunked_decoder chunks;
  bool peer_closed;
  bool closing; /* the last response said the server closes the connection */
};

static int advance(async_conn *conn, long *status, buf *body, k8c_err *err);
static void response_reset(async_conn *conn);

async_conn *
async_conn_open(const bench_target *target, gnutls_certificate_credentials_t creds, k8c_err *err)
{
  char host[RAW_HTTP_HOST_MAX], port[RAW_HTTP_PORT_MAX];
  async_conn *conn = xcalloc(1, sizeof(*conn));
  conn->tls.fd = -1;
  buf_init(&conn->head_tail);
  buf_init(&conn->base_path);
  buf_init(&conn->request);
  if (raw_http_split_url(target->server, host, port, &conn->base_path, err) < 0 ||
      tls_conn_open(&conn->tls, host, port, creds, err) < 0) {
    async_conn_free(conn);
    return NULL;
  }
  int flags = fcntl(conn->tls.fd, F_GETFL);
  if (flags < 0 || fcntl(conn->tls.fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "O_NONBLOCK: %s", strerror(errno));
    async_conn_free(conn);
    return NULL;
  }
  int bracket = strchr(host, ':') != NULL;
  buf_printf(&conn->head_tail,
             "Host: %s%s%s:%s\r\nAccept: application/json\r\nUser-Agent: k8c-loadgen\r\n",
             bracket ? "[" : "", host, bracket ? "]" : "", port);
  conn->rx = xmalloc(ASYNC_RX_CAP);
  response_reset(conn);
  return conn;
}

void
async_conn_free(async_conn *conn)
{
  if (conn == NULL)
    return;
  tls_conn_close(&conn->tls);
  buf_free(&conn->head_tail);
  buf_free(&conn->base_path);
  buf_free(&conn->request);
  free(conn->rx);
  free(conn);
}

int
async_conn_fd(const async_conn *conn)
{
  return conn->tls.fd;
}

int
async_conn_send(async_conn *conn, const char *method, const char *path, const char *body,
                size_t body_len, k8c_err *err)
{
  buf *request = &conn->request;
  buf_reset(request);
  buf_puts(request, method);
  buf_append(request, " ", 1);
  buf_append(request, conn->base_path.data, conn->base_path.len);
  buf_puts(request, path);
  buf_append(request, " HTTP/1.1\r\n", 11);
  buf_append(request, conn->head_tail.data, conn->head_tail.len);
  if (body != NULL) {
    buf_printf(request, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body_len);
    buf_append(request, body, body_len);
  } else {
    buf_append(request, "\r\n", 2);
  }
  response_reset(conn);
  const char *data = request->data;
  size_t len = request->len;
  bool retrying = false; /* GnuTLS wants the same call repeated with no data after AGAIN */
  while (len > 0) {
    ssize_t n = retrying ? gnutls_record_send(conn->tls.session, NULL, 0)
                         : gnutls_record_send(conn->tls.session, data, len);
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
      /* The socket is full (rare for a request this small): wait until it drains. */
      struct pollfd p = {.fd = conn->tls.fd, .events = POLLOUT};
      if (poll(&p, 1, ASYNC_WAIT_MS) <= 0)
        return k8c_error(err, 504, K8C_REASON_TIMEOUT, "TLS send: timed out");
      retrying = true;
      continue;
    }
    if (n < 0)
      return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "TLS send: %s", gnutls_strerror((int)n));
    retrying = false;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

bool
async_conn_reusable(const async_conn *conn)
{
  return !conn->closing;
}

bool
async_conn_has_buffered(const async_conn *conn)
{
  return tls_conn_has_buffered(&conn->tls);
}

int
async_conn_read(async_conn *conn, long *status, buf *body, k8c_err *err)
{
  for (;;) {
    if (conn->rx_len == ASYNC_RX_CAP) {
      /* Only undecoded body bytes can fill rx: decode them to make room. */
      int done = advance(conn, status, body, err);
      if (done != 0)
        return done;
      if (conn->rx_len == ASYNC_RX_CAP)
        return k8c_error(err, 502, K8C_REASON_INTERNAL, "response head larger than %d bytes",
                         ASYNC_RX_CAP);
    }
    ssize_t n =
        gnutls_record_recv(conn->tls.session, conn->rx + conn->rx_len, ASYNC_RX_CAP - conn->rx_len);
    if (n == GNUTLS_E_AGAIN)
      return 0;
    if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_REHANDSHAKE)
      continue;
    if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
      conn->peer_closed = true;
      int done = advance(conn, status, body, err);
      if (done != 0)
        return done;
      return k8c_error(err, 502, K8C_REASON_UNAVAILABLE,
                       "connection closed before the response was complete");
    }
    if (n < 0)
      return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "TLS receive: %s",
                       gnutls_strerror((int)n));
    conn->rx_len += (size_t)n;
    int done = advance(conn, status, body, err);
    if (done != 0)
      return done;
  }
}

long
async_conn_wait(async_conn *conn, buf *body, k8c_err *err)
{
  for (;;) {
    long status = 0;
    int done = async_conn_read(conn, &status, body, err);
    if (done < 0)
      return -1;
    if (done > 0)
      return status;
    struct pollfd p = {.fd = conn->tls.fd, .events = POLLIN};
    if (poll(&p, 1, ASYNC_WAIT_MS) <= 0)
      return k8c_error(err, 504, K8C_REASON_TIMEOUT, "no response within %d s",
                       ASYNC_WAIT_MS / 1000);
  }
}

/* Parses what rx holds of the response. Returns 1 when it is complete, 0 when more bytes
 * are needed, -1 on malformed framing. */
static int
advance(async_conn *conn, long *status, buf *body, k8c_err *err)
{
  while (!conn->have_head) {
    long head_len = http_head_parse(conn->rx, conn->rx_len, &conn->head);
    if (head_len == 0)
      return 0;
    if (head_len < 0)
      return k8c_error(err, 502, K8C_REASON_INTERNAL, "malformed response head");
    if (conn->head.framing == HTTP_BODY_NONE && conn->head.status < 200) {
      /* An interim 1xx response: drop it and read the real one. */
      conn->rx_len -= (size_t)head_len;
      memmove(conn->rx, conn->rx + head_len, conn->rx_len);
      continue;
    }
    conn->have_head = true;
    conn->body_pos = (size_t)head_len;
    conn->remaining = conn->head.content_length;
    buf_reset(body);
  }
  size_t avail = conn->rx_len - conn->body_pos;
  const char *in = conn->rx + conn->body_pos;
  int done = 0;
  switch (conn->head.framing) {
  case HTTP_BODY_NONE:
    done = 1;
    break;
  case HTTP_BODY_LENGTH: {
    size_t take = (uint64_t)avail < conn->remaining ? avail : (size_t)conn->remaining;
    buf_append(body, in, take);
    conn->remaining -= take;
    done = conn->remaining == 0;
    break;
  }
  case HTTP_BODY_CHUNKED: {
    size_t consumed = 0;
    done = chunked_decoder_feed(&conn->chunks, in, avail, body, &consumed);
    if (done < 0)
      return k8c_error(err, 502, K8C_REASON_INTERNAL, "malformed chunked body");
    break;
  }
  case HTTP_BODY_UNTIL_CLOSE:
    buf_append(body, in, avail);
    done = conn->peer_closed;
    break;
  }
  /* Everything after the head has been decoded into body; keep rx for the head only. */
  conn->rx_len = conn->body_pos;
  if (!done)
    return 0;
  buf_cstr(body);
  *status = conn->head.status;
  conn->closing = conn->head.close || conn->peer_closed;
  return 1;
}

static void
response_reset(async_conn *conn)
{
  conn->have_head = false;
  conn->rx_len = 0;
  conn->body_pos = 0;
  conn->remaining = 0;
  conn->peer_closed = false;
  chunked_decoder_init(&conn->chunks);
}
