/* registry_http.c — libcurl GETs for the registry client: bounded waiting, TLS per
 * registries.yaml, headers captured for auth and digests, errors in the registry's words. */
#include "kubelet/images/registry_http.h"
#include "lib/curl_global.h"
#include "lib/mem.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#define ERROR_BODY_MAX 65536

struct transfer {
  CURL *curl;
  registry_http_sink sink;
  void *sink_ctx;
  struct registry_http_response *resp;
  int sink_failed;
};

static size_t
on_header(char *data, size_t size, size_t nitems, void *userdata)
{
  struct transfer *t = userdata;
  size_t len = size * nitems;
  if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    /* a new response (after a redirect or 100): forget the previous one's headers */
    free(t->resp->content_type);
    free(t->resp->www_authenticate);
    free(t->resp->content_digest);
    t->resp->content_type = t->resp->www_authenticate = t->resp->content_digest = NULL;
    return len;
  }
  const char *colon = memchr(data, ':', len);
  if (colon == NULL)
    return len;
  size_t name_len = (size_t)(colon - data);
  const char *value = colon + 1;
  size_t value_len = len - name_len - 1;
  while (value_len > 0 && isspace((unsigned char)*value)) {
    value++;
    value_len--;
  }
  while (value_len > 0 && isspace((unsigned char)value[value_len - 1]))
    value_len--;
  char **slot = NULL;
  if (name_len == 12 && strncasecmp(data, "Content-Type", 12) == 0)
    slot = &t->resp->content_type;
  else if (name_len == 16 && strncasecmp(data, "WWW-Authenticate", 16) == 0)
    slot = &t->resp->www_authenticate;
  else if (name_len == 21 && strncasecmp(data, "Docker-Content-Digest", 21) == 0)
    slot = &t->resp->content_digest;
  if (slot != NULL) {
    free(*slot);
    *slot = xstrndup(value, value_len);
  }
  return len;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
  struct transfer *t = userdata;
  size_t len = size * nmemb;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    size_t room = ERROR_BODY_MAX - t->resp->error_body.len;
    buf_append(&t->resp->error_body, data, len < room ? len : room);
    return len;
  }
  if (t->sink(t->sink_ctx, status, data, len) < 0) {
    t->sink_failed = 1;
    return 0; /* aborts the transfer */
  }
  return len;
}

void
registry_http_response_free(struct registry_http_response *r)
{
  free(r->content_type);
  free(r->www_authenticate);
  free(r->content_digest);
  buf_free(&r->error_body);
  memset(r, 0, sizeof(*r));
}

int
registry_http_get(const char *url, const struct registry_http_options *opts,
                  registry_http_sink sink, void *sink_ctx, struct registry_http_response *resp,
                  k8c_err *err)
{
  memset(resp, 0, sizeof(*resp));
  buf_init(&resp->error_body);
  CURL *curl = curl_global_once() ? curl_easy_init() : NULL;
  if (curl == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "cannot initialise libcurl");
  struct transfer t = {.curl = curl, .sink = sink, .sink_ctx = sink_ctx, .resp = resp};
  struct curl_slist *headers = NULL;
  cleanup_free char *accept = opts->accept ? xasprintf("Accept: %s", opts->accept) : NULL;
  cleanup_free char *authorization =
      opts->authorization ? xasprintf("Authorization: %s", opts->authorization) : NULL;
  if (accept)
    headers = curl_slist_append(headers, accept);
  if (authorization)
    headers = curl_slist_append(headers, authorization);
  int timeout = opts->timeout_seconds > 0 ? opts->timeout_seconds : 30;
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "k8c/images");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)timeout);
  /* a registry that accepts the connection and then says nothing fails here */
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)timeout);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (opts->resume_from > 0)
    curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)opts->resume_from);
  const struct registry_host_config *cfg = opts->config;
  if (cfg != NULL) {
    if (cfg->insecure_skip_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->ca_file)
      curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->cert_file)
      curl_easy_setopt(curl, CURLOPT_SSLCERT, cfg->cert_file);
    if (cfg->key_file)
      curl_easy_setopt(curl, CURLOPT_SSLKEY, cfg->key_file);
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  if (t.sink_failed) /* the sink keeps its own reason; callers may replace this */
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "fetching %s: response rejected", url);
  if (rc == CURLE_OK)
    return 0;
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
    return k8c_error(err, 504, K8C_REASON_TIMEOUT, "no answer from %s within %d s", url, timeout);
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "cannot reach %s: %s", url,
                     curl_easy_strerror(rc));
  default:
    return k8c_error(err, 502, K8C_REASON_UNAVAILABLE, "fetching %s: %s", url,
                     curl_easy_strerror(rc));
  }
}

int
registry_http_status_error(const struct registry_http_response *resp, const char *what,
                           k8c_err *err)
{
  buf messages;
  buf_init(&messages);
  json_t *body = NULL;
  if (resp->error_body.len > 0)
    body = json_loadb(resp->error_body.data, resp->error_body.len, 0, NULL);
  json_t *errors = json_object_get(body, "errors");
  size_t i;
  json_t *e;
  json_array_foreach (errors, i, e) {
    const char *message = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *text = message && *message ? message : code;
    if (text == NULL)
      continue;
    if (messages.len > 0)
      buf_puts(&messages, "; ");
    buf_puts(&messages, text);
  }
  json_decref(body);
  if (messages.len == 0) {
    switch (resp->status) {
    case 401:
      buf_puts(&messages, "unauthorized");
      break;
    case 403:
      buf_puts(&messages, "denied");
      break;
    case 404:
      buf_puts(&messages, "not found");
      break;
    case 429:
      buf_puts(&messages, "too many requests");
      break;
    default:
      buf_puts(&messages, "unexpected answer");
    }
  }
  int status = 502;
  const char *reason = K8C_REASON_UNAVAILABLE;
  if (resp->status == 404) {
    status = 404;
    reason = K8C_REASON_NOT_FOUND;
  } else if (resp->status == 401) {
    status = 401;
    reason = K8C_REASON_UNAUTHORIZED;
  } else if (resp->status == 403) {
    status = 403;
    reason = K8C_REASON_FORBIDDEN;
  } else if (resp->status == 429) {
    status = 429;
    reason = K8C_REASON_TOO_MANY;
  }
  k8c_error(err, status, reason, "%s: %s (HTTP %ld)", what, buf_cstr(&messages), resp->status);
  buf_free(&messages);
  return -1;
}

int
registry_http_sink_buf(void *ctx, long status, const void *data, size_t len)
{
  buf *b = ctx;
  if (b->len + len > REGISTRY_SMALL_BODY_MAX)
    return -1;
  buf_append(b, data, len);
  return 0;
}
