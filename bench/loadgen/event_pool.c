/* event_pool.c — the epoll loops behind event_pool.h.
 *
 * Every client is a slot: its connection, its request in flight and when it was sent.
 * The clients are split evenly over spec->threads loops; a loop waits for readable
 * sockets, completes and checks responses, and at once sends that client's next request.
 * Under load one epoll_wait hands back several responses, so the generator pays for far
 * fewer wake-ups than one blocked thread per connection. */
#include "event_pool.h"

#include "async_conn.h"
#include "tls_conn.h"

#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* What every loop thread shares: the spec, the credentials, the operation counter. */
typedef struct shared {
  const event_pool_spec *spec;
  gnutls_certificate_credentials_t creds; /* owned */
  _Atomic uint64_t next_index;
  double deadline_ms;
} shared;

/* One thread's epoll loop over its share of the clients. */
typedef struct loop {
  shared *sh;
  pthread_t thread;
  int epoll_fd;
  slot *slots; /* borrowed from the run's array */
  int count;
  int in_flight;
  pool_result out; /* this loop's own samples and counts, merged after the run */
  bool failed_loop;
  char loop_error[256];
} loop;

static int slot_connect(loop *l, slot *s, k8c_err *err);
static void slot_issue(loop *l, slot *s);
static void slot_on_readable(loop *l, slot *s);
static void slot_failed(loop *l, slot *s, const k8c_err *err);
static void note_error(pool_result *out, const k8c_err *err);
static void *loop_main(void *arg);

int
event_pool_run(const event_pool_spec *spec, pool_result *out, k8c_err *err)
{
  memset(out, 0, sizeof(*out));
  lat_rec_init(&out->latency_ms);
  if (spec->concurrency < 1)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "concurrency must be at least 1");
  const bench_target *t = spec->target;
  shared sh = {.spec = spec};
  atomic_init(&sh.next_index, 0);
  if (tls_credentials_load(&sh.creds, t->ca_file, t->cert_file, t->key_file, err) < 0)
    return -1;
  int nloops = spec->threads < 1 ? 1 : spec->threads;
  if (nloops > spec->concurrency)
    nloops = spec->concurrency;
  slot *slots = xcalloc((size_t)spec->concurrency, sizeof(*slots));
  loop *loops = xcalloc((size_t)nloops, sizeof(*loops));
  int rc = 0;
  for (int i = 0; i < nloops; i++) {
    loop *l = &loops[i];
    l->sh = &sh;
    lat_rec_init(&l->out.latency_ms);
    /* clients i*n/nloops .. (i+1)*n/nloops-1 belong to loop i */
    int first = i * spec->concurrency / nloops;
    l->slots = &slots[first];
    l->count = (i + 1) * spec->concurrency / nloops - first;
    l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epoll_fd < 0 && rc == 0)
      rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "epoll_create1: %s", strerror(errno));
  }

  /* Connect and warm up every client before the clock starts. */
  int connected = 0;
  for (int i = 0; i < nloops && rc == 0; i++) {
    loop *l = &loops[i];
    for (int j = 0; j < l->count; j++) {
      slot *s = &l->slots[j];
      s->rng = 0x9e3779b9u * (unsigned)(s - slots + 1);
      buf_init(&s->body);
      k8c_err setup_err = {0};
      if (slot_connect(l, s, &setup_err) == 0 && spec->warmup_path) {
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
  }
  if (rc == 0 && connected == 0)
    rc = k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "no client could connect: %s",
                   out->first_error);

  if (rc == 0) {
    double start_ms = clock_now_ms();
    double start_cpu_s = pool_self_cpu_seconds();
    double start_server_cpu_s = process_cpu_seconds(spec->server_pid);
    double start_machine_cpu_s = machine_busy_cpu_seconds();
    sh.deadline_ms = start_ms + spec->duration_s * 1e3;
    int started = 0;
    for (; started < nloops; started++)
      if (pthread_create(&loops[started].thread, NULL, loop_main, &loops[started]) != 0)
        break;
    if (started < nloops) {
      /* Run the rest on this thread; the run is still the same load. */
      for (int i = started; i < nloops; i++)
        loop_main(&loops[i]);
    }
    for (int i = 0; i < started; i++)
      if (pthread_join(loops[i].thread, NULL) != 0)
        abort();
    out->wall_s = (clock_now_ms() - start_ms) / 1e3;
    out->cpu_s = pool_self_cpu_seconds() - start_cpu_s;
    out->server_cpu_s = process_cpu_seconds(spec->server_pid) - start_server_cpu_s;
    out->machine_cpu_s = machine_busy_cpu_seconds() - start_machine_cpu_s;
    for (int i = 0; i < nloops; i++) {
      if (loops[i].failed_loop && rc == 0)
        rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "%s", loops[i].loop_error);
      lat_rec_merge(&out->latency_ms, &loops[i].out.latency_ms);
      out->ok += loops[i].out.ok;
      out->failed += loops[i].out.failed;
      if (out->first_error[0] == 0 && loops[i].out.first_error[0] != 0)
        snprintf(out->first_error, sizeof(out->first_error), "%s", loops[i].out.first_error);
    }
  }
  for (int i = 0; i < spec->concurrency; i++) {
    async_conn_free(slots[i].conn);
    buf_free(&slots[i].body);
  }
  for (int i = 0; i < nloops; i++) {
    lat_rec_free(&loops[i].out.latency_ms);
    if (loops[i].epoll_fd >= 0)
      close(loops[i].epoll_fd);
  }
  free(loops);
  free(slots);
  gnutls_certificate_free_credentials(sh.creds);
  return rc;
}

