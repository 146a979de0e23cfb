/* scenario_ready.c — time from the server's exec until /readyz answers 200.
 *
 * run.sh passes the exec time (--since-unix-us, wall clock) and starts this poller
 * right after; it hits /readyz every --interval-ms on a fresh attempt each time (no
 * client certificate, no verification: the CA may not exist yet), so the measured
 * delay is the server's start-up plus at most one poll period. */
#include "http_client.h"
#include "loadgen.h"
#include "poll.h"
#include "stats.h"

#include "lib/mem.h"

#include <stdio.h>

/* Done at the first 200. */
static enum poll_verdict
answered_ok(long status, const buf *body)
{
  (void)body;
  return status == 200 ? POLL_DONE : POLL_AGAIN;
}

int
scenario_ready_run(const bench_options *options, k8c_err *err)
{
  int64_t since_us = options->since_unix_us ? options->since_unix_us : clock_realtime_us();
  cleanup_free char *url = xasprintf("%s/readyz", options->target.server);
  CURL *easy = curl_easy_init();
  if (easy == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_easy_init failed");
  bench_target anonymous = {.server = options->target.server};
  http_easy_apply_tls(easy, &anonymous);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 2000L);
  struct poll_outcome o;
  poll_until(easy, options, answered_ok, &o);
  curl_easy_cleanup(easy);
  if (o.done_us == 0)
    return k8c_error(err, 503, K8C_REASON_UNAVAILABLE,
                     "%s not ready after %.0f s (%ld attempts, last HTTP %ld)", url,
                     options->timeout_s, o.polls, o.status);

  double ready_ms = (double)(o.done_us - since_us) / 1e3;
  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("ready"));
  json_object_set_new(line, "ready_ms", json_real(ready_ms));
  json_object_set_new(line, "attempts", json_integer(o.polls));
  fprintf(stderr, "ready: /readyz 200 after %.1f ms (%ld polls every %d ms)\n", ready_ms, o.polls,
          options->interval_ms);
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  return 0;
}
