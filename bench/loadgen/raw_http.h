/* raw_http.h — the lightweight HTTP/1.1 client of the load generator: one keep-alive
 * mutual-TLS connection made directly with GnuTLS, for one thread.
 *
 * The request head is formatted once (host, accept, user agent); a request only adds its
 * method, path and body. After the first requests have sized its buffers, a request
 * allocates nothing in this code (GnuTLS may still allocate internally per record). */
#ifndef K8C_BENCH_RAW_HTTP_H
#define K8C_BENCH_RAW_HTTP_H

#include "lib/buf.h"
#include "lib/err.h"
#include "loadgen.h"

typedef struct raw_http raw_http;

enum { RAW_HTTP_HOST_MAX = 256, RAW_HTTP_PORT_MAX = 16 };

/* Splits "https://HOST[:PORT][/prefix]" (HOST a name, an IPv4 or a bracketed IPv6 address)
 * into host (without brackets), port ("443" when absent) and the path prefix, appended to
 * base_path without trailing slashes. Returns 0, or -1 with err filled. */
int raw_http_split_url(const char *url, char host[RAW_HTTP_HOST_MAX], char port[RAW_HTTP_PORT_MAX],
                       buf *base_path, k8c_err *err);

/* Loads the TLS credentials from target (borrowed; must outlive the client) and prepares
 * the request head; connects on the first request. Returns NULL with err filled when the
 * URL or the credentials are unusable. Free with raw_http_free. */
raw_http *raw_http_new(const bench_target *target, k8c_err *err);
void raw_http_free(raw_http *client);

/* Sends method path (with a JSON body when body is not NULL) and reads the whole
 * response; its decoded body replaces the contents of response_body (caller-owned, kept
 * NUL-terminated). Returns the HTTP status, or -1 with err filled on a transport or
 * framing failure. A reused connection the server has closed is reopened once. */
long raw_http_request(raw_http *client, const char *method, const char *path, const char *body,
                      size_t body_len, buf *response_body, k8c_err *err);

#endif
