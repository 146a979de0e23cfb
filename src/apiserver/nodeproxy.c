/* nodeproxy.c — kubectl logs/exec/attach/port-forward/cp reach the container through
 * the API server, as upstream: validate the pod and container with upstream's messages,
 * find the node's address and kubelet port, open TLS to the kubelet with the API
 * server's kubelet client certificate, then either stream the log body back or answer
 * the client's upgrade with the kubelet's 101 and splice the two connections. */
#include "apiserver/nodeproxy.h"

#include "apiserver/kubelet_client.h"
#include "apiserver/server_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define KUBELET_DEFAULT_PORT 10250
#define DIAL_TIMEOUT_MS 10000
#define MAX_ERROR_BODY (64u * 1024u)

/* ---------- checks ---------- */

bool
nodeproxy_is_pod_stream(const char *resource, const char *group, const char *subresource)
{
  if (group[0] || strcmp(resource, "pods") != 0)
    return false;
  return strcmp(subresource, "log") == 0 || strcmp(subresource, "exec") == 0 ||
         strcmp(subresource, "attach") == 0 || strcmp(subresource, "portforward") == 0;
}

static bool
has_container(const json_t *spec, const char *field, const char *name)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, field), i, c) {
    const char *n = json_string_value(json_object_get(c, "name"));
    if (n && strcmp(n, name) == 0)
      return true;
  }
  return false;
}

static void
append_names(buf *b, const json_t *spec, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, field), i, c) {
    buf_printf(b, "%s%s", i ? " " : "", json_string_value(json_object_get(c, "name")) ?: "");
  }
}

/* upstream's validateContainer: the named container, or the only one. */
static int
pick_container(const json_t *pod, const char *pod_name, const char *wanted, char **out,
               k8c_err *err)
{
  const json_t *spec = json_object_get(pod, "spec");
  if (wanted && wanted[0]) {
    if (!has_container(spec, "containers", wanted) &&
        !has_container(spec, "initContainers", wanted) &&
        !has_container(spec, "ephemeralContainers", wanted))
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "container %s is not valid for pod %s",
                       wanted, pod_name);
    *out = xstrdup(wanted);
    return 0;
  }
  const json_t *containers = json_object_get(spec, "containers");
  size_t n = json_array_size(containers);
  if (n == 1) {
    *out = xstrdup(json_string_value(json_object_get(json_array_get(containers, 0), "name")) ?: "");
    return 0;
  }
  if (n == 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "a container name must be specified for pod %s", pod_name);
  buf msg;
  buf_init(&msg);
  buf_printf(&msg, "a container name must be specified for pod %s, choose one of: [", pod_name);
  append_names(&msg, spec, "containers");
  buf_puts(&msg, "]");
  if (json_array_size(json_object_get(spec, "initContainers"))) {
    buf_puts(&msg, " or one of the init containers: [");
    append_names(&msg, spec, "initContainers");
    buf_puts(&msg, "]");
  }
  k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "%s", buf_cstr(&msg));
  buf_free(&msg);
  return -1;
}

static json_t *
load_object(struct registry *reg, const char *resource, const char *ns, const char *name,
            k8c_err *err)
{
  struct registry_target t = {api_resource_find("", "v1", resource), ns, name, ""};
  cache_obj *co = NULL;
  if (registry_get(reg, &t, &co, err) < 0)
    return NULL;
  size_t len = 0;
  const char *text = cache_obj_text(co, &len);
  json_error_t jerr;
  json_t *obj = json_loadb(text, len, 0, &jerr);
  cache_obj_unref(co);
  if (obj == NULL)
    k8c_error(err, 500, K8C_REASON_INTERNAL, "stored %s is not JSON", resource);
  return obj;
}

