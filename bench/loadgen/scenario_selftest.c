/* scenario_selftest.c — `k8c-loadgen selftest`: checks the raw client's response parser
 * (status line, framing headers, chunked bodies split at every byte) without a server.
 *
 * The loadgen is built outside the unit-test tree, so its parser carries its own checks;
 * run.sh runs them before measuring, so a figure never comes from a broken parser. */
#include "http_response.h"
#include "loadgen.h"
#include "stats.h"

#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

typedef struct head_case {
  const char *text;
  long expect_len; /* -1 malformed, 0 incomplete, 1: the whole text is the head */
  int status;
  http_body_framing framing;
  uint64_t content_length;
  int close;
} head_case;

static const head_case HEAD_CASES[] = {
    {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1234\r\n\r\n", 1, 200,
     HTTP_BODY_LENGTH, 1234, 0},
    {"HTTP/1.1 201 Created\r\ncontent-length:  0 \r\n\r\n", 1, 201, HTTP_BODY_LENGTH, 0, 0},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 9\r\n\r\n", 1, 200,
     HTTP_BODY_CHUNKED, 9, 0},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 1, 200, HTTP_BODY_UNTIL_CLOSE, 0, 1},
    {"HTTP/1.1 404 Not Found\r\nConnection: Keep-Alive, close\r\nContent-Length: 2\r\n\r\n", 1, 404,
     HTTP_BODY_LENGTH, 2, 1},
    {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", 1, 200, HTTP_BODY_LENGTH, 2, 1},
    {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", 1, 200,
     HTTP_BODY_LENGTH, 2, 0},
    {"HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n", 1, 200, HTTP_BODY_UNTIL_CLOSE, 0, 1},
    {"HTTP/1.1 204 No Content\r\n\r\n", 1, 204, HTTP_BODY_NONE, 0, 0},
    {"HTTP/1.1 100 Continue\r\n\r\n", 1, 100, HTTP_BODY_NONE, 0, 0},
    {"HTTP/1.1 200\r\nContent-Length: 3\r\n\r\n", 1, 200, HTTP_BODY_LENGTH, 3, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n", 0, 0, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r", 0, 0, 0, 0, 0},
    {"HTTP/2 200 OK\r\n\r\n", -1, 0, 0, 0, 0},
    {"HTTP/1.1 2x0 OK\r\n\r\n", -1, 0, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -1, 0, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -1, 0, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", -1, 0, 0, 0, 0},
};

typedef struct chunk_case {
  const char *text;
  int expect; /* 1 complete, 0 needs more, -1 malformed */
  const char *body;
  size_t tail; /* bytes after the body that must be left unconsumed */
} chunk_case;

static const chunk_case CHUNK_CASES[] = {
    {"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 1, "hello world", 0},
    {"A\r\n0123456789\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\nHTTP/1.1", 1, "0123456789", 8},
    {"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", 1, "abcdefghijklmnopqrstuvwxyz", 0},
    {"0\r\n\r\n", 1, "", 0},
    {"5\r\nhel", 0, "hel", 0},
    {"5\r\nhello\r\n0\r\n", 0, "hello", 0},
    {"5\r\nhelloX\r\n0\r\n\r\n", -1, NULL, 0},
    {"zz\r\n", -1, NULL, 0},
    {"1000000000000000\r\n", -1, NULL, 0},
};

static int check_head_case(const head_case *c);
static int check_chunk_case(const chunk_case *c, size_t piece);

int
scenario_selftest_run(const bench_options *options, k8c_err *err)
{
  (void)options;
  int checks = 0, failed = 0;
  for (size_t i = 0; i < sizeof(HEAD_CASES) / sizeof(HEAD_CASES[0]); i++, checks++)
    failed += check_head_case(&HEAD_CASES[i]);
  /* Every chunked case whole, and split into pieces of every size from 1 byte up. */
  for (size_t i = 0; i < sizeof(CHUNK_CASES) / sizeof(CHUNK_CASES[0]); i++) {
    size_t len = strlen(CHUNK_CASES[i].text);
    for (size_t piece = 1; piece <= len; piece++, checks++)
      failed += check_chunk_case(&CHUNK_CASES[i], piece);
  }
  cleanup_json json_t *line = json_object();
  json_object_set_new(line, "scenario", json_string("selftest"));
  json_object_set_new(line, "checks", json_integer(checks));
  json_object_set_new(line, "failed", json_integer(failed));
  if (report_print(line) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing the report failed");
  if (failed)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "%d of %d parser checks failed", failed,
                     checks);
  fprintf(stderr, "selftest: %d parser checks passed\n", checks);
  return 0;
}

/* Returns 1 (and says why on stderr) when the case fails. */
static int
check_head_case(const head_case *c)
{
  http_head head;
  size_t len = strlen(c->text);
  long got = http_head_parse(c->text, len, &head);
  long want = c->expect_len == 1 ? (long)len : c->expect_len;
  int ok = got == want;
  if (ok && want > 0)
    ok = head.status == c->status && head.framing == c->framing && head.close == c->close &&
         (c->framing != HTTP_BODY_LENGTH || head.content_length == c->content_length);
  if (!ok)
    fprintf(stderr,
            "selftest: head %.40s...: got len %ld status %d framing %d length %" PRIu64
            " close %d\n",
            c->text, got, head.status, (int)head.framing, head.content_length, head.close);
  return !ok;
}

static int
check_chunk_case(const chunk_case *c, size_t piece)
{
  size_t len = strlen(c->text);
  chunked_decoder decoder;
  chunked_decoder_init(&decoder);
  buf body;
  buf_init(&body);
  int result = 0;
  size_t pos = 0;
  while (pos < len && result == 0) {
    size_t n = len - pos < piece ? len - pos : piece;
    size_t consumed = 0;
    result = chunked_decoder_feed(&decoder, c->text + pos, n, &body, &consumed);
    if (result == 0 && consumed != n)
      result = -2; /* must take every byte while the body goes on */
    pos += consumed;
  }
  int ok = result == c->expect;
  if (ok && c->expect == 1)
    ok = len - pos == c->tail && body.len == strlen(c->body) &&
         memcmp(buf_cstr(&body), c->body, body.len) == 0;
  if (ok && c->expect == 0)
    ok = body.len == strlen(c->body) && memcmp(buf_cstr(&body), c->body, body.len) == 0;
  if (!ok)
    fprintf(stderr, "selftest: chunked %.30s... in %zu-byte pieces: result %d, body \"%s\"\n",
            c->text, piece, result, buf_cstr(&body));
  buf_free(&body);
  return !ok;
}
