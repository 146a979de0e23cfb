/* server.h — the HTTPS API server: TLS with client-certificate and bearer-token
 * authentication, routing to health, version, discovery, OpenAPI and the resource
 * handlers. One thread per connection (libmicrohttpd), so a watch can block. */
#ifndef K8C_APISERVER_SERVER_H
#define K8C_APISERVER_SERVER_H

#include "lib/err.h"
#include "registry/registry.h"

#include <stdatomic.h>
#include <stdbool.h>

struct pki;

struct apiserver_config {
  const char *bind_address; /* "0.0.0.0" default */
  int port;                 /* 6443 */
  const char *serving_cert_pem;
  const char *serving_key_pem;
  const char *client_ca_pem;
  const char *server_ca_pem;     /* served at /cacerts for joining agents, may be NULL */
  const char *token;             /* the server token (bearer), may be NULL */
  const char *advertise_address; /* for /api serverAddressByClientCIDRs */
  struct registry *reg;
  const char *kubelet_client_cert_pem; /* presented to kubelets (logs, exec ...), may be NULL */
  const char *kubelet_client_key_pem;
  /* Signs joining agents' kubelet serving certificates (/v1-k8c/serving-kubelet.crt);
   * may be NULL (the endpoint then answers 404). Borrowed: must outlive the server. */
  const struct pki *pki;
};

struct apiserver;

/* Starts serving in background threads; the registry must outlive the server. */
struct apiserver *apiserver_start(const struct apiserver_config *cfg, k8c_err *err);
/* Marks the server ready (/readyz answers ok from now on). */
void apiserver_set_ready(struct apiserver *s);
void apiserver_stop(struct apiserver *s);

#endif
