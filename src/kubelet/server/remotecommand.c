/* remotecommand.c — exec and attach sessions: relay a process's stdio over the
 * negotiated protocol and end with a metav1.Status (Success, or NonZeroExitCode with the
 * exit code as a cause) as kubectl expects.
 * WebSocket: every message starts with a channel byte (0 stdin, 1 stdout, 2 stderr,
 * 3 status, 4 resize; v5 adds 255 = "close this channel"). SPDY: one stream per channel,
 * named by its streamtype header; FIN on stdin closes the process's stdin. */
#include "kubelet/server/server_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHANNEL_STDIN 0
#define CHANNEL_STDOUT 1
#define CHANNEL_STDERR 2
#define CHANNEL_ERROR 3
#define CHANNEL_RESIZE 4
#define CHANNEL_CLOSE 255
#define STREAM_SETUP_TIMEOUT_MS 30000
#define MAX_WS_MESSAGE (16u * 1024u * 1024u)

struct rc_session {
  struct session_request *req;
  struct stream_target target;
  bool ws;
  /* WebSocket */
  int fd;
  struct ws_reader reader;
  buf raw;
  /* SPDY: stream ids per channel (0: not opened) */
  struct spdy_session spdy;
  uint32_t sid[CHANNEL_RESIZE + 1];
  buf resize_text;
  /* the process */
  struct stream_process proc;
  bool started;
  bool stdin_closed; /* the client ended stdin (before or after the start) */
  buf early_stdin;   /* stdin that arrived before the process started */
  bool client_gone;
  bool backend_resize;
  unsigned early_width, early_height; /* the last size sent before the process started */
};

/* ---------- output to the client ---------- */

static void
ws_send(struct rc_session *s, int channel, const void *data, size_t len)
{
  buf frame;
  buf_init(&frame);
  buf msg;
  buf_init(&msg);
  uint8_t ch = (uint8_t)channel;
  buf_append(&msg, &ch, 1);
  if (len)
    buf_append(&msg, data, len);
  ws_frame_encode(&frame, WS_OP_BINARY, msg.data, msg.len, NULL);
  if (write_all(s->fd, frame.data, frame.len) < 0)
    s->client_gone = true;
  buf_free(&frame);
  buf_free(&msg);
}

static void
send_output(struct rc_session *s, int channel, const void *data, size_t len)
{
  bool wanted = channel == CHANNEL_STDOUT ? s->req->want_stdout : s->req->want_stderr;
  if (!wanted || s->client_gone)
    return;
  if (s->ws) {
    ws_send(s, channel, data, len);
  } else if (s->sid[channel] &&
             spdy_session_send_data(&s->spdy, s->sid[channel], data, len, false) < 0) {
    s->client_gone = true;
  }
}

static void
send_output_end(struct rc_session *s, int channel)
{
  if (!s->ws && s->sid[channel] && !s->client_gone &&
      spdy_session_send_data(&s->spdy, s->sid[channel], NULL, 0, true) < 0)
    s->client_gone = true;
}

static char *
status_text(const struct rc_session *s, int exit_code, const k8c_err *failure)
{
  json_t *st;
  if (failure) {
    st = json_pack("{s:{},s:s,s:s,s:s,s:i}", "metadata", "status", "Failure", "message",
                   failure->message, "reason",
                   failure->reason[0] ? failure->reason : "InternalError", "code",
                   failure->status ? failure->status : 500);
  } else if (exit_code == 0) {
    st = json_pack("{s:{},s:s}", "metadata", "status", "Success");
  } else {
    buf cmd;
    buf_init(&cmd);
    for (size_t i = 0; s->req->argv && s->req->argv[i]; i++)
      buf_printf(&cmd, "%s%s", i ? " " : "", s->req->argv[i]);
    char code[16];
    snprintf(code, sizeof code, "%d", exit_code);
    cleanup_free char *msg = xasprintf(
        "command terminated with non-zero exit code: error executing command [%s], exit code %d",
        buf_cstr(&cmd), exit_code);
    buf_free(&cmd);
    st = json_pack("{s:{},s:s,s:s,s:s,s:{s:[{s:s,s:s}]}}", "metadata", "status", "Failure",
                   "message", msg, "reason", "NonZeroExitCode", "details", "causes", "reason",
                   "ExitCode", "message", code);
  }
  char *text = json_dumps(st, JSON_COMPACT);
  json_decref(st);
  return text;
}

