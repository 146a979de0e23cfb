/* spdy.c — SPDY/3.1 frames: an 8-byte envelope (control bit, version and type, or the
 * stream id of a data frame; flags; 24-bit length) then the body. Header blocks are
 * counted name/value pairs with 32-bit lengths, deflated by a per-direction zlib stream
 * that lives as long as the connection (so each block is a sync-flushed continuation). */
#include "kubelet/server/spdy.h"

#include "lib/mem.h"

#include <ctype.h>
#include <string.h>

#define SPDY_MAX_HEADER_BLOCK (256u * 1024u)

static uint32_t
get32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
put32(buf *out, uint32_t v)
{
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  buf_append(out, b, 4);
}

static void
put_envelope(buf *out, bool control, uint32_t first_word, uint8_t flags, size_t len)
{
  put32(out, control ? (0x80000000u | ((uint32_t)SPDY_VERSION << 16) | first_word)
                     : (first_word & 0x7FFFFFFFu));
  put32(out, ((uint32_t)flags << 24) | ((uint32_t)len & 0xFFFFFFu));
}

ssize_t
spdy_frame_decode(const uint8_t *data, size_t len, size_t max_frame, struct spdy_frame *f,
                  k8c_err *err)
{
  if (len < 8)
    return 0;
  uint32_t w0 = get32(data), w1 = get32(data + 4);
  size_t flen = w1 & 0xFFFFFFu;
  if (flen > max_frame)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: frame of %zu bytes is too large",
                     flen);
  if (len - 8 < flen)
    return 0;
  memset(f, 0, sizeof *f);
  f->flags = (uint8_t)(w1 >> 24);
  const uint8_t *body = data + 8;
  if (!(w0 & 0x80000000u)) {
    f->type = SPDY_DATA;
    f->stream_id = w0 & 0x7FFFFFFFu;
    f->payload = body;
    f->len = flen;
    return (ssize_t)(8 + flen);
  }
  if (((w0 >> 16) & 0x7FFF) != SPDY_VERSION)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: unsupported version %u",
                     (w0 >> 16) & 0x7FFF);
  f->type = (enum spdy_type)(w0 & 0xFFFF);
  size_t fixed = 0;
  switch (f->type) {
  case SPDY_SYN_STREAM:
    fixed = 10; /* stream id, associated stream id, priority and slot */
    break;
  case SPDY_SYN_REPLY:
  case SPDY_HEADERS:
    fixed = 4;
    break;
  case SPDY_RST_STREAM:
  case SPDY_WINDOW_UPDATE:
  case SPDY_GOAWAY:
    fixed = 8;
    break;
  case SPDY_PING:
    fixed = 4;
    break;
  default:
    fixed = 0;
  }
  if (flen < fixed)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: control frame type %u too short",
                     (unsigned)f->type);
  switch (f->type) {
  case SPDY_SYN_STREAM:
  case SPDY_SYN_REPLY:
  case SPDY_HEADERS:
    f->stream_id = get32(body) & 0x7FFFFFFFu;
    break;
  case SPDY_RST_STREAM:
  case SPDY_WINDOW_UPDATE:
    f->stream_id = get32(body) & 0x7FFFFFFFu;
    f->value = get32(body + 4) & 0x7FFFFFFFu;
    break;
  case SPDY_GOAWAY:
    f->stream_id = get32(body) & 0x7FFFFFFFu;
    f->value = get32(body + 4);
    break;
  case SPDY_PING:
    f->value = get32(body);
    break;
  default:
    break;
  }
  f->payload = body + fixed;
  f->len = flen - fixed;
  return (ssize_t)(8 + flen);
}

int
spdy_codec_init(struct spdy_codec *c, k8c_err *err)
{
  memset(c, 0, sizeof *c);
  if (inflateInit(&c->in) != Z_OK)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "spdy: zlib inflate init failed");
  if (deflateInit(&c->out, Z_DEFAULT_COMPRESSION) != Z_OK ||
      deflateSetDictionary(&c->out, spdy3_dictionary, SPDY3_DICTIONARY_LEN) != Z_OK) {
    inflateEnd(&c->in);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "spdy: zlib deflate init failed");
  }
  return 0;
}

void
spdy_codec_free(struct spdy_codec *c)
{
  inflateEnd(&c->in);
  deflateEnd(&c->out);
}

static int
inflate_block(struct spdy_codec *c, const uint8_t *block, size_t len, buf *out, k8c_err *err)
{
  c->in.next_in = (Bytef *)block;
  c->in.avail_in = (uInt)len;
  uint8_t chunk[4096];
  while (c->in.avail_in > 0) {
    c->in.next_out = chunk;
    c->in.avail_out = sizeof chunk;
    int rc = inflate(&c->in, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT)
      rc = inflateSetDictionary(&c->in, spdy3_dictionary, SPDY3_DICTIONARY_LEN);
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: corrupt header block");
    buf_append(out, chunk, sizeof chunk - c->in.avail_out);
    if (out->len > SPDY_MAX_HEADER_BLOCK)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: header block too large");
    if (rc == Z_BUF_ERROR && c->in.avail_out != 0)
      break; /* no progress possible */
  }
  /* Output still pending inside zlib after the input ran out. */
  for (;;) {
    c->in.next_out = chunk;
    c->in.avail_out = sizeof chunk;
    int rc = inflate(&c->in, Z_SYNC_FLUSH);
    size_t got = sizeof chunk - c->in.avail_out;
    buf_append(out, chunk, got);
    if (out->len > SPDY_MAX_HEADER_BLOCK)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: header block too large");
    if (got == 0 || (rc != Z_OK && rc != Z_BUF_ERROR))
      break;
  }
  return 0;
}

