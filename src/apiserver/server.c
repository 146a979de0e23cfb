/* server.c — libmicrohttpd setup and the request entry point: per-connection identity
 * (verified once per TLS connection, then reused by every request on it), body
 * collection with the 3 MiB limit, health and version endpoints, and dispatch. */
#include "apiserver/server_internal.h"

#include "apimachinery/json_alloc.h"
#include "apiserver/agent_join.h"
#include "apiserver/conn_affinity.h"
#include "apiserver/nodeproxy.h"
#include "apiserver/rbac.h"
#include "apiserver/sa_authn.h"
#include "apiserver/tls_coalesce.h"
#include "apiserver/token.h"
#include "apiserver/version.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#define MAX_BODY_BYTES (3u * 1024u * 1024u)
/* Per-connection pool of libmicrohttpd (request head, read and write buffers; bodies are
 * copied out as they arrive). It is zeroed on every request, so its size is paid per
 * request: 16 KiB holds any Kubernetes client's headers (default 32 KiB). */
#define CONNECTION_MEMORY (16u * 1024u)

struct conn_ctx {
  struct conn_affinity affinity;
  bool identity_checked;
  struct identity who;
  k8c_err auth_err;
};

/* ---------- authentication ---------- */

static void
authenticate(struct apiserver *s, struct MHD_Connection *conn, struct conn_ctx *cc)
{
  if (cc->identity_checked)
    return;
  cc->identity_checked = true;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (ci == NULL || ci->tls_session == NULL)
    return;
  struct pki_identity id;
  memset(&id, 0, sizeof id);
  if (pki_verifier_check(s->verifier, (gnutls_session_t)ci->tls_session, &id, &cc->auth_err) < 0)
    return;
  if (!id.authenticated)
    return;
  cc->who.authenticated = true;
  snprintf(cc->who.user, sizeof cc->who.user, "%s", id.user);
  for (size_t i = 0; i < id.n_groups && i < 8; i++)
    snprintf(cc->who.groups[i], sizeof cc->who.groups[i], "%s", id.groups[i]);
  cc->who.group_count = (int)(id.n_groups < 8 ? id.n_groups : 8);
}

/* Bearer tokens are checked per request (they may differ between requests). */
static bool
authenticate_bearer(struct apiserver *s, struct api_request *r, struct identity *out)
{
  const char *auth = request_header(r, "Authorization");
  if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
    return false;
  if (agent_join_token_matches(s->cfg.token, auth + 7)) {
    agent_join_identity(out);
    return true;
  }
  return sa_authn_bearer(s->cfg.reg, auth + 7, out);
}

int
authorize(struct apiserver *s, const struct identity *who, const struct request_info *ri,
          k8c_err *err)
{
  for (int i = 0; i < who->group_count; i++)
    if (strcmp(who->groups[i], "system:masters") == 0)
      return 0;
  if (agent_join_authorized(who, ri))
    return 0;
  if (!ri->is_resource)
    return 0; /* discovery, OpenAPI and version are readable by every authenticated user */
  if (s->rbac) {
    const char *groups[8];
    for (int i = 0; i < who->group_count && i < 8; i++)
      groups[i] = who->groups[i];
    struct rbac_attrs a = {.user = who->user,
                           .groups = groups,
                           .ngroups = (size_t)who->group_count,
                           .is_resource = true,
                           .verb = api_verb_name(ri->verb),
                           .api_group = ri->group,
                           .resource = ri->resource,
                           .subresource = ri->subresource,
                           .name = ri->name,
                           .ns = ri->namespace_};
    if (rbac_allows(s->rbac, &a))
      return 0;
  }
  /* Upstream's words: the qualified resource ("deployments.apps") before "is forbidden",
   * the resource with its subresource after "cannot VERB resource". */
  char where[320] = "", qualified[320], target[200];
  if (ri->namespace_[0])
    snprintf(where, sizeof where, " in the namespace \"%s\"", ri->namespace_);
  else
    snprintf(where, sizeof where, " at the cluster scope");
  snprintf(qualified, sizeof qualified, "%s%s%s", ri->resource, ri->group[0] ? "." : "", ri->group);
  snprintf(target, sizeof target, "%s%s%s", ri->resource, ri->subresource[0] ? "/" : "",
           ri->subresource);
  return k8c_error(
      err, 403, K8C_REASON_FORBIDDEN,
      "%s%s%s%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\"%s",
      qualified, ri->name[0] ? " \"" : "", ri->name[0] ? ri->name : "", ri->name[0] ? "\"" : "",
      who->user, api_verb_name(ri->verb), target, ri->group, where);
}

