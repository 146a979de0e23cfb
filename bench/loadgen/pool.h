/* pool.h — closed-loop load: C threads, each with its own keep-alive client, run an
 * operation back to back until a count or a deadline is reached.
 *
 * Connections are opened (TLS handshake included) before the clock starts, so a run
 * measures steady-state request handling, not connection setup. */
#ifndef K8C_BENCH_POOL_H
#define K8C_BENCH_POOL_H

#include "http_client.h"
#include "stats.h"

/* One operation: index is unique across the run (0, 1, 2, ...); rng is this thread's
 * rand_r state. Returns 0 on success, -1 with err filled on failure. */
typedef int (*pool_op_fn)(http_client *client, uint64_t index, unsigned int *rng, void *ctx,
                          k8c_err *err);

typedef struct pool_spec {
  const bench_target *target; /* borrowed */
  int concurrency;
  uint64_t total_ops;      /* stop after this many operations; 0: run until duration_s */
  double duration_s;       /* used when total_ops == 0 */
  const char *warmup_path; /* GET once per connection before the clock starts */
  pool_op_fn op;
  void *ctx;      /* borrowed; shared by all threads, so op must only read it or use atomics */
  int server_pid; /* 0, or the server's pid to measure its CPU over the run */
} pool_spec;

typedef struct pool_result {
  lat_rec latency_ms; /* owned; one sample per successful operation */
  uint64_t ok;
  uint64_t failed;
  double wall_s;        /* from the common start to the last thread's end */
  double cpu_s;         /* this process's user+system CPU over the same span */
  double server_cpu_s;  /* the server's CPU over the same span (0 without server_pid) */
  double machine_cpu_s; /* the whole machine's busy CPU over the same span */
  char first_error[512];
} pool_result;

/* Runs the load; fills out (free it with pool_result_free). Returns -1 only when the
 * pool itself could not start (threads, connections); failed operations are counted. */
int pool_run(const pool_spec *spec, pool_result *out, k8c_err *err);
void pool_result_free(pool_result *result);

/* This process's user+system CPU seconds so far (the generator's own cost). */
double pool_self_cpu_seconds(void);

#endif
