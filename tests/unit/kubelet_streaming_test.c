/* kubelet_streaming_test.c — the streaming server's codecs: WebSocket frames and message
 * reassembly, SPDY/3.1 frames and compressed header blocks, CRI log records, tail and
 * the incremental log reader (since, timestamps, limit, lines completed later). */
#include "kubelet/server/crilog.h"
#include "kubelet/server/spdy.h"
#include "kubelet/server/ws.h"
#include "lib/mem.h"
#include "testlib.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* ---------- WebSocket ---------- */

TEST(ws_accept_key_matches_rfc6455_example)
{
  char out[WS_ACCEPT_KEY_LEN + 1];
  ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
  CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ws_masked_frame_round_trip_and_partial_input)
{
  static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
  buf b;
  buf_init(&b);
  char payload[300];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (char)i;
  ws_frame_encode(&b, WS_OP_BINARY, payload, sizeof payload, mask); /* 16-bit length form */
  CHECK_INT(b.len, 2 + 2 + 4 + 300);
  struct ws_frame f;
  k8c_err err = {0};
  for (size_t cut = 0; cut < b.len; cut += 37) /* every prefix: "need more" */
    CHECK_INT(ws_frame_decode((uint8_t *)b.data, cut, 1 << 20, &f, &err), 0);
  CHECK_INT(ws_frame_decode((uint8_t *)b.data, b.len, 1 << 20, &f, &err), (long long)b.len);
  CHECK(f.fin && f.masked && f.opcode == WS_OP_BINARY);
  CHECK_INT(f.len, 300);
  CHECK(memcmp(f.payload, payload, 300) == 0);
  buf_free(&b);
}

TEST(ws_large_frame_uses_64bit_length)
{
  size_t n = 70000;
  char *big = xcalloc(1, n);
  buf b;
  buf_init(&b);
  ws_frame_encode(&b, WS_OP_BINARY, big, n, NULL);
  CHECK_INT(b.len, 10 + n);
  struct ws_frame f;
  k8c_err err = {0};
  CHECK_INT(ws_frame_decode((uint8_t *)b.data, b.len, 1 << 20, &f, &err), (long long)b.len);
  CHECK_INT(f.len, n);
  CHECK_INT(ws_frame_decode((uint8_t *)b.data, b.len, 1000, &f, &err), -1);
  CHECK_INT(err.status, 400);
  buf_free(&b);
  free(big);
}

TEST(ws_rejects_bad_frames)
{
  k8c_err err = {0};
  struct ws_frame f;
  uint8_t rsv[] = {0xC2, 0x00};
  CHECK_INT(ws_frame_decode(rsv, sizeof rsv, 100, &f, &err), -1);
  uint8_t op[] = {0x83, 0x00};
  CHECK_INT(ws_frame_decode(op, sizeof op, 100, &f, &err), -1);
  uint8_t fragmented_ping[] = {0x09, 0x00};
  CHECK_INT(ws_frame_decode(fragmented_ping, sizeof fragmented_ping, 100, &f, &err), -1);
  uint8_t long_close[] = {0x88, 126, 0x00, 0x80};
  CHECK_INT(ws_frame_decode(long_close, sizeof long_close, 1000, &f, &err), -1);
}

TEST(ws_reader_reassembles_fragments_around_a_ping)
{
  static const uint8_t mask[4] = {1, 2, 3, 4};
  buf b;
  buf_init(&b);
  /* "\x01hel" (not final) + ping + "lo" (continuation, final) */
  buf_append(&b, "\x82\x84", 2);
  buf_append(&b, mask, 4);
  const char first[] = "\x01hel";
  for (int i = 0; i < 4; i++) {
    char c = (char)(first[i] ^ mask[i]);
    buf_append(&b, &c, 1);
  }
  b.data[0] = 0x02; /* clear FIN */
  ws_frame_encode(&b, WS_OP_PING, "p", 1, mask);
  size_t cont = b.len;
  ws_frame_encode(&b, WS_OP_BINARY, "lo", 2, mask);
  b.data[cont] = (char)0x80; /* FIN + continuation */
  struct ws_reader r;
  ws_reader_init(&r, 1024);
  k8c_err err = {0};
  struct ws_message m;
  bool have = false;
  size_t used = 0;
  ssize_t n = ws_reader_feed(&r, (uint8_t *)b.data, b.len, &m, &have, &err);
  CHECK(n > 0 && have);
  CHECK(m.opcode == WS_OP_PING && m.len == 1 && m.payload[0] == 'p');
  used += (size_t)n;
  n = ws_reader_feed(&r, (uint8_t *)b.data + used, b.len - used, &m, &have, &err);
  CHECK(have);
  CHECK_INT(used + (size_t)n, b.len);
  CHECK(m.opcode == WS_OP_BINARY && m.len == 6 && memcmp(m.payload, "\x01hello", 6) == 0);
  ws_reader_free(&r);
  buf_free(&b);
}

