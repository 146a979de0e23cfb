/* tls_coalesce.c — one TLS record per small response (see tls_coalesce.h). The cork is
 * only taken when libmicrohttpd will keep the connection open after the response, so the
 * request-completed hook always runs before the socket is shut down; everything else
 * (HEAD, HTTP/1.0, "Connection: close", large bodies, watch streams) is sent as before. */
#include "apiserver/tls_coalesce.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Above this the body goes out as several records anyway; not worth holding back. */
#define COALESCE_MAX_BODY (12u * 1024u)
/* How long a full socket may hold the uncork before the connection is given up on. */
#define UNCORK_WAIT_MS 30000

static gnutls_session_t
session_of(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  return ci ? (gnutls_session_t)ci->tls_session : NULL;
}

static bool
keeps_connection(const struct api_request *r)
{
  if (r->version == NULL || strcmp(r->version, MHD_HTTP_VERSION_1_1) != 0)
    return false;
  const char *conn_hdr = request_header(r, MHD_HTTP_HEADER_CONNECTION);
  return conn_hdr == NULL || strcasestr(conn_hdr, "close") == NULL;
}

bool
tls_coalesce_begin(struct api_request *r, size_t body_len)
{
  if (r->corked || body_len == 0 || body_len > COALESCE_MAX_BODY ||
      strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0 || !keeps_connection(r))
    return false;
  gnutls_session_t session = session_of(r->conn);
  if (session == NULL)
    return false;
  gnutls_record_cork(session);
  r->corked = true;
  return true;
}

void
tls_coalesce_end(struct api_request *r)
{
  if (!r->corked)
    return;
  r->corked = false;
  gnutls_session_t session = session_of(r->conn);
  if (session == NULL)
    return;
  /* libmicrohttpd corks the TCP socket for a response's head and pushes (TCP_NODELAY)
   * after its last write, which here came before the bytes reach the socket: lift the
   * TCP cork so the record leaves now instead of after the kernel's 200 ms cork timer. */
  int fd = gnutls_transport_get_int(session);
  int off = 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off) != 0) {
    /* not a TCP socket; nothing holds the bytes back */
  }
  for (;;) {
    int rc = gnutls_record_uncork(session, 0);
    if (rc >= 0)
      return;
    if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED)
      return; /* the connection is broken; libmicrohttpd notices on its next read */
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (rc == GNUTLS_E_AGAIN && poll(&p, 1, UNCORK_WAIT_MS) <= 0)
      return;
  }
}
