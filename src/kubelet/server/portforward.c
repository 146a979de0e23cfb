/* portforward.c — port-forward sessions (SPDY portforward.k8s.io, also tunnelled in
 * WebSocket messages for kubectl 1.31+): the client opens an "error" and a "data" stream
 * per local connection, both tagged with the port and a requestid; the data stream is
 * spliced to a socket the backend connects inside the pod, the error stream carries a
 * failure message if that connection cannot be made. */
#include "kubelet/server/server_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 128

struct pf_pair {
  bool used;
  char request_id[64];
  uint32_t error_sid, data_sid;
  int port;
  int fd; /* the connection inside the pod, -1 before or after */
  bool connect_tried;
};

struct pf_session {
  struct session_request *req;
  struct stream_target target;
  struct spdy_session spdy;
  struct pf_pair pairs[MAX_PAIRS];
  bool client_gone;
};

static struct pf_pair *
pair_for_request(struct pf_session *s, const char *request_id)
{
  struct pf_pair *free_slot = NULL;
  for (int i = 0; i < MAX_PAIRS; i++) {
    struct pf_pair *p = &s->pairs[i];
    if (p->used && strcmp(p->request_id, request_id) == 0)
      return p;
    if (!p->used && free_slot == NULL)
      free_slot = p;
  }
  if (free_slot == NULL)
    return NULL;
  memset(free_slot, 0, sizeof *free_slot);
  free_slot->used = true;
  free_slot->fd = -1;
  snprintf(free_slot->request_id, sizeof free_slot->request_id, "%s", request_id);
  return free_slot;
}

static struct pf_pair *
pair_for_stream(struct pf_session *s, uint32_t sid)
{
  for (int i = 0; i < MAX_PAIRS; i++)
    if (s->pairs[i].used && sid && (s->pairs[i].data_sid == sid || s->pairs[i].error_sid == sid))
      return &s->pairs[i];
  return NULL;
}

static void
pair_close(struct pf_pair *p)
{
  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
  p->used = false;
}

static void
send_or_gone(struct pf_session *s, uint32_t sid, const void *data, size_t len, bool fin)
{
  if (!s->client_gone && sid && spdy_session_send_data(&s->spdy, sid, data, len, fin) < 0)
    s->client_gone = true;
}

static void
pair_connect(struct pf_session *s, struct pf_pair *p)
{
  if (p->connect_tried || p->data_sid == 0 || p->error_sid == 0)
    return;
  p->connect_tried = true;
  const struct stream_backend *b = s->req->backend;
  k8c_err err = {0};
  if (p->port <= 0 || p->port > 65535) {
    k8c_error(&err, 400, K8C_REASON_BAD_REQUEST, "invalid port %d", p->port);
  } else if (b->port_forward(b->ctx, &s->target, (uint16_t)p->port, &p->fd, &err) == 0) {
    return;
  }
  cleanup_free char *msg =
      xasprintf("error forwarding port %d to pod %s, uid %s: %s", p->port, s->req->pod,
                s->req->pod_uid ? s->req->pod_uid : "", err.message);
  k8c_err_clear(&err);
  p->fd = -1;
  send_or_gone(s, p->error_sid, msg, strlen(msg), true);
  send_or_gone(s, p->data_sid, NULL, 0, true);
}

static void
on_syn_stream(struct pf_session *s, const struct spdy_frame *f, json_t *headers)
{
  const char *type = json_string_value(json_object_get(headers, "streamtype"));
  const char *port = json_string_value(json_object_get(headers, "port"));
  const char *rid = json_string_value(json_object_get(headers, "requestid"));
  struct pf_pair *p = pair_for_request(s, rid ? rid : "");
  if (p == NULL || type == NULL) {
    buf out;
    buf_init(&out);
    spdy_rst_stream_encode(&out, f->stream_id, SPDY_RST_PROTOCOL_ERROR);
    if (spdy_session_send_raw(&s->spdy, &out) < 0)
      s->client_gone = true;
    buf_free(&out);
    return;
  }
  p->port = port ? atoi(port) : 0;
  if (strcmp(type, "error") == 0)
    p->error_sid = f->stream_id;
  else if (strcmp(type, "data") == 0)
    p->data_sid = f->stream_id;
  pair_connect(s, p);
}

