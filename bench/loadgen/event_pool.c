/* event_pool.c — the epoll loop behind event_pool.h.
 *
 * Every client is a slot: its connection, its request in flight and when it was sent.
 * The loop waits for readable sockets, completes and checks responses, and at once sends
 * that client's next request; under load one epoll_wait hands back several responses, so
 * the generator pays for far fewer wake-ups than one blocked thread per connection. */
#include "event_pool.h"

#include "async_conn.h"
#include "tls_conn.h"

#include "lib/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct slot {
  async_conn *conn; /* owned; NULL once the client gave up reconnecting */
  pool_request req;
  bool busy;
  double begin_ms;
  unsigned int rng;
  buf body;
} slot;

typedef struct loop {
  const event_pool_spec *spec;
  gnutls_certificate_credentials_t creds; /* owned */
  int epoll_fd;
  slot *slots; /* owned; spec->concurrency */
  uint64_t next_index;
  double deadline_ms;
  int in_flight;
  pool_result *out;
} loop;

static int slot_connect(loop *l, slot *s, k8c_err *err);
static void slot_issue(loop *l, slot *s);
static void slot_on_readable(loop *l, slot *s);
static void slot_failed(loop *l, slot *s, const k8c_err *err);
static void note_error(pool_result *out, const k8c_err *err);

int
event_pool_run(const event_pool_spec *spec, pool_result *out, k8c_err *err)
{
  memset(out, 0, sizeof(*out));
  lat_rec_init(&out->latency_ms);
  if (spec->concurrency < 1)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "concurrency must be at least 1");
  const bench_target *t = spec->target;
  loop l = {.spec = spec, .out = out, .epoll_fd = -1};
  if (tls_credentials_load(&l.creds, t->ca_file, t->cert_file, t->key_file, err) < 0)
    return -1;
  l.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (l.epoll_fd < 0) {
    gnutls_certificate_free_credentials(l.creds);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "epoll_create1: %s", strerror(errno));
  }
  l.slots = xcalloc((size_t)spec->concurrency, sizeof(*l.slots));
  int connected = 0;
  for (int i = 0; i < spec->concurrency; i++) {
    slot *s = &l.slots[i];
    s->rng = 0x9e3779b9u * (unsigned)(i + 1);
    buf_init(&s->body);
    k8c_err setup_err = {0};
    if (slot_connect(&l, s, &setup_err) == 0 && spec->warmup_path) {
      long status = -1;
      if (async_conn_send(s->conn, "GET", spec->warmup_path, NULL, 0, &setup_err) == 0)
        status = async_conn_wait(s->conn, &s->body, &setup_err);
      if (status >= 0 && status != 200)
        k8c_error(&setup_err, (int)status, K8C_REASON_INTERNAL, "warm-up GET %s: HTTP %ld",
                  spec->warmup_path, status);
      if (status != 200 || !async_conn_reusable(s->conn)) {
        async_conn_free(s->conn);
        s->conn = NULL;
      }
    }
    if (s->conn)
      connected++;
    else
      note_error(out, &setup_err);
    k8c_err_clear(&setup_err);
  }

  int rc = 0;
  if (connected == 0) {
    rc = k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "no client could connect: %s",
                   out->first_error);
  } else {
    double start_ms = clock_now_ms();
    double start_cpu_s = pool_self_cpu_seconds();
    double start_server_cpu_s = process_cpu_seconds(spec->server_pid);
    double start_machine_cpu_s = machine_busy_cpu_seconds();
    l.deadline_ms = start_ms + spec->duration_s * 1e3;
    for (int i = 0; i < spec->concurrency; i++)
      if (l.slots[i].conn)
        slot_issue(&l, &l.slots[i]);
    struct epoll_event events[64];
    while (l.in_flight > 0) {
      int n = epoll_wait(l.epoll_fd, events, 64, 1000);
      if (n < 0 && errno != EINTR) {
        rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "epoll_wait: %s", strerror(errno));
        break;
      }
      for (int i = 0; i < n; i++)
        slot_on_readable(&l, events[i].data.ptr);
    }
    out->wall_s = (clock_now_ms() - start_ms) / 1e3;
    out->cpu_s = pool_self_cpu_seconds() - start_cpu_s;
    out->server_cpu_s = process_cpu_seconds(spec->server_pid) - start_server_cpu_s;
    out->machine_cpu_s = machine_busy_cpu_seconds() - start_machine_cpu_s;
  }
  for (int i = 0; i < spec->concurrency; i++) {
    async_conn_free(l.slots[i].conn);
    buf_free(&l.slots[i].body);
  }
  free(l.slots);
  close(l.epoll_fd);
  gnutls_certificate_free_credentials(l.creds);
  return rc;
}

