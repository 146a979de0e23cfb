/* scenario_watch.c — watch fan-out: W watchers on a namespace, E pods created, and the
 * time from each create's 201 until every watcher has the event.
 *
 * Each run opens the streams from the namespace's current resourceVersion, then
 * creates a sentinel pod and waits until every stream has delivered it: only then are
 * all watchers known to be live, and the measured creates start. Fan-out latency is
 * (all watchers have pod i) - (create of pod i acknowledged), 0 when the events beat
 * the acknowledgement (also reported from the request's start, which is never 0);
 * throughput is events delivered (pods x watchers) per second
 * from the first measured create until the last delivery. */
#include "kube_api.h"
#include "loadgen.h"
#include "pool.h"
#include "watch_fanout.h"

#include "lib/mem.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

typedef struct watch_create_ctx {
  const char *namespace_name;
  const char *run_prefix;
  char *path;               /* owned: the pods collection */
  double rate;              /* creates per second, 0 = unpaced */
  _Atomic int64_t start_us; /* first measured create sent; 0 until then */
  int64_t *sent_us;         /* owned; [events + 1], when each create was sent */
  int64_t *ack_us;          /* owned; [events + 1], when each create was acknowledged */
} watch_create_ctx;

typedef struct watch_run_figures {
  double p50_ms, p99_ms, max_ms, delivered_per_s, setup_ms;
  double sent_p50_ms, sent_p99_ms; /* measured from the create's request instead */
  int live_watchers;
  int incomplete;
} watch_run_figures;

static int watch_one_run(const bench_options *options, http_client *setup, size_t run,
                         watch_run_figures *figures, k8c_err *err);
static int create_tracked_pod(http_client *client, uint64_t index, unsigned int *rng, void *ctx,
                              k8c_err *err);
static int create_pod_named(http_client *client, const char *path, const char *namespace_name,
                            const char *name, k8c_err *err);
static int wait_for(fanout_tracker *tracker, int first, int last, double timeout_s,
                    watch_fleet *fleet, int streams);

int
scenario_watch_run(const bench_options *options, k8c_err *err)
{
  http_client setup;
  if (http_client_init(&setup, &options->target, err) < 0)
    return -1;
  if (kube_ensure_namespace(&setup, options->namespace_name, err) < 0) {
    http_client_free(&setup);
    return k8c_err_prefix(err, "watch");
  }
  size_t runs = (size_t)options->runs;
  cleanup_free double *p50 = xcalloc(runs, sizeof(double));
  cleanup_free double *p99 = xcalloc(runs, sizeof(double));
  cleanup_free double *max = xcalloc(runs, sizeof(double));
  cleanup_free double *delivered = xcalloc(runs, sizeof(double));
  cleanup_free double *setup_ms = xcalloc(runs, sizeof(double));
  cleanup_free double *sent_p50 = xcalloc(runs, sizeof(double));
  cleanup_free double *sent_p99 = xcalloc(runs, sizeof(double));
  int live_min = options->watchers, incomplete = 0;
  for (size_t run = 0; run < runs; run++) {
    watch_run_figures figures = {0};
    if (watch_one_run(options, &setup, run, &figures, err) < 0) {
      http_client_free(&setup);
      return k8c_err_prefix(err, "watch run %zu", run);
    }
    p50[run] = figures.p50_ms;
    p99[run] = figures.p99_ms;
    max[run] = figures.max_ms;
    delivered[run] = figures.delivered_per_s;
    setup_ms[run] = figures.setup_ms;
    sent_p50[run] = figures.sent_p50_ms;
    sent_p99[run] = figures.sent_p99_ms;
    if (figures.live_watchers < live_min)
      live_min = figures.live_watchers;
    incomplete += figures.incomplete;
    fprintf(stderr,
            "watch run %zu: %d watchers live after %.0f ms; %d pods: fan-out p50 %.2f ms "
            "p99 %.2f ms max %.2f ms (from request: p50 %.2f p99 %.2f), %.0f events "
            "delivered/s, %d incomplete\n",
            run, figures.live_watchers, figures.setup_ms, options->events, figures.p50_ms,
            figures.p99_ms, figures.max_ms, figures.sent_p50_ms, figures.sent_p99_ms,
            figures.delivered_per_s, figures.incomplete);
  }
  http_client_free(&setup);

  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("watch"));
  json_object_set_new(line, "watchers", json_integer(options->watchers));
  json_object_set_new(line, "live_watchers_min", json_integer(live_min));
  json_object_set_new(line, "events_per_run", json_integer(options->events));
  json_object_set_new(line, "create_rate", json_real(options->rate));
  json_object_set_new(line, "runs", json_integer(options->runs));
  report_metric(line, "fanout_p50_ms", p50, runs);
  report_metric(line, "fanout_p99_ms", p99, runs);
  report_metric(line, "fanout_max_ms", max, runs);
  report_metric(line, "fanout_from_request_p50_ms", sent_p50, runs);
  report_metric(line, "fanout_from_request_p99_ms", sent_p99, runs);
  report_metric(line, "events_delivered_per_s", delivered, runs);
  report_metric(line, "watch_setup_ms", setup_ms, runs);
  json_object_set_new(line, "incomplete", json_integer(incomplete));
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  return 0;
}