/* The node's kubelet: InternalIP (else ExternalIP, else Hostname) and its port. */
static int
node_endpoint(struct registry *reg, const char *node_name, char **host, int *port, k8c_err *err)
{
  cleanup_json json_t *node = load_object(reg, "nodes", "", node_name, err);
  if (node == NULL)
    return -1;
  const json_t *status = json_object_get(node, "status");
  static const char *const preference[] = {"InternalIP", "ExternalIP", "Hostname"};
  *host = NULL;
  for (size_t p = 0; p < 3 && *host == NULL; p++) {
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(status, "addresses"), i, a) {
      const char *type = json_string_value(json_object_get(a, "type"));
      const char *addr = json_string_value(json_object_get(a, "address"));
      if (type && addr && strcmp(type, preference[p]) == 0) {
        *host = xstrdup(addr);
        break;
      }
    }
  }
  if (*host == NULL)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "node %s has no addresses", node_name);
  json_int_t kp = json_integer_value(json_object_get(
      json_object_get(json_object_get(status, "daemonEndpoints"), "kubeletEndpoint"), "Port"));
  *port = kp > 0 && kp < 65536 ? (int)kp : KUBELET_DEFAULT_PORT;
  return 0;
}

/* ---------- building the kubelet request ---------- */

static void
url_escape(buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.' || *p == '~') {
      buf_append(b, p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      buf_append(b, e, 3);
    }
  }
}

struct query_copy {
  buf *out;
  bool first;
};

static void
query_add(struct query_copy *q, const char *name, const char *value)
{
  buf_puts(q->out, q->first ? "?" : "&");
  q->first = false;
  url_escape(q->out, name);
  buf_puts(q->out, "=");
  url_escape(q->out, value);
}

static enum MHD_Result
copy_command(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  if (strcmp(key, "command") == 0)
    query_add(cls, "command", value ? value : "");
  return MHD_YES;
}

static bool
query_true(struct api_request *r, const char *name)
{
  const char *v = request_query(r, name);
  return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void
kubelet_path(struct api_request *r, const char *container, buf *path)
{
  const struct request_info *ri = &r->info;
  struct query_copy q = {path, true};
  const char *sub = ri->subresource;
  if (strcmp(sub, "log") == 0) {
    buf_puts(path, "/containerLogs/");
    url_escape(path, ri->namespace_);
    buf_puts(path, "/");
    url_escape(path, ri->name);
    buf_puts(path, "/");
    url_escape(path, container);
    static const char *const passthrough[] = {"sinceSeconds", "sinceTime", "tailLines",
                                              "limitBytes"};
    for (size_t i = 0; i < 4; i++) {
      const char *v = request_query(r, passthrough[i]);
      if (v && v[0])
        query_add(&q, passthrough[i], v);
    }
    static const char *const flags[] = {"follow", "previous", "timestamps"};
    for (size_t i = 0; i < 3; i++)
      if (query_true(r, flags[i]))
        query_add(&q, flags[i], "true");
    return;
  }
  if (strcmp(sub, "portforward") == 0) {
    buf_puts(path, "/portForward/");
    url_escape(path, ri->namespace_);
    buf_puts(path, "/");
    url_escape(path, ri->name);
    const char *ports = request_query(r, "ports");
    if (ports)
      query_add(&q, "ports", ports);
    return;
  }
  buf_puts(path, strcmp(sub, "exec") == 0 ? "/exec/" : "/attach/");
  url_escape(path, ri->namespace_);
  buf_puts(path, "/");
  url_escape(path, ri->name);
  buf_puts(path, "/");
  url_escape(path, container);
  if (strcmp(sub, "exec") == 0)
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, copy_command, &q);
  static const char *const client[] = {"stdin", "stdout", "stderr", "tty"};
  static const char *const kubelet[] = {"input", "output", "error", "tty"};
  for (size_t i = 0; i < 4; i++)
    if (query_true(r, client[i]))
      query_add(&q, kubelet[i], "1");
}

struct header_copy {
  buf *out;
};