static void
read_client(struct pf_session *s)
{
  k8c_err err = {0};
  if (stream_conn_fill(&s->spdy.conn, &err) < 0) {
    log_debug("port-forward: %s", err.message);
    k8c_err_clear(&err);
    s->client_gone = true;
    return;
  }
  for (;;) {
    struct spdy_frame f;
    json_t *headers = NULL;
    int rc = spdy_session_next(&s->spdy, &f, &headers, &err);
    if (rc < 0) {
      log_debug("port-forward: %s", err.message);
      k8c_err_clear(&err);
      s->client_gone = true;
      return;
    }
    if (rc == 0)
      break;
    if (f.type == SPDY_SYN_STREAM) {
      on_syn_stream(s, &f, headers);
      json_decref(headers);
      continue;
    }
    if (f.type == SPDY_GOAWAY) {
      s->client_gone = true;
      return;
    }
    struct pf_pair *p = pair_for_stream(s, f.stream_id);
    if (p == NULL)
      continue;
    if (f.type == SPDY_RST_STREAM) {
      pair_close(p);
      continue;
    }
    if (f.type != SPDY_DATA || f.stream_id != p->data_sid || p->fd < 0)
      continue;
    if (f.len && write_all(p->fd, f.payload, f.len) < 0) {
      send_or_gone(s, p->data_sid, NULL, 0, true);
      pair_close(p);
      continue;
    }
    if (f.flags & SPDY_FLAG_FIN)
      (void)shutdown(p->fd, SHUT_WR);
  }
  if (s->spdy.conn.eof)
    s->client_gone = true;
}

static void
relay(struct pf_session *s)
{
  char chunk[32768];
  while (!s->client_gone) {
    struct pollfd p[MAX_PAIRS + 1];
    int idx[MAX_PAIRS + 1];
    int n = 0;
    p[n] = (struct pollfd){.fd = s->spdy.conn.fd, .events = POLLIN};
    idx[n++] = -1;
    for (int i = 0; i < MAX_PAIRS; i++) {
      if (s->pairs[i].used && s->pairs[i].fd >= 0) {
        p[n] = (struct pollfd){.fd = s->pairs[i].fd, .events = POLLIN};
        idx[n++] = i;
      }
    }
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int k = 1; k < n; k++) {
      if (!p[k].revents)
        continue;
      struct pf_pair *pair = &s->pairs[idx[k]];
      if (!pair->used || pair->fd < 0)
        continue;
      ssize_t got = read(pair->fd, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR)
        continue;
      if (got > 0) {
        send_or_gone(s, pair->data_sid, chunk, (size_t)got, false);
        continue;
      }
      send_or_gone(s, pair->data_sid, NULL, 0, true);
      send_or_gone(s, pair->error_sid, NULL, 0, true);
      pair_close(pair);
    }
    if (p[0].revents)
      read_client(s);
  }
}

void
portforward_run(struct session_request *req, int fd, const char *extra, size_t extra_len)
{
  struct pf_session *s = xcalloc(1, sizeof *s);
  s->req = req;
  session_target(req, &s->target);
  k8c_err err = {0};
  if (spdy_session_init(&s->spdy, fd, req->proto == PROTO_WS_SPDY_TUNNEL, extra, extra_len, &err) <
      0) {
    k8c_err_clear(&err);
    free(s);
    return;
  }
  if (s->spdy.conn.app.len) {
    /* frames that arrived with the upgrade: handle them before waiting */
    struct spdy_frame f;
    json_t *headers = NULL;
    while (spdy_session_next(&s->spdy, &f, &headers, &err) == 1) {
      if (f.type == SPDY_SYN_STREAM)
        on_syn_stream(s, &f, headers);
      json_decref(headers);
      headers = NULL;
    }
    k8c_err_clear(&err);
  }
  relay(s);
  for (int i = 0; i < MAX_PAIRS; i++)
    if (s->pairs[i].used)
      pair_close(&s->pairs[i]);
  spdy_session_free(&s->spdy);
  free(s);
}
