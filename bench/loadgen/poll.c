/* poll.c — the polling loop of the ready and bound scenarios (see poll.h). */
#include "poll.h"

#include "stats.h"

#include <time.h>

static size_t
collect_body(char *data, size_t size, size_t nmemb, void *userp)
{
  buf_append(userp, data, size * nmemb);
  return size * nmemb;
}

void
poll_until(CURL *easy, const bench_options *options, poll_check_fn check, struct poll_outcome *out)
{
  *out = (struct poll_outcome){0};
  buf body = {0};
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  double give_up_ms = clock_now_ms() + options->timeout_s * 1e3;
  struct timespec pause = {.tv_sec = options->interval_ms / 1000,
                           .tv_nsec = (long)(options->interval_ms % 1000) * 1000000L};
  while (clock_now_ms() < give_up_ms) {
    out->polls++;
    body.len = 0;
    out->status = 0;
    if (curl_easy_perform(easy) == CURLE_OK)
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
    enum poll_verdict v = check(out->status, &body);
    if (v == POLL_DONE) {
      out->done_us = clock_realtime_us();
      break;
    }
    if (v == POLL_FAIL) {
      out->failed = true;
      break;
    }
    nanosleep(&pause, NULL);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
  buf_free(&body);
}
