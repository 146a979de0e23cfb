/* kubelet_client.c — a plain TCP connection with GnuTLS on top, written by hand because
 * the upgraded connection must stay a raw byte pipe after the HTTP exchange (libcurl
 * cannot hand it over). Timeouts only bound the connect, handshake and response head. */
#include "apiserver/kubelet_client.h"

#include "lib/mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_HEAD (64u * 1024u)

static int
connect_timeout(const char *host, int port, int timeout_ms, k8c_err *err)
{
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(host, service, &hints, &res);
  if (gai != 0)
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "error dialing backend: lookup %s: %s", host,
                     gai_strerror(gai));
  int fd = -1;
  int last_errno = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
      continue;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int so_error = ETIMEDOUT;
      socklen_t sl = sizeof so_error;
      if (poll(&p, 1, timeout_ms) == 1)
        (void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &sl);
      rc = so_error ? -1 : 0;
      errno = so_error;
    }
    if (rc < 0) {
      last_errno = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "error dialing backend: dial tcp %s:%d: %s",
                     host, port, strerror(last_errno));
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0)
    (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

static void
set_timeouts(int fd, int timeout_ms)
{
  struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int
kubelet_conn_open(const char *host, int port, const char *client_cert_pem,
                  const char *client_key_pem, int timeout_ms, struct kubelet_conn *c, k8c_err *err)
{
  memset(c, 0, sizeof *c);
  c->fd = -1;
  if (client_cert_pem == NULL || client_key_pem == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL,
                     "the API server has no kubelet client certificate");
  int fd = connect_timeout(host, port, timeout_ms, err);
  if (fd < 0)
    return -1;
  c->fd = fd;
  gnutls_datum_t cert = {(unsigned char *)client_cert_pem, (unsigned)strlen(client_cert_pem)};
  gnutls_datum_t key = {(unsigned char *)client_key_pem, (unsigned)strlen(client_key_pem)};
  int rc = gnutls_certificate_allocate_credentials(&c->cred);
  if (rc == 0)
    rc = gnutls_certificate_set_x509_key_mem(c->cred, &cert, &key, GNUTLS_X509_FMT_PEM);
  if (rc == 0)
    rc = gnutls_init(&c->session, GNUTLS_CLIENT);
  if (rc == 0)
    rc = gnutls_set_default_priority(c->session);
  if (rc == 0)
    rc = gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred);
  if (rc < 0) {
    kubelet_conn_close(c);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "kubelet client TLS setup: %s",
                     gnutls_strerror(rc));
  }
  gnutls_transport_set_int(c->session, fd);
  set_timeouts(fd, timeout_ms);
  do
    rc = gnutls_handshake(c->session);
  while (rc < 0 && !gnutls_error_is_fatal(rc));
  if (rc < 0) {
    kubelet_conn_close(c);
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "error dialing backend: tls handshake: %s",
                     gnutls_strerror(rc));
  }
  return 0;
}

void
kubelet_conn_close(struct kubelet_conn *c)
{
  if (c->session) {
    gnutls_deinit(c->session);
    c->session = NULL;
  }
  if (c->cred) {
    gnutls_certificate_free_credentials(c->cred);
    c->cred = NULL;
  }
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

int
kubelet_conn_write(struct kubelet_conn *c, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = gnutls_record_send(c->session, p, len);
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

ssize_t
kubelet_conn_read(struct kubelet_conn *c, void *data, size_t len)
{
  for (;;) {
    ssize_t n = gnutls_record_recv(c->session, data, len);
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
      continue;
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
      return 0;
    return n < 0 ? -1 : n;
  }
}

int
kubelet_conn_pending(struct kubelet_conn *c)
{
  return gnutls_record_check_pending(c->session) > 0;
}

static void
add_header(json_t *headers, const char *line, size_t len)
{
  const char *colon = memchr(line, ':', len);
  if (colon == NULL)
    return;
  char *name = xstrndup(line, (size_t)(colon - line));
  for (char *q = name; *q; q++)
    *q = (char)tolower((unsigned char)*q);
  const char *v = colon + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
    end--;
  const char *old = json_string_value(json_object_get(headers, name));
  char *value =
      old ? xasprintf("%s, %.*s", old, (int)(end - v), v) : xstrndup(v, (size_t)(end - v));
  json_object_set_new(headers, name, json_stringn_nocheck(value, strlen(value)));
  free(value);
  free(name);
}

int
kubelet_read_head(struct kubelet_conn *c, int *status, json_t **headers, buf *rest, k8c_err *err)
{
  *headers = NULL;
  buf head;
  buf_init(&head);
  char chunk[4096];
  char *end = NULL;
  while ((end = head.len ? strstr(head.data, "\r\n\r\n") : NULL) == NULL) {
    if (head.len > MAX_HEAD) {
      buf_free(&head);
      return k8c_error(err, 502, K8C_REASON_INTERNAL, "kubelet: response head too large");
    }
    ssize_t n = kubelet_conn_read(c, chunk, sizeof chunk - 1);
    if (n <= 0) {
      buf_free(&head);
      return k8c_error(err, 502, K8C_REASON_INTERNAL,
                       "error reading from the kubelet: connection closed");
    }
    buf_append(&head, chunk, (size_t)n);
  }
  size_t head_len = (size_t)(end - head.data) + 4;
  buf_append(rest, head.data + head_len, head.len - head_len);
  int code = 0;
  if (sscanf(head.data, "HTTP/%*d.%*d %d", &code) != 1) {
    buf_free(&head);
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "kubelet: malformed response");
  }
  *status = code;
  json_t *h = json_object();
  const char *line = strstr(head.data, "\r\n") + 2;
  while (line < head.data + head_len - 2) {
    const char *eol = strstr(line, "\r\n");
    if (eol == NULL)
      break;
    add_header(h, line, (size_t)(eol - line));
    line = eol + 2;
  }
  *headers = h;
  set_timeouts(c->fd, 0); /* streams may idle for as long as the user likes */
  buf_free(&head);
  return 0;
}