static void
send_status(struct rc_session *s, int exit_code, const k8c_err *failure)
{
  if (s->client_gone)
    return;
  cleanup_free char *text = status_text(s, exit_code, failure);
  if (s->ws) {
    ws_send(s, CHANNEL_ERROR, text, strlen(text));
    buf frame;
    buf_init(&frame);
    static const uint8_t normal_closure[2] = {0x03, 0xE8};
    ws_frame_encode(&frame, WS_OP_CLOSE, normal_closure, 2, NULL);
    if (write_all(s->fd, frame.data, frame.len) < 0)
      s->client_gone = true;
    buf_free(&frame);
    return;
  }
  if (s->sid[CHANNEL_ERROR] &&
      spdy_session_send_data(&s->spdy, s->sid[CHANNEL_ERROR], text, strlen(text), true) < 0)
    s->client_gone = true;
  buf out;
  buf_init(&out);
  spdy_goaway_encode(&out, s->spdy.last_client_stream, 0);
  if (!s->client_gone)
    (void)spdy_session_send_raw(&s->spdy, &out);
  buf_free(&out);
}

/* ---------- input from the client ---------- */

static void
close_stdin(struct rc_session *s)
{
  s->stdin_closed = true;
  if (s->proc.stdin_fd >= 0) {
    close(s->proc.stdin_fd);
    s->proc.stdin_fd = -1;
  }
}

static void
to_stdin(struct rc_session *s, const void *data, size_t len)
{
  if (s->stdin_closed || len == 0)
    return;
  if (!s->started) {
    buf_append(&s->early_stdin, data, len);
    return;
  }
  if (s->proc.stdin_fd >= 0 && write_all(s->proc.stdin_fd, data, len) < 0)
    close_stdin(s); /* the process stopped reading */
}

/* Terminal sizes arrive as JSON objects {"Width":W,"Height":H}, back to back. */
static void
apply_resizes(struct rc_session *s)
{
  size_t used = 0;
  while (used < s->resize_text.len) {
    json_error_t jerr;
    json_t *size = json_loadb(s->resize_text.data + used, s->resize_text.len - used,
                              JSON_DISABLE_EOF_CHECK, &jerr);
    if (size == NULL)
      break;
    used += (size_t)jerr.position;
    json_int_t w = json_integer_value(json_object_get(size, "Width"));
    json_int_t h = json_integer_value(json_object_get(size, "Height"));
    json_decref(size);
    if (!s->backend_resize || w <= 0 || h <= 0 || w >= 65536 || h >= 65536)
      continue;
    if (s->started) {
      s->req->backend->resize(s->req->backend->ctx, &s->proc, (unsigned)w, (unsigned)h);
    } else { /* kubectl sends the first size at once: apply it when the process runs */
      s->early_width = (unsigned)w;
      s->early_height = (unsigned)h;
    }
  }
  if (s->resize_text.data) /* empty buffers have no storage yet */
    memmove(s->resize_text.data, s->resize_text.data + used, s->resize_text.len - used);
  s->resize_text.len -= used;
  if (s->resize_text.len > 4096)
    buf_reset(&s->resize_text); /* garbage: drop it */
}

static void
ws_message(struct rc_session *s, const struct ws_message *m)
{
  if (m->opcode == WS_OP_CLOSE) {
    s->client_gone = true;
    return;
  }
  if (m->opcode == WS_OP_PING) {
    buf frame;
    buf_init(&frame);
    ws_frame_encode(&frame, WS_OP_PONG, m->payload, m->len, NULL);
    if (write_all(s->fd, frame.data, frame.len) < 0)
      s->client_gone = true;
    buf_free(&frame);
    return;
  }
  if ((m->opcode != WS_OP_BINARY && m->opcode != WS_OP_TEXT) || m->len == 0)
    return;
  int channel = m->payload[0];
  const uint8_t *data = m->payload + 1;
  size_t len = m->len - 1;
  if (channel == CHANNEL_STDIN) {
    to_stdin(s, data, len);
  } else if (channel == CHANNEL_RESIZE) {
    buf_append(&s->resize_text, data, len);
    apply_resizes(s);
  } else if (channel == CHANNEL_CLOSE && s->req->proto == PROTO_WS_V5 && len >= 1 &&
             data[0] == CHANNEL_STDIN) {
    close_stdin(s);
  }
}