static void *
loop_main(void *arg)
{
  loop *l = arg;
  for (int i = 0; i < l->count; i++)
    if (l->slots[i].conn)
      slot_issue(l, &l->slots[i]);
  struct epoll_event events[64];
  while (l->in_flight > 0) {
    int n = epoll_wait(l->epoll_fd, events, 64, 1000);
    if (n < 0 && errno != EINTR) {
      l->failed_loop = true;
      snprintf(l->loop_error, sizeof(l->loop_error), "epoll_wait: %s", strerror(errno));
      break;
    }
    for (int i = 0; i < n; i++)
      slot_on_readable(l, events[i].data.ptr);
  }
  return NULL;
}

/* Opens (or reopens) the client's connection and watches it for responses. */
static int
slot_connect(loop *l, slot *s, k8c_err *err)
{
  async_conn_free(s->conn);
  s->conn = async_conn_open(l->sh->spec->target, l->sh->creds, err);
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
  const event_pool_spec *spec = l->sh->spec;
  for (int attempt = 0; attempt < 3 && s->conn != NULL; attempt++) {
    s->begin_ms = clock_now_ms();
    if (spec->total_ops == 0 && s->begin_ms >= l->sh->deadline_ms)
      return;
    uint64_t index = atomic_fetch_add(&l->sh->next_index, 1);
    if (spec->total_ops != 0 && index >= spec->total_ops)
      return;
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
  } else if (l->sh->spec->check(status, &s->body, &s->req, l->sh->spec->ctx, &err) < 0) {
    l->out.failed++;
    note_error(&l->out, &err);
  } else {
    lat_rec_add(&l->out.latency_ms, clock_now_ms() - s->begin_ms);
    l->out.ok++;
  }
  k8c_err_clear(&err);
  if (s->conn && !async_conn_reusable(s->conn)) {
    k8c_err reopen_err = {0};
    if (slot_connect(l, s, &reopen_err) < 0)
      note_error(&l->out, &reopen_err);
    k8c_err_clear(&reopen_err);
  }
  slot_issue(l, s);
}

/* A transport failure: count it and give the client a new connection. */
static void
slot_failed(loop *l, slot *s, const k8c_err *err)
{
  l->out.failed++;
  note_error(&l->out, err);
  k8c_err reopen_err = {0};
  if (slot_connect(l, s, &reopen_err) < 0)
    note_error(&l->out, &reopen_err);
  k8c_err_clear(&reopen_err);
}

static void
note_error(pool_result *out, const k8c_err *err)
{
  if (out->first_error[0] == 0 && err->message[0])
    snprintf(out->first_error, sizeof(out->first_error), "%s", err->message);
}
