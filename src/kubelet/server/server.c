/* server.c — the kubelet's HTTPS streaming endpoint: libmicrohttpd with GnuTLS, one
 * thread per connection, client certificates checked against the cluster's client CA,
 * kubelet's URL layout, and the protocol negotiation of an upgrade (WebSocket
 * subprotocols or SPDY's X-Stream-Protocol-Version) before handing the raw connection
 * to a session thread. */
#include "kubelet/server/server_internal.h"

#include "apiserver/pki.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PATH_PARTS 6
#define WS_PROTOCOL_V5 "v5.channel.k8s.io"
#define WS_PROTOCOL_V4 "v4.channel.k8s.io"
#define WS_PROTOCOL_PF_TUNNEL "SPDY/3.1+portforward.k8s.io"
#define SPDY_PROTOCOL_EXEC "v4.channel.k8s.io"
#define SPDY_PROTOCOL_PF "portforward.k8s.io"

struct streaming_server {
  struct streaming_server_config cfg;
  struct MHD_Daemon *daemon;
  struct pki_verifier *verifier;
  int port;
};

/* What one upgraded connection's thread needs. */
struct session_start {
  struct session_request *req;
  MHD_socket sock;
  struct MHD_UpgradeResponseHandle *urh;
  char *extra;
  size_t extra_len;
};

static char first_call_marker;

/* ---------- answers ---------- */

int
send_status_error(struct MHD_Connection *conn, const k8c_err *err)
{
  int code = err->status ? err->status : 500;
  json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1",
                         "metadata", "status", "Failure", "message", err->message, "reason",
                         err->reason[0] ? err->reason : K8C_REASON_INTERNAL, "code", code);
  char *text = json_dumps(st, JSON_COMPACT);
  json_decref(st);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(resp, "Content-Type", "application/json");
  enum MHD_Result r = MHD_queue_response(conn, (unsigned)code, resp);
  MHD_destroy_response(resp);
  return r;
}

static int
fail(struct MHD_Connection *conn, int code, const char *reason, const char *msg)
{
  k8c_err err = {0};
  k8c_error(&err, code, reason, "%s", msg);
  return send_status_error(conn, &err);
}

/* ---------- authentication ---------- */

static int
check_caller(struct streaming_server *s, struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  struct pki_identity id;
  memset(&id, 0, sizeof id);
  k8c_err err = {0};
  if (ci == NULL || ci->tls_session == NULL ||
      pki_verifier_check(s->verifier, (gnutls_session_t)ci->tls_session, &id, &err) < 0 ||
      !id.authenticated) {
    k8c_err_clear(&err);
    return 401;
  }
  if (strcmp(id.user, KUBELET_CLIENT_CN) == 0)
    return 0;
  for (size_t i = 0; i < id.n_groups; i++)
    if (strcmp(id.groups[i], "system:masters") == 0)
      return 0;
  return 403;
}

/* ---------- request parsing ---------- */

struct header_scan {
  buf ws_protocols;   /* Sec-WebSocket-Protocol values, comma separated */
  buf spdy_protocols; /* X-Stream-Protocol-Version values, comma separated */
};

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  struct header_scan *h = cls;
  buf *target = NULL;
  if (strcasecmp(key, "Sec-WebSocket-Protocol") == 0)
    target = &h->ws_protocols;
  else if (strcasecmp(key, "X-Stream-Protocol-Version") == 0)
    target = &h->spdy_protocols;
  if (target && value) {
    if (target->len)
      buf_puts(target, ",");
    buf_puts(target, value);
  }
  return MHD_YES;
}

/* True if the comma-separated list holds want (spaces around items ignored). */
static bool
list_has(const char *list, const char *want)
{
  size_t wl = strlen(want);
  const char *p = list;
  while (p && *p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *e = p;
    while (*e && *e != ',')
      e++;
    const char *t = e;
    while (t > p && t[-1] == ' ')
      t--;
    if ((size_t)(t - p) == wl && strncmp(p, want, wl) == 0)
      return true;
    p = e;
  }
  return false;
}

struct command_scan {
  char **argv;
  size_t n;
};

static enum MHD_Result
scan_command(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  struct command_scan *c = cls;
  if (strcmp(key, "command") == 0 && c->n < 4096) {
    c->argv = xrealloc(c->argv, (c->n + 2) * sizeof *c->argv);
    c->argv[c->n++] = xstrdup(value ? value : "");
    c->argv[c->n] = NULL;
  }
  return MHD_YES;
}

