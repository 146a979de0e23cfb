/* client_http.c — the k8c_client calls over HTTPS: each call builds the REST path and
 * query, borrows a pooled curl handle (connections live in one shared cache, so the
 * next request reuses a warm TLS connection), and turns a non-2xx answer back into the
 * k8c_err the server made it from. */
#include "client/client_http_internal.h"

#include "lib/curl_global.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

struct http_response {
  long code;
  buf body;
};

static const struct k8c_client_ops http_ops;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx);
static void share_unlock(CURL *h, curl_lock_data data, void *ctx);

/* ---------- public ---------- */

k8c_client *
client_http_new(const struct client_http_config *cfg, k8c_err *err)
{
  if (cfg->server == NULL || strncmp(cfg->server, "https://", 8) != 0) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "the server URL must start with https://");
    return NULL;
  }
  if (cfg->ca_file == NULL || cfg->ca_file[0] == '\0') {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "a CA file is required to verify the server");
    return NULL;
  }
  bool has_cert = cfg->cert_file && cfg->cert_file[0];
  if (has_cert != (cfg->key_file && cfg->key_file[0])) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
              "a client certificate needs its key, and a key its certificate");
    return NULL;
  }
  if (!has_cert && (cfg->token == NULL || cfg->token[0] == '\0')) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
              "credentials needed: a client certificate or a token");
    return NULL;
  }
  http_curl_init_once();
  struct http_client *c = xcalloc(1, sizeof *c);
  c->base.ops = &http_ops;
  c->server = xstrdup(cfg->server);
  size_t n = strlen(c->server);
  while (n > 8 && c->server[n - 1] == '/')
    c->server[--n] = '\0';
  c->ca_file = xstrdup(cfg->ca_file);
  if (has_cert) {
    c->cert_file = xstrdup(cfg->cert_file);
    c->key_file = xstrdup(cfg->key_file);
  } else {
    c->auth_header = xasprintf("Authorization: Bearer %s", cfg->token);
  }
  c->user_agent = xstrdup(cfg->user_agent ? cfg->user_agent : "k8c");
  c->field_manager = xstrdup(cfg->field_manager ? cfg->field_manager : "k8c");
  c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
  c->max_idle = cfg->max_idle_handles > 0 ? cfg->max_idle_handles : 16;
  if (c->max_idle > HTTP_POOL_MAX)
    c->max_idle = HTTP_POOL_MAX;
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&c->share_locks[i], NULL);
  pthread_mutex_init(&c->pool_lock, NULL);
  c->share = curl_share_init();
  if (c->share == NULL)
    abort(); /* allocation failure, as xmalloc */
  curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  return &c->base;
}

/* ---------- shared helpers ---------- */

void
http_curl_init_once(void)
{
  if (!curl_global_once())
    log_error("client_http: curl_global_init failed");
}

static bool
unreserved(unsigned char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static void
append_escaped(buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (unreserved(*p)) {
      buf_append(b, p, 1);
    } else {
      char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      buf_append(b, enc, 3);
    }
  }
}

char *
http_url(const struct http_client *c, const struct api_resource *res, const char *ns,
         const char *name, const char *subresource, const char *query)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, c->server);
  if (res->group[0])
    buf_printf(&b, "/apis/%s/%s", res->group, res->version);
  else
    buf_printf(&b, "/api/%s", res->version);
  if (res->namespaced && ns && ns[0]) {
    buf_puts(&b, "/namespaces/");
    append_escaped(&b, ns);
  }
  buf_printf(&b, "/%s", res->plural);
  if (name && name[0]) {
    buf_puts(&b, "/");
    append_escaped(&b, name);
    if (subresource && subresource[0]) {
      buf_puts(&b, "/");
      append_escaped(&b, subresource);
    }
  }
  if (query && query[0])
    buf_printf(&b, "?%s", query);
  return buf_steal(&b, NULL);
}

void
http_query_add(buf *q, const char *key, const char *value)
{
  if (q->len)
    buf_puts(q, "&");
  buf_puts(q, key);
  buf_puts(q, "=");
  append_escaped(q, value);
}

void
http_query_list_opts(buf *q, const struct client_list_opts *o)
{
  if (o->label_selector && o->label_selector[0])
    http_query_add(q, "labelSelector", o->label_selector);
  if (o->field_selector && o->field_selector[0])
    http_query_add(q, "fieldSelector", o->field_selector);
  if (o->resource_version && o->resource_version[0])
    http_query_add(q, "resourceVersion", o->resource_version);
  if (o->resource_version_match && o->resource_version_match[0])
    http_query_add(q, "resourceVersionMatch", o->resource_version_match);
  if (o->limit > 0) {
    char n[32];
    snprintf(n, sizeof n, "%lld", o->limit);
    http_query_add(q, "limit", n);
  }
  if (o->continue_token && o->continue_token[0])
    http_query_add(q, "continue", o->continue_token);
}

