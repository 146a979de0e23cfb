/* satoken.h — ServiceAccount tokens as upstream issues them (bound, expiring JWTs): the
 * claims layout (iss, sub system:serviceaccount:NS:NAME, aud, exp/iat/nbf, jti and the
 * "kubernetes.io" claim naming the namespace, the ServiceAccount and the bound Pod or
 * Secret) and the checks on a presented token. Whether the named objects still exist is
 * checked by the registry (serviceaccount_token.h), which knows the store. */
#ifndef K8C_AUTH_SATOKEN_H
#define K8C_AUTH_SATOKEN_H

#include "lib/err.h"

#include <stdint.h>
#include <time.h>

/* Upstream's limits for TokenRequest.spec.expirationSeconds. */
#define SATOKEN_MIN_EXPIRATION_SECONDS 600
#define SATOKEN_DEFAULT_EXPIRATION_SECONDS 3600
#define SATOKEN_MAX_EXPIRATION_SECONDS (1LL << 32)

/* k3s's issuer; it is also the API server's audience. */
#define SATOKEN_DEFAULT_ISSUER "https://kubernetes.default.svc.cluster.local"

struct satoken_issuer;

/* key_pem: the ECDSA P-256 signing key (see jwt_generate_key); issuer NULL = the default.
 * Strings are copied. Free with satoken_issuer_free. */
struct satoken_issuer *satoken_issuer_new(const char *key_pem, const char *issuer, k8c_err *err);
void satoken_issuer_free(struct satoken_issuer *t);
const char *satoken_issuer_name(const struct satoken_issuer *t);

/* What a token is for; every string is borrowed. audiences: NULL-terminated, NULL or
 * empty = [the issuer]. bound_kind "Pod", "Secret" or NULL (unbound). */
struct satoken_request {
  const char *ns;
  const char *sa_name;
  const char *sa_uid;
  const char *const *audiences;
  int64_t expiration_seconds;
  const char *bound_kind;
  const char *bound_name;
  const char *bound_uid;
  time_t now;
};

/* The signed token (caller frees; a credential: never log it). */
char *satoken_issue(const struct satoken_issuer *t, const struct satoken_request *req,
                    k8c_err *err);

/* Who a valid token speaks for. */
struct satoken_subject {
  char ns[254];
  char sa_name[254];
  char sa_uid[64];
  char bound_kind[16]; /* "" when unbound */
  char bound_name[254];
  char bound_uid[64];
  time_t expires;
};

/* Verifies token: signature, issuer, an audience equal to the issuer (the API server's),
 * not before / expiry at now, a well-formed subject. 401 Unauthorized otherwise. */
int satoken_validate(const struct satoken_issuer *t, const char *token, time_t now,
                     struct satoken_subject *out, k8c_err *err);

#endif