static bool
query_flag(struct MHD_Connection *conn, const char *name)
{
  const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
  return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

/* ---------- upgraded sessions ---------- */

/* Ends the session's writing and waits (up to 2 s) for the peer's end, so that MHD's TLS
 * pump forwards everything the session wrote before the socket is closed: closing at
 * once dropped the tail still in MHD's socketpair (a slow `kubectl cp` from a pod got a
 * truncated tar and "close 1006 (abnormal closure)"). */
static void
flush_before_close(MHD_socket sock)
{
  if (shutdown(sock, SHUT_WR) != 0)
    return;
  char scratch[4096];
  struct pollfd p = {.fd = sock, .events = POLLIN};
  for (int waited = 0; waited < 2000; waited += 100) {
    int r = poll(&p, 1, 100);
    if (r < 0 && errno != EINTR)
      return;
    if (r > 0 && read(sock, scratch, sizeof scratch) <= 0)
      return;
  }
}

static void *
session_thread(void *arg)
{
  struct session_start *st = arg;
  int flags = fcntl(st->sock, F_GETFL);
  if (flags >= 0)
    (void)fcntl(st->sock, F_SETFL, flags & ~O_NONBLOCK);
  if (st->req->kind == SESSION_PORTFORWARD)
    portforward_run(st->req, st->sock, st->extra, st->extra_len);
  else
    remotecommand_run(st->req, st->sock, st->extra, st->extra_len);
  flush_before_close(st->sock);
  MHD_upgrade_action(st->urh, MHD_UPGRADE_ACTION_CLOSE);
  session_request_free(st->req);
  free(st->extra);
  free(st);
  return NULL;
}

static void
upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
         size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  struct session_start *st = xcalloc(1, sizeof *st);
  st->req = cls;
  st->sock = sock;
  st->urh = urh;
  if (extra_in_size) {
    st->extra = xmalloc(extra_in_size);
    memcpy(st->extra, extra_in, extra_in_size);
    st->extra_len = extra_in_size;
  }
  pthread_t tid;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 512 * 1024);
  if (pthread_create(&tid, &attr, session_thread, st) != 0) {
    log_error("kubelet server: cannot start a session thread");
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    session_request_free(st->req);
    free(st->extra);
    free(st);
  }
  pthread_attr_destroy(&attr);
}

/* Negotiates the protocol and answers 101, or fails with upstream's errors. */
static int
start_session(struct streaming_server *s, struct MHD_Connection *conn, struct session_request *req)
{
  const char *upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
  struct header_scan h;
  buf_init(&h.ws_protocols);
  buf_init(&h.spdy_protocols);
  MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
  const char *chosen = NULL;
  bool ws = upgrade && strcasecmp(upgrade, "websocket") == 0;
  if (ws) {
    const char *list = buf_cstr(&h.ws_protocols);
    if (req->kind == SESSION_PORTFORWARD) {
      if (list_has(list, WS_PROTOCOL_PF_TUNNEL)) {
        chosen = WS_PROTOCOL_PF_TUNNEL;
        req->proto = PROTO_WS_SPDY_TUNNEL;
      }
    } else if (list_has(list, WS_PROTOCOL_V5)) {
      chosen = WS_PROTOCOL_V5;
      req->proto = PROTO_WS_V5;
    } else if (list_has(list, WS_PROTOCOL_V4)) {
      chosen = WS_PROTOCOL_V4;
      req->proto = PROTO_WS_V4;
    }
  } else if (upgrade && strncasecmp(upgrade, "SPDY/3.1", 8) == 0) {
    const char *want = req->kind == SESSION_PORTFORWARD ? SPDY_PROTOCOL_PF : SPDY_PROTOCOL_EXEC;
    if (list_has(buf_cstr(&h.spdy_protocols), want)) {
      chosen = want;
      req->proto = PROTO_SPDY;
    }
  }
  int ret;
  if (upgrade == NULL || (!ws && strncasecmp(upgrade, "SPDY/3.1", 8) != 0)) {
    ret = fail(conn, 400, K8C_REASON_BAD_REQUEST, "Upgrade request required");
  } else if (chosen == NULL) {
    cleanup_free char *msg = xasprintf(
        "unable to upgrade: unable to negotiate protocol: client supports [%s], server supports "
        "[%s]",
        ws ? buf_cstr(&h.ws_protocols) : buf_cstr(&h.spdy_protocols),
        req->kind == SESSION_PORTFORWARD
            ? (ws ? WS_PROTOCOL_PF_TUNNEL : SPDY_PROTOCOL_PF)
            : (ws ? WS_PROTOCOL_V5 ", " WS_PROTOCOL_V4 : SPDY_PROTOCOL_EXEC));
    ret = fail(conn, 403, K8C_REASON_FORBIDDEN, msg);
  } else {
    ret = -1;
  }
  buf_free(&h.ws_protocols);
  buf_free(&h.spdy_protocols);
  if (ret != -1) {
    session_request_free(req);
    return ret;
  }
  struct MHD_Response *resp = MHD_create_response_for_upgrade(upgraded, req);
  if (ws) {
    const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    char accept[WS_ACCEPT_KEY_LEN + 1];
    ws_accept_key(key ? key : "", accept);
    MHD_add_response_header(resp, "Upgrade", "websocket");
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    MHD_add_response_header(resp, "Sec-WebSocket-Protocol", chosen);
  } else {
    MHD_add_response_header(resp, "Upgrade", "SPDY/3.1");
    MHD_add_response_header(resp, "X-Stream-Protocol-Version", chosen);
  }
  ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
  MHD_destroy_response(resp);
  if (ret != MHD_YES)
    session_request_free(req); /* never upgraded */
  return ret;
}

