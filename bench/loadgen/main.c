/* main.c — k8c-loadgen: flags, then one scenario against a k8c (or any Kubernetes) API
 * server over mutual TLS.
 *
 *   k8c-loadgen SCENARIO --server https://127.0.0.1:PORT --tls-dir DIR [options]
 *
 * Results: one JSON line per scenario on stdout, a human summary on stderr. */
#include "loadgen.h"

#include "lib/mem.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static const scenario SCENARIOS[] = {
    {"ready", "poll /readyz until 200; report ms since --since-unix-us", scenario_ready_run},
    {"bound", "poll for an unbound pod of --namespace until none; report ms since --since-unix-us",
     scenario_bound_run},
    {"create", "--count pods per run by --concurrency clients: creates/s, p50/p90/p99",
     scenario_create_run},
    {"get", "GET random existing pods for --duration s: gets/s, p50/p90/p99", scenario_get_run},
    {"list", "list every pod of --namespace --runs times: ms per list", scenario_list_run},
    {"watch", "--watchers streams, --events creates: fan-out latency, events/s",
     scenario_watch_run},
    {"selftest", "check the raw client's response parser (no server needed)",
     scenario_selftest_run},
};

enum {
  OPT_SERVER = 256,
  OPT_TLS_DIR,
  OPT_NAMESPACE,
  OPT_NAME_PREFIX,
  OPT_SCHED_MIX,
  OPT_CONCURRENCY,
  OPT_COUNT,
  OPT_DURATION,
  OPT_RUNS,
  OPT_WATCHERS,
  OPT_WATCHER_THREADS,
  OPT_EVENTS,
  OPT_RATE,
  OPT_CREATORS,
  OPT_TIMEOUT,
  OPT_INTERVAL_MS,
  OPT_SINCE_UNIX_US,
  OPT_SERVER_PID,
  OPT_EVENT_LOOPS,
  OPT_CLIENT,
  OPT_HELP,
};

static const struct option LONG_OPTIONS[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"tls-dir", required_argument, NULL, OPT_TLS_DIR},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"name-prefix", required_argument, NULL, OPT_NAME_PREFIX},
    {"sched-mix", no_argument, NULL, OPT_SCHED_MIX},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"count", required_argument, NULL, OPT_COUNT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"runs", required_argument, NULL, OPT_RUNS},
    {"watchers", required_argument, NULL, OPT_WATCHERS},
    {"watcher-threads", required_argument, NULL, OPT_WATCHER_THREADS},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"rate", required_argument, NULL, OPT_RATE},
    {"creators", required_argument, NULL, OPT_CREATORS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL_MS},
    {"since-unix-us", required_argument, NULL, OPT_SINCE_UNIX_US},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"event-loops", required_argument, NULL, OPT_EVENT_LOOPS},
    {"client", required_argument, NULL, OPT_CLIENT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out);
static int parse_number(const char *flag, const char *text, double min, double *value);
static int parse_options(int argc, char **argv, bench_options *options);
static void raise_fd_limit(void);

int
main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const scenario *chosen = NULL;
  for (size_t i = 0; i < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); i++)
    if (strcmp(argv[1], SCENARIOS[i].name) == 0)
      chosen = &SCENARIOS[i];
  if (chosen == NULL) {
    fprintf(stderr, "k8c-loadgen: unknown scenario %s\n", argv[1]);
    usage(stderr);
    return 2;
  }

  bench_options options = {
      .namespace_name = "bench",
      .name_prefix = "bench",
      .concurrency = 16,
      .count = 1000,
      .duration_s = 5,
      .runs = 3,
      .watchers = 1000,
      .watcher_threads = 2,
      .events = 100,
      .rate = 0,
      .creators = 1,
      .timeout_s = 60,
      .interval_ms = 2,
  };
  /* The raw client carries the throughput scenarios; the others keep libcurl. */
  int throughput = strcmp(chosen->name, "create") == 0 || strcmp(chosen->name, "get") == 0;
  options.target.client = throughput ? BENCH_CLIENT_RAW : BENCH_CLIENT_CURL;
  if (strcmp(chosen->name, "list") == 0) {
    options.count = 0;
    options.runs = 11;
  }
  int rc = parse_options(argc - 1, argv + 1, &options);
  int needs_server = chosen->run != scenario_selftest_run;
  if (rc == 0 && needs_server && options.target.server == NULL) {
    fprintf(stderr, "k8c-loadgen: --server is required\n");
    rc = -1;
  }
  if (rc == 0 && needs_server && options.target.ca_file == NULL &&
      chosen->run != scenario_ready_run) {
    fprintf(stderr, "k8c-loadgen: --tls-dir is required for %s\n", chosen->name);
    rc = -1;
  }
  if (rc < 0) {
    free(options.target.ca_file);
    free(options.target.cert_file);
    free(options.target.key_file);
    return 2;
  }

  raise_fd_limit();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "k8c-loadgen: curl_global_init failed\n");
    return 1;
  }
  k8c_err err = {0};
  rc = chosen->run(&options, &err);
  if (rc < 0)
    fprintf(stderr, "k8c-loadgen %s: %s\n", chosen->name, err.message);
  k8c_err_clear(&err);
  curl_global_cleanup();
  free(options.target.ca_file);
  free(options.target.cert_file);
  free(options.target.key_file);
  return rc < 0 ? 1 : 0;
}

