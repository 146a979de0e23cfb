/* auth.h — the registry token flow: parse a 401's WWW-Authenticate challenge and turn it
 * into an Authorization header value (a bearer token from the realm, or Basic).
 *
 * Credentials come from registries.yaml; without them the token request is anonymous,
 * which is how public images on Docker Hub and ghcr.io are pulled. */
#ifndef K8C_KUBELET_IMAGES_AUTH_H
#define K8C_KUBELET_IMAGES_AUTH_H

#include "kubelet/images/registries.h"
#include "lib/err.h"

struct auth_challenge {
  char *scheme;  /* "Bearer" or "Basic" */
  char *realm;   /* token endpoint URL for Bearer */
  char *service; /* may be NULL */
  char *scope;   /* may be NULL */
};

/* Parses `Bearer realm="...",service="...",scope="..."`. Returns 0, or -1 if the header
 * is not a challenge. Caller frees with auth_challenge_free. */
int auth_challenge_parse(const char *header, struct auth_challenge *out);
void auth_challenge_free(struct auth_challenge *c);

/* The Authorization header value answering challenge for repository (pull scope), using
 * config's credentials when present. Caller frees. NULL with err (401 when the registry
 * refuses the credentials). */
char *auth_authorize(const struct auth_challenge *challenge, const char *repository,
                     const struct registry_host_config *config, int timeout_seconds, k8c_err *err);

#endif