/* ---------- routing ---------- */

static int
split_path(const char *url, char parts[MAX_PATH_PARTS][256])
{
  int n = 0;
  const char *p = url;
  while (*p) {
    while (*p == '/')
      p++;
    if (!*p)
      break;
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (n >= MAX_PATH_PARTS || len >= 256)
      return -1;
    memcpy(parts[n], p, len);
    parts[n][len] = 0;
    n++;
    p += len;
  }
  return n;
}

static int
route(struct streaming_server *s, struct MHD_Connection *conn, const char *method, const char *url)
{
  char parts[MAX_PATH_PARTS][256];
  int n = split_path(url, parts);
  if (n <= 0)
    return fail(conn, 404, K8C_REASON_NOT_FOUND, "404 page not found");
  const struct stream_backend *b = s->cfg.backend;
  bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
  if (strcmp(parts[0], "healthz") == 0 && n == 1) {
    static const char ok[] = "ok";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)ok, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result r = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return r;
  }
  if (strcmp(parts[0], "containerLogs") == 0 && n == 4) {
    if (!get)
      return fail(conn, 405, K8C_REASON_METHOD_NOT_ALLOWED, "405: Method Not Allowed");
    return logs_handle(b, conn, parts[1], parts[2], parts[3]);
  }
  enum session_kind kind;
  if (strcmp(parts[0], "exec") == 0 && (n == 4 || n == 5))
    kind = SESSION_EXEC;
  else if (strcmp(parts[0], "attach") == 0 && (n == 4 || n == 5))
    kind = SESSION_ATTACH;
  else if (strcmp(parts[0], "portForward") == 0 && (n == 3 || n == 4))
    kind = SESSION_PORTFORWARD;
  else
    return fail(conn, 404, K8C_REASON_NOT_FOUND, "404 page not found");
  if (!get && !post)
    return fail(conn, 405, K8C_REASON_METHOD_NOT_ALLOWED, "405: Method Not Allowed");
  if (kind == SESSION_ATTACH && b->attach == NULL)
    return fail(conn, 501, K8C_REASON_INTERNAL, "attach is not supported by this node");

  struct session_request *req = xcalloc(1, sizeof *req);
  req->kind = kind;
  req->backend = b;
  req->namespace_ = xstrdup(parts[1]);
  req->pod = xstrdup(parts[2]);
  if (kind == SESSION_PORTFORWARD) {
    req->pod_uid = n == 4 ? xstrdup(parts[3]) : NULL;
    return start_session(s, conn, req);
  }
  req->pod_uid = n == 5 ? xstrdup(parts[3]) : NULL;
  req->container = xstrdup(parts[n - 1]);
  req->want_stdin = query_flag(conn, "input");
  req->want_stdout = query_flag(conn, "output");
  req->want_stderr = query_flag(conn, "error");
  req->tty = query_flag(conn, "tty");
  if (req->tty)
    req->want_stderr = false; /* a terminal merges stderr into stdout */
  if (kind == SESSION_EXEC) {
    struct command_scan c = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, scan_command, &c);
    req->argv = c.argv;
    if (c.n == 0) {
      session_request_free(req);
      return fail(conn, 400, K8C_REASON_BAD_REQUEST, "you must specify a command to run");
    }
  }
  if (!req->want_stdin && !req->want_stdout && !req->want_stderr) {
    session_request_free(req);
    return fail(conn, 400, K8C_REASON_BAD_REQUEST,
                "you must specify at least 1 of stdin, stdout, stderr");
  }
  return start_session(s, conn, req);
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **req_cls)
{
  struct streaming_server *s = cls;
  if (*req_cls == NULL) {
    *req_cls = &first_call_marker;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size = 0; /* no request here has a body worth reading */
    return MHD_YES;
  }
  int auth = check_caller(s, conn);
  if (auth == 401)
    return fail(conn, 401, K8C_REASON_UNAUTHORIZED, "Unauthorized") == MHD_YES ? MHD_YES : MHD_NO;
  if (auth == 403)
    return fail(conn, 403, K8C_REASON_FORBIDDEN,
                "Forbidden (the kubelet's streaming endpoints serve the API server only)") ==
                   MHD_YES
               ? MHD_YES
               : MHD_NO;
  return route(s, conn, method, url) == MHD_YES ? MHD_YES : MHD_NO;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n && line[n - 1] == '\n')
    line[--n] = 0;
  log_debug("kubelet http: %s", line);
}

