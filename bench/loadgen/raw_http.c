/* raw_http.c — keep-alive HTTP/1.1 over a GnuTLS connection (see raw_http.h).
 *
 * Responses are read into one fixed receive buffer per client; the head is parsed in
 * place, and body bytes are copied (or de-chunked) into the caller's buffer, whose
 * capacity survives between requests. Bytes after a response stay buffered. */
#include "raw_http.h"

#include "http_response.h"
#include "tls_conn.h"

#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

enum { RAW_HTTP_RX_CAP = 64 * 1024 };

struct raw_http {
  gnutls_certificate_credentials_t creds; /* owned */
  char host[RAW_HTTP_HOST_MAX];           /* as dialled and verified, without brackets */
  char port[RAW_HTTP_PORT_MAX];
  buf base_path;   /* path prefix of the server URL ("" normally) */
  buf head_tail;   /* the header lines every request carries, formatted once */
  buf request;     /* scratch: the request being sent */
  tls_conn conn;   /* fd -1 when not connected */
  uint64_t served; /* responses read on the current connection */
  char *rx;        /* owned; RAW_HTTP_RX_CAP bytes */
  size_t rx_len;   /* bytes buffered (always starting at rx[0] between responses) */
};

static long read_response(raw_http *client, buf *body, int *got_nothing, k8c_err *err);
static long read_body(raw_http *client, const http_head *head, size_t pos, buf *body, k8c_err *err);
static void put_decimal(buf *out, size_t value);
static void disconnect(raw_http *client);

raw_http *
raw_http_new(const bench_target *target, k8c_err *err)
{
  if (target->ca_file == NULL) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "the raw client needs --tls-dir");
    return NULL;
  }
  raw_http *client = xcalloc(1, sizeof(*client));
  client->conn.fd = -1;
  buf_init(&client->base_path);
  buf_init(&client->head_tail);
  buf_init(&client->request);
  if (raw_http_split_url(target->server, client->host, client->port, &client->base_path, err) < 0 ||
      tls_credentials_load(&client->creds, target->ca_file, target->cert_file, target->key_file,
                           err) < 0) {
    raw_http_free(client);
    return NULL;
  }
  int bracket = strchr(client->host, ':') != NULL; /* IPv6 literal */
  buf_printf(&client->head_tail,
             "Host: %s%s%s:%s\r\nAccept: application/json\r\nUser-Agent: k8c-loadgen\r\n",
             bracket ? "[" : "", client->host, bracket ? "]" : "", client->port);
  client->rx = xmalloc(RAW_HTTP_RX_CAP);
  return client;
}

void
raw_http_free(raw_http *client)
{
  if (client == NULL)
    return;
  disconnect(client);
  if (client->creds != NULL)
    gnutls_certificate_free_credentials(client->creds);
  buf_free(&client->base_path);
  buf_free(&client->head_tail);
  buf_free(&client->request);
  free(client->rx);
  free(client);
}

long
raw_http_request(raw_http *client, const char *method, const char *path, const char *body,
                 size_t body_len, buf *response_body, k8c_err *err)
{
  buf *request = &client->request;
  buf_reset(request);
  buf_puts(request, method);
  buf_append(request, " ", 1);
  buf_append(request, client->base_path.data, client->base_path.len);
  buf_puts(request, path);
  buf_append(request, " HTTP/1.1\r\n", 11);
  buf_append(request, client->head_tail.data, client->head_tail.len);
  if (body != NULL) {
    buf_puts(request, "Content-Type: application/json\r\nContent-Length: ");
    put_decimal(request, body_len);
    buf_append(request, "\r\n\r\n", 4);
    buf_append(request, body, body_len);
  } else {
    buf_append(request, "\r\n", 2);
  }

  for (int attempt = 0;; attempt++) {
    if (client->conn.fd < 0) {
      if (tls_conn_open(&client->conn, client->host, client->port, client->creds, err) < 0)
        return -1;
      client->served = 0;
      client->rx_len = 0;
    }
    /* A kept-alive connection may have been closed by the server meanwhile; like any
     * HTTP client, retry once on a new one if it failed before any response byte. */
    int may_retry = attempt == 0 && client->served > 0;
    int got_nothing = 1;
    long status = -1;
    if (tls_conn_send(&client->conn, request->data, request->len, err) == 0)
      status = read_response(client, response_body, &got_nothing, err);
    if (status >= 0)
      return status;
    disconnect(client);
    if (!(may_retry && got_nothing))
      return k8c_err_prefix(err, "%s %s", method, path);
    k8c_err_clear(err);
  }
}

/* Reads one final response (skipping any 1xx); returns its status. *got_nothing stays 1
 * while not a single response byte has arrived. */
