/* ingress_model.h — what the ingress controller serves, as plain data: virtual servers
 * (one per host) with their locations, and upstreams (one per Service port) with their
 * ready endpoints. Built from Ingress, Service, EndpointSlice and Secret objects by a
 * pure function, so the renderer and its tests never see JSON, and the same inputs
 * always give the same model (everything is sorted). */
#ifndef K8C_INGRESS_INGRESS_MODEL_H
#define K8C_INGRESS_INGRESS_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define INGRESS_DEFAULT_SERVER "_"

enum ingress_path_kind {
  INGRESS_PATH_EXACT,  /* pathType Exact */
  INGRESS_PATH_PREFIX, /* pathType Prefix, or ImplementationSpecific without regex */
  INGRESS_PATH_REGEX,  /* ImplementationSpecific/Prefix on a host where regex is on */
};

/* The alternative backend a canary Ingress adds to a location. */
struct ingress_canary {
  char *upstream;     /* the canary's upstream name */
  int weight;         /* 0..weight_total; 0 = never by weight */
  int weight_total;   /* default 100 */
  char *header;       /* canary-by-header, or NULL */
  char *header_value; /* canary-by-header-value, or NULL ("always"/"never" semantics) */
};

struct ingress_location {
  char *path;
  enum ingress_path_kind kind;
  char *upstream;                /* NULL = the built-in 404 */
  char *rewrite_target;          /* NULL = none */
  bool ssl_redirect;             /* the owning Ingress' ssl-redirect (default true) */
  char *owner;                   /* "ns/name" of the Ingress, for comments */
  struct ingress_canary *canary; /* NULL = none */
};

struct ingress_server {
  char *host;              /* INGRESS_DEFAULT_SERVER for the catch-all server */
  bool regex;              /* use-regex or rewrite-target on any of its locations */
  bool tls;                /* listed in some Ingress' spec.tls */
  char *tls_secret;        /* "ns/name" whose files serve it; NULL = the default cert */
  char *fallback_upstream; /* for paths no location matches; NULL = 404 */
  struct ingress_location *locs;
  size_t n_locs;
};

struct ingress_upstream {
  char *name;       /* "ns-service-port" */
  char **endpoints; /* "ip:port" ("[ip6]:port"), sorted; n_endpoints may be 0 (→ 503) */
  size_t n_endpoints;
};

/* A certificate and key from a kubernetes.io/tls Secret, checked to parse and match. */
struct ingress_cert {
  char *secret; /* "ns/name" */
  char *pem;    /* the certificate chain followed by the key (one file for nginx) */
};

/* Something wrong with an object: becomes a Warning Event about it. */
struct ingress_problem {
  json_t *obj; /* a reference the problem owns */
  char *reason;
  char *message;
};

struct ingress_model {
  struct ingress_server *servers; /* sorted by host; "_" (always present) first */
  size_t n_servers;
  struct ingress_upstream *upstreams; /* sorted by name */
  size_t n_upstreams;
  struct ingress_cert *certs; /* sorted by secret */
  size_t n_certs;
  struct ingress_problem *problems;
  size_t n_problems;
  char **served; /* keys ("ns/name") of the Ingresses this model serves, sorted */
  size_t n_served;
};

/* The objects a model is built from; arrays of borrowed objects. ingresses must be the
 * ones of this controller's class already (see ingress_is_served). */
struct ingress_inputs {
  json_t **ingresses;
  size_t n_ingresses;
  json_t **services;
  size_t n_services;
  json_t **slices;
  size_t n_slices;
  json_t **secrets;
  size_t n_secrets;
};

/* Fills *out (zero it first; release with ingress_model_clear). Never fails: what is
 * wrong becomes a problem and is left out. */
void ingress_model_build(const struct ingress_inputs *in, struct ingress_model *out);

void ingress_model_clear(struct ingress_model *m);

/* Whether this controller serves ing: spec.ingressClassName == class_name, or no class
 * (neither field nor the legacy kubernetes.io/ingress.class annotation) and our class is
 * the default; the annotation alone naming our class also counts. */
bool ingress_is_served(const json_t *ing, const char *class_name, bool class_is_default);

/* Checks a kubernetes.io/tls Secret: decodes tls.crt and tls.key and checks that they
 * parse and belong together. Returns the PEM for nginx (caller frees), or NULL with a
 * reason in why (a static string). */
char *ingress_secret_pem(const json_t *secret, const char **why);

#endif