json_t *
spdy_headers_decode(struct spdy_codec *c, const uint8_t *block, size_t len, k8c_err *err)
{
  buf plain;
  buf_init(&plain);
  if (inflate_block(c, block, len, &plain, err) < 0) {
    buf_free(&plain);
    return NULL;
  }
  const uint8_t *p = (const uint8_t *)plain.data;
  size_t left = plain.len;
  json_t *headers = json_object();
  if (left < 4)
    goto bad;
  uint32_t count = get32(p);
  p += 4;
  left -= 4;
  for (uint32_t i = 0; i < count; i++) {
    if (left < 4)
      goto bad;
    uint32_t nlen = get32(p);
    if (nlen == 0 || left - 4 < nlen)
      goto bad;
    char *name = xstrndup((const char *)p + 4, nlen);
    p += 4 + nlen;
    left -= 4 + nlen;
    if (left < 4 || left - 4 < get32(p)) {
      free(name);
      goto bad;
    }
    uint32_t vlen = get32(p);
    size_t first = strnlen((const char *)p + 4, vlen); /* multiple values are NUL-separated */
    for (char *q = name; *q; q++)
      *q = (char)tolower((unsigned char)*q);
    if (strlen(name) == nlen && json_object_get(headers, name) == NULL)
      json_object_set_new_nocheck(headers, name, json_stringn_nocheck((const char *)p + 4, first));
    free(name);
    p += 4 + vlen;
    left -= 4 + vlen;
  }
  buf_free(&plain);
  return headers;
bad:
  buf_free(&plain);
  json_decref(headers);
  k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "spdy: malformed header block");
  return NULL;
}

static void
deflate_pairs(struct spdy_codec *c, buf *out, const char *const *pairs)
{
  buf plain;
  buf_init(&plain);
  uint32_t count = 0;
  for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
    count++;
  put32(&plain, count);
  for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
    put32(&plain, (uint32_t)strlen(pairs[i]));
    buf_puts(&plain, pairs[i]);
    put32(&plain, (uint32_t)strlen(pairs[i + 1]));
    buf_puts(&plain, pairs[i + 1]);
  }
  c->out.next_in = (Bytef *)plain.data;
  c->out.avail_in = (uInt)plain.len;
  uint8_t chunk[4096];
  do {
    c->out.next_out = chunk;
    c->out.avail_out = sizeof chunk;
    int rc = deflate(&c->out, Z_SYNC_FLUSH);
    (void)rc; /* Z_OK or Z_BUF_ERROR (nothing left); deflate cannot fail on valid state */
    buf_append(out, chunk, sizeof chunk - c->out.avail_out);
  } while (c->out.avail_out == 0);
  buf_free(&plain);
}

static void
headers_frame(struct spdy_codec *c, buf *out, enum spdy_type type, uint32_t stream_id,
              uint8_t flags, const char *const *pairs)
{
  buf body;
  buf_init(&body);
  put32(&body, stream_id & 0x7FFFFFFFu);
  if (type == SPDY_SYN_STREAM) {
    put32(&body, 0);              /* no associated stream */
    buf_append(&body, "\0\0", 2); /* priority 0, slot 0 */
  }
  deflate_pairs(c, &body, pairs);
  put_envelope(out, true, type, flags, body.len);
  buf_append(out, body.data, body.len);
  buf_free(&body);
}

void
spdy_syn_stream_encode(struct spdy_codec *c, buf *out, uint32_t stream_id, uint8_t flags,
                       const char *const *pairs)
{
  headers_frame(c, out, SPDY_SYN_STREAM, stream_id, flags, pairs);
}

void
spdy_syn_reply_encode(struct spdy_codec *c, buf *out, uint32_t stream_id, uint8_t flags,
                      const char *const *pairs)
{
  headers_frame(c, out, SPDY_SYN_REPLY, stream_id, flags, pairs);
}

void
spdy_data_encode(buf *out, uint32_t stream_id, uint8_t flags, const void *data, size_t len)
{
  put_envelope(out, false, stream_id, flags, len);
  if (len)
    buf_append(out, data, len);
}

void
spdy_rst_stream_encode(buf *out, uint32_t stream_id, uint32_t status)
{
  put_envelope(out, true, SPDY_RST_STREAM, 0, 8);
  put32(out, stream_id & 0x7FFFFFFFu);
  put32(out, status);
}

void
spdy_ping_encode(buf *out, uint32_t id)
{
  put_envelope(out, true, SPDY_PING, 0, 4);
  put32(out, id);
}

void
spdy_goaway_encode(buf *out, uint32_t last_stream_id, uint32_t status)
{
  put_envelope(out, true, SPDY_GOAWAY, 0, 8);
  put32(out, last_stream_id & 0x7FFFFFFFu);
  put32(out, status);
}
