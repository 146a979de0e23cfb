/* scenario_list.c — time to list every pod of a namespace (full objects, JSON).
 *
 * One keep-alive client lists --namespace --runs times back to back; each sample is
 * request sent to last byte received. The first response is parsed (outside the
 * timing) to check the item count against --count when one is given. */
#include "kube_api.h"
#include "loadgen.h"
#include "stats.h"

#include "lib/mem.h"

#include <stdio.h>

int
scenario_list_run(const bench_options *options, k8c_err *err)
{
  http_client client;
  if (http_client_init(&client, &options->target, err) < 0)
    return -1;
  char **names = NULL;
  size_t items = 0;
  /* The first list doubles as warm-up (connection, caches) and as the item check. */
  if (kube_list_pods(&client, options->namespace_name, &names, &items, NULL, err) < 0) {
    http_client_free(&client);
    return k8c_err_prefix(err, "list");
  }
  for (size_t i = 0; i < items; i++)
    free(names[i]);
  free(names);
  if (options->count != 0 && items != options->count) {
    http_client_free(&client);
    return k8c_error(err, 500, K8C_REASON_INTERNAL,
                     "list: expected %" PRIu64 " pods in %s, got %zu", options->count,
                     options->namespace_name, items);
  }

  cleanup_free char *path = xasprintf("/api/v1/namespaces/%s/pods", options->namespace_name);
  size_t runs = (size_t)options->runs;
  cleanup_free double *list_ms = xcalloc(runs, sizeof(double));
  size_t bytes = 0;
  for (size_t run = 0; run < runs; run++) {
    double begin_ms = clock_now_ms();
    long status = http_client_request(&client, "GET", path, NULL, 0, err);
    list_ms[run] = clock_now_ms() - begin_ms;
    if (status < 0 || status != 200) {
      if (status > 0)
        kube_error_from_response(&client, "listing pods", status, err);
      http_client_free(&client);
      return k8c_err_prefix(err, "list run %zu", run);
    }
    bytes = client.body.len;
  }
  http_client_free(&client);
  double median = stats_median(list_ms, runs);
  fprintf(stderr, "list: %zu pods (%.1f MiB JSON) in %.2f ms (median of %zu)\n", items,
          (double)bytes / (1024.0 * 1024.0), median, runs);

  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("list"));
  json_object_set_new(line, "items", json_integer((json_int_t)items));
  json_object_set_new(line, "bytes", json_integer((json_int_t)bytes));
  json_object_set_new(line, "runs", json_integer(options->runs));
  report_metric(line, "list_ms", list_ms, runs);
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  return 0;
}
