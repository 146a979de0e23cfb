/* scenario_bound.c — time from --since-unix-us until every pod of --namespace is bound.
 *
 * The scheduling benchmark creates its pods, then starts this poller: one keep-alive
 * mutual-TLS connection asks for a single unbound pod (fieldSelector spec.nodeName=,
 * limit=1) every --interval-ms until the answer lists none. A poll costs the machine
 * a few tens of µs, where a kubectl process per poll took ~70 ms of CPU away from the
 * server being measured. */
#include "http_client.h"
#include "loadgen.h"
#include "poll.h"
#include "stats.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <jansson.h>
#include <stdio.h>

/* Done when the answer is a list with no items; a 200 that is not a list is an error. */
static enum poll_verdict
no_unbound_pod(long status, const buf *body)
{
  if (status != 200)
    return POLL_AGAIN;
  json_t *list = json_loadb(body->data, body->len, 0, NULL);
  json_t *items = json_object_get(list, "items");
  enum poll_verdict v = !json_is_array(items)         ? POLL_FAIL
                        : json_array_size(items) == 0 ? POLL_DONE
                                                      : POLL_AGAIN;
  json_decref(list);
  return v;
}

int
scenario_bound_run(const bench_options *options, k8c_err *err)
{
  int64_t since_us = options->since_unix_us ? options->since_unix_us : clock_realtime_us();
  cleanup_free char *url =
      xasprintf("%s/api/v1/namespaces/%s/pods?fieldSelector=spec.nodeName%%3D&limit=1",
                options->target.server, options->namespace_name);
  CURL *easy = curl_easy_init();
  if (easy == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_easy_init failed");
  http_easy_apply_tls(easy, &options->target);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  struct poll_outcome o;
  poll_until(easy, options, no_unbound_pod, &o);
  curl_easy_cleanup(easy);
  if (o.failed)
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "%s: the answer is not a list", url);
  if (o.done_us == 0)
    return k8c_error(err, 504, K8C_REASON_TIMEOUT,
                     "pods of %s still unbound after %.0f s (%ld polls, last HTTP %ld)",
                     options->namespace_name, options->timeout_s, o.polls, o.status);

  double bound_ms = (double)(o.done_us - since_us) / 1e3;
  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("bound"));
  json_object_set_new(line, "bound_ms", json_real(bound_ms));
  json_object_set_new(line, "polls", json_integer(o.polls));
  fprintf(stderr, "bound: no unbound pod in %s after %.1f ms (%ld polls every %d ms)\n",
          options->namespace_name, bound_ms, o.polls, options->interval_ms);
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  return 0;
}
