/* token.c — creating, reading and comparing the server token. The secret comes from
 * GnuTLS's key-grade random generator and the file is written atomically with mode
 * 0600; nothing here ever logs a token. */
#include "apiserver/token.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "apiserver/secure_file.h"
#include "lib/mem.h"

#define TOKEN_PREFIX "K10"
#define TOKEN_SECRET_BYTES 16

static void hex_encode(const unsigned char *in, size_t len, char *out);
static void trim_trailing_space(char *s);

int
token_ensure(const char *data_dir, char **token_out, k8c_err *err)
{
  *token_out = NULL;
  cleanup_free char *token_path = xasprintf("%s/server/token", data_dir);
  char *existing = NULL;
  int found = secure_read_file(token_path, &existing, NULL, err);
  if (found < 0)
    return -1;
  if (found > 0) {
    trim_trailing_space(existing);
    struct token_parts parts;
    k8c_err parse_err = {0};
    if (existing[0] == '\0' || token_parse(existing, &parts, &parse_err) < 0) {
      k8c_err_clear(&parse_err);
      secure_free_secret(existing);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s holds no valid token", token_path);
    }
    explicit_bzero(&parts, sizeof parts);
    *token_out = existing;
    return 0;
  }

  cleanup_free char *ca_path = xasprintf("%s/server/tls/server-ca.crt", data_dir);
  cleanup_free char *ca_pem = NULL;
  size_t ca_len = 0;
  found = secure_read_file(ca_path, &ca_pem, &ca_len, err);
  if (found <= 0)
    return found < 0 ? -1
                     : k8c_error(err, 500, K8C_REASON_INTERNAL,
                                 "creating token: %s does not exist yet", ca_path);
  char ca_hash[65];
  token_ca_hash(ca_pem, ca_len, ca_hash);

  unsigned char random[TOKEN_SECRET_BYTES];
  int rc = gnutls_rnd(GNUTLS_RND_KEY, random, sizeof random);
  if (rc < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "generating token: %s", gnutls_strerror(rc));
  char secret[2 * TOKEN_SECRET_BYTES + 1];
  hex_encode(random, sizeof random, secret);
  explicit_bzero(random, sizeof random);
  char *token = xasprintf(TOKEN_PREFIX "%s::server:%s", ca_hash, secret);
  explicit_bzero(secret, sizeof secret);

  cleanup_free char *server_dir = xasprintf("%s/server", data_dir);
  if (secure_mkdir_p(server_dir, 0700, err) < 0 ||
      secure_write_file(token_path, token, strlen(token), 0600, err) < 0) {
    secure_free_secret(token);
    return k8c_err_prefix(err, "writing token");
  }
  *token_out = token;
  return 0;
}

int
token_parse(const char *token, struct token_parts *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  size_t prefix_len = strlen(TOKEN_PREFIX);
  if (strncmp(token, TOKEN_PREFIX, prefix_len) != 0) {
    if (token[0] == '\0' || strlen(token) >= sizeof out->secret)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "token is empty or too long");
    strcpy(out->username, "server");
    strcpy(out->secret, token);
    return 0;
  }
  const char *hash = token + prefix_len;
  const char *sep = strstr(hash, "::");
  if (sep == NULL || sep - hash != 64)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "token has no valid CA hash");
  for (const char *p = hash; p < sep; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "token CA hash is not lowercase hex");
  const char *user = sep + 2;
  const char *colon = strchr(user, ':');
  if (colon == NULL || colon == user || (size_t)(colon - user) >= sizeof out->username ||
      colon[1] == '\0' || strlen(colon + 1) >= sizeof out->secret)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "token must look like K10<ca-hash>::<user>:<secret>");
  memcpy(out->ca_hash, hash, 64);
  memcpy(out->username, user, (size_t)(colon - user));
  strcpy(out->secret, colon + 1);
  return 0;
}

void
token_ca_hash(const char *data, size_t len, char out[65])
{
  unsigned char digest[32];
  /* SHA-256 over memory cannot fail once the library is initialised. */
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) < 0)
    memset(digest, 0, sizeof digest);
  hex_encode(digest, sizeof digest, out);
}

bool
token_equal(const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return false;
  size_t alen = strlen(a), blen = strlen(b);
  size_t n = alen > blen ? alen : blen;
  volatile unsigned char diff = (unsigned char)(alen != blen);
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < alen ? (unsigned char)a[i] : 0;
    unsigned char y = i < blen ? (unsigned char)b[i] : 0;
    diff |= (unsigned char)(x ^ y);
  }
  return diff == 0;
}

/* ---- helpers ---- */

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

static void
trim_trailing_space(char *s)
{
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
}
