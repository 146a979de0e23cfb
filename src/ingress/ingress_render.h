/* ingress_render.h — the model → nginx.conf, as text. A pure function: the controller
 * compares its output with what nginx runs and reloads only when it differs.
 *
 * Layout: one upstream per Service port (an upstream without ready endpoints points at
 * an internal server answering 503), split_clients/map blocks choosing canary backends
 * per request, the catch-all server "_" (default_server, the built-in 404 or
 * spec.defaultBackend), then one server per host with its locations longest path
 * first. Every location line ends with a comment naming its Ingress, so an error
 * nginx reports on a line can be traced back to the object. */
#ifndef K8C_INGRESS_INGRESS_RENDER_H
#define K8C_INGRESS_INGRESS_RENDER_H

#include "ingress/ingress_model.h"

struct ingress_render_config {
  const char *state_dir;    /* absolute; pid, logs, sockets, tls/ and tmp/ live there */
  const char *http_listen;  /* nginx listen address: "80", "127.0.0.1:18080" */
  const char *https_listen; /* "443", "127.0.0.1:18443" */
  int https_port;           /* for ssl-redirect Locations (443 = no port in the URL) */
  const char *worker_user;  /* "user" directive ("nobody nogroup"); NULL = none */
};

/* The whole nginx.conf; caller frees. */
char *ingress_render(const struct ingress_model *m, const struct ingress_render_config *cfg);

/* Where a certificate file lives: STATE/tls/<ns>_<name>.pem ("default" for the default
 * certificate when secret is NULL). Caller frees. */
char *ingress_cert_path(const char *state_dir, const char *secret);

/* The "ns/name" of the Ingress that produced line (1-based) of a rendered config, or
 * NULL. Caller frees. */
char *ingress_render_owner_of_line(const char *config, int line);

#endif
