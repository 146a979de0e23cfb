/* join_certs.h — a joining node agent's kubelet serving certificate, fetched from the
 * server it joins (GET /v1-k8c/serving-kubelet.crt, the join token as bearer, the server
 * verified against the CA the agent already trusts), as a k3s agent fetches its own. */
#ifndef K8C_CLIENT_JOIN_CERTS_H
#define K8C_CLIENT_JOIN_CERTS_H

#include "lib/err.h"

/* Every field is owned; release with join_serving_cert_free (the key is wiped). */
struct join_serving_cert {
  char *cert_pem;      /* the kubelet's serving certificate, signed by the server CA */
  char *key_pem;       /* its key: a secret */
  char *client_ca_pem; /* the CA of the API server's kubelet client certificate */
};

/* Asks server (https://HOST:PORT) for node_name's certificate; node_ip (may be NULL or
 * "") becomes an IP SAN. ca_file verifies the server. -1 with err (the server's message
 * when it refuses). */
int join_fetch_serving_cert(const char *server, const char *ca_file, const char *token,
                            const char *node_name, const char *node_ip,
                            struct join_serving_cert *out, k8c_err *err);

void join_serving_cert_free(struct join_serving_cert *c);

#endif
