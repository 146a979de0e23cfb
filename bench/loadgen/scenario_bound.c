/* scenario_bound.c — time from --since-unix-us until every pod of --namespace is bound.
 *
 * The scheduling benchmark creates its pods, then starts this poller: one keep-alive
 * mutual-TLS connection asks for a single unbound pod (fieldSelector spec.nodeName=,
 * limit=1) every --interval-ms until the answer lists none. A poll costs the machine
 * a few tens of µs, where a kubectl process per poll took ~70 ms of CPU away from the
 * server being measured. */
#include "http_client.h"
#include "loadgen.h"
#include "stats.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <time.h>

static size_t
collect_body(char *data, size_t size, size_t nmemb, void *userp)
{
  buf_append(userp, data, size * nmemb);
  return size * nmemb;
}

/* 1 if body is a list with no items, 0 if it has some, -1 if it is not a list. */
static int
list_is_empty(const buf *body)
{
  json_t *list = json_loadb(body->data, body->len, 0, NULL);
  json_t *items = json_object_get(list, "items");
  int rc = json_is_array(items) ? json_array_size(items) == 0 : -1;
  json_decref(list);
  return rc;
}

int
scenario_bound_run(const bench_options *options, k8c_err *err)
{
  int64_t since_us = options->since_unix_us ? options->since_unix_us : clock_realtime_us();
  double give_up_ms = clock_now_ms() + options->timeout_s * 1e3;
  cleanup_free char *url =
      xasprintf("%s/api/v1/namespaces/%s/pods?fieldSelector=spec.nodeName%%3D&limit=1",
                options->target.server, options->namespace_name);
  CURL *easy = curl_easy_init();
  if (easy == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_easy_init failed");
  buf body = {0};
  http_easy_apply_tls(easy, &options->target);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);

  long polls = 0, status = 0;
  int64_t bound_us = 0;
  struct timespec pause = {.tv_sec = options->interval_ms / 1000,
                           .tv_nsec = (long)(options->interval_ms % 1000) * 1000000L};
  while (clock_now_ms() < give_up_ms) {
    polls++;
    body.len = 0;
    status = 0;
    if (curl_easy_perform(easy) == CURLE_OK)
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
      int empty = list_is_empty(&body);
      if (empty < 0) {
        status = -1;
        break;
      }
      if (empty) {
        bound_us = clock_realtime_us();
        break;
      }
    }
    nanosleep(&pause, NULL);
  }
  curl_easy_cleanup(easy);
  buf_free(&body);
  if (status < 0)
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "%s: the answer is not a list", url);
  if (bound_us == 0)
    return k8c_error(err, 504, K8C_REASON_TIMEOUT,
                     "pods of %s still unbound after %.0f s (%ld polls, last HTTP %ld)",
                     options->namespace_name, options->timeout_s, polls, status);

  double bound_ms = (double)(bound_us - since_us) / 1e3;
  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("bound"));
  json_object_set_new(line, "bound_ms", json_real(bound_ms));
  json_object_set_new(line, "polls", json_integer(polls));
  fprintf(stderr, "bound: no unbound pod in %s after %.1f ms (%ld polls every %d ms)\n",
          options->namespace_name, bound_ms, polls, options->interval_ms);
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  return 0;
}
