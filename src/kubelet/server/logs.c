/* logs.c — GET /containerLogs/{ns}/{pod}/{container}: the container's CRI log file
 * rendered as kubectl asks (tail, since, timestamps, limit, previous) and, with follow,
 * kept open: the response's reader blocks (thread per connection) until new lines are
 * written, the container stops, or the client goes away. */
#include "kubelet/server/crilog.h"
#include "kubelet/server/server_internal.h"

#include "lib/mem.h"

#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FOLLOW_POLL_MS 100

struct log_stream {
  const struct stream_backend *backend;
  struct MHD_Connection *conn;
  char *namespace_, *pod, *container;
  struct crilog_reader *reader;
  bool follow;
  bool final_pass; /* the container stopped: read what is left, then end */
  buf out;
  size_t out_off;
};

static bool
client_gone(struct log_stream *ls)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(ls->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == NULL)
    return true;
  struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static bool
container_stopped(struct log_stream *ls)
{
  if (ls->backend->container_running == NULL)
    return false;
  struct stream_target t = {ls->namespace_, ls->pod, NULL, ls->container};
  return ls->backend->container_running(ls->backend->ctx, &t) == 0;
}

static ssize_t
log_reader(void *cls, uint64_t pos, char *dst, size_t max)
{
  struct log_stream *ls = cls;
  for (;;) {
    if (ls->out_off < ls->out.len) {
      size_t n = ls->out.len - ls->out_off;
      if (n > max)
        n = max;
      memcpy(dst, ls->out.data + ls->out_off, n);
      ls->out_off += n;
      return (ssize_t)n;
    }
    buf_reset(&ls->out);
    ls->out_off = 0;
    k8c_err err = {0};
    ssize_t got = crilog_read(ls->reader, &ls->out, 64 * 1024, &err);
    if (got < 0) {
      k8c_err_clear(&err);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (got > 0)
      continue;
    if (crilog_done(ls->reader) || !ls->follow || ls->final_pass)
      return MHD_CONTENT_READER_END_OF_STREAM;
    if (client_gone(ls))
      return MHD_CONTENT_READER_END_WITH_ERROR;
    if (container_stopped(ls)) {
      ls->final_pass = true;
      continue;
    }
    struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
}

static void
log_stream_free(void *cls)
{
  struct log_stream *ls = cls;
  crilog_close(ls->reader);
  free(ls->namespace_);
  free(ls->pod);
  free(ls->container);
  buf_free(&ls->out);
  free(ls);
}

static const char *
query(struct MHD_Connection *conn, const char *name)
{
  const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
  return v && v[0] ? v : NULL;
}

static bool
flag(struct MHD_Connection *conn, const char *name)
{
  const char *v = query(conn, name);
  return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* A non-negative integer parameter; -1 if absent, -2 if invalid. */
static long long
number(struct MHD_Connection *conn, const char *name)
{
  const char *v = query(conn, name);
  if (v == NULL)
    return -1;
  char *end = NULL;
  long long n = strtoll(v, &end, 10);
  return (*end || n < 0) ? -2 : n;
}

static int
read_options(struct MHD_Connection *conn, struct crilog_options *o, k8c_err *err)
{
  memset(o, 0, sizeof *o);
  o->tail_lines = number(conn, "tailLines");
  o->limit_bytes = number(conn, "limitBytes");
  long long since_seconds = number(conn, "sinceSeconds");
  o->timestamps = flag(conn, "timestamps");
  if (o->tail_lines == -2)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "tailLines must be a non-negative integer");
  if (o->limit_bytes == -2 || o->limit_bytes == 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "limitBytes must be a positive integer");
  if (since_seconds == -2 || since_seconds == 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "sinceSeconds must be a positive integer");
  const char *since_time = query(conn, "sinceTime");
  if (since_seconds > 0 && since_time)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "at most one of sinceTime or sinceSeconds may be specified");
  if (since_seconds > 0) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_s = (long long)now.tv_sec;
    long long start = since_seconds > now_s ? 0 : now_s - since_seconds;
    o->since_ns = start * 1000000000LL + now.tv_nsec;
  } else if (since_time && cri_parse_time(since_time, strlen(since_time), &o->since_ns) < 0) {
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "sinceTime: invalid RFC 3339 time \"%s\"",
                     since_time);
  }
  return 0;
}

int
logs_handle(const struct stream_backend *b, struct MHD_Connection *conn, const char *ns,
            const char *pod, const char *container)
{
  k8c_err err = {0};
  struct crilog_options o;
  if (read_options(conn, &o, &err) < 0) {
    int r = send_status_error(conn, &err);
    k8c_err_clear(&err);
    return r;
  }
  struct stream_target t = {ns, pod, NULL, container};
  cleanup_free char *path = NULL;
  bool previous = flag(conn, "previous");
  if (b->log_path(b->ctx, &t, previous, &path, &err) < 0) {
    int r = send_status_error(conn, &err);
    k8c_err_clear(&err);
    return r;
  }
  struct crilog_reader *reader = crilog_open(path, &o, &err);
  if (reader == NULL) {
    int r = send_status_error(conn, &err);
    k8c_err_clear(&err);
    return r;
  }
  struct log_stream *ls = xcalloc(1, sizeof *ls);
  ls->backend = b;
  ls->conn = conn;
  ls->namespace_ = xstrdup(ns);
  ls->pod = xstrdup(pod);
  ls->container = xstrdup(container);
  ls->reader = reader;
  ls->follow = flag(conn, "follow") && !previous;
  buf_init(&ls->out);
  struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
                                                                log_reader, ls, log_stream_free);
  MHD_add_response_header(resp, "Content-Type", "text/plain");
  enum MHD_Result r = MHD_queue_response(conn, 200, resp);
  MHD_destroy_response(resp);
  return r;
}
