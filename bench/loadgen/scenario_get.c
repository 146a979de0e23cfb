/* scenario_get.c — concurrent GETs of existing pods by random name: gets/s, p50/p99.
 *
 * The names come from one list of --namespace taken before the clock starts, so the
 * scenario reads whatever pods an earlier create run left there. A get counts only when
 * the answer is 200 and its body is a JSON object naming the pod asked for. */
#include "event_pool.h"
#include "kube_api.h"
#include "loadgen.h"
#include "pool.h"

#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct get_ctx {
  char **paths;       /* owned: one GET path per pod */
  char **name_fields; /* owned: "name":"POD" for each path, to check the body */
  size_t count;
} get_ctx;

static int get_random_pod(http_client *client, uint64_t index, unsigned int *rng, void *ctx,
                          k8c_err *err);
static void prepare_random_get(uint64_t index, unsigned int *rng, void *ctx, pool_request *req);
static int check_get(long status, const buf *body, const pool_request *req, void *ctx,
                     k8c_err *err);
static void free_strings(char **strings, size_t count);

int
scenario_get_run(const bench_options *options, k8c_err *err)
{
  http_client setup;
  if (http_client_init(&setup, &options->target, err) < 0)
    return -1;
  char **names = NULL;
  size_t count = 0;
  int rc = kube_list_pods(&setup, options->namespace_name, &names, &count, NULL, err);
  http_client_free(&setup);
  if (rc < 0)
    return k8c_err_prefix(err, "get");
  if (count == 0) {
    free_strings(names, count);
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "get: namespace %s has no pods",
                     options->namespace_name);
  }
  get_ctx ctx = {.paths = xcalloc(count, sizeof(char *)),
                 .name_fields = xcalloc(count, sizeof(char *)),
                 .count = count};
  for (size_t i = 0; i < count; i++) {
    ctx.paths[i] = xasprintf("/api/v1/namespaces/%s/pods/%s", options->namespace_name, names[i]);
    ctx.name_fields[i] = xasprintf("\"name\":\"%s\"", names[i]);
  }
  free_strings(names, count);

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
  for (size_t run = 0; run < runs && rc == 0; run++) {
    pool_spec spec = {
        .target = &options->target,
        .concurrency = options->concurrency,
        .duration_s = options->duration_s,
        .warmup_path = ctx.paths[0],
        .server_pid = options->server_pid,
        .op = get_random_pod,
        .ctx = &ctx,
    };
    pool_result result;
    if (options->target.client == BENCH_CLIENT_RAW && options->event_loops > 0) {
      /* --event-loops: the clients share a few epoll loops (event_pool.h). */
      event_pool_spec event_spec = {
          .target = &options->target,
          .concurrency = options->concurrency,
          .threads = options->event_loops,
          .duration_s = options->duration_s,
          .warmup_path = ctx.paths[0],
          .server_pid = options->server_pid,
          .prepare = prepare_random_get,
          .check = check_get,
          .ctx = &ctx,
      };
      rc = event_pool_run(&event_spec, &result, err);
    } else {
      rc = pool_run(&spec, &result, err);
    }
    if (rc == 0) {
      rate[run] = (double)result.ok / result.wall_s;
      p50[run] = lat_rec_percentile(&result.latency_ms, 50);
      p90[run] = lat_rec_percentile(&result.latency_ms, 90);
      p99[run] = lat_rec_percentile(&result.latency_ms, 99);
      client_cores[run] = result.cpu_s / result.wall_s;
      server_cores[run] = result.server_cpu_s / result.wall_s;
      other_cores[run] =
          (result.machine_cpu_s - result.cpu_s - result.server_cpu_s) / result.wall_s;
      double requests = (double)(result.ok + result.failed);
      client_us[run] = requests > 0 ? result.cpu_s * 1e6 / requests : 0;
      server_us[run] = requests > 0 ? result.server_cpu_s * 1e6 / requests : 0;
      failed += result.failed;
      fprintf(
          stderr,
          "get run %zu (%s client): %" PRIu64 " gets in %.2f s = %.0f/s, p50 %.3f ms p90 %.3f ms "
          "p99 %.3f ms, load generator %.2f cores (%.1f µs CPU per get), %" PRIu64 " failed%s%s\n",
          run, bench_client_name(options->target.client), result.ok, result.wall_s, rate[run],
          p50[run], p90[run], p99[run], client_cores[run], client_us[run], result.failed,
          result.failed ? ": " : "", result.first_error);
    }
    pool_result_free(&result);
  }
  free_strings(ctx.paths, ctx.count);
  free_strings(ctx.name_fields, ctx.count);
  if (rc < 0)
    return k8c_err_prefix(err, "get");

  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("get"));
  json_object_set_new(line, "client", json_string(bench_client_name(options->target.client)));
  json_object_set_new(line, "pods", json_integer((json_int_t)count));
  json_object_set_new(line, "concurrency", json_integer(options->concurrency));
  json_object_set_new(line, "duration_s", json_real(options->duration_s));
  json_object_set_new(line, "runs", json_integer(options->runs));
  report_metric(line, "gets_per_s", rate, runs);
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
get_random_pod(http_client *client, uint64_t index, unsigned int *rng, void *ctx_arg, k8c_err *err)
{
  get_ctx *ctx = ctx_arg;
  size_t pick = (size_t)rand_r(rng) % ctx->count;
  long status = http_client_request(client, "GET", ctx->paths[pick], NULL, 0, err);
  if (status < 0)
    return -1;
  if (status != 200)
    return kube_error_from_response(client, "getting pod", status, err);
  const char *name_field = ctx->name_fields[pick];
  return kube_check_pod_body(&client->body, name_field, strlen(name_field), err);
}

static void
prepare_random_get(uint64_t index, unsigned int *rng, void *ctx_arg, pool_request *req)
{
  (void)index;
  get_ctx *ctx = ctx_arg;
  size_t pick = (size_t)rand_r(rng) % ctx->count;
  *req = (pool_request){.method = "GET", .path = ctx->paths[pick], .tag = pick};
}

/* The same checks as get_random_pod: a 200 whose body is a JSON object naming the pod. */
static int
check_get(long status, const buf *body, const pool_request *req, void *ctx_arg, k8c_err *err)
{
  get_ctx *ctx = ctx_arg;
  if (status != 200)
    return k8c_error(err, (int)status, K8C_REASON_INTERNAL, "getting pod: HTTP %ld: %.200s", status,
                     body->len ? body->data : "");
  const char *name_field = ctx->name_fields[req->tag];
  return kube_check_pod_body(body, name_field, strlen(name_field), err);
}

static void
free_strings(char **strings, size_t count)
{
  for (size_t i = 0; i < count; i++)
    free(strings[i]);
  free(strings);
}