/* Opens (or reopens) the client's connection and watches it for responses. */
static int
slot_connect(loop *l, slot *s, k8c_err *err)
{
  async_conn_free(s->conn);
  s->conn = async_conn_open(l->spec->target, l->creds, err);
  if (s->conn == NULL)
    return -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
  if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, async_conn_fd(s->conn), &ev) != 0) {
    async_conn_free(s->conn);
    s->conn = NULL;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "epoll_ctl: %s", strerror(errno));
  }
  return 0;
}

/* Sends the client's next request, unless the run is over. A send that fails is counted
 * and tried again on a new connection, a few times at most. */
static void
slot_issue(loop *l, slot *s)
{
  const event_pool_spec *spec = l->spec;
  for (int attempt = 0; attempt < 3 && s->conn != NULL; attempt++) {
    uint64_t index = l->next_index;
    if (spec->total_ops != 0 && index >= spec->total_ops)
      return;
    s->begin_ms = clock_now_ms();
    if (spec->total_ops == 0 && s->begin_ms >= l->deadline_ms)
      return;
    l->next_index++;
    spec->prepare(index, &s->rng, spec->ctx, &s->req);
    k8c_err err = {0};
    if (async_conn_send(s->conn, s->req.method, s->req.path, s->req.body, s->req.body_len, &err) <
        0) {
      slot_failed(l, s, &err);
      k8c_err_clear(&err);
      continue;
    }
    s->busy = true;
    l->in_flight++;
    if (async_conn_has_buffered(s->conn))
      slot_on_readable(l, s);
    return;
  }
}

static void
slot_on_readable(loop *l, slot *s)
{
  if (!s->busy)
    return;
  long status = 0;
  k8c_err err = {0};
  int done = async_conn_read(s->conn, &status, &s->body, &err);
  if (done == 0)
    return;
  s->busy = false;
  l->in_flight--;
  if (done < 0) {
    slot_failed(l, s, &err);
  } else if (l->spec->check(status, &s->body, &s->req, l->spec->ctx, &err) < 0) {
    l->out->failed++;
    note_error(l->out, &err);
  } else {
    lat_rec_add(&l->out->latency_ms, clock_now_ms() - s->begin_ms);
    l->out->ok++;
  }
  k8c_err_clear(&err);
  if (s->conn && !async_conn_reusable(s->conn)) {
    k8c_err reopen_err = {0};
    if (slot_connect(l, s, &reopen_err) < 0)
      note_error(l->out, &reopen_err);
    k8c_err_clear(&reopen_err);
  }
  slot_issue(l, s);
}

/* A transport failure: count it and give the client a new connection. */
static void
slot_failed(loop *l, slot *s, const k8c_err *err)
{
  l->out->failed++;
  note_error(l->out, err);
  k8c_err reopen_err = {0};
  if (slot_connect(l, s, &reopen_err) < 0)
    note_error(l->out, &reopen_err);
  k8c_err_clear(&reopen_err);
}

static void
note_error(pool_result *out, const k8c_err *err)
{
  if (out->first_error[0] == 0 && err->message[0])
    snprintf(out->first_error, sizeof(out->first_error), "%s", err->message);
}
