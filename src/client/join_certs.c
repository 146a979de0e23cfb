/* join_certs.c — fetching the kubelet serving certificate from the joined server (see
 * join_certs.h): one verified HTTPS GET with libcurl, the answer a small JSON object
 * whose key is wiped from every buffer it passed through. */
#include "client/join_certs.h"

#include "client/client_http_internal.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <string.h>

#define JOIN_CERT_MAX_BYTES (1u << 20)

static size_t
collect(char *data, size_t size, size_t nmemb, void *ctx)
{
  buf *b = ctx;
  size_t n = size * nmemb;
  if (b->len + n > JOIN_CERT_MAX_BYTES)
    return 0;
  buf_append(b, data, n);
  return n;
}

static void
wipe_free(char *s)
{
  if (s == NULL)
    return;
  explicit_bzero(s, strlen(s));
  free(s);
}

/* The server's own message from a Status body, or the HTTP code. */
static int
refused(const char *url, long code, const buf *body, k8c_err *err)
{
  json_t *status = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
  const char *msg = json_string_value(json_object_get(status, "message"));
  int rc = k8c_error(err, code >= 400 && code < 600 ? (int)code : 503,
                     code == 403 ? K8C_REASON_FORBIDDEN : K8C_REASON_UNAVAILABLE,
                     "%s: HTTP %ld%s%s", url, code, msg ? ": " : "", msg ? msg : "");
  json_decref(status);
  return rc;
}

int
join_fetch_serving_cert(const char *server, const char *ca_file, const char *token,
                        const char *node_name, const char *node_ip, struct join_serving_cert *out,
                        k8c_err *err)
{
  memset(out, 0, sizeof *out);
  http_curl_init_once();
  CURL *h = curl_easy_init();
  if (h == NULL)
    abort();
  cleanup_free char *url = xasprintf("%s/v1-k8c/serving-kubelet.crt", server);
  char *auth = xasprintf("Authorization: Bearer %s", token);
  cleanup_free char *name_hdr = xasprintf("k8c-Node-Name: %s", node_name);
  cleanup_free char *ip_hdr = xasprintf("k8c-Node-IP: %s", node_ip ? node_ip : "");
  struct curl_slist *headers = curl_slist_append(NULL, auth);
  headers = curl_slist_append(headers, name_hdr);
  headers = curl_slist_append(headers, ip_hdr);
  headers = curl_slist_append(headers, "Accept: application/json");
  buf body;
  buf_init(&body);
  char curl_msg[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  if (ca_file)
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  curl_slist_free_all(headers);
  wipe_free(auth);
  int result = 0;
  if (rc != CURLE_OK) {
    result = k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "fetching %s: %s", url,
                       curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
  } else if (code != 200) {
    result = refused(url, code, &body, err);
  } else {
    json_t *reply = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
    const char *cert = json_string_value(json_object_get(reply, "cert"));
    const char *key = json_string_value(json_object_get(reply, "key"));
    const char *ca = json_string_value(json_object_get(reply, "clientCA"));
    if (cert == NULL || key == NULL || ca == NULL || ca[0] == '\0') {
      result = k8c_error(err, 502, K8C_REASON_INTERNAL, "%s: not a serving certificate reply", url);
    } else {
      out->cert_pem = xstrdup(cert);
      out->key_pem = xstrdup(key);
      out->client_ca_pem = xstrdup(ca);
    }
    if (reply) {
      json_t *k = json_object_get(reply, "key");
      if (json_is_string(k))
        explicit_bzero((char *)json_string_value(k), json_string_length(k));
    }
    json_decref(reply);
  }
  if (body.data)
    explicit_bzero(body.data, body.len);
  buf_free(&body);
  return result;
}

void
join_serving_cert_free(struct join_serving_cert *c)
{
  if (c == NULL)
    return;
  free(c->cert_pem);
  wipe_free(c->key_pem);
  free(c->client_ca_pem);
  memset(c, 0, sizeof *c);
}
