/* serviceaccount_token.h — the serviceaccounts/token subresource (TokenRequest, as
 * `kubectl create token` and the kubelet use it) and the authentication of the tokens it
 * issued: a token is good only while its ServiceAccount (same uid) and its bound Pod or
 * Secret (same uid, not past deletion) exist, as upstream checks them. */
#ifndef K8C_REGISTRY_CORE_SERVICEACCOUNT_TOKEN_H
#define K8C_REGISTRY_CORE_SERVICEACCOUNT_TOKEN_H

#include "auth/satoken.h"
#include "lib/err.h"

#include <jansson.h>

struct registry;

/* Tokens a kubelet asks for with this lifetime are extended to a year when bound to a
 * pod (upstream's --service-account-extend-token-expiration, on in k3s). */
#define SATOKEN_KUBELET_DEFAULT_SECONDS 3607
#define SATOKEN_EXTENDED_SECONDS (365LL * 24 * 3600)

/* POST .../serviceaccounts/NAME/token: body is an authentication.k8s.io/v1 TokenRequest.
 * *out (new reference) is the TokenRequest with spec defaulted and status.token and
 * status.expirationTimestamp filled. 404 when the registry has no token issuer, the
 * ServiceAccount or the bound object is missing; 422 for a bad spec; 409 when the bound
 * object's uid differs. */
int registry_token_request(struct registry *reg, const char *ns, const char *name,
                           const json_t *body, json_t **out, k8c_err *err);

/* Checks a presented bearer token; on success fills *who. 401 otherwise. */
int registry_token_authenticate(struct registry *reg, const char *token,
                                struct satoken_subject *who, k8c_err *err);

#endif