void
http_handle_setup(const struct http_client *c, CURL *h)
{
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
  /* Only the given CA: not the system's bundle (nor the cost of loading it). */
  curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  if (c->cert_file) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
    curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
  }
}

struct curl_slist *
http_headers(const struct http_client *c, const char *content_type)
{
  struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");
  l = curl_slist_append(l, "Expect:"); /* no 100-continue round trip for large bodies */
  if (c->auth_header)
    l = curl_slist_append(l, c->auth_header);
  if (content_type) {
    char line[128];
    snprintf(line, sizeof line, "Content-Type: %s", content_type);
    l = curl_slist_append(l, line);
  }
  if (l == NULL)
    abort();
  return l;
}

static const char *
reason_for_code(long code)
{
  switch (code) {
  case 400:
    return K8C_REASON_BAD_REQUEST;
  case 401:
    return K8C_REASON_UNAUTHORIZED;
  case 403:
    return K8C_REASON_FORBIDDEN;
  case 404:
    return K8C_REASON_NOT_FOUND;
  case 405:
    return K8C_REASON_METHOD_NOT_ALLOWED;
  case 406:
    return K8C_REASON_NOT_ACCEPTABLE;
  case 409:
    return K8C_REASON_CONFLICT;
  case 410:
    return K8C_REASON_GONE;
  case 413:
    return K8C_REASON_TOO_LARGE;
  case 415:
    return K8C_REASON_UNSUPPORTED_MEDIA;
  case 422:
    return K8C_REASON_INVALID;
  case 429:
    return K8C_REASON_TOO_MANY;
  case 503:
    return K8C_REASON_UNAVAILABLE;
  case 504:
    return K8C_REASON_TIMEOUT;
  default:
    return K8C_REASON_INTERNAL;
  }
}

int
http_error_from_response(long http_code, const char *body, size_t len,
                         const struct api_resource *res, k8c_err *err)
{
  json_error_t jerr;
  cleanup_json json_t *st = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
  const char *kind = json_string_value(json_object_get(st, "kind"));
  if (st == NULL || kind == NULL || strcmp(kind, "Status") != 0) {
    int shown = len > 512 ? 512 : (int)len;
    return k8c_error(err, (int)http_code, reason_for_code(http_code), "%.*s", shown,
                     body ? body : "");
  }
  json_int_t code = json_integer_value(json_object_get(st, "code"));
  if (code <= 0)
    code = http_code;
  const char *reason = json_string_value(json_object_get(st, "reason"));
  if (reason == NULL || reason[0] == '\0')
    reason = reason_for_code(code);
  const char *message = json_string_value(json_object_get(st, "message"));
  k8c_error(err, (int)code, reason, "%s", message ? message : "");
  json_t *details = json_object_get(st, "details");
  json_t *causes = json_object_get(details, "causes");
  if (json_is_array(causes) && json_array_size(causes) > 0 && err)
    err->causes = json_deep_copy(causes);
  json_int_t retry = json_integer_value(json_object_get(details, "retryAfterSeconds"));
  if (retry > 0 && err)
    err->retry_after = (int)retry;
  /* details.kind names the URL's resource unless the error was about a specific Kind. */
  const char *dkind = json_string_value(json_object_get(details, "kind"));
  const char *dname = json_string_value(json_object_get(details, "name"));
  if (err && dkind && dkind[0] && (res == NULL || strcmp(dkind, res->plural) != 0)) {
    snprintf(err->subject_kind, sizeof err->subject_kind, "%s", dkind);
    snprintf(err->subject_name, sizeof err->subject_name, "%s", dname ? dname : "");
  }
  return -1;
}

int
http_error_from_curl(CURLcode rc, const char *what, const char *detail, k8c_err *err)
{
  int status = rc == CURLE_OPERATION_TIMEDOUT ? 504 : 503;
  return k8c_error(err, status, status == 504 ? K8C_REASON_TIMEOUT : K8C_REASON_UNAVAILABLE,
                   "%s: %s", what, detail && detail[0] ? detail : curl_easy_strerror(rc));
}

/* ---------- the handle pool ---------- */

static struct http_client *
to_http(k8c_client *c)
{
  return (struct http_client *)c;
}