/* ---------- SPDY ---------- */

TEST(spdy_dictionary_is_the_protocol_one)
{
  CHECK_INT(adler32(1, spdy3_dictionary, SPDY3_DICTIONARY_LEN), 0xe3c6a7c2);
}

TEST(spdy_syn_stream_headers_round_trip_across_blocks)
{
  struct spdy_codec client, server;
  k8c_err err = {0};
  CHECK_INT(spdy_codec_init(&client, &err), 0);
  CHECK_INT(spdy_codec_init(&server, &err), 0);
  buf wire;
  buf_init(&wire);
  const char *const h1[] = {"streamtype", "error", "port", "8080", "requestid", "0", NULL};
  const char *const h2[] = {"streamtype", "data", "port", "8080", "requestid", "0", NULL};
  spdy_syn_stream_encode(&client, &wire, 1, 0, h1);
  spdy_syn_stream_encode(&client, &wire, 3, SPDY_FLAG_FIN, h2); /* shares the zlib stream */
  spdy_data_encode(&wire, 3, SPDY_FLAG_FIN, "abc", 3);
  spdy_ping_encode(&wire, 7);
  size_t off = 0;
  struct spdy_frame f;
  ssize_t n = spdy_frame_decode((uint8_t *)wire.data, wire.len, SPDY_MAX_FRAME, &f, &err);
  CHECK(n > 0 && f.type == SPDY_SYN_STREAM && f.stream_id == 1);
  json_t *h = spdy_headers_decode(&server, f.payload, f.len, &err);
  CHECK_JSON(h, "{\"streamtype\":\"error\",\"port\":\"8080\",\"requestid\":\"0\"}");
  json_decref(h);
  off += (size_t)n;
  n = spdy_frame_decode((uint8_t *)wire.data + off, wire.len - off, SPDY_MAX_FRAME, &f, &err);
  CHECK(n > 0 && f.type == SPDY_SYN_STREAM && f.stream_id == 3 && (f.flags & SPDY_FLAG_FIN));
  h = spdy_headers_decode(&server, f.payload, f.len, &err);
  CHECK_STR(json_string_value(json_object_get(h, "streamtype")), "data");
  json_decref(h);
  off += (size_t)n;
  n = spdy_frame_decode((uint8_t *)wire.data + off, wire.len - off, SPDY_MAX_FRAME, &f, &err);
  CHECK(n > 0 && f.type == SPDY_DATA && f.stream_id == 3 && f.len == 3);
  CHECK(memcmp(f.payload, "abc", 3) == 0 && (f.flags & SPDY_FLAG_FIN));
  off += (size_t)n;
  n = spdy_frame_decode((uint8_t *)wire.data + off, wire.len - off, SPDY_MAX_FRAME, &f, &err);
  CHECK(n == 12 && f.type == SPDY_PING && f.value == 7);
  off += (size_t)n;
  CHECK_INT(off, wire.len);
  /* a reply travels the other way through the other pair of streams */
  buf_reset(&wire);
  spdy_syn_reply_encode(&server, &wire, 3, 0, NULL);
  n = spdy_frame_decode((uint8_t *)wire.data, wire.len, SPDY_MAX_FRAME, &f, &err);
  CHECK(n > 0 && f.type == SPDY_SYN_REPLY && f.stream_id == 3);
  h = spdy_headers_decode(&client, f.payload, f.len, &err);
  CHECK_JSON(h, "{}");
  json_decref(h);
  buf_free(&wire);
  spdy_codec_free(&client);
  spdy_codec_free(&server);
}

TEST(spdy_rejects_bad_frames)
{
  k8c_err err = {0};
  struct spdy_frame f;
  uint8_t v2[] = {0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1};
  CHECK_INT(spdy_frame_decode(v2, sizeof v2, SPDY_MAX_FRAME, &f, &err), -1);
  uint8_t short_rst[] = {0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0, 1};
  CHECK_INT(spdy_frame_decode(short_rst, sizeof short_rst, SPDY_MAX_FRAME, &f, &err), -1);
  CHECK_INT(spdy_frame_decode(short_rst, 7, SPDY_MAX_FRAME, &f, &err), 0);
  struct spdy_codec c;
  CHECK_INT(spdy_codec_init(&c, &err), 0);
  uint8_t garbage[] = {1, 2, 3, 4, 5, 6};
  CHECK(spdy_headers_decode(&c, garbage, sizeof garbage, &err) == NULL);
  spdy_codec_free(&c);
}

/* ---------- CRI logs ---------- */