/* ---------- simple endpoints ---------- */

static int
send_text(struct api_request *r, int status, const char *text)
{
  return response_send(r, status, "text/plain; charset=utf-8", xstrdup(text), strlen(text), NULL);
}

static int
handle_health(struct apiserver *s, struct api_request *r, const char *path, int *ret)
{
  if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0) {
    *ret = send_text(r, 200, "ok");
    return 1;
  }
  if (strcmp(path, "/readyz") == 0) {
    if (atomic_load(&s->ready))
      *ret = send_text(r, 200, "ok");
    else
      *ret = send_text(r, 500, "[-]informer-sync failed: not yet ready\nreadyz check failed");
    return 1;
  }
  if (strcmp(path, "/version") == 0) {
    json_t *v = version_json();
    *ret = response_json(r, 200, v, NULL, NULL);
    json_decref(v);
    return 1;
  }
  return 0;
}

/* ---------- dispatch ---------- */

static int
dispatch(struct apiserver *s, struct api_request *r, struct conn_ctx *cc)
{
  char path[2048];
  size_t plen = strcspn(r->url, "?");
  if (plen >= sizeof path)
    plen = sizeof path - 1;
  memcpy(path, r->url, plen);
  path[plen] = 0;
  while (plen > 1 && path[plen - 1] == '/')
    path[--plen] = 0;

  int ret = MHD_NO;
  if (handle_health(s, r, path, &ret) || agent_join_handle_cacerts(s, r, path, &ret))
    return ret;

  struct identity bearer;
  const struct identity *who = &cc->who;
  if (!cc->who.authenticated && authenticate_bearer(s, r, &bearer))
    who = &bearer;
  if (!who->authenticated) {
    k8c_err err = {0};
    k8c_error(&err, 401, K8C_REASON_UNAUTHORIZED, "Unauthorized");
    ret = response_error(r, &err);
    k8c_err_clear(&err);
    return ret;
  }
  r->who = who;
  if (agent_join_handle_serving_cert(s, r, path, who, &ret))
    return ret;
  if (r->body_too_large) {
    k8c_err err = {0};
    k8c_error(&err, 413, K8C_REASON_TOO_LARGE, "the request body is too large: limit is %u bytes",
              MAX_BODY_BYTES);
    ret = response_error(r, &err);
    return ret;
  }
  if (handle_discovery(s, r, path, &ret) || handle_openapi(s, r, path, &ret) ||
      ssar_handle(s, r, path, &ret) || ssr_handle(s, r, path, &ret))
    return ret;

  k8c_err err = {0};
  const char *watch = request_query(r, "watch");
  bool watch_param = watch && (strcmp(watch, "true") == 0 || strcmp(watch, "1") == 0);
  if (request_info_parse(r->method, path, watch_param, &r->info, &err) < 0 ||
      authorize(s, who, &r->info, &err) < 0) {
    ret = response_error(r, &err);
    k8c_err_clear(&err);
    return ret;
  }
  /* A watch or a pod stream holds the connection for a long time, mostly sending: no
   * ping-pong to keep on one CPU, so its thread is left to the scheduler. */
  bool streams = r->info.verb == VERB_WATCH ||
                 nodeproxy_is_pod_stream(r->info.resource, r->info.group, r->info.subresource);
  if (streams)
    conn_affinity_release(&cc->affinity);
  else
    conn_affinity_on_request(&cc->affinity, r->conn);
  if (r->info.verb == VERB_WATCH)
    return handle_watch(s, r);
  return handle_resource(s, r);
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **req_cls)
{
  struct apiserver *s = cls;
  struct api_request *r = *req_cls;
  if (r == NULL) {
    r = xcalloc(1, sizeof *r);
    r->conn = conn;
    r->method = method;
    r->url = url;
    r->version = version;
    buf_init(&r->body);
    *req_cls = r;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (r->body.len + *upload_data_size > MAX_BODY_BYTES)
      r->body_too_large = true;
    else
      buf_append(&r->body, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  struct conn_ctx *cc = ci ? ci->socket_context : NULL;
  if (cc == NULL)
    return MHD_NO;
  authenticate(s, conn, cc);
  return dispatch(s, r, cc) == MHD_YES ? MHD_YES : MHD_NO;
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                  enum MHD_RequestTerminationCode toe)
{
  struct api_request *r = *req_cls;
  if (r == NULL)
    return;
  tls_coalesce_end(r);
  buf_free(&r->body);
  free(r);
  *req_cls = NULL;
}

static void
connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode toe)
{
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    struct conn_ctx *cc = xcalloc(1, sizeof(struct conn_ctx));
    conn_affinity_init(&cc->affinity);
    *socket_context = cc;
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    struct conn_ctx *cc = *socket_context;
    if (cc)
      k8c_err_clear(&cc->auth_err);
    free(cc);
    *socket_context = NULL;
  }
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n && line[n - 1] == '\n')
    line[--n] = 0;
  log_debug("http: %s", line);
}

