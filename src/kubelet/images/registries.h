/* registries.h — registries.yaml in k3s's format: mirrors (with endpoints and optional
 * repository rewrites) and per-host configs (auth, TLS).
 *
 * The file is data; the one decision made here is the ordered list of endpoints to try
 * for an image: the mirror's endpoints (exact host, else "*"), then the registry itself,
 * reached over plain HTTP when it is a loopback address, as Docker does. */
#ifndef K8C_KUBELET_IMAGES_REGISTRIES_H
#define K8C_KUBELET_IMAGES_REGISTRIES_H

#include "kubelet/images/reference.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>

struct registry_rewrite {
  char *pattern;     /* POSIX extended regular expression over the repository path */
  char *replacement; /* "$1"-style references to its groups */
};

struct registry_mirror {
  char *host; /* "docker.io", "ghcr.io", "*" */
  char **endpoints;
  size_t n_endpoints;
  struct registry_rewrite *rewrites;
  size_t n_rewrites;
};

struct registry_host_config {
  char *host;       /* "127.0.0.1:5000", "registry.example.com", "*" */
  char *basic_auth; /* base64("user:password") or NULL; never log it */
  bool insecure_skip_verify;
  char *ca_file;
  char *cert_file;
  char *key_file;
};

struct registries_config {
  struct registry_mirror *mirrors;
  size_t n_mirrors;
  struct registry_host_config *configs;
  size_t n_configs;
};

/* One place to ask for an image's manifests and blobs. */
struct registry_endpoint {
  char *api_base;   /* "https://host:port[/prefix]/v2" */
  char *host;       /* "host:port" as configs are keyed */
  char *repository; /* the repository path on this endpoint (after rewrites) */
  const struct registry_host_config *config; /* borrowed from the registries_config; may be NULL */
};

/* Parses registries.yaml text. Empty text gives an empty config. Caller frees with
 * registries_free. NULL with a 400 Invalid on malformed input. */
struct registries_config *registries_parse(const char *text, size_t len, k8c_err *err);

/* Reads and parses path; a missing file gives an empty config. */
struct registries_config *registries_load(const char *path, k8c_err *err);

void registries_free(struct registries_config *cfg);

/* The endpoints to try for ref, in order. cfg may be NULL. With include_default false the
 * registry itself is left out when a mirror has endpoints (k3s's
 * --disable-default-registry-endpoint). Caller frees with registry_endpoints_free. */
int registries_endpoints(const struct registries_config *cfg, const struct image_ref *ref,
                         bool include_default, struct registry_endpoint **out, size_t *n,
                         k8c_err *err);
void registry_endpoints_free(struct registry_endpoint *endpoints, size_t n);

/* The config for host ("host:port"), else the "*" config, else NULL. Borrowed. */
const struct registry_host_config *registries_host_config(const struct registries_config *cfg,
                                                          const char *host);

/* True for localhost, 127.0.0.0/8 and ::1, with or without a port. */
bool registry_host_is_loopback(const char *host);

#endif
