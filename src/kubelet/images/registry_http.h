/* registry_http.h — one HTTP GET against a registry over libcurl, with the timeouts,
 * TLS settings and error wording every registry request shares.
 *
 * The body goes to a caller's sink (memory for manifests and tokens, a file for blobs);
 * a non-2xx answer is turned into an error carrying the registry's own reason
 * ("manifest unknown (HTTP 404)"), so it reaches ErrImagePull unchanged. */
#ifndef K8C_KUBELET_IMAGES_REGISTRY_HTTP_H
#define K8C_KUBELET_IMAGES_REGISTRY_HTTP_H

#include "kubelet/images/registries.h"
#include "lib/buf.h"
#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* Most bytes a manifest, index, config or token answer may have. */
#define REGISTRY_SMALL_BODY_MAX (8 << 20)

struct registry_http_options {
  const struct registry_host_config *config; /* TLS settings; may be NULL */
  int timeout_seconds;                       /* connect, and longest silence mid-transfer */
  const char *authorization;                 /* full header value ("Bearer x") or NULL */
  const char *accept;                        /* Accept header value or NULL */
  int64_t resume_from;                       /* > 0: ask for bytes from this offset */
};

/* Receives body bytes of a 2xx answer; returns 0, or -1 to abort the transfer. */
typedef int (*registry_http_sink)(void *ctx, long status, const void *data, size_t len);

struct registry_http_response {
  long status;
  char *content_type;     /* owned, may be NULL */
  char *www_authenticate; /* owned, may be NULL */
  char *content_digest;   /* Docker-Content-Digest, owned, may be NULL */
  buf error_body;         /* the body of a non-2xx answer (bounded) */
};

void registry_http_response_free(struct registry_http_response *r);

/* GETs url. Fills *resp (always free it). Returns 0 when the transfer completed, whatever
 * the status; -1 with err when it could not (no connection, timeout, sink abort). */
int registry_http_get(const char *url, const struct registry_http_options *opts,
                      registry_http_sink sink, void *sink_ctx, struct registry_http_response *resp,
                      k8c_err *err);

/* Turns a non-2xx response into err: the registry's error message(s) when the body holds
 * {"errors":[...]}, else the HTTP reason; with the status appended. Returns -1. */
int registry_http_status_error(const struct registry_http_response *resp, const char *what,
                               k8c_err *err);

/* A sink that appends to the buf at ctx, up to REGISTRY_SMALL_BODY_MAX bytes. */
int registry_http_sink_buf(void *ctx, long status, const void *data, size_t len);

#endif