static int ws_process(struct rc_session *s);

static int
ws_read(struct rc_session *s)
{
  char chunk[32768];
  ssize_t n;
  do
    n = read(s->fd, chunk, sizeof chunk);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    s->client_gone = true;
    return 0;
  }
  buf_append(&s->raw, chunk, (size_t)n);
  return ws_process(s);
}

/* Handles every complete message in raw. */
static int
ws_process(struct rc_session *s)
{
  size_t used = 0;
  while (!s->client_gone) {
    struct ws_message m;
    bool have = false;
    k8c_err err = {0};
    ssize_t k = ws_reader_feed(&s->reader, (uint8_t *)s->raw.data + used, s->raw.len - used, &m,
                               &have, &err);
    if (k < 0) {
      log_debug("exec: %s", err.message);
      s->client_gone = true;
      return -1;
    }
    used += (size_t)k;
    if (!have)
      break;
    ws_message(s, &m);
  }
  if (s->raw.data) /* empty buffers have no storage yet */
    memmove(s->raw.data, s->raw.data + used, s->raw.len - used);
  s->raw.len -= used;
  return 0;
}

static int
channel_of_streamtype(const char *type)
{
  static const char *const names[] = {"stdin", "stdout", "stderr", "error", "resize"};
  for (int i = 0; i <= CHANNEL_RESIZE; i++)
    if (type && strcasecmp(type, names[i]) == 0)
      return i;
  return -1;
}

static int
spdy_channel_of_stream(const struct rc_session *s, uint32_t id)
{
  for (int i = 0; i <= CHANNEL_RESIZE; i++)
    if (s->sid[i] == id && id != 0)
      return i;
  return -1;
}

/* Handles every complete frame received so far. */
static int
spdy_read(struct rc_session *s, bool do_read)
{
  k8c_err err = {0};
  if (do_read && stream_conn_fill(&s->spdy.conn, &err) < 0) {
    s->client_gone = true;
    return -1;
  }
  for (;;) {
    struct spdy_frame f;
    json_t *headers = NULL;
    int rc = spdy_session_next(&s->spdy, &f, &headers, &err);
    if (rc < 0) {
      log_debug("exec: %s", err.message);
      k8c_err_clear(&err);
      s->client_gone = true;
      return -1;
    }
    if (rc == 0)
      break;
    if (f.type == SPDY_SYN_STREAM) {
      int ch = channel_of_streamtype(json_string_value(json_object_get(headers, "streamtype")));
      if (ch >= 0)
        s->sid[ch] = f.stream_id;
      json_decref(headers);
      if (ch == CHANNEL_STDIN && (f.flags & SPDY_FLAG_FIN))
        close_stdin(s);
      continue;
    }
    if (f.type == SPDY_GOAWAY) {
      s->client_gone = true;
      break;
    }
    int ch = spdy_channel_of_stream(s, f.stream_id);
    if (f.type == SPDY_RST_STREAM && ch == CHANNEL_STDIN)
      close_stdin(s);
    if (f.type != SPDY_DATA)
      continue;
    if (ch == CHANNEL_STDIN) {
      to_stdin(s, f.payload, f.len);
      if (f.flags & SPDY_FLAG_FIN)
        close_stdin(s);
    } else if (ch == CHANNEL_RESIZE) {
      buf_append(&s->resize_text, f.payload, f.len);
      apply_resizes(s);
    }
  }
  if (s->spdy.conn.eof)
    s->client_gone = true;
  return 0;
}

/* SPDY clients open their streams first; wait for the ones this request needs. */
static bool
spdy_streams_ready(const struct rc_session *s)
{
  const struct session_request *r = s->req;
  return s->sid[CHANNEL_ERROR] && (!r->want_stdin || s->sid[CHANNEL_STDIN]) &&
         (!r->want_stdout || s->sid[CHANNEL_STDOUT]) &&
         (!r->want_stderr || r->tty || s->sid[CHANNEL_STDERR]) &&
         (!r->tty || s->sid[CHANNEL_RESIZE]);
}

