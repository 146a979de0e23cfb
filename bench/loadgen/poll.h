/* poll.h — asks one URL every --interval-ms until an answer satisfies a check or
 * --timeout passes: the loop shared by the ready and bound scenarios. */
#ifndef K8C_LOADGEN_POLL_H
#define K8C_LOADGEN_POLL_H

#include "loadgen.h"

#include "lib/buf.h"

#include <curl/curl.h>
#include <stdint.h>

enum poll_verdict { POLL_AGAIN, POLL_DONE, POLL_FAIL };

/* Judges one answer: its HTTP status (0 when the request failed) and body. */
typedef enum poll_verdict (*poll_check_fn)(long status, const buf *body);

struct poll_outcome {
  long polls;
  long status;     /* of the last answer; 0 when the last request failed */
  int64_t done_us; /* wall clock µs when the check said done; 0 otherwise */
  bool failed;     /* the check said POLL_FAIL */
};

/* Polls with easy, which the caller set up (URL, TLS, timeout) and still owns; the
 * answer's body is collected into a buffer of the poll's own. */
void poll_until(CURL *easy, const bench_options *options, poll_check_fn check,
                struct poll_outcome *out);

#endif
