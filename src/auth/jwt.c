/* jwt.c — ES256 compact JWTs (see jwt.h). gnutls does the ECDSA; JWS wants the raw
 * r||s signature (32 + 32 bytes) where gnutls speaks DER, so signatures are converted
 * both ways. nettle does base64url and SHA-256. */
#include "auth/jwt.h"

#include "lib/mem.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <string.h>

#define ES256_HALF 32 /* bytes in r and in s */

struct jwt_signer {
  gnutls_privkey_t priv;
  gnutls_pubkey_t pub;
  char *kid;
};

static int
gnutls_fail(k8c_err *err, const char *what, int rc)
{
  return k8c_error(err, 500, K8C_REASON_INTERNAL, "jwt: %s: %s", what, gnutls_strerror(rc));
}

/* base64url without padding, as JWS uses it. Caller frees. */
static char *
b64url_encode(const unsigned char *data, size_t len)
{
  struct base64_encode_ctx ctx;
  base64url_encode_init(&ctx);
  char *out = xmalloc(BASE64_ENCODE_LENGTH(len) + BASE64_ENCODE_FINAL_LENGTH + 1);
  size_t n = base64_encode_update(&ctx, out, len, data);
  n += base64_encode_final(&ctx, out + n);
  while (n > 0 && out[n - 1] == '=')
    n--;
  out[n] = '\0';
  return out;
}

/* Decodes unpadded base64url; NULL if text is not valid base64url. Caller frees *out. */
static unsigned char *
b64url_decode(const char *text, size_t len, size_t *out_len)
{
  if (len % 4 == 1)
    return NULL;
  for (size_t i = 0; i < len; i++)
    if (text[i] == '=')
      return NULL;
  size_t padded_len = len + (4 - len % 4) % 4;
  cleanup_free char *padded = xmalloc(padded_len + 1);
  memcpy(padded, text, len);
  memset(padded + len, '=', padded_len - len);
  struct base64_decode_ctx ctx;
  base64url_decode_init(&ctx);
  unsigned char *out = xmalloc(BASE64_DECODE_LENGTH(padded_len) + 1);
  size_t n = BASE64_DECODE_LENGTH(padded_len);
  if (!base64_decode_update(&ctx, &n, out, padded_len, padded) || !base64_decode_final(&ctx)) {
    free(out);
    return NULL;
  }
  *out_len = n;
  return out;
}

int
jwt_generate_key(char **key_pem, k8c_err *err)
{
  gnutls_x509_privkey_t key;
  int rc = gnutls_x509_privkey_init(&key);
  if (rc < 0)
    return gnutls_fail(err, "initialising key", rc);
  rc = gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
  gnutls_datum_t pem = {NULL, 0};
  if (rc >= 0)
    rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem);
  gnutls_x509_privkey_deinit(key);
  if (rc < 0)
    return gnutls_fail(err, "generating ECDSA P-256 key", rc);
  char *text = xmalloc(pem.size + 1);
  memcpy(text, pem.data, pem.size);
  text[pem.size] = '\0';
  explicit_bzero(pem.data, pem.size);
  gnutls_free(pem.data);
  *key_pem = text;
  return 0;
}

static char *
key_id(gnutls_pubkey_t pub, k8c_err *err)
{
  gnutls_datum_t der = {NULL, 0};
  int rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
  if (rc < 0) {
    gnutls_fail(err, "exporting public key", rc);
    return NULL;
  }
  struct sha256_ctx h;
  unsigned char digest[SHA256_DIGEST_SIZE];
  sha256_init(&h);
  sha256_update(&h, der.size, der.data);
  sha256_digest(&h, sizeof digest, digest);
  gnutls_free(der.data);
  return b64url_encode(digest, sizeof digest);
}

struct jwt_signer *
jwt_signer_new(const char *key_pem, k8c_err *err)
{
  struct jwt_signer *s = xcalloc(1, sizeof *s);
  gnutls_datum_t d = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
  unsigned bits = 0;
  int rc;
  if ((rc = gnutls_privkey_init(&s->priv)) < 0 ||
      (rc = gnutls_privkey_import_x509_raw(s->priv, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
    gnutls_fail(err, "loading the signing key", rc);
    jwt_signer_free(s);
    return NULL;
  }
  if (gnutls_privkey_get_pk_algorithm(s->priv, &bits) != GNUTLS_PK_ECDSA || bits != 256) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "jwt: the signing key is not ECDSA P-256");
    jwt_signer_free(s);
    return NULL;
  }
  if ((rc = gnutls_pubkey_init(&s->pub)) < 0 ||
      (rc = gnutls_pubkey_import_privkey(s->pub, s->priv, 0, 0)) < 0) {
    gnutls_fail(err, "deriving the public key", rc);
    jwt_signer_free(s);
    return NULL;
  }
  if ((s->kid = key_id(s->pub, err)) == NULL) {
    jwt_signer_free(s);
    return NULL;
  }
  return s;
}

void
jwt_signer_free(struct jwt_signer *s)
{
  if (s == NULL)
    return;
  if (s->priv)
    gnutls_privkey_deinit(s->priv);
  if (s->pub)
    gnutls_pubkey_deinit(s->pub);
  free(s->kid);
  free(s);
}