static int
spdy_wait_for_streams(struct rc_session *s)
{
  if (spdy_read(s, false) < 0)
    return -1;
  int waited = 0;
  while (!spdy_streams_ready(s)) {
    if (s->client_gone || waited >= STREAM_SETUP_TIMEOUT_MS)
      return -1;
    struct pollfd p = {.fd = s->spdy.conn.fd, .events = POLLIN};
    int rc = poll(&p, 1, 200);
    waited += 200;
    if (rc > 0 && spdy_read(s, true) < 0)
      return -1;
  }
  return 0;
}

/* ---------- the session ---------- */

static void
relay(struct rc_session *s)
{
  char chunk[32768];
  int client_fd = s->ws ? s->fd : s->spdy.conn.fd;
  while (!s->client_gone && (s->proc.stdout_fd >= 0 || s->proc.stderr_fd >= 0)) {
    struct pollfd p[3] = {{.fd = client_fd, .events = POLLIN},
                          {.fd = s->proc.stdout_fd, .events = POLLIN},
                          {.fd = s->proc.stderr_fd, .events = POLLIN}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[0].revents) {
      if (s->ws)
        (void)ws_read(s);
      else
        (void)spdy_read(s, true);
    }
    for (int i = 1; i <= 2; i++) {
      if (!p[i].revents)
        continue;
      int *fd = i == 1 ? &s->proc.stdout_fd : &s->proc.stderr_fd;
      ssize_t n = read(*fd, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n > 0) {
        send_output(s, i, chunk, (size_t)n);
        continue;
      }
      close(*fd);
      *fd = -1;
      send_output_end(s, i);
    }
  }
}

static void
run_session(struct rc_session *s)
{
  const struct stream_backend *b = s->req->backend;
  k8c_err err = {0};
  if (!s->ws && spdy_wait_for_streams(s) < 0)
    return;
  if (s->ws && ws_process(s) < 0) /* messages that came with the upgrade */
    return;
  memset(&s->proc, 0, sizeof s->proc);
  s->proc.stdin_fd = s->proc.stdout_fd = s->proc.stderr_fd = -1;
  int rc;
  if (s->req->kind == SESSION_ATTACH)
    rc = b->attach(b->ctx, &s->target, s->req->tty, s->req->want_stdin, &s->proc, &err);
  else
    rc = b->exec(b->ctx, &s->target, (const char *const *)s->req->argv, s->req->tty,
                 s->req->want_stdin, &s->proc, &err);
  if (rc < 0) {
    send_status(s, 0, &err);
    k8c_err_clear(&err);
    return;
  }
  s->started = true;
  if (s->early_width && s->backend_resize)
    b->resize(b->ctx, &s->proc, s->early_width, s->early_height);
  if (s->early_stdin.len)
    to_stdin(s, s->early_stdin.data, s->early_stdin.len);
  if (s->stdin_closed || !s->req->want_stdin)
    close_stdin(s);
  relay(s);
  int exit_code = 0;
  if (b->finish(b->ctx, &s->proc, s->client_gone, &exit_code, &err) < 0) {
    send_status(s, 0, &err);
    k8c_err_clear(&err);
    return;
  }
  send_status(s, exit_code, NULL);
}

void
remotecommand_run(struct session_request *req, int fd, const char *extra, size_t extra_len)
{
  struct rc_session s;
  memset(&s, 0, sizeof s);
  s.req = req;
  s.ws = req->proto == PROTO_WS_V4 || req->proto == PROTO_WS_V5;
  s.backend_resize = req->backend->resize != NULL;
  s.fd = fd;
  session_target(req, &s.target);
  buf_init(&s.raw);
  buf_init(&s.resize_text);
  buf_init(&s.early_stdin);
  ws_reader_init(&s.reader, MAX_WS_MESSAGE);
  bool spdy_ok = true;
  if (s.ws) {
    if (extra_len)
      buf_append(&s.raw, extra, extra_len);
  } else {
    k8c_err err = {0};
    spdy_ok = spdy_session_init(&s.spdy, fd, false, extra, extra_len, &err) == 0;
    k8c_err_clear(&err);
  }
  if (spdy_ok)
    run_session(&s);
  if (!s.ws && spdy_ok)
    spdy_session_free(&s.spdy);
  ws_reader_free(&s.reader);
  buf_free(&s.raw);
  buf_free(&s.resize_text);
  buf_free(&s.early_stdin);
}