static long
read_response(raw_http *client, buf *body, int *got_nothing, k8c_err *err)
{
  buf_reset(body);
  http_head head;
  long head_len;
  for (;;) {
    while ((head_len = http_head_parse(client->rx, client->rx_len, &head)) == 0) {
      if (client->rx_len == RAW_HTTP_RX_CAP)
        return k8c_error(err, 502, K8C_REASON_INTERNAL, "response head larger than %d bytes",
                         RAW_HTTP_RX_CAP);
      long n = tls_conn_recv(&client->conn, client->rx + client->rx_len,
                             RAW_HTTP_RX_CAP - client->rx_len, err);
      if (n < 0)
        return -1;
      if (n == 0)
        return k8c_error(err, 502, K8C_REASON_UNAVAILABLE,
                         "connection closed before the response was complete");
      *got_nothing = 0;
      client->rx_len += (size_t)n;
    }
    if (head_len < 0)
      return k8c_error(err, 502, K8C_REASON_INTERNAL, "malformed response head");
    if (head.framing != HTTP_BODY_NONE || head.status >= 200)
      break;
    /* An interim 1xx response: drop it and read the real one. */
    client->rx_len -= (size_t)head_len;
    memmove(client->rx, client->rx + head_len, client->rx_len);
  }
  long end = read_body(client, &head, (size_t)head_len, body, err);
  if (end < 0)
    return -1;
  client->rx_len -= (size_t)end;
  memmove(client->rx, client->rx + end, client->rx_len);
  buf_cstr(body);
  if (head.close)
    disconnect(client);
  client->served++;
  return head.status;
}

/* Reads the body that starts at rx[pos]; returns where the response ends in rx. */
static long
read_body(raw_http *client, const http_head *head, size_t pos, buf *body, k8c_err *err)
{
  if (head->framing == HTTP_BODY_NONE)
    return (long)pos;
  uint64_t remaining = head->content_length;
  chunked_decoder chunks;
  chunked_decoder_init(&chunks);
  for (;;) {
    size_t avail = client->rx_len - pos;
    switch (head->framing) {
    case HTTP_BODY_LENGTH: {
      size_t take = (uint64_t)avail < remaining ? avail : (size_t)remaining;
      buf_append(body, client->rx + pos, take);
      pos += take;
      remaining -= take;
      if (remaining == 0)
        return (long)pos;
      break;
    }
    case HTTP_BODY_CHUNKED: {
      size_t consumed = 0;
      int done = chunked_decoder_feed(&chunks, client->rx + pos, avail, body, &consumed);
      if (done < 0)
        return k8c_error(err, 502, K8C_REASON_INTERNAL, "malformed chunked body");
      pos += consumed;
      if (done)
        return (long)pos;
      break;
    }
    case HTTP_BODY_UNTIL_CLOSE:
    case HTTP_BODY_NONE:
      buf_append(body, client->rx + pos, avail);
      pos += avail;
      break;
    }
    /* Everything buffered is consumed: refill from the start of rx. */
    client->rx_len = 0;
    pos = 0;
    long n = tls_conn_recv(&client->conn, client->rx, RAW_HTTP_RX_CAP, err);
    if (n < 0)
      return -1;
    if (n == 0) {
      if (head->framing == HTTP_BODY_UNTIL_CLOSE)
        return 0;
      return k8c_error(err, 502, K8C_REASON_UNAVAILABLE,
                       "connection closed in the middle of the response body");
    }
    client->rx_len = (size_t)n;
  }
}

int
raw_http_split_url(const char *url, char host_out[RAW_HTTP_HOST_MAX],
                   char port_out[RAW_HTTP_PORT_MAX], buf *base_path, k8c_err *err)
{
  const char *scheme = "https://";
  if (url == NULL || strncmp(url, scheme, strlen(scheme)) != 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "the raw client needs an https:// URL: %s",
                     url ? url : "(none)");
  const char *p = url + strlen(scheme);
  const char *host = p, *host_end;
  if (*p == '[') {
    host = p + 1;
    host_end = strchr(host, ']');
    if (host_end == NULL)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad IPv6 address in %s", url);
    p = host_end + 1;
  } else {
    host_end = host + strcspn(host, ":/");
    p = host_end;
  }
  size_t host_len = (size_t)(host_end - host);
  if (host_len == 0 || host_len >= RAW_HTTP_HOST_MAX)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad host in %s", url);
  memcpy(host_out, host, host_len);
  host_out[host_len] = 0;
  const char *port = "443";
  size_t port_len = 3;
  if (*p == ':') {
    port = ++p;
    port_len = strspn(p, "0123456789");
    p += port_len;
  }
  if (port_len == 0 || port_len >= RAW_HTTP_PORT_MAX || (*p != 0 && *p != '/'))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad port in %s", url);
  memcpy(port_out, port, port_len);
  port_out[port_len] = 0;
  size_t prefix_len = strlen(p);
  while (prefix_len > 0 && p[prefix_len - 1] == '/')
    prefix_len--;
  buf_append(base_path, p, prefix_len);
  return 0;
}

static void
put_decimal(buf *out, size_t value)
{
  char digits[24];
  size_t n = 0;
  do {
    digits[sizeof(digits) - ++n] = (char)('0' + value % 10);
    value /= 10;
  } while (value > 0);
  buf_append(out, digits + sizeof(digits) - n, n);
}

static void
disconnect(raw_http *client)
{
  tls_conn_close(&client->conn);
  client->rx_len = 0;
}