const char *
jwt_signer_key_id(const struct jwt_signer *s)
{
  return s->kid;
}

/* Copies a DER integer's magnitude into a fixed ES256_HALF-byte big-endian field. */
static int
fixed_half(const gnutls_datum_t *v, unsigned char out[ES256_HALF])
{
  const unsigned char *p = v->data;
  size_t n = v->size;
  while (n > 0 && *p == 0) {
    p++;
    n--;
  }
  if (n > ES256_HALF)
    return -1;
  memset(out, 0, ES256_HALF - n);
  memcpy(out + ES256_HALF - n, p, n);
  return 0;
}

char *
jwt_sign(const struct jwt_signer *s, const json_t *claims, k8c_err *err)
{
  cleanup_json json_t *header = json_pack("{s:s,s:s}", "alg", "ES256", "kid", s->kid);
  cleanup_free char *header_text = json_dumps(header, JSON_COMPACT);
  cleanup_free char *claims_text = json_dumps(claims, JSON_COMPACT);
  if (header_text == NULL || claims_text == NULL) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "jwt: encoding the claims");
    return NULL;
  }
  cleanup_free char *h64 = b64url_encode((const unsigned char *)header_text, strlen(header_text));
  cleanup_free char *p64 = b64url_encode((const unsigned char *)claims_text, strlen(claims_text));
  cleanup_free char *input = xasprintf("%s.%s", h64, p64);
  gnutls_datum_t data = {(unsigned char *)input, (unsigned)strlen(input)};
  gnutls_datum_t der = {NULL, 0}, r = {NULL, 0}, sv = {NULL, 0};
  int rc = gnutls_privkey_sign_data(s->priv, GNUTLS_DIG_SHA256, 0, &data, &der);
  if (rc < 0) {
    gnutls_fail(err, "signing", rc);
    return NULL;
  }
  rc = gnutls_decode_rs_value(&der, &r, &sv);
  gnutls_free(der.data);
  if (rc < 0) {
    gnutls_fail(err, "decoding the signature", rc);
    return NULL;
  }
  unsigned char raw[2 * ES256_HALF];
  int bad = fixed_half(&r, raw) < 0 || fixed_half(&sv, raw + ES256_HALF) < 0;
  gnutls_free(r.data);
  gnutls_free(sv.data);
  if (bad) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "jwt: signature values too long");
    return NULL;
  }
  cleanup_free char *sig64 = b64url_encode(raw, sizeof raw);
  return xasprintf("%s.%s", input, sig64);
}

static json_t *
unauthorized(k8c_err *err, const char *why)
{
  k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, "invalid bearer token: %s", why);
  return NULL;
}

/* Decodes one base64url segment holding a JSON object; NULL if it is not one. */
static json_t *
segment_object(const char *text, size_t len)
{
  size_t n = 0;
  cleanup_free unsigned char *raw = b64url_decode(text, len, &n);
  if (raw == NULL)
    return NULL;
  json_t *obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
  if (obj != NULL && !json_is_object(obj)) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

json_t *
jwt_verify(const struct jwt_signer *s, const char *token, size_t len, k8c_err *err)
{
  if (len == 0 || len > JWT_MAX_TOKEN_BYTES)
    return unauthorized(err, "bad length");
  const char *dot1 = memchr(token, '.', len);
  const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
    return unauthorized(err, "not a compact JWT");
  cleanup_json json_t *header = segment_object(token, (size_t)(dot1 - token));
  if (header == NULL)
    return unauthorized(err, "malformed header");
  const char *alg = json_string_value(json_object_get(header, "alg"));
  const char *kid = json_string_value(json_object_get(header, "kid"));
  if (alg == NULL || strcmp(alg, "ES256") != 0)
    return unauthorized(err, "unsupported algorithm");
  if (kid != NULL && strcmp(kid, s->kid) != 0)
    return unauthorized(err, "unknown key id");

  size_t sig_len = 0;
  const char *sig_text = dot2 + 1;
  cleanup_free unsigned char *sig =
      b64url_decode(sig_text, len - (size_t)(sig_text - token), &sig_len);
  if (sig == NULL || sig_len != 2 * ES256_HALF)
    return unauthorized(err, "malformed signature");
  gnutls_datum_t r = {sig, ES256_HALF}, sv = {sig + ES256_HALF, ES256_HALF};
  gnutls_datum_t der = {NULL, 0};
  if (gnutls_encode_rs_value(&der, &r, &sv) < 0)
    return unauthorized(err, "malformed signature");
  gnutls_datum_t data = {(unsigned char *)token, (unsigned)(dot2 - token)};
  int rc = gnutls_pubkey_verify_data2(s->pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &der);
  gnutls_free(der.data);
  if (rc < 0)
    return unauthorized(err, "signature does not verify");
  json_t *claims = segment_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  if (claims == NULL)
    return unauthorized(err, "malformed claims");
  return claims;
}

int
jwt_looks_like(const char *token)
{
  int dots = 0;
  size_t n = 0;
  for (const char *p = token; *p; p++, n++) {
    if (*p == '.')
      dots++;
    else if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
               *p == '-' || *p == '_'))
      return 0;
  }
  return dots == 2 && n > 4;
}