/* ---------- lifecycle ---------- */

struct streaming_server *
streaming_server_start(const struct streaming_server_config *cfg, k8c_err *err)
{
  if (cfg->backend == NULL || cfg->serving_cert_pem == NULL || cfg->serving_key_pem == NULL ||
      cfg->client_ca_pem == NULL) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
              "kubelet server: backend, serving certificate and client CA are required");
    return NULL;
  }
  struct streaming_server *s = xcalloc(1, sizeof *s);
  s->cfg = *cfg;
  s->verifier = pki_verifier_new(cfg->client_ca_pem, err);
  if (s->verifier == NULL) {
    free(s);
    return NULL;
  }
  const char *bind = cfg->bind_address && cfg->bind_address[0] ? cfg->bind_address : "0.0.0.0";
  struct sockaddr_in addr4;
  struct sockaddr_in6 addr6;
  memset(&addr4, 0, sizeof addr4);
  memset(&addr6, 0, sizeof addr6);
  const struct sockaddr *addr;
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                   MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG | MHD_USE_POLL;
  if (inet_pton(AF_INET, bind, &addr4.sin_addr) == 1) {
    addr4.sin_family = AF_INET;
    addr4.sin_port = htons((uint16_t)cfg->port);
    addr = (const struct sockaddr *)&addr4;
  } else if (inet_pton(AF_INET6, bind, &addr6.sin6_addr) == 1) {
    addr6.sin6_family = AF_INET6;
    addr6.sin6_port = htons((uint16_t)cfg->port);
    addr = (const struct sockaddr *)&addr6;
    flags |= MHD_USE_IPv6;
  } else {
    pki_verifier_free(s->verifier);
    free(s);
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "kubelet server: invalid address %s", bind);
    return NULL;
  }
  s->daemon = MHD_start_daemon(
      flags, (uint16_t)cfg->port, NULL, NULL, access_handler, s, MHD_OPTION_SOCK_ADDR, addr,
      MHD_OPTION_HTTPS_MEM_KEY, cfg->serving_key_pem, MHD_OPTION_HTTPS_MEM_CERT,
      cfg->serving_cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, cfg->client_ca_pem,
      MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-SSL3.0",
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_THREAD_STACK_SIZE,
      (size_t)(256 * 1024), MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
  if (s->daemon == NULL) {
    pki_verifier_free(s->verifier);
    free(s);
    k8c_error(err, 500, K8C_REASON_INTERNAL,
              "kubelet server: cannot listen on %s:%d (port in use or no permission)", bind,
              cfg->port);
    return NULL;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : cfg->port;
  return s;
}

int
streaming_server_port(const struct streaming_server *s)
{
  return s->port;
}

void
streaming_server_stop(struct streaming_server *s)
{
  if (s == NULL)
    return;
  MHD_stop_daemon(s->daemon);
  pki_verifier_free(s->verifier);
  free(s);
}
