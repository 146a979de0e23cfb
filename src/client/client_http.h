/* client_http.h — the API client backend for code outside `k8c server` (`k8c agent`):
 * the same k8c_client calls over the Kubernetes REST API, HTTPS with libcurl.
 *
 * One client is shared by many threads: requests borrow an idle curl handle from a small
 * pool, and every handle shares one connection cache, so connections are reused. The
 * server's certificate is always verified against the given CA. */
#ifndef K8C_CLIENT_CLIENT_HTTP_H
#define K8C_CLIENT_CLIENT_HTTP_H

#include "client/client.h"
#include "lib/err.h"

#include <stddef.h>

struct client_http_config {
  const char *server;        /* "https://HOST:PORT" (no trailing path) */
  const char *ca_file;       /* PEM bundle that must have signed the server's certificate */
  const char *cert_file;     /* client certificate (PEM), with key_file; or NULL */
  const char *key_file;      /* its private key (PEM) */
  const char *token;         /* bearer token; or NULL (used when cert_file is NULL) */
  const char *user_agent;    /* NULL = "k8c" */
  const char *field_manager; /* for writes whose options name none; NULL = "k8c" */
  int timeout_ms;            /* per request other than watches; 0 = 30000 */
  int max_idle_handles;      /* pooled curl handles kept idle; 0 = 16 */
};

/* A client for cfg (strings are copied). NULL with a 400 if cfg is incomplete; nothing
 * is contacted yet. Free with client_free (every watch must be closed first). */
k8c_client *client_http_new(const struct client_http_config *cfg, k8c_err *err);

/* Fetches the server's CA bundle from SERVER/cacerts without trusting the connection,
 * as a k3s agent does, and accepts it only if its SHA-256 (lowercase hex) equals
 * ca_hash: the hash a K10 join token carries. *pem_out (caller frees) is the bundle's
 * exact bytes, NUL-terminated. -1 with 401 on a hash mismatch, 503 if unreachable. */
int client_http_fetch_ca(const char *server, const char *ca_hash, char **pem_out, size_t *len_out,
                         k8c_err *err);

#endif
