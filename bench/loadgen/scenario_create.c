/* scenario_create.c — concurrent Pod creation: creates/s and latency percentiles.
 *
 * Each run creates --count pods named <prefix>-r<run>-<n> in --namespace with
 * --concurrency keep-alive clients going back to back; a create counts only when the
 * server answers 201 Created with a JSON object naming the new pod. */
#include "kube_api.h"
#include "loadgen.h"
#include "pool.h"

#include "lib/mem.h"

#include <math.h>
#include <stdio.h>

typedef struct create_ctx {
  const char *namespace_name;
  char *run_prefix; /* owned: "<prefix>-r<run>" */
  char *path;       /* owned: the pods collection */
  bool sched_mix;
} create_ctx;

static int create_one_pod(http_client *client, uint64_t index, unsigned int *rng, void *ctx,
                          k8c_err *err);

int
scenario_create_run(const bench_options *options, k8c_err *err)
{
  http_client setup;
  if (http_client_init(&setup, &options->target, err) < 0)
    return -1;
  int rc = kube_ensure_namespace(&setup, options->namespace_name, err);
  http_client_free(&setup);
  if (rc < 0)
    return k8c_err_prefix(err, "create");

  size_t runs = (size_t)options->runs;
  cleanup_free double *rate = xcalloc(runs, sizeof(double));
  cleanup_free double *p50 = xcalloc(runs, sizeof(double));
  cleanup_free double *p90 = xcalloc(runs, sizeof(double));
  cleanup_free double *p99 = xcalloc(runs, sizeof(double));
  cleanup_free double *client_cores = xcalloc(runs, sizeof(double));
  cleanup_free double *server_cores = xcalloc(runs, sizeof(double));
  cleanup_free double *other_cores = xcalloc(runs, sizeof(double)); /* neither of the two */
  cleanup_free double *client_us = xcalloc(runs, sizeof(double));   /* CPU µs per request */
  cleanup_free double *server_us = xcalloc(runs, sizeof(double));
  uint64_t failed = 0;
  cleanup_free char *path = xasprintf("/api/v1/namespaces/%s/pods", options->namespace_name);
  for (size_t run = 0; run < runs; run++) {
    create_ctx ctx = {
        .namespace_name = options->namespace_name,
        .sched_mix = options->sched_mix,
        .run_prefix = xasprintf("%s-r%zu", options->name_prefix, run),
        .path = path,
    };
    pool_spec spec = {
        .target = &options->target,
        .concurrency = options->concurrency,
        .total_ops = options->count,
        .warmup_path = "/readyz",
        .server_pid = options->server_pid,
        .op = create_one_pod,
        .ctx = &ctx,
    };
    pool_result result;
    rc = pool_run(&spec, &result, err);
    free(ctx.run_prefix);
    if (rc < 0) {
      pool_result_free(&result);
      return k8c_err_prefix(err, "create run %zu", run);
    }
    rate[run] = (double)result.ok / result.wall_s;
    p50[run] = lat_rec_percentile(&result.latency_ms, 50);
    p90[run] = lat_rec_percentile(&result.latency_ms, 90);
    p99[run] = lat_rec_percentile(&result.latency_ms, 99);
    client_cores[run] = result.cpu_s / result.wall_s;
    server_cores[run] = result.server_cpu_s / result.wall_s;
    other_cores[run] = (result.machine_cpu_s - result.cpu_s - result.server_cpu_s) / result.wall_s;
    double requests = (double)(result.ok + result.failed);
    client_us[run] = requests > 0 ? result.cpu_s * 1e6 / requests : 0;
    server_us[run] = requests > 0 ? result.server_cpu_s * 1e6 / requests : 0;
    failed += result.failed;
    fprintf(
        stderr,
        "create run %zu (%s client): %" PRIu64 " pods in %.2f s = %.0f/s, p50 %.2f ms p90 %.2f ms "
        "p99 %.2f ms, load generator %.2f cores (%.1f µs CPU per create), %" PRIu64 " failed%s%s\n",
        run, bench_client_name(options->target.client), result.ok, result.wall_s, rate[run],
        p50[run], p90[run], p99[run], client_cores[run], client_us[run], result.failed,
        result.failed ? ": " : "", result.first_error);
    pool_result_free(&result);
  }

  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("create"));
  json_object_set_new(line, "client", json_string(bench_client_name(options->target.client)));
  json_object_set_new(line, "pods_per_run", json_integer((json_int_t)options->count));
  json_object_set_new(line, "concurrency", json_integer(options->concurrency));
  json_object_set_new(line, "runs", json_integer(options->runs));
  report_metric(line, "creates_per_s", rate, runs);
  report_metric(line, "p50_ms", p50, runs);
  report_metric(line, "p90_ms", p90, runs);
  report_metric(line, "p99_ms", p99, runs);
  struct cpu_figures cpu = {client_cores, client_us, server_cores, server_us, other_cores};
  report_cpu_metrics(line, &cpu, options->server_pid != 0, runs);
  json_object_set_new(line, "failed", json_integer((json_int_t)failed));
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  return 0;
}

static int
create_one_pod(http_client *client, uint64_t index, unsigned int *rng, void *ctx_arg, k8c_err *err)
{
  create_ctx *ctx = ctx_arg;
  char name[128];
  char manifest[2048];
  snprintf(name, sizeof(name), "%s-%06" PRIu64, ctx->run_prefix, index);
  int len = ctx->sched_mix
                ? kube_pod_manifest_sched_mix(manifest, sizeof(manifest), ctx->namespace_name, name,
                                              index, err)
                : kube_pod_manifest(manifest, sizeof(manifest), ctx->namespace_name, name, err);
  if (len < 0)
    return -1;
  long status = http_client_request(client, "POST", ctx->path, manifest, (size_t)len, err);
  if (status < 0)
    return -1;
  if (status != 201)
    return kube_error_from_response(client, "creating pod", status, err);
  char name_field[160];
  int field_len = kube_pod_name_field(name_field, sizeof(name_field), name, err);
  if (field_len < 0)
    return -1;
  return kube_check_pod_body(&client->body, name_field, (size_t)field_len, err);
}
