/* event_pool.h — closed-loop load from a few threads: epoll loops drive --concurrency
 * keep-alive connections (async_conn.h), each an independent client with exactly one
 * request in flight, sent again as soon as its previous response is checked.
 *
 * Same contract as pool.h (connections and warm-up before the clock, one latency sample
 * per successful operation, CPU of this process and of the server over the run), but no
 * thread per client: the generator costs less CPU per request, which on a small machine
 * is CPU handed back to the server. Only the raw GnuTLS client runs this way. */
#ifndef K8C_BENCH_EVENT_POOL_H
#define K8C_BENCH_EVENT_POOL_H

#include "lib/buf.h"
#include "pool.h"

/* One request to send: the strings are borrowed until its response has been checked. tag
 * is the operation's own (e.g. which pod it asked for), handed back to the check. */
typedef struct pool_request {
  const char *method;
  const char *path;
  const char *body; /* NULL: no body */
  size_t body_len;
  size_t tag;
} pool_request;

/* Fills req for operation index (unique across the run); rng is the client's rand_r state. */
typedef void (*pool_prepare_fn)(uint64_t index, unsigned int *rng, void *ctx, pool_request *req);

/* Judges a complete response: 0 when it counts as a success, -1 with err filled if not. */
typedef int (*pool_check_fn)(long status, const buf *body, const pool_request *req, void *ctx,
                             k8c_err *err);

typedef struct event_pool_spec {
  const bench_target *target; /* borrowed; must be the raw client */
  int concurrency;
  int threads;             /* epoll loops the clients are spread over (at least 1) */
  uint64_t total_ops;      /* stop after this many operations; 0: run until duration_s */
  double duration_s;       /* used when total_ops == 0 */
  const char *warmup_path; /* GET once per connection before the clock starts */
  pool_prepare_fn prepare;
  pool_check_fn check;
  void *ctx;      /* borrowed */
  int server_pid; /* 0, or the server's pid to measure its CPU over the run */
} event_pool_spec;

/* Runs the load; fills out (free it with pool_result_free). Returns -1 only when no
 * connection could be set up; failed operations are counted. */
int event_pool_run(const event_pool_spec *spec, pool_result *out, k8c_err *err);

#endif