struct apiserver *
apiserver_start(const struct apiserver_config *cfg, k8c_err *err)
{
  /* Requests build and free many small JSON values on their own threads. */
  json_alloc_install();
  struct apiserver *s = xcalloc(1, sizeof *s);
  s->cfg = *cfg;
  s->verifier = pki_verifier_new(cfg->client_ca_pem, err);
  if (s->verifier == NULL) {
    free(s);
    return NULL;
  }
  if (cfg->reg && (s->rbac = rbac_new(cfg->reg, err)) == NULL) {
    pki_verifier_free(s->verifier);
    free(s);
    return NULL;
  }
  struct sockaddr_in6 addr6;
  struct sockaddr_in addr4;
  const struct sockaddr *addr = NULL;
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                   MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_ALLOW_UPGRADE;
  const char *bind = cfg->bind_address && cfg->bind_address[0] ? cfg->bind_address : "0.0.0.0";
  memset(&addr4, 0, sizeof addr4);
  memset(&addr6, 0, sizeof addr6);
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
    rbac_free(s->rbac);
    pki_verifier_free(s->verifier);
    free(s);
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "invalid --bind-address %s", bind);
    return NULL;
  }
  s->daemon = MHD_start_daemon(
      flags, (uint16_t)cfg->port, NULL, NULL, access_handler, s, MHD_OPTION_SOCK_ADDR, addr,
      MHD_OPTION_HTTPS_MEM_KEY, cfg->serving_key_pem, MHD_OPTION_HTTPS_MEM_CERT,
      cfg->serving_cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, cfg->client_ca_pem,
      MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-SSL3.0",
      MHD_OPTION_NOTIFY_COMPLETED, request_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
      connection_notify, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
      MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)CONNECTION_MEMORY, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
      MHD_OPTION_END);
  if (s->daemon == NULL) {
    rbac_free(s->rbac);
    pki_verifier_free(s->verifier);
    free(s);
    k8c_error(err, 500, K8C_REASON_INTERNAL,
              "cannot listen on %s:%d (port in use or no permission)", bind, cfg->port);
    return NULL;
  }
  return s;
}

void
apiserver_set_ready(struct apiserver *s)
{
  atomic_store(&s->ready, true);
}

void
apiserver_stop(struct apiserver *s)
{
  if (s == NULL)
    return;
  atomic_store(&s->stopping, true);
  MHD_stop_daemon(s->daemon);
  rbac_free(s->rbac);
  pki_verifier_free(s->verifier);
  free(s);
}
