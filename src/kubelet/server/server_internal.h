/* server_internal.h — what the streaming server's files share: the parsed request of a
 * streaming session, the upgraded connection (raw, or SPDY tunnelled in WebSocket
 * messages) and the SPDY session helpers. */
#ifndef K8C_KUBELET_SERVER_SERVER_INTERNAL_H
#define K8C_KUBELET_SERVER_SERVER_INTERNAL_H

#include "kubelet/server/backend.h"
#include "kubelet/server/server.h"
#include "kubelet/server/spdy.h"
#include "kubelet/server/ws.h"
#include "lib/buf.h"

#include <jansson.h>
#include <stdbool.h>

struct MHD_Connection;

enum stream_protocol {
  PROTO_WS_V4,          /* WebSocket v4.channel.k8s.io */
  PROTO_WS_V5,          /* WebSocket v5.channel.k8s.io (adds the close-channel message) */
  PROTO_SPDY,           /* SPDY/3.1 (v4.channel.k8s.io or portforward.k8s.io) */
  PROTO_WS_SPDY_TUNNEL, /* SPDY/3.1 inside WebSocket binary messages (port-forward) */
};

enum session_kind { SESSION_EXEC, SESSION_ATTACH, SESSION_PORTFORWARD };

/* Everything a session needs once the connection is upgraded; owned by the session
 * thread (session_request_free). */
struct session_request {
  enum session_kind kind;
  enum stream_protocol proto;
  const struct stream_backend *backend;
  char *namespace_, *pod, *pod_uid, *container;
  char **argv; /* NULL-terminated, exec only */
  bool want_stdin, want_stdout, want_stderr, tty;
};

void session_request_free(struct session_request *r);
void session_target(const struct session_request *r, struct stream_target *t);

/* ---- the upgraded connection ---- */

struct stream_conn {
  int fd;
  bool ws_tunnel;      /* app bytes travel as WebSocket binary messages */
  struct ws_reader ws; /* ws_tunnel only */
  buf raw;             /* bytes read from fd, not yet decoded */
  buf app;             /* decoded application bytes not yet consumed */
  bool eof;            /* the peer closed (or sent a WebSocket close) */
};

void stream_conn_init(struct stream_conn *c, int fd, bool ws_tunnel, const char *extra,
                      size_t extra_len);
void stream_conn_free(struct stream_conn *c);
/* One read from the socket into app (decoding the tunnel). -1 on a protocol error. */
int stream_conn_fill(struct stream_conn *c, k8c_err *err);
/* Writes all of data (as one binary message when tunnelled). -1 if the peer is gone. */
int stream_conn_write(struct stream_conn *c, const void *data, size_t len);
/* Drops n consumed bytes from the front of app. */
void stream_conn_consume(struct stream_conn *c, size_t n);
/* Blocking write of all bytes to a plain fd; -1 on error. */
int write_all(int fd, const void *data, size_t len);

/* ---- SPDY sessions ---- */

struct spdy_session {
  struct stream_conn conn;
  struct spdy_codec codec;
  size_t consumed; /* bytes of conn.app used by the frame last returned */
  uint32_t last_client_stream;
};

int spdy_session_init(struct spdy_session *s, int fd, bool ws_tunnel, const char *extra,
                      size_t extra_len, k8c_err *err);
void spdy_session_free(struct spdy_session *s);
/* The next frame already received, or 0 if none is complete yet (call stream_conn_fill
 * after poll). PINGs are answered here. For SYN_STREAM, *headers receives the decoded
 * headers (caller-owned) and a SYN_REPLY has been sent. Returns 1 with a frame, 0, -1. */
int spdy_session_next(struct spdy_session *s, struct spdy_frame *f, json_t **headers, k8c_err *err);
/* DATA frames (split into 32 KiB pieces); fin on the last. -1 if the peer is gone. */
int spdy_session_send_data(struct spdy_session *s, uint32_t stream_id, const void *data, size_t len,
                           bool fin);
int spdy_session_send_raw(struct spdy_session *s, buf *frames);

/* ---- the sessions (fd stays open: the caller releases it afterwards) ---- */
void remotecommand_run(struct session_request *req, int fd, const char *extra, size_t extra_len);
void portforward_run(struct session_request *req, int fd, const char *extra, size_t extra_len);

/* ---- logs ---- */
/* Answers GET /containerLogs/...; returns an MHD result. */
int logs_handle(const struct stream_backend *b, struct MHD_Connection *conn, const char *ns,
                const char *pod, const char *container);

/* A JSON Status answer (MHD result). */
int send_status_error(struct MHD_Connection *conn, const k8c_err *err);

#endif
