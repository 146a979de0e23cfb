/* kubelet_client.h — the API server's connection to a node's kubelet endpoint: TLS with
 * the apiserver-kubelet-client certificate, one raw HTTP/1.1 request, the response head,
 * then the connection as a byte pipe (a log body, or both directions after a 101).
 * The kubelet's serving certificate is not verified, as upstream does without
 * --kubelet-certificate-authority; the kubelet authenticates us by our certificate. */
#ifndef K8C_APISERVER_KUBELET_CLIENT_H
#define K8C_APISERVER_KUBELET_CLIENT_H

#include "lib/buf.h"
#include "lib/err.h"

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <sys/types.h>

/* One open connection; owned by whoever opened it (kubelet_conn_close). */
struct kubelet_conn {
  int fd;
  gnutls_session_t session;
  gnutls_certificate_credentials_t cred;
};

/* Connects and completes the TLS handshake within timeout_ms. */
int kubelet_conn_open(const char *host, int port, const char *client_cert_pem,
                      const char *client_key_pem, int timeout_ms, struct kubelet_conn *c,
                      k8c_err *err);
void kubelet_conn_close(struct kubelet_conn *c);
/* Writes everything; -1 if the connection failed. */
int kubelet_conn_write(struct kubelet_conn *c, const void *data, size_t len);
/* Reads what is available (blocking until something is); 0 at EOF, -1 on error. */
ssize_t kubelet_conn_read(struct kubelet_conn *c, void *data, size_t len);
/* True if TLS has decrypted bytes buffered (poll would not see them). */
int kubelet_conn_pending(struct kubelet_conn *c);

/* Reads a response head: *status, *headers (new object, lowercase name → value, repeated
 * names joined with ", "; caller-owned), and any body bytes read past the head into rest. */
int kubelet_read_head(struct kubelet_conn *c, int *status, json_t **headers, buf *rest,
                      k8c_err *err);

#endif