static int
watch_one_run(const bench_options *options, http_client *setup, size_t run,
              watch_run_figures *figures, k8c_err *err)
{
  char **names = NULL;
  size_t existing = 0;
  cleanup_free char *resource_version = NULL;
  if (kube_list_pods(setup, options->namespace_name, &names, &existing, &resource_version, err) < 0)
    return -1;
  for (size_t i = 0; i < existing; i++)
    free(names[i]);
  free(names);
  if (resource_version == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pod list has no resourceVersion");

  cleanup_free char *run_prefix = xasprintf("%s-r%zu", options->name_prefix, run);
  cleanup_free char *watch_path = xasprintf("/api/v1/namespaces/%s/pods?watch=1&resourceVersion=%s",
                                            options->namespace_name, resource_version);
  cleanup_free char *pods_path = xasprintf("/api/v1/namespaces/%s/pods", options->namespace_name);
  fanout_tracker tracker;
  fanout_tracker_init(&tracker, run_prefix, options->events, options->watchers);

  double setup_begin_ms = clock_now_ms();
  watch_fleet *fleet = watch_fleet_start(&options->target, watch_path, options->watchers,
                                         options->watcher_threads, &tracker, err);
  if (fleet == NULL) {
    fanout_tracker_free(&tracker);
    return -1;
  }

  /* The sentinel (index 0) proves which streams are live before measuring. */
  char sentinel[160];
  snprintf(sentinel, sizeof(sentinel), "%s-%06d", run_prefix, 0);
  int rc = create_pod_named(setup, pods_path, options->namespace_name, sentinel, err);
  if (rc == 0) {
    wait_for(&tracker, 0, 0, options->timeout_s, fleet, options->watchers);
    figures->setup_ms = clock_now_ms() - setup_begin_ms;
    figures->live_watchers = atomic_load(&tracker.received[0]);
    if (figures->live_watchers == 0)
      rc = k8c_error(err, 504, K8C_REASON_TIMEOUT,
                     "no watcher received the sentinel pod within %.0f s (%d streams ended)",
                     options->timeout_s, watch_fleet_ended(fleet));
  }
  if (rc == 0) {
    atomic_store(&tracker.expected, figures->live_watchers);
    watch_create_ctx ctx = {
        .namespace_name = options->namespace_name,
        .run_prefix = run_prefix,
        .path = pods_path,
        .rate = options->rate,
        .sent_us = xcalloc((size_t)options->events + 1, sizeof(int64_t)),
        .ack_us = xcalloc((size_t)options->events + 1, sizeof(int64_t)),
    };
    atomic_init(&ctx.start_us, 0);
    pool_spec spec = {
        .target = &options->target,
        .concurrency = options->creators,
        .total_ops = (uint64_t)options->events,
        .warmup_path = "/readyz",
        .op = create_tracked_pod,
        .ctx = &ctx,
    };
    pool_result result;
    rc = pool_run(&spec, &result, err);
    if (rc == 0 && result.failed > 0)
      rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "%" PRIu64 " creates failed: %s", result.failed,
                     result.first_error);
    pool_result_free(&result);
    if (rc == 0) {
      wait_for(&tracker, 1, options->events, options->timeout_s, fleet, options->watchers);
      lat_rec fanout, from_sent;
      lat_rec_init(&fanout);
      lat_rec_init(&from_sent);
      int64_t last_us = 0;
      uint64_t delivered = 0;
      for (int i = 1; i <= options->events; i++) {
        int got = atomic_load(&tracker.received[i]);
        delivered += (uint64_t)(got < figures->live_watchers ? got : figures->live_watchers);
        int64_t done_us = atomic_load(&tracker.complete_us[i]);
        if (done_us == 0) {
          figures->incomplete++;
          continue;
        }
        if (done_us > last_us)
          last_us = done_us;
        double ms = (double)(done_us - ctx.ack_us[i]) / 1e3;
        lat_rec_add(&fanout, ms > 0 ? ms : 0);
        lat_rec_add(&from_sent, (double)(done_us - ctx.sent_us[i]) / 1e3);
      }
      if (figures->incomplete > 0)
        last_us = clock_now_us();
      figures->p50_ms = lat_rec_percentile(&fanout, 50);
      figures->p99_ms = lat_rec_percentile(&fanout, 99);
      figures->max_ms = lat_rec_percentile(&fanout, 100);
      double span_s = (double)(last_us - atomic_load(&ctx.start_us)) / 1e6;
      figures->delivered_per_s = span_s > 0 ? (double)delivered / span_s : NAN;
      figures->sent_p50_ms = lat_rec_percentile(&from_sent, 50);
      figures->sent_p99_ms = lat_rec_percentile(&from_sent, 99);
      lat_rec_free(&fanout);
      lat_rec_free(&from_sent);
    }
    free(ctx.sent_us);
    free(ctx.ack_us);
  }
  watch_fleet_stop(fleet);
  fanout_tracker_free(&tracker);
  return rc;
}

