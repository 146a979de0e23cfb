/* tls_conn.h — one blocking TCP connection with GnuTLS on top, for the raw HTTP client.
 *
 * The peer is verified against the credentials' trust store and the name it was dialled
 * by (an IP literal is checked against the certificate's IP addresses). Nothing here
 * knows HTTP; the connection moves bytes and reports the peer closing as end of stream. */
#ifndef K8C_BENCH_TLS_CONN_H
#define K8C_BENCH_TLS_CONN_H

#include "lib/err.h"

#include <gnutls/gnutls.h>
#include <stddef.h>

typedef struct tls_conn {
  int fd;                   /* owned; -1 when closed */
  gnutls_session_t session; /* owned; NULL when closed */
} tls_conn;

/* Loads the CA that the server certificate must chain to and the client certificate and
 * key presented for mutual TLS. *creds is owned by the caller (gnutls_certificate_free_
 * credentials) and may be shared read-only by many connections. */
int tls_credentials_load(gnutls_certificate_credentials_t *creds, const char *ca_file,
                         const char *cert_file, const char *key_file, k8c_err *err);

/* Connects to host:port over TCP (no Nagle, 120 s receive/send timeouts) and completes the
 * TLS handshake with creds (borrowed; must outlive the connection), verifying the peer
 * as host. On failure conn is left closed. */
int tls_conn_open(tls_conn *conn, const char *host, const char *port,
                  gnutls_certificate_credentials_t creds, k8c_err *err);

/* Sends all len bytes. */
int tls_conn_send(tls_conn *conn, const char *data, size_t len, k8c_err *err);

/* Receives up to cap bytes into out. Returns the count, 0 when the peer closed the
 * connection (with or without a TLS close_notify), or -1 with err filled. */
long tls_conn_recv(tls_conn *conn, char *out, size_t cap, k8c_err *err);

/* Closes the connection (no close_notify is waited for); safe on a closed conn. */
void tls_conn_close(tls_conn *conn);

#endif