static CURL *
pool_take(struct http_client *c)
{
  CURL *h = NULL;
  pthread_mutex_lock(&c->pool_lock);
  if (c->idle_count > 0)
    h = c->idle[--c->idle_count];
  pthread_mutex_unlock(&c->pool_lock);
  if (h) {
    curl_easy_reset(h);
  } else {
    h = curl_easy_init();
    if (h == NULL)
      abort();
  }
  http_handle_setup(c, h);
  curl_easy_setopt(h, CURLOPT_SHARE, c->share);
  /* The shared cache keeps this many idle connections (curl's default is 5). */
  curl_easy_setopt(h, CURLOPT_MAXCONNECTS, (long)HTTP_POOL_MAX);
  return h;
}

static void
pool_give_back(struct http_client *c, CURL *h)
{
  pthread_mutex_lock(&c->pool_lock);
  if (c->idle_count < c->max_idle) {
    c->idle[c->idle_count++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&c->pool_lock);
  if (h)
    curl_easy_cleanup(h);
}

/* ---------- one request ---------- */

static size_t
collect_body(char *data, size_t size, size_t nmemb, void *ctx)
{
  buf_append(ctx, data, size * nmemb);
  return size * nmemb;
}

/* Performs method on url with body (may be NULL). 0 with *out the parsed 2xx answer (if
 * out is not NULL), else -1 with err. */
static int
http_request(struct http_client *c, const char *method, const char *url, const char *content_type,
             const char *body, const struct api_resource *res, json_t **out, k8c_err *err)
{
  CURL *h = pool_take(c);
  struct curl_slist *headers = http_headers(c, body ? content_type : NULL);
  buf resp;
  buf_init(&resp);
  char curl_msg[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
  } else if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(headers);
  pool_give_back(c, h);
  int result = 0;
  if (rc != CURLE_OK) {
    result = http_error_from_curl(rc, method, curl_msg, err);
  } else if (code < 200 || code > 299) {
    result = http_error_from_response(code, resp.data, resp.len, res, err);
  } else if (out) {
    json_error_t jerr;
    *out = json_loadb(resp.data ? resp.data : "", resp.len, 0, &jerr);
    if (*out == NULL)
      result = k8c_error(err, 500, K8C_REASON_INTERNAL, "decoding the answer to %s %s: %s", method,
                         url, jerr.text);
  }
  buf_free(&resp);
  return result;
}

/* The query every write carries: dryRun, force (apply) and the field manager. */
static void
write_query(struct http_client *c, buf *q, const struct client_write_opts *o, bool apply)
{
  if (o->dry_run)
    http_query_add(q, "dryRun", "All");
  if (apply && o->force)
    http_query_add(q, "force", "true");
  http_query_add(q, "fieldManager", o->field_manager ? o->field_manager : c->field_manager);
}

static char *
body_of(const json_t *obj)
{
  char *text = json_dumps(obj, JSON_COMPACT);
  if (text == NULL)
    abort();
  return text;
}

/* ---------- reads ---------- */

static int
http_get(k8c_client *kc, const struct api_resource *res, const char *ns, const char *name,
         json_t **out, k8c_err *err)
{
  struct http_client *c = to_http(kc);
  if (name == NULL || name[0] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "get needs a name");
  cleanup_free char *url = http_url(c, res, ns, name, NULL, NULL);
  return http_request(c, "GET", url, NULL, NULL, res, out, err);
}

static int
http_list(k8c_client *kc, const struct api_resource *res, const char *ns,
          const struct client_list_opts *o, json_t **out, k8c_err *err)
{
  struct http_client *c = to_http(kc);
  buf q;
  buf_init(&q);
  http_query_list_opts(&q, o);
  cleanup_free char *url = http_url(c, res, ns, NULL, NULL, buf_cstr(&q));
  buf_free(&q);
  return http_request(c, "GET", url, NULL, NULL, res, out, err);
}

/* ---------- writes ---------- */

static int
http_create(k8c_client *kc, const struct api_resource *res, const char *ns, json_t *obj,
            const struct client_write_opts *o, json_t **out, k8c_err *err)
{
  struct http_client *c = to_http(kc);
  buf q;
  buf_init(&q);
  write_query(c, &q, o, false);
  cleanup_free char *url = http_url(c, res, ns, NULL, NULL, buf_cstr(&q));
  buf_free(&q);
  cleanup_free char *body = body_of(obj);
  return http_request(c, "POST", url, "application/json", body, res, out, err);
}

static int
http_update(k8c_client *kc, const struct api_resource *res, const char *ns, const char *name,
            const char *subresource, json_t *obj, const struct client_write_opts *o, json_t **out,
            k8c_err *err)
{
  struct http_client *c = to_http(kc);
  if (name == NULL || name[0] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "update needs a name");
  buf q;
  buf_init(&q);
  write_query(c, &q, o, false);
  cleanup_free char *url = http_url(c, res, ns, name, subresource, buf_cstr(&q));
  buf_free(&q);
  cleanup_free char *body = body_of(obj);
  return http_request(c, "PUT", url, "application/json", body, res, out, err);
}

static int
http_patch(k8c_client *kc, const struct api_resource *res, const char *ns, const char *name,
           const char *patch_type, json_t *patch, const struct client_write_opts *o, json_t **out,
           k8c_err *err)
{
  struct http_client *c = to_http(kc);
  if (name == NULL || name[0] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "patch needs a name");
  if (patch_type == NULL)
    patch_type = "application/merge-patch+json";
  bool apply = strcmp(patch_type, "application/apply-patch+yaml") == 0;
  buf q;
  buf_init(&q);
  write_query(c, &q, o, apply);
  cleanup_free char *url = http_url(c, res, ns, name, o->subresource, buf_cstr(&q));
  buf_free(&q);
  /* JSON is YAML, so an apply patch is sent as its JSON text. */
  cleanup_free char *body = body_of(patch);
  return http_request(c, "PATCH", url, patch_type, body, res, out, err);
}

static int
http_delete(k8c_client *kc, const struct api_resource *res, const char *ns, const char *name,
            json_t *delete_options, const struct client_write_opts *o, json_t **out, k8c_err *err)
{
  struct http_client *c = to_http(kc);
  if (name == NULL || name[0] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "delete needs a name");
  buf q;
  buf_init(&q);
  if (o->dry_run)
    http_query_add(&q, "dryRun", "All");
  cleanup_free char *url = http_url(c, res, ns, name, NULL, buf_cstr(&q));
  buf_free(&q);
  cleanup_free char *body = delete_options ? body_of(delete_options) : NULL;
  return http_request(c, "DELETE", url, "application/json", body, res, out, err);
}

static int
http_bind(k8c_client *kc, const char *ns, const char *name, const char *uid, const char *node,
          k8c_err *err)
{
  struct http_client *c = to_http(kc);
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  cleanup_json json_t *binding = json_pack(
      "{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s}}", "apiVersion", "v1", "kind", "Binding", "metadata",
      "name", name, "namespace", ns, "target", "apiVersion", "v1", "kind", "Node", "name", node);
  if (uid && uid[0])
    json_object_set_new(json_object_get(binding, "metadata"), "uid", json_string(uid));
  buf q;
  buf_init(&q);
  http_query_add(&q, "fieldManager", c->field_manager);
  cleanup_free char *url = http_url(c, pods, ns, name, "binding", buf_cstr(&q));
  buf_free(&q);
  cleanup_free char *body = body_of(binding);
  return http_request(c, "POST", url, "application/json", body, pods, NULL, err);
}

static int
http_request_token(k8c_client *kc, const char *ns, const char *name, const json_t *request,
                   json_t **out, k8c_err *err)
{
  struct http_client *c = to_http(kc);
  const struct api_resource *sas = api_resource_find("", "v1", "serviceaccounts");
  cleanup_free char *url = http_url(c, sas, ns, name, "token", NULL);
  cleanup_free char *body = body_of(request);
  return http_request(c, "POST", url, "application/json", body, sas, out, err);
}

static client_watch *
http_watch(k8c_client *kc, const struct api_resource *res, const char *ns,
           const struct client_list_opts *o, k8c_err *err)
{
  return http_watch_start(to_http(kc), res, ns, o, err);
}

static void
http_free(k8c_client *kc)
{
  struct http_client *c = to_http(kc);
  for (int i = 0; i < c->idle_count; i++)
    curl_easy_cleanup(c->idle[i]);
  curl_share_cleanup(c->share);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&c->share_locks[i]);
  pthread_mutex_destroy(&c->pool_lock);
  if (c->auth_header) {
    explicit_bzero(c->auth_header, strlen(c->auth_header));
    free(c->auth_header);
  }
  free(c->server);
  free(c->ca_file);
  free(c->cert_file);
  free(c->key_file);
  free(c->user_agent);
  free(c->field_manager);
  free(c);
}

/* ---------- curl plumbing ---------- */

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
  struct http_client *c = ctx;
  if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
    pthread_mutex_lock(&c->share_locks[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
  struct http_client *c = ctx;
  if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
    pthread_mutex_unlock(&c->share_locks[data]);
}

/* ---------- tables ---------- */

static const struct k8c_client_ops http_ops = {
    .get = http_get,
    .list = http_list,
    .create = http_create,
    .update = http_update,
    .patch = http_patch,
    .del = http_delete,
    .watch = http_watch,
    .bind = http_bind,
    .request_token = http_request_token,
    .free = http_free,
};
