/* client_http_cacerts.c — how a joining agent learns which CA to trust, as k3s does:
 * fetch SERVER/cacerts over an unverified connection, then accept the bytes only if
 * their SHA-256 equals the CA hash carried by the join token. Nothing sent over that
 * connection is secret, and nothing received is trusted before the hash matches. */
#include "client/client_http_internal.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <curl/curl.h>
#include <gnutls/crypto.h>
#include <string.h>

#define CACERTS_MAX_BYTES (1u << 20)

static size_t
collect_limited(char *data, size_t size, size_t nmemb, void *ctx)
{
  buf *b = ctx;
  size_t n = size * nmemb;
  if (b->len + n > CACERTS_MAX_BYTES)
    return 0;
  buf_append(b, data, n);
  return n;
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
  static const char digits[] = "0123456789abcdef";
  unsigned char digest[32];
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) < 0)
    memset(digest, 0, sizeof digest);
  for (size_t i = 0; i < sizeof digest; i++) {
    out[2 * i] = digits[digest[i] >> 4];
    out[2 * i + 1] = digits[digest[i] & 15];
  }
  out[64] = '\0';
}

int
client_http_fetch_ca(const char *server, const char *ca_hash, char **pem_out, size_t *len_out,
                     k8c_err *err)
{
  *pem_out = NULL;
  if (ca_hash == NULL || strlen(ca_hash) != 64)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "no CA hash to check the server's CA against");
  if (server == NULL || strncmp(server, "https://", 8) != 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "the server URL must start with https://");
  http_curl_init_once();
  CURL *h = curl_easy_init();
  if (h == NULL)
    abort();
  cleanup_free char *url = xasprintf("%s/cacerts", server);
  buf body;
  buf_init(&body);
  char curl_msg[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  /* Unverified on purpose: the answer is checked against the token's hash below. */
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_limited);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  int result = 0;
  char got[65];
  if (rc != CURLE_OK) {
    result = k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "fetching %s: %s", url,
                       curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
  } else if (code != 200 || body.len == 0) {
    result = k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "fetching %s: HTTP %ld", url, code);
  } else {
    sha256_hex(body.data, body.len, got);
    if (strcmp(got, ca_hash) != 0)
      result = k8c_error(err, 401, K8C_REASON_UNAUTHORIZED,
                         "the server's CA (sha256 %s) does not match the token's CA hash %s", got,
                         ca_hash);
  }
  if (result < 0) {
    buf_free(&body);
    return -1;
  }
  size_t len = 0;
  *pem_out = buf_steal(&body, &len);
  if (len_out)
    *len_out = len;
  return 0;
}