static int
create_tracked_pod(http_client *client, uint64_t index, unsigned int *rng, void *ctx_arg,
                   k8c_err *err)
{
  watch_create_ctx *ctx = ctx_arg;
  int64_t now_us = clock_now_us();
  int64_t expected_start = 0;
  if (!atomic_compare_exchange_strong(&ctx->start_us, &expected_start, now_us))
    now_us = clock_now_us();
  if (ctx->rate > 0) {
    /* Paced: create i is due at start + i / rate. */
    int64_t due_us = atomic_load(&ctx->start_us) + (int64_t)((double)index * 1e6 / ctx->rate);
    if (due_us > now_us) {
      int64_t wait_us = due_us - now_us;
      struct timespec pause = {.tv_sec = wait_us / 1000000, .tv_nsec = (wait_us % 1000000) * 1000};
      nanosleep(&pause, NULL);
    }
  }
  char name[160];
  snprintf(name, sizeof(name), "%s-%06" PRIu64, ctx->run_prefix, index + 1);
  ctx->sent_us[index + 1] = clock_now_us();
  if (create_pod_named(client, ctx->path, ctx->namespace_name, name, err) < 0)
    return -1;
  ctx->ack_us[index + 1] = clock_now_us();
  return 0;
}

static int
create_pod_named(http_client *client, const char *path, const char *namespace_name,
                 const char *name, k8c_err *err)
{
  char manifest[2048];
  int len = kube_pod_manifest(manifest, sizeof(manifest), namespace_name, name, err);
  if (len < 0)
    return -1;
  long status = http_client_request(client, "POST", path, manifest, (size_t)len, err);
  if (status < 0)
    return -1;
  if (status != 201)
    return kube_error_from_response(client, "creating pod", status, err);
  return 0;
}

/* Waits until events first..last are complete, the timeout passes, or too many of the
 * streams opened have ended for completion to be possible. Returns the number still
 * incomplete. */
static int
wait_for(fanout_tracker *tracker, int first, int last, double timeout_s, watch_fleet *fleet,
         int streams)
{
  double give_up_ms = clock_now_ms() + timeout_s * 1e3;
  struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
  int missing = 0;
  int expected = atomic_load(&tracker->expected);
  for (;;) {
    missing = 0;
    for (int i = first; i <= last; i++)
      if (atomic_load(&tracker->received[i]) < expected)
        missing++;
    if (missing == 0 || clock_now_ms() >= give_up_ms)
      break;
    if (streams - watch_fleet_ended(fleet) < expected)
      break;
    nanosleep(&pause, NULL);
  }
  return missing;
}