static int
parse_options(int argc, char **argv, bench_options *options)
{
  int opt;
  double value;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", LONG_OPTIONS, NULL)) != -1) {
    switch (opt) {
    case OPT_SERVER:
      options->target.server = optarg;
      break;
    case OPT_TLS_DIR:
      free(options->target.ca_file);
      free(options->target.cert_file);
      free(options->target.key_file);
      options->target.ca_file = xasprintf("%s/server-ca.crt", optarg);
      options->target.cert_file = xasprintf("%s/client-admin.crt", optarg);
      options->target.key_file = xasprintf("%s/client-admin.key", optarg);
      break;
    case OPT_NAMESPACE:
      options->namespace_name = optarg;
      break;
    case OPT_SCHED_MIX:
      options->sched_mix = true;
      break;
    case OPT_NAME_PREFIX:
      options->name_prefix = optarg;
      break;
    case OPT_CLIENT:
      if (strcmp(optarg, "curl") == 0) {
        options->target.client = BENCH_CLIENT_CURL;
      } else if (strcmp(optarg, "raw") == 0) {
        options->target.client = BENCH_CLIENT_RAW;
      } else {
        fprintf(stderr, "k8c-loadgen: --client: curl or raw, not %s\n", optarg);
        return -1;
      }
      break;
    case OPT_HELP:
      usage(stdout);
      exit(0);
    case '?':
      return -1;
    default:
      if (parse_number(LONG_OPTIONS[opt - OPT_SERVER].name, optarg, 0, &value) < 0)
        return -1;
      switch (opt) {
      case OPT_CONCURRENCY:
        options->concurrency = (int)value;
        break;
      case OPT_COUNT:
        options->count = (uint64_t)value;
        break;
      case OPT_DURATION:
        options->duration_s = value;
        break;
      case OPT_RUNS:
        options->runs = (int)value;
        break;
      case OPT_WATCHERS:
        options->watchers = (int)value;
        break;
      case OPT_WATCHER_THREADS:
        options->watcher_threads = (int)value;
        break;
      case OPT_EVENTS:
        options->events = (int)value;
        break;
      case OPT_RATE:
        options->rate = value;
        break;
      case OPT_CREATORS:
        options->creators = (int)value;
        break;
      case OPT_TIMEOUT:
        options->timeout_s = value;
        break;
      case OPT_INTERVAL_MS:
        options->interval_ms = (int)value;
        break;
      case OPT_SINCE_UNIX_US:
        options->since_unix_us = (int64_t)value;
        break;
      case OPT_SERVER_PID:
        options->server_pid = (int)value;
        break;
      case OPT_EVENT_LOOPS:
        options->event_loops = (int)value;
        break;
      default:
        return -1;
      }
    }
  }
  if (optind < argc) {
    fprintf(stderr, "k8c-loadgen: unexpected argument %s\n", argv[optind]);
    return -1;
  }
  if (options->runs < 1 || options->concurrency < 1 || options->watchers < 1 ||
      options->events < 1 || options->creators < 1) {
    fprintf(stderr, "k8c-loadgen: --runs, --concurrency, --watchers, --events and "
                    "--creators must be at least 1\n");
    return -1;
  }
  return 0;
}

static int
parse_number(const char *flag, const char *text, double min, double *value)
{
  char *end = NULL;
  *value = strtod(text, &end);
  if (end == text || *end != 0 || *value < min) {
    fprintf(stderr, "k8c-loadgen: --%s: not a number >= %g: %s\n", flag, min, text);
    return -1;
  }
  return 0;
}

/* A thousand watch streams need a thousand descriptors; the soft limit is often 1024. */
static void
raise_fd_limit(void)
{
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
    fprintf(stderr, "k8c-loadgen: could not raise the open-file limit\n");
}

static void
usage(FILE *out)
{
  fprintf(out, "usage: k8c-loadgen SCENARIO --server URL --tls-dir DIR [options]\n\n"
               "scenarios:\n");
  for (size_t i = 0; i < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); i++)
    fprintf(out, "  %-7s %s\n", SCENARIOS[i].name, SCENARIOS[i].summary);
  fprintf(out, "\noptions:\n"
               "  --server URL          API server base URL (https://127.0.0.1:PORT)\n"
               "  --tls-dir DIR         holds server-ca.crt, client-admin.crt, client-admin.key\n"
               "  --namespace NS        namespace to work in (default bench; created if absent)\n"
               "  --name-prefix P       pod names are P-r<run>-<n> (default bench)\n"
               "  --sched-mix           create: a third of the pods with hostname anti-affinity,\n"
               "                        a third with zone spread (bench/scheduler.sh)\n"
               "  --concurrency C       client threads, one keep-alive connection each (16)\n"
               "  --count N             create: pods per run (1000); list: expected items\n"
               "  --duration S          get: seconds per run (5)\n"
               "  --runs R              runs; the report gives the median (3; list 11)\n"
               "  --watchers W          watch: streams (1000)\n"
               "  --watcher-threads T   watch: threads multiplexing the streams (2)\n"
               "  --events E            watch: pods created per run (100)\n"
               "  --rate R              watch: creates per second, 0 = back to back (0)\n"
               "  --creators N          watch: concurrent creating clients (1)\n"
               "  --timeout S           ready, bound: give up after; watch: wait per phase (60)\n"
               "  --interval-ms MS      ready, bound: poll period (2)\n"
               "  --since-unix-us T     ready: server exec time; bound: first create; wall\n"
               "                        clock µs since epoch\n"
               "  --server-pid PID      report the server's CPU (cores busy) for each run\n"
               "  --event-loops N       get with the raw client: N threads of epoll loops drive\n"
               "                        the clients instead of one thread each (0)\n"
               "  --client curl|raw     HTTP client for create/get/list and watch's creates:\n"
               "                        raw = GnuTLS directly (default for create, get),\n"
               "                        curl = libcurl (default otherwise; watch streams\n"
               "                        always use curl)\n");
}

const char *
bench_client_name(bench_client_kind kind)
{
  return kind == BENCH_CLIENT_RAW ? "raw" : "curl";
}
