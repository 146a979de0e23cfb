/* async_conn.h — one keep-alive mutual-TLS HTTP/1.1 connection driven by an event loop
 * (event_pool.c) instead of a blocking thread.
 *
 * The handshake is done blocking when the connection opens; afterwards the socket is
 * non-blocking (GnuTLS reads through tls_conn's buffer, one recv() per response). The caller sends
 * one request, waits until the socket is readable, and feeds the connection until the response is
 * complete. */
#ifndef K8C_BENCH_ASYNC_CONN_H
#define K8C_BENCH_ASYNC_CONN_H

#include "lib/buf.h"
#include "lib/err.h"
#include "loadgen.h"

#include <gnutls/gnutls.h>

typedef struct async_conn async_conn;

/* Connects to target->server and completes the TLS handshake with creds (borrowed; must
 * outlive the connection), verifying the server. Returns NULL with err filled on failure.
 * Free with async_conn_free. */
async_conn *async_conn_open(const bench_target *target, gnutls_certificate_credentials_t creds,
                            k8c_err *err);
void async_conn_free(async_conn *conn);

/* The socket to wait on for readability. */
int async_conn_fd(const async_conn *conn);

/* Sends "METHOD PATH" (with a JSON body when body is not NULL). The previous response must
 * be complete. Returns 0, or -1 with err filled (the connection is then unusable). */
int async_conn_send(async_conn *conn, const char *method, const char *path, const char *body,
                    size_t body_len, k8c_err *err);

/* True when bytes already received (not yet decrypted) may complete the response, so the
 * caller must call async_conn_read before waiting on the socket again. */
bool async_conn_has_buffered(const async_conn *conn);

/* Reads what the socket has. Returns 1 when the response is complete (*status set, its
 * decoded body in body, caller-owned and kept NUL-terminated), 0 when more bytes are
 * needed, -1 with err filled on a transport or framing failure. */
int async_conn_read(async_conn *conn, long *status, buf *body, k8c_err *err);

/* False once a response said (or the peer's close showed) that the server will not take
 * another request on this connection: open a new one. */
bool async_conn_reusable(const async_conn *conn);

/* Blocks until the response to the request just sent is complete (warm-up). */
long async_conn_wait(async_conn *conn, buf *body, k8c_err *err);

#endif