static enum MHD_Result
copy_upgrade_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  static const char *const forwarded[] = {"Upgrade",
                                          "Sec-WebSocket-Key",
                                          "Sec-WebSocket-Version",
                                          "Sec-WebSocket-Protocol",
                                          "X-Stream-Protocol-Version",
                                          "Sec-WebSocket-Extensions"};
  struct header_copy *h = cls;
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    if (strcasecmp(key, forwarded[i]) == 0 && value && !strchr(value, '\r') &&
        !strchr(value, '\n') && strcasecmp(key, "Sec-WebSocket-Extensions") != 0) {
      buf_printf(h->out, "%s: %s\r\n", forwarded[i], value);
      break;
    }
  }
  return MHD_YES;
}

/* ---------- non-101 answers from the kubelet ---------- */

static int
relay_error(struct api_request *r, struct kubelet_conn *kc, int status, json_t *headers, buf *body)
{
  const char *cl = json_string_value(json_object_get(headers, "content-length"));
  size_t want = cl ? (size_t)strtoull(cl, NULL, 10) : MAX_ERROR_BODY;
  if (want > MAX_ERROR_BODY)
    want = MAX_ERROR_BODY;
  char chunk[4096];
  while (body->len < want) {
    ssize_t n = kubelet_conn_read(kc, chunk, sizeof chunk);
    if (n <= 0)
      break;
    buf_append(body, chunk, (size_t)n);
  }
  k8c_err err = {0};
  json_error_t jerr;
  json_t *st = body->len ? json_loadb(body->data, body->len, 0, &jerr) : NULL;
  const char *msg = json_string_value(json_object_get(st, "message"));
  const char *reason = json_string_value(json_object_get(st, "reason"));
  if (msg)
    k8c_error(&err, status, reason ? reason : K8C_REASON_INTERNAL, "%s", msg);
  else
    k8c_error(&err, status, status == 404 ? K8C_REASON_NOT_FOUND : K8C_REASON_INTERNAL, "%s",
              body->len ? buf_cstr(body) : "the kubelet refused the request");
  json_decref(st);
  int ret = response_error(r, &err);
  k8c_err_clear(&err);
  return ret;
}

/* ---------- logs ---------- */

struct log_proxy {
  struct kubelet_conn kc;
  struct MHD_Connection *client;
  buf rest;
  size_t rest_off;
};

static bool
client_vanished(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == NULL)
    return true;
  struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t
log_proxy_read(void *cls, uint64_t pos, char *dst, size_t max)
{
  struct log_proxy *lp = cls;
  if (lp->rest_off < lp->rest.len) {
    size_t n = lp->rest.len - lp->rest_off;
    if (n > max)
      n = max;
    memcpy(dst, lp->rest.data + lp->rest_off, n);
    lp->rest_off += n;
    return (ssize_t)n;
  }
  for (;;) {
    if (!kubelet_conn_pending(&lp->kc)) {
      struct pollfd p = {.fd = lp->kc.fd, .events = POLLIN};
      int rc = poll(&p, 1, 1000);
      if (rc == 0) {
        if (client_vanished(lp->client))
          return MHD_CONTENT_READER_END_WITH_ERROR;
        continue;
      }
    }
    ssize_t n = kubelet_conn_read(&lp->kc, dst, max);
    if (n == 0)
      return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
      return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
  }
}

static void
log_proxy_free(void *cls)
{
  struct log_proxy *lp = cls;
  kubelet_conn_close(&lp->kc);
  buf_free(&lp->rest);
  free(lp);
}

