/* tls_coalesce.h — sends a small in-memory response (status line, headers and body) as
 * one TLS record in one sendmsg instead of libmicrohttpd's two (headers, then body):
 * the TLS session is corked when the response is queued and uncorked when libmicrohttpd
 * reports the request complete, before it reads the next request on the connection. */
#ifndef K8C_APISERVER_TLS_COALESCE_H
#define K8C_APISERVER_TLS_COALESCE_H

#include "apiserver/request.h"

#include <stdbool.h>
#include <stddef.h>

/* Corks r's TLS session if a response with a body of body_len bytes can be held back
 * until the request completes: a keep-alive HTTP/1.1 request other than HEAD, a body of
 * at most a few TLS records. Returns true if it corked (then tls_coalesce_end must run
 * once the response is handed to the connection, i.e. from the request-completed hook). */
bool tls_coalesce_begin(struct api_request *r, size_t body_len);

/* Sends what the cork holds, waiting for the socket if it is full. A no-op if
 * tls_coalesce_begin did not cork r. */
void tls_coalesce_end(struct api_request *r);

#endif
