/* pool.c — the closed-loop worker pool behind the create and get scenarios.
 *
 * Every thread connects and warms up, then all meet at a barrier; the main thread
 * takes the start time as it leaves the barrier. Work is handed out by one atomic
 * counter, and each thread keeps its own latency samples until the run ends. */
#include "pool.h"

#include "lib/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

typedef struct pool_shared {
  const pool_spec *spec;
  pthread_barrier_t start;
  _Atomic uint64_t next_index;
  _Atomic int setup_failures;
} pool_shared;

typedef struct pool_worker {
  pool_shared *shared;
  pthread_t thread;
  unsigned int rng;
  lat_rec latency_ms;
  uint64_t ok;
  uint64_t failed;
  char first_error[512];
} pool_worker;

static void *pool_worker_main(void *arg);
static void pool_worker_note_error(pool_worker *worker, const k8c_err *err);

int
pool_run(const pool_spec *spec, pool_result *out, k8c_err *err)
{
  memset(out, 0, sizeof(*out));
  lat_rec_init(&out->latency_ms);
  if (spec->concurrency < 1)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "concurrency must be at least 1");

  pool_shared shared = {.spec = spec};
  atomic_init(&shared.next_index, 0);
  atomic_init(&shared.setup_failures, 0);
  if (pthread_barrier_init(&shared.start, NULL, (unsigned)spec->concurrency + 1) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pthread_barrier_init failed");

  cleanup_free pool_worker *workers = xcalloc((size_t)spec->concurrency, sizeof(*workers));
  int started = 0;
  for (int i = 0; i < spec->concurrency; i++) {
    workers[i].shared = &shared;
    workers[i].rng = 0x9e3779b9u * (unsigned)(i + 1);
    lat_rec_init(&workers[i].latency_ms);
    if (pthread_create(&workers[i].thread, NULL, pool_worker_main, &workers[i]) != 0)
      break;
    started++;
  }
  if (started < spec->concurrency) {
    /* The barrier counts every thread: we cannot release it, so fail loudly. */
    fprintf(stderr, "k8c-loadgen: could only start %d of %d threads\n", started, spec->concurrency);
    abort();
  }

  /* Warm-up is over once every worker reaches the barrier; the clock starts here. */
  pthread_barrier_wait(&shared.start);
  double start_ms = clock_now_ms();
  double start_cpu_s = pool_self_cpu_seconds();
  double start_server_cpu_s = process_cpu_seconds(spec->server_pid);
  double start_machine_cpu_s = machine_busy_cpu_seconds();

  for (int i = 0; i < started; i++) {
    if (pthread_join(workers[i].thread, NULL) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "pthread_join failed");
  }
  out->wall_s = (clock_now_ms() - start_ms) / 1e3;
  out->cpu_s = pool_self_cpu_seconds() - start_cpu_s;
  out->server_cpu_s = process_cpu_seconds(spec->server_pid) - start_server_cpu_s;
  out->machine_cpu_s = machine_busy_cpu_seconds() - start_machine_cpu_s;
  pthread_barrier_destroy(&shared.start);

  for (int i = 0; i < started; i++) {
    lat_rec_merge(&out->latency_ms, &workers[i].latency_ms);
    lat_rec_free(&workers[i].latency_ms);
    out->ok += workers[i].ok;
    out->failed += workers[i].failed;
    if (out->first_error[0] == 0 && workers[i].first_error[0] != 0)
      snprintf(out->first_error, sizeof(out->first_error), "%s", workers[i].first_error);
  }
  if (atomic_load(&shared.setup_failures) == spec->concurrency)
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "no worker could connect: %s",
                     out->first_error);
  return 0;
}

void
pool_result_free(pool_result *result)
{
  lat_rec_free(&result->latency_ms);
}

static void *
pool_worker_main(void *arg)
{
  pool_worker *worker = arg;
  pool_shared *shared = worker->shared;
  const pool_spec *spec = shared->spec;
  http_client client;
  k8c_err err = {0};
  int ready = http_client_init(&client, spec->target, &err) == 0;
  if (ready && spec->warmup_path) {
    long status = http_client_request(&client, "GET", spec->warmup_path, NULL, 0, &err);
    if (status < 0) {
      ready = 0;
    } else if (status != 200) {
      k8c_error(&err, (int)status, K8C_REASON_INTERNAL, "warm-up GET %s: HTTP %ld",
                spec->warmup_path, status);
      ready = 0;
    }
  }
  if (!ready) {
    pool_worker_note_error(worker, &err);
    atomic_fetch_add(&shared->setup_failures, 1);
  }
  pthread_barrier_wait(&shared->start);
  double deadline_ms = clock_now_ms() + spec->duration_s * 1e3;

  while (ready) {
    uint64_t index = atomic_fetch_add(&shared->next_index, 1);
    if (spec->total_ops != 0 && index >= spec->total_ops)
      break;
    double begin_ms = clock_now_ms();
    if (spec->total_ops == 0 && begin_ms >= deadline_ms)
      break;
    if (spec->op(&client, index, &worker->rng, spec->ctx, &err) == 0) {
      lat_rec_add(&worker->latency_ms, clock_now_ms() - begin_ms);
      worker->ok++;
    } else {
      worker->failed++;
      pool_worker_note_error(worker, &err);
    }
  }
  http_client_free(&client);
  k8c_err_clear(&err);
  return NULL;
}

static void
pool_worker_note_error(pool_worker *worker, const k8c_err *err)
{
  if (worker->first_error[0] == 0)
    snprintf(worker->first_error, sizeof(worker->first_error), "%s", err->message);
}

/* The generator's own CPU: on a small machine it competes with the server for cores. */
double
pool_self_cpu_seconds(void)
{
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}
