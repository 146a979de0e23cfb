/* jwt.h — compact JSON Web Tokens signed with ES256 (ECDSA P-256, SHA-256), the kind
 * Kubernetes issues to ServiceAccounts. A signer holds one key pair; it signs a claims
 * object and verifies a token's signature, returning its claims. Checking what the
 * claims mean (issuer, audience, expiry) is the caller's job: see satoken.h.
 *
 * Design idea: the decoder trusts nothing before the signature checks out, and it
 * bounds every input (token length, segment sizes) so it can be fuzzed directly. */
#ifndef K8C_AUTH_JWT_H
#define K8C_AUTH_JWT_H

#include "lib/err.h"

#include <jansson.h>
#include <stddef.h>

/* Longest token jwt_verify accepts, in bytes. */
#define JWT_MAX_TOKEN_BYTES 8192

struct jwt_signer;

/* Makes a fresh ECDSA P-256 private key; *key_pem (PKCS#8 PEM, a secret: wipe it with
 * secure_free_secret or explicit_bzero + free) is the caller's. */
int jwt_generate_key(char **key_pem, k8c_err *err);

/* Loads the private key (PEM: "EC PRIVATE KEY" or PKCS#8). The key id ("kid" header) is
 * derived from the public key, as upstream derives it. Free with jwt_signer_free. */
struct jwt_signer *jwt_signer_new(const char *key_pem, k8c_err *err);
void jwt_signer_free(struct jwt_signer *s);

/* The key id: base64url of the SHA-256 of the DER public key. Owned by the signer. */
const char *jwt_signer_key_id(const struct jwt_signer *s);

/* Signs claims (an object; serialised compactly) into "header.payload.signature".
 * The returned string is the caller's (a credential: never log it). */
char *jwt_sign(const struct jwt_signer *s, const json_t *claims, k8c_err *err);

/* Verifies token's ES256 signature under s's key and returns its claims (a new
 * reference). 401 Unauthorized for anything malformed, another algorithm or key id, or a
 * bad signature. */
json_t *jwt_verify(const struct jwt_signer *s, const char *token, size_t len, k8c_err *err);

/* True if token looks like a compact JWT (three base64url segments), a cheap test that
 * lets an authenticator tell JWTs from other bearer tokens. */
int jwt_looks_like(const char *token);

#endif
