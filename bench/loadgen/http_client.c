/* http_client.c — keep-alive HTTPS requests over one reused libcurl easy handle, or
 * handed to the raw GnuTLS client when the target asks for it.
 *
 * The curl handle is configured once; each request only changes method, URL and body,
 * so libcurl keeps the connection (and its TLS session) open between requests. */
#include "http_client.h"

#include "lib/mem.h"

#include <string.h>

static size_t collect_body(char *data, size_t size, size_t nmemb, void *userp);

int
http_client_init(http_client *client, const bench_target *target, k8c_err *err)
{
  memset(client, 0, sizeof(*client));
  client->target = target;
  buf_init(&client->url);
  buf_init(&client->body);
  if (target->client == BENCH_CLIENT_RAW) {
    client->raw = raw_http_new(target, err);
    return client->raw == NULL ? -1 : 0;
  }
  client->easy = curl_easy_init();
  if (client->easy == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_easy_init failed");
  http_easy_apply_tls(client->easy, target);
  struct curl_slist *headers = NULL;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
  headers = curl_slist_append(headers, "User-Agent: k8c-loadgen");
  if (headers == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_slist_append failed");
  client->headers = headers;
  curl_easy_setopt(client->easy, CURLOPT_HTTPHEADER, client->headers);
  curl_easy_setopt(client->easy, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(client->easy, CURLOPT_WRITEDATA, &client->body);
  curl_easy_setopt(client->easy, CURLOPT_ERRORBUFFER, client->errbuf);
  curl_easy_setopt(client->easy, CURLOPT_TIMEOUT, 120L);
  return 0;
}

void
http_client_free(http_client *client)
{
  raw_http_free(client->raw);
  if (client->easy)
    curl_easy_cleanup(client->easy);
  curl_slist_free_all(client->headers);
  buf_free(&client->url);
  buf_free(&client->body);
  memset(client, 0, sizeof(*client));
}

long
http_client_request(http_client *client, const char *method, const char *path, const char *body,
                    size_t body_len, k8c_err *err)
{
  if (client->raw != NULL)
    return raw_http_request(client->raw, method, path, body, body_len, &client->body, err);
  CURL *easy = client->easy;
  buf_reset(&client->url);
  buf_puts(&client->url, client->target->server);
  buf_puts(&client->url, path);
  buf_reset(&client->body);
  client->errbuf[0] = 0;
  curl_easy_setopt(easy, CURLOPT_URL, buf_cstr(&client->url));
  if (body != NULL) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  /* POST and GET are curl's defaults for with/without a body; others are named. */
  int custom = strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0;
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, custom ? method : NULL);
  CURLcode rc = curl_easy_perform(easy);
  if (rc != CURLE_OK)
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "%s %s: %s", method, path,
                     client->errbuf[0] ? client->errbuf : curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  buf_cstr(&client->body);
  return status;
}

void
http_easy_apply_tls(CURL *easy, const bench_target *target)
{
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if (target->ca_file) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, target->ca_file);
    curl_easy_setopt(easy, CURLOPT_CAPATH, NULL); /* only the cluster CA, not /etc/ssl/certs */
    curl_easy_setopt(easy, CURLOPT_SSLCERT, target->cert_file);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLKEY, target->key_file);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }
}

static size_t
collect_body(char *data, size_t size, size_t nmemb, void *userp)
{
  buf_append(userp, data, size * nmemb);
  return size * nmemb;
}
