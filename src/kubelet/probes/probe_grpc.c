/* probe_grpc.c — the grpc probe: the standard grpc.health.v1.Health/Check call over
 * cleartext HTTP/2 (libcurl, prior knowledge), with the probe's service name; SERVING is
 * success. The request and the response are one length-prefixed protobuf message each,
 * small enough to encode and decode by hand (field 1 only). */
#include "kubelet/probes/probe.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct grpc_reply {
  buf body;
  char grpc_status[16]; /* from the trailers; "" when absent */
  char grpc_message[256];
};

static size_t
on_body(char *data, size_t size, size_t n, void *ctx)
{
  struct grpc_reply *r = ctx;
  if (r->body.len + size * n > 4096)
    return 0; /* a health response is a few bytes */
  buf_append(&r->body, data, size * n);
  return size * n;
}

static void
copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
  while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
    len--;
  while (len && *v == ' ')
    v++, len--;
  snprintf(dst, cap, "%.*s", (int)len, v);
}

/* Headers and trailers both pass here; grpc-status may come in either. */
static size_t
on_header(char *data, size_t size, size_t n, void *ctx)
{
  struct grpc_reply *r = ctx;
  size_t len = size * n;
  if (len > 12 && strncasecmp(data, "grpc-status:", 12) == 0)
    copy_header_value(r->grpc_status, sizeof r->grpc_status, data + 12, len - 12);
  else if (len > 13 && strncasecmp(data, "grpc-message:", 13) == 0)
    copy_header_value(r->grpc_message, sizeof r->grpc_message, data + 13, len - 13);
  return len;
}

/* HealthCheckResponse.status from a gRPC message frame; -1 if malformed. */
static int
serving_status(const buf *body)
{
  const uint8_t *p = (const uint8_t *)body->data;
  if (body->len < 5 || p[0] != 0)
    return -1;
  uint32_t len = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
  if (len > body->len - 5)
    return -1;
  if (len == 0)
    return 0; /* UNKNOWN: the default value is not sent */
  if (len >= 2 && p[5] == 0x08 && p[6] < 0x80)
    return p[6];
  return -1;
}

static const char *const status_names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

enum probe_result
probe_grpc_run(const json_t *g, const struct probe_target *t, int timeout_ms, char **message)
{
  json_t *port_value = json_object_get(g, "port");
  int port = json_is_integer(port_value) ? (int)json_integer_value(port_value) : -1;
  const char *service = json_string_value(json_object_get(g, "service"));
  if (port <= 0 || port > 65535 || t->pod_ip == NULL) {
    *message = xstrdup("grpc probe: invalid port or no pod IP");
    return PROBE_FAILURE;
  }
  size_t slen = service ? strlen(service) : 0;
  if (slen > 127) {
    *message = xstrdup("grpc probe: service name too long");
    return PROBE_FAILURE;
  }
  uint8_t req[5 + 2 + 127];
  size_t msg_len = slen ? 2 + slen : 0;
  req[0] = 0;
  req[1] = req[2] = req[3] = 0;
  req[4] = (uint8_t)msg_len;
  if (slen) {
    req[5] = 0x0a; /* field 1, length-delimited */
    req[6] = (uint8_t)slen;
    memcpy(req + 7, service, slen);
  }
  bool v6 = strchr(t->pod_ip, ':') != NULL;
  cleanup_free char *url = xasprintf("http://%s%s%s:%d/grpc.health.v1.Health/Check", v6 ? "[" : "",
                                     t->pod_ip, v6 ? "]" : "", port);
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    *message = xstrdup("grpc probe: cannot create an HTTP client");
    return PROBE_UNKNOWN;
  }
  struct grpc_reply reply = {0};
  struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/grpc");
  headers = curl_slist_append(headers, "TE: trailers");
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(5 + msg_len));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  enum probe_result result = PROBE_FAILURE;
  if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT) {
    *message = xasprintf("timeout: failed to connect service \"%s:%d\" within %ds", t->pod_ip, port,
                         timeout_ms / 1000 ? timeout_ms / 1000 : 1);
  } else if (rc != CURLE_OK) {
    *message = xasprintf("error: health rpc probe failed: %s", curl_easy_strerror(rc));
  } else if (reply.grpc_status[0] && strcmp(reply.grpc_status, "0") != 0) {
    *message = xasprintf("error: health rpc probe failed: rpc error: code = %s desc = %s",
                         reply.grpc_status, reply.grpc_message);
  } else {
    int s = serving_status(&reply.body);
    if (s == 1) {
      result = PROBE_SUCCESS;
    } else {
      *message = xasprintf("service unhealthy (responded with \"%s\")",
                           s >= 0 && s < 4 ? status_names[s] : "UNKNOWN");
    }
  }
  buf_free(&reply.body);
  return result;
}
