/* loadgen.h — options shared by every scenario of k8c-loadgen, and the scenario table.
 *
 * A scenario owns its whole measurement: it runs itself --runs times, prints one JSON
 * line on stdout (medians plus per-run values) and a human summary on stderr. */
#ifndef K8C_BENCH_LOADGEN_H
#define K8C_BENCH_LOADGEN_H

#include "lib/err.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

/* Which HTTP client carries the requests of http_client.h. */
typedef enum bench_client_kind {
  BENCH_CLIENT_CURL, /* libcurl easy handle per thread */
  BENCH_CLIENT_RAW,  /* raw_http.h: GnuTLS directly, pre-formatted requests */
} bench_client_kind;

/* "curl" or "raw" (static strings). */
const char *bench_client_name(bench_client_kind kind);

/* Where the API server is, how to authenticate to it (mutual TLS), and with what client. */
typedef struct bench_target {
  const char *server; /* base URL, "https://127.0.0.1:6443"; borrowed from argv */
  char *ca_file;      /* owned; NULL until --tls-dir is given */
  char *cert_file;    /* owned */
  char *key_file;     /* owned */
  bench_client_kind client;
} bench_target;

typedef struct bench_options {
  bench_target target;
  const char *namespace_name; /* borrowed from argv or a literal */
  bool sched_mix;             /* create: the scheduling benchmark's pod mix */
  const char *name_prefix;    /* pod name prefix; each run appends -r<run>-<n> */
  int concurrency;            /* client threads, each with one keep-alive connection */
  uint64_t count;             /* create: pods per run; list: expected items (0: any) */
  double duration_s;          /* get: seconds per run */
  int runs;
  int watchers;
  int watcher_threads;
  int events;            /* watch: pods created per run while watched */
  double rate;           /* watch: creates per second (0: as fast as the creators go) */
  int creators;          /* watch: concurrent creator threads */
  double timeout_s;      /* ready, bound: give up after; watch: wait for fan-out at most */
  int interval_ms;       /* ready, bound: poll period */
  int64_t since_unix_us; /* ready: when the server was exec'd; bound: when the first pod was
                          * created (0: when polling began) */
  int server_pid;        /* if set (same machine), the server's CPU is reported per run */
  int event_loops;       /* get, raw client: epoll loop threads (event_pool.h); 0: a thread
                          * per client (pool.h) */
} bench_options;

typedef struct scenario {
  const char *name;
  const char *summary;
  int (*run)(const bench_options *options, k8c_err *err);
} scenario;

int scenario_ready_run(const bench_options *options, k8c_err *err);
int scenario_bound_run(const bench_options *options, k8c_err *err);
int scenario_create_run(const bench_options *options, k8c_err *err);
int scenario_get_run(const bench_options *options, k8c_err *err);
int scenario_list_run(const bench_options *options, k8c_err *err);
int scenario_watch_run(const bench_options *options, k8c_err *err);
int scenario_selftest_run(const bench_options *options, k8c_err *err);

#endif
