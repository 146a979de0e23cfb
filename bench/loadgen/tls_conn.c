/* tls_conn.c — TCP connect plus GnuTLS session for the raw client (see tls_conn.h).
 *
 * The socket stays blocking with kernel timeouts, so a request is plain send/recv calls
 * with no poll loop; a timeout surfaces as GnuTLS "try again", reported as an error.
 * GnuTLS reads through a buffer of this connection, refilled a whole socket's worth at a
 * time (the event loop's non-blocking connections use the same transport). */
#include "tls_conn.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

enum { TLS_CONN_CIPHER_CAP = 64 * 1024 };

static int tcp_connect(const char *host, const char *port, k8c_err *err);
static ssize_t pull_buffered(gnutls_transport_ptr_t ptr, void *data, size_t len);
static ssize_t push_vec(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt);

int
tls_credentials_load(gnutls_certificate_credentials_t *creds, const char *ca_file,
                     const char *cert_file, const char *key_file, k8c_err *err)
{
  *creds = NULL;
  int rc = gnutls_certificate_allocate_credentials(creds);
  if (rc < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "gnutls credentials: %s", gnutls_strerror(rc));
  rc = gnutls_certificate_set_x509_trust_file(*creds, ca_file, GNUTLS_X509_FMT_PEM);
  if (rc <= 0) {
    gnutls_certificate_free_credentials(*creds);
    *creds = NULL;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "loading CA %s: %s", ca_file,
                     rc == 0 ? "no certificate in file" : gnutls_strerror(rc));
  }
  rc = gnutls_certificate_set_x509_key_file(*creds, cert_file, key_file, GNUTLS_X509_FMT_PEM);
  if (rc < 0) {
    gnutls_certificate_free_credentials(*creds);
    *creds = NULL;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "loading client certificate %s / %s: %s",
                     cert_file, key_file, gnutls_strerror(rc));
  }
  return 0;
}

int
tls_conn_open(tls_conn *conn, const char *host, const char *port,
              gnutls_certificate_credentials_t creds, k8c_err *err)
{
  conn->session = NULL;
  conn->cipher = NULL;
  conn->cipher_pos = conn->cipher_len = 0;
  conn->fd = tcp_connect(host, port, err);
  if (conn->fd < 0)
    return -1;
  int rc = gnutls_init(&conn->session, GNUTLS_CLIENT);
  if (rc < 0) {
    conn->session = NULL;
    tls_conn_close(conn);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "gnutls_init: %s", gnutls_strerror(rc));
  }
  if ((rc = gnutls_set_default_priority(conn->session)) < 0 ||
      (rc = gnutls_credentials_set(conn->session, GNUTLS_CRD_CERTIFICATE, creds)) < 0) {
    tls_conn_close(conn);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "TLS session setup: %s", gnutls_strerror(rc));
  }
  /* Server Name Indication carries DNS names only; an IP literal is verified all the same. */
  struct in6_addr scratch;
  if (inet_pton(AF_INET, host, &scratch) != 1 && inet_pton(AF_INET6, host, &scratch) != 1 &&
      (rc = gnutls_server_name_set(conn->session, GNUTLS_NAME_DNS, host, strlen(host))) < 0) {
    tls_conn_close(conn);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "TLS server name: %s", gnutls_strerror(rc));
  }
  gnutls_session_set_verify_cert(conn->session, host, 0);
  gnutls_transport_set_int(conn->session, conn->fd);
  gnutls_handshake_set_timeout(conn->session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
  do {
    rc = gnutls_handshake(conn->session);
  } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
  if (rc < 0) {
    char detail[256] = "";
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
      gnutls_datum_t text = {0};
      unsigned status = gnutls_session_get_verify_cert_status(conn->session);
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
        snprintf(detail, sizeof(detail), " (%s)", (const char *)text.data);
        gnutls_free(text.data);
      }
    }
    tls_conn_close(conn);
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "TLS handshake with %s:%s: %s%s", host, port,
                     gnutls_strerror(rc), detail);
  }
  conn->cipher = xmalloc(TLS_CONN_CIPHER_CAP);
  gnutls_transport_set_ptr(conn->session, conn);
  gnutls_transport_set_pull_function(conn->session, pull_buffered);
  gnutls_transport_set_vec_push_function(conn->session, push_vec);
  return 0;
}

bool
tls_conn_has_buffered(const tls_conn *conn)
{
  return conn->cipher_pos < conn->cipher_len ||
         (conn->session != NULL && gnutls_record_check_pending(conn->session) > 0);
}

/* GnuTLS pull: serve buffered bytes; refill with one recv() of all the socket has. */
static ssize_t
pull_buffered(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
  tls_conn *conn = ptr;
  if (conn->cipher_pos == conn->cipher_len) {
    conn->cipher_pos = conn->cipher_len = 0;
    ssize_t n;
    do {
      n = recv(conn->fd, conn->cipher, TLS_CONN_CIPHER_CAP, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      gnutls_transport_set_errno(conn->session, errno);
      return -1;
    }
    conn->cipher_len = (size_t)n;
    if (n == 0)
      return 0;
  }
  size_t avail = conn->cipher_len - conn->cipher_pos;
  size_t take = avail < len ? avail : len;
  memcpy(data, conn->cipher + conn->cipher_pos, take);
  conn->cipher_pos += take;
  return (ssize_t)take;
}

static ssize_t
push_vec(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
  tls_conn *conn = ptr;
  struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
  ssize_t n;
  do {
    n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    gnutls_transport_set_errno(conn->session, errno);
  return n;
}

int
tls_conn_send(tls_conn *conn, const char *data, size_t len, k8c_err *err)
{
  while (len > 0) {
    ssize_t n = gnutls_record_send(conn->session, data, len);
    if (n == GNUTLS_E_INTERRUPTED)
      continue;
    if (n < 0)
      return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "TLS send: %s", gnutls_strerror((int)n));
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

long
tls_conn_recv(tls_conn *conn, char *out, size_t cap, k8c_err *err)
{
  for (;;) {
    ssize_t n = gnutls_record_recv(conn->session, out, cap);
    if (n >= 0)
      return (long)n;
    if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_REHANDSHAKE)
      continue;
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
      return 0; /* the peer closed the socket without close_notify */
    if (n == GNUTLS_E_AGAIN)
      return k8c_error(err, 504, K8C_REASON_TIMEOUT, "TLS receive: timed out");
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "TLS receive: %s", gnutls_strerror((int)n));
  }
}

void
tls_conn_close(tls_conn *conn)
{
  if (conn->session != NULL)
    gnutls_deinit(conn->session);
  conn->session = NULL;
  if (conn->fd >= 0)
    close(conn->fd);
  conn->fd = -1;
  free(conn->cipher);
  conn->cipher = NULL;
  conn->cipher_pos = conn->cipher_len = 0;
}

static int
tcp_connect(const char *host, const char *port, k8c_err *err)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *addresses = NULL;
  int rc = getaddrinfo(host, port, &hints, &addresses);
  if (rc != 0)
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "resolving %s: %s", host, gai_strerror(rc));
  int fd = -1;
  int saved_errno = 0;
  for (struct addrinfo *a = addresses; a != NULL && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      saved_errno = errno;
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      saved_errno = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(addresses);
  if (fd < 0)
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "connecting to %s:%s: %s", host, port,
                     strerror(saved_errno));
  int one = 1;
  struct timeval timeout = {.tv_sec = 120};
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0) {
    saved_errno = errno;
    close(fd);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "socket options: %s", strerror(saved_errno));
  }
  return fd;
}
