/* client_http_internal.h — what the HTTP client's files share: the client struct, URL
 * building, the curl handle set-up every request uses, and the mapping of an error
 * response (a Status) into k8c_err. Not for use outside src/client/client_http*.c. */
#ifndef K8C_CLIENT_CLIENT_HTTP_INTERNAL_H
#define K8C_CLIENT_CLIENT_HTTP_INTERNAL_H

#include "client/client_http.h"
#include "lib/buf.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>

#define HTTP_POOL_MAX 64

struct http_client {
  struct k8c_client base;
  char *server;
  char *ca_file;
  char *cert_file;
  char *key_file;
  char *auth_header; /* "Authorization: Bearer ..." or NULL; secret */
  char *user_agent;
  char *field_manager;
  long timeout_ms;
  CURLSH *share; /* connection cache, TLS sessions and DNS shared by pooled handles */
  pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
  pthread_mutex_t pool_lock;
  CURL *idle[HTTP_POOL_MAX];
  int idle_count;
  int max_idle;
};

/* curl_global_init, once per process, before any curl handle is made. */
void http_curl_init_once(void);

/* The URL of a collection (name NULL/""), an object or its subresource, with query
 * (already encoded, without '?', may be NULL or ""). Caller frees. */
char *http_url(const struct http_client *c, const struct api_resource *res, const char *ns,
               const char *name, const char *subresource, const char *query);
/* Appends "&key=value" (or "key=value" first) with value percent-encoded. */
void http_query_add(buf *q, const char *key, const char *value);
/* Adds the list options' query parameters. */
void http_query_list_opts(buf *q, const struct client_list_opts *o);

/* Sets what every request on h needs: TLS verification and credentials, user agent,
 * signals off. */
void http_handle_setup(const struct http_client *c, CURL *h);
/* Request headers: Accept JSON, credentials, and Content-Type if not NULL. Caller frees
 * with curl_slist_free_all. */
struct curl_slist *http_headers(const struct http_client *c, const char *content_type);

/* Fills err from a failed response: its Status (code, reason, message, details.causes,
 * retryAfterSeconds, kind/name when they name an object rather than the URL's
 * resource), or the HTTP code and body text when it is not a Status. Returns -1. */
int http_error_from_response(long http_code, const char *body, size_t len,
                             const struct api_resource *res, k8c_err *err);
/* Fills err for a transport failure (connection refused, TLS, timeout): 503 (504 for a
 * timeout) with curl's message. Returns -1. */
int http_error_from_curl(CURLcode rc, const char *what, const char *detail, k8c_err *err);

/* The watch backend (client_http_watch.c). */
client_watch *http_watch_start(struct http_client *c, const struct api_resource *res,
                               const char *ns, const struct client_list_opts *o, k8c_err *err);

#endif
