/* http_client.h — one keep-alive HTTPS connection to the API server, for one thread.
 *
 * Each worker thread owns an http_client, backed either by a reused libcurl easy handle
 * or by the raw GnuTLS client (raw_http.h), as target->client says. Either way the TLS
 * handshake happens once and later requests ride the same HTTP/1.1 connection, as a real
 * client such as kubectl's transport does. */
#ifndef K8C_BENCH_HTTP_CLIENT_H
#define K8C_BENCH_HTTP_CLIENT_H

#include "lib/buf.h"
#include "lib/err.h"
#include "loadgen.h"
#include "raw_http.h"

#include <curl/curl.h>

typedef struct http_client {
  raw_http *raw;              /* owned; the raw client, or NULL for curl */
  CURL *easy;                 /* owned; NULL for the raw client */
  struct curl_slist *headers; /* owned */
  const bench_target *target; /* borrowed; outlives the client */
  buf url;                    /* scratch for base URL + path */
  buf body;                   /* response body of the last request (client-owned) */
  char errbuf[CURL_ERROR_SIZE];
} http_client;

/* Prepares a client of kind target->client for target (no connection is made yet). */
int http_client_init(http_client *client, const bench_target *target, k8c_err *err);
void http_client_free(http_client *client);

/* Sends method (GET/POST/DELETE) path with an optional JSON body and waits for the whole
 * response. Returns the HTTP status, or -1 with err filled on a transport failure. The
 * response body is in client->body until the next request. */
long http_client_request(http_client *client, const char *method, const char *path,
                         const char *body, size_t body_len, k8c_err *err);

/* Applies the options every connection to the server shares: HTTP/1.1, mutual TLS
 * from target (verification against the cluster CA), no signals, no proxy. */
void http_easy_apply_tls(CURL *easy, const bench_target *target);

#endif