static int
proxy_logs(struct api_request *r, struct kubelet_conn *kc, const char *request)
{
  k8c_err err = {0};
  int status = 0;
  json_t *headers = NULL;
  struct log_proxy *lp = xcalloc(1, sizeof *lp);
  lp->kc = *kc;
  lp->client = r->conn;
  buf_init(&lp->rest);
  if (kubelet_conn_write(&lp->kc, request, strlen(request)) < 0 ||
      kubelet_read_head(&lp->kc, &status, &headers, &lp->rest, &err) < 0) {
    if (err.status == 0)
      k8c_error(&err, 502, K8C_REASON_INTERNAL, "error writing to the kubelet");
    log_proxy_free(lp);
    int ret = response_error(r, &err);
    k8c_err_clear(&err);
    return ret;
  }
  if (status != 200) {
    int ret = relay_error(r, &lp->kc, status, headers, &lp->rest);
    json_decref(headers);
    log_proxy_free(lp);
    return ret;
  }
  json_decref(headers);
  struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
                                                                log_proxy_read, lp, log_proxy_free);
  MHD_add_response_header(resp, "Content-Type", "text/plain");
  int ret = MHD_queue_response(r->conn, 200, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* ---------- upgrades ---------- */

struct splice {
  struct kubelet_conn kc;
  buf rest; /* bytes the kubelet sent right after its 101 */
  MHD_socket sock;
  struct MHD_UpgradeResponseHandle *urh;
  char *extra;
  size_t extra_len;
};

static int
fd_write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void *
splice_thread(void *arg)
{
  struct splice *sp = arg;
  int flags = fcntl(sp->sock, F_GETFL);
  if (flags >= 0)
    (void)fcntl(sp->sock, F_SETFL, flags & ~O_NONBLOCK);
  bool ok = (sp->rest.len == 0 || fd_write_all(sp->sock, sp->rest.data, sp->rest.len) == 0) &&
            (sp->extra_len == 0 || kubelet_conn_write(&sp->kc, sp->extra, sp->extra_len) == 0);
  char chunk[32768];
  while (ok) {
    struct pollfd p[2] = {{.fd = sp->sock, .events = POLLIN}, {.fd = sp->kc.fd, .events = POLLIN}};
    if (!kubelet_conn_pending(&sp->kc) && poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (kubelet_conn_pending(&sp->kc))
      p[1].revents |= POLLIN;
    if (p[1].revents) {
      ssize_t n = kubelet_conn_read(&sp->kc, chunk, sizeof chunk);
      if (n <= 0 || fd_write_all(sp->sock, chunk, (size_t)n) < 0)
        break;
    }
    if (p[0].revents) {
      ssize_t n = read(sp->sock, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || kubelet_conn_write(&sp->kc, chunk, (size_t)n) < 0)
        break;
    }
  }
  MHD_upgrade_action(sp->urh, MHD_UPGRADE_ACTION_CLOSE);
  kubelet_conn_close(&sp->kc);
  buf_free(&sp->rest);
  free(sp->extra);
  free(sp);
  return NULL;
}

static void
upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
         size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  struct splice *sp = cls;
  sp->sock = sock;
  sp->urh = urh;
  if (extra_in_size) {
    sp->extra = xmalloc(extra_in_size);
    memcpy(sp->extra, extra_in, extra_in_size);
    sp->extra_len = extra_in_size;
  }
  pthread_t tid;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  if (pthread_create(&tid, &attr, splice_thread, sp) != 0) {
    log_error("apiserver: cannot start a stream splice thread");
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    kubelet_conn_close(&sp->kc);
    buf_free(&sp->rest);
    free(sp->extra);
    free(sp);
  }
  pthread_attr_destroy(&attr);
}

static int
proxy_upgrade(struct api_request *r, struct kubelet_conn *kc, const char *request)
{
  k8c_err err = {0};
  int status = 0;
  json_t *headers = NULL;
  struct splice *sp = xcalloc(1, sizeof *sp);
  sp->kc = *kc;
  buf_init(&sp->rest);
  int ret;
  if (kubelet_conn_write(&sp->kc, request, strlen(request)) < 0 ||
      kubelet_read_head(&sp->kc, &status, &headers, &sp->rest, &err) < 0) {
    if (err.status == 0)
      k8c_error(&err, 502, K8C_REASON_INTERNAL, "error writing to the kubelet");
    ret = response_error(r, &err);
    k8c_err_clear(&err);
    goto drop;
  }
  if (status != 101) {
    ret = relay_error(r, &sp->kc, status, headers, &sp->rest);
    goto drop;
  }
  struct MHD_Response *resp = MHD_create_response_for_upgrade(upgraded, sp);
  static const char *const copied[] = {"Upgrade", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
                                       "X-Stream-Protocol-Version"};
  for (size_t i = 0; i < 4; i++) {
    char lower[64];
    size_t k = 0;
    for (; copied[i][k] && k < sizeof lower - 1; k++)
      lower[k] = (char)(copied[i][k] | ((copied[i][k] >= 'A' && copied[i][k] <= 'Z') ? 0x20 : 0));
    lower[k] = 0;
    const char *v = json_string_value(json_object_get(headers, lower));
    if (v)
      MHD_add_response_header(resp, copied[i], v);
  }
  json_decref(headers);
  ret = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
  MHD_destroy_response(resp);
  return ret; /* the upgrade callback owns sp from here */
drop:
  json_decref(headers);
  kubelet_conn_close(&sp->kc);
  buf_free(&sp->rest);
  free(sp);
  return ret;
}

/* ---------- entry ---------- */

static int
answer_error(struct api_request *r, k8c_err *err)
{
  int ret = response_error(r, err);
  k8c_err_clear(err);
  return ret;
}

static void
build_request(struct api_request *r, const char *container, const char *host, int port, bool logs,
              buf *req)
{
  buf path;
  buf_init(&path);
  kubelet_path(r, container, &path);
  bool v6 = strchr(host, ':') != NULL;
  if (logs) {
    buf_printf(req, "GET %s HTTP/1.0\r\nHost: %s%s%s:%d\r\n\r\n", buf_cstr(&path), v6 ? "[" : "",
               host, v6 ? "]" : "", port);
  } else {
    buf_printf(req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nConnection: Upgrade\r\n", r->method,
               buf_cstr(&path), v6 ? "[" : "", host, v6 ? "]" : "", port);
    struct header_copy hc = {req};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, copy_upgrade_header, &hc);
    buf_puts(req, "Content-Length: 0\r\n\r\n");
  }
  buf_free(&path);
}

