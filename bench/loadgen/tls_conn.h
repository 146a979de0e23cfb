/* tls_conn.h — one blocking TCP connection with GnuTLS on top, for the raw HTTP client.
 *
 * The peer is verified against the credentials' trust store and the name it was dialled
 * by (an IP literal is checked against the certificate's IP addresses). Nothing here
 * knows HTTP; the connection moves bytes and reports the peer closing as end of stream. */
#ifndef K8C_BENCH_TLS_CONN_H
#define K8C_BENCH_TLS_CONN_H

#include "lib/err.h"

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tls_conn {
  int fd;                   /* owned; -1 when closed */
  gnutls_session_t session; /* owned; NULL when closed */
  char *cipher;             /* owned; received bytes GnuTLS has not taken yet */
  size_t cipher_pos;        /* next byte to hand to GnuTLS */
  size_t cipher_len;        /* bytes in cipher */
} tls_conn;

/* Loads the CA that the server certificate must chain to and the client certificate and
 * key presented for mutual TLS. *creds is owned by the caller (gnutls_certificate_free_
 * credentials) and may be shared read-only by many connections. */
int tls_credentials_load(gnutls_certificate_credentials_t *creds, const char *ca_file,
                         const char *cert_file, const char *key_file, k8c_err *err);

/* Connects to host:port over TCP (no Nagle, 120 s receive/send timeouts) and completes the
 * TLS handshake with creds (borrowed; must outlive the connection), verifying the peer
 * as host. On failure conn is left closed. After the handshake GnuTLS reads through
 * conn's own buffer, refilled by one recv() of whatever the socket holds (one system call
 * per response instead of one per TLS record header and one per record body), so conn
 * must not move in memory while open. */
int tls_conn_open(tls_conn *conn, const char *host, const char *port,
                  gnutls_certificate_credentials_t creds, k8c_err *err);

/* Sends all len bytes. */
int tls_conn_send(tls_conn *conn, const char *data, size_t len, k8c_err *err);

/* Receives up to cap bytes into out. Returns the count, 0 when the peer closed the
 * connection (with or without a TLS close_notify), or -1 with err filled. */
long tls_conn_recv(tls_conn *conn, char *out, size_t cap, k8c_err *err);

/* True when received bytes wait in conn's buffer or in GnuTLS: with a non-blocking socket
 * they must be read before waiting for the socket to become readable again. */
bool tls_conn_has_buffered(const tls_conn *conn);

/* Closes the connection (no close_notify is waited for); safe on a closed conn. */
void tls_conn_close(tls_conn *conn);

#endif