TEST(cri_record_parse_fields)
{
  struct cri_record r;
  const char *line = "2024-01-02T03:04:05.123456789Z stderr P part one";
  CHECK_INT(cri_record_parse(line, strlen(line), &r), 0);
  CHECK(r.is_stderr && r.partial);
  CHECK_INT(r.text_len, 8);
  CHECK(memcmp(r.text, "part one", 8) == 0);
  CHECK_INT(r.time_ns, 1704164645123456789LL);
  const char *empty = "2024-01-02T03:04:05Z stdout F";
  CHECK_INT(cri_record_parse(empty, strlen(empty), &r), 0);
  CHECK_INT(r.text_len, 0);
  const char *bad[] = {"hello world", "2024-01-02T03:04:05Z stdin F x",
                       "2024-13-02T03:04:05Z stdout F x", "2024-01-02T03:04:05Z stdout X x"};
  for (size_t i = 0; i < 4; i++)
    CHECK_INT(cri_record_parse(bad[i], strlen(bad[i]), &r), -1);
  int64_t a, b;
  CHECK_INT(cri_parse_time("2024-01-02T05:04:05+02:00", 25, &a), 0);
  CHECK_INT(cri_parse_time("2024-01-02T03:04:05Z", 20, &b), 0);
  CHECK_INT(a, b);
}

static char *
write_log(const char *text)
{
  char *path = xstrdup("/tmp/k8c-crilog-XXXXXX");
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK_INT(write(fd, text, strlen(text)), (long long)strlen(text));
  close(fd);
  return path;
}

static char *
read_all(const char *path, const struct crilog_options *o)
{
  k8c_err err = {0};
  struct crilog_reader *r = crilog_open(path, o, &err);
  CHECK(r != NULL);
  buf out;
  buf_init(&out);
  while (r && crilog_read(r, &out, 7, &err) > 0) /* small pieces: exercises resumption */
    ;
  crilog_close(r);
  return buf_steal(&out, NULL) ?: xstrdup("");
}

#define LOG3                                                                                       \
  "2024-01-01T00:00:01Z stdout F one\n"                                                            \
  "2024-01-01T00:00:02Z stderr P tw\n"                                                             \
  "2024-01-01T00:00:03Z stderr F o\n"                                                              \
  "not a record\n"                                                                                 \
  "2024-01-01T00:00:04Z stdout F three\n"

TEST(crilog_reader_options)
{
  cleanup_free char *path = write_log(LOG3);
  struct crilog_options o = {.tail_lines = -1, .limit_bytes = -1};
  cleanup_free char *all = read_all(path, &o);
  CHECK_STR(all, "one\ntwo\nthree\n");
  o.tail_lines = 2;
  cleanup_free char *tail = read_all(path, &o);
  CHECK_STR(tail, "three\n"); /* the last two file lines: the junk one and "three" */
  o.tail_lines = 0;
  cleanup_free char *none = read_all(path, &o);
  CHECK_STR(none, "");
  o.tail_lines = -1;
  o.timestamps = true;
  CHECK_INT(cri_parse_time("2024-01-01T00:00:03Z", 20, &o.since_ns), 0);
  cleanup_free char *since = read_all(path, &o);
  CHECK_STR(since, "2024-01-01T00:00:03Z o\n2024-01-01T00:00:04Z three\n");
  o.timestamps = false;
  o.since_ns = 0;
  o.limit_bytes = 6;
  cleanup_free char *limited = read_all(path, &o);
  CHECK_STR(limited, "one\ntw");
  unlink(path);
}

TEST(crilog_reader_waits_for_unfinished_lines)
{
  cleanup_free char *path = write_log("2024-01-01T00:00:01Z stdout F a\n2024-01-01T00:00:02Z std");
  struct crilog_options o = {.tail_lines = -1, .limit_bytes = -1};
  k8c_err err = {0};
  struct crilog_reader *r = crilog_open(path, &o, &err);
  buf out;
  buf_init(&out);
  CHECK_INT(crilog_read(r, &out, 1024, &err), 2);
  CHECK_INT(crilog_read(r, &out, 1024, &err), 0);
  int fd = open(path, O_WRONLY | O_APPEND);
  CHECK_INT(write(fd, "out F b\n", 8), 8);
  close(fd);
  CHECK_INT(crilog_read(r, &out, 1024, &err), 2);
  CHECK_STR(buf_cstr(&out), "a\nb\n");
  crilog_close(r);
  buf_free(&out);
  unlink(path);
}

TEST(crilog_tail_offset_counts_lines_from_the_end)
{
  cleanup_free char *path = write_log("a\nb\nc\n");
  int fd = open(path, O_RDONLY);
  off_t off = -1;
  k8c_err err = {0};
  CHECK_INT(crilog_tail_offset(fd, 1, &off, &err), 0);
  CHECK_INT(off, 4);
  CHECK_INT(crilog_tail_offset(fd, 3, &off, &err), 0);
  CHECK_INT(off, 0);
  CHECK_INT(crilog_tail_offset(fd, 10, &off, &err), 0);
  CHECK_INT(off, 0);
  close(fd);
  unlink(path);
}

TEST_MAIN()