int
nodeproxy_handle(struct apiserver *s, struct api_request *r)
{
  const struct request_info *ri = &r->info;
  k8c_err err = {0};
  bool logs = strcmp(ri->subresource, "log") == 0;
  bool portforward = strcmp(ri->subresource, "portforward") == 0;
  if (logs && ri->verb != VERB_GET) {
    k8c_error(&err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
              "the server does not allow this method on the requested resource");
    return answer_error(r, &err);
  }
  cleanup_json json_t *pod = load_object(s->cfg.reg, "pods", ri->namespace_, ri->name, &err);
  if (pod == NULL)
    return answer_error(r, &err);
  cleanup_free char *container = NULL;
  if (!portforward &&
      pick_container(pod, ri->name, request_query(r, "container"), &container, &err) < 0)
    return answer_error(r, &err);
  const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
  if (node == NULL || node[0] == 0) {
    if (logs) /* upstream answers an unscheduled pod's logs with an empty body */
      return response_send(r, 200, "text/plain", xstrdup(""), 0, NULL);
    k8c_error(&err, 400, K8C_REASON_BAD_REQUEST, "pod %s does not have a host assigned", ri->name);
    return answer_error(r, &err);
  }
  cleanup_free char *host = NULL;
  int port = 0;
  if (node_endpoint(s->cfg.reg, node, &host, &port, &err) < 0)
    return answer_error(r, &err);
  struct kubelet_conn kc;
  if (kubelet_conn_open(host, port, s->cfg.kubelet_client_cert_pem, s->cfg.kubelet_client_key_pem,
                        DIAL_TIMEOUT_MS, &kc, &err) < 0)
    return answer_error(r, &err);
  buf req;
  buf_init(&req);
  build_request(r, container, host, port, logs, &req);
  int ret = logs ? proxy_logs(r, &kc, buf_cstr(&req)) : proxy_upgrade(r, &kc, buf_cstr(&req));
  buf_free(&req);
  return ret;
}
