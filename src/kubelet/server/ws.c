/* ws.c — WebSocket frames (RFC 6455): a header of 2–14 bytes (FIN, opcode, mask bit,
 * 7/16/64-bit length, optional 4-byte mask) before the payload. Decoding never reads
 * past what it was given and reports "need more" with 0, so a socket loop can call it
 * with partial input. */
#include "kubelet/server/ws.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MAX_CONTROL_PAYLOAD 125

void
ws_accept_key(const char *client_key, char out[WS_ACCEPT_KEY_LEN + 1])
{
  struct sha1_ctx ctx;
  uint8_t digest[SHA1_DIGEST_SIZE];
  sha1_init(&ctx);
  sha1_update(&ctx, strlen(client_key), (const uint8_t *)client_key);
  sha1_update(&ctx, strlen(WS_GUID), (const uint8_t *)WS_GUID);
  sha1_digest(&ctx, sizeof digest, digest);
  base64_encode_raw((char *)out, sizeof digest, digest);
  out[WS_ACCEPT_KEY_LEN] = 0;
}

void
ws_frame_encode(buf *out, enum ws_opcode op, const void *payload, size_t len, const uint8_t *mask)
{
  uint8_t head[14];
  size_t n = 0;
  head[n++] = (uint8_t)(0x80 | (op & 0x0F));
  uint8_t mask_bit = mask ? 0x80 : 0;
  if (len < 126) {
    head[n++] = (uint8_t)(mask_bit | len);
  } else if (len <= 0xFFFF) {
    head[n++] = mask_bit | 126;
    head[n++] = (uint8_t)(len >> 8);
    head[n++] = (uint8_t)len;
  } else {
    head[n++] = mask_bit | 127;
    for (int shift = 56; shift >= 0; shift -= 8)
      head[n++] = (uint8_t)((uint64_t)len >> shift);
  }
  if (mask) {
    memcpy(head + n, mask, 4);
    n += 4;
  }
  buf_append(out, head, n);
  if (len == 0)
    return;
  if (!mask) {
    buf_append(out, payload, len);
    return;
  }
  size_t start = out->len;
  buf_append(out, payload, len);
  uint8_t *p = (uint8_t *)out->data + start;
  for (size_t i = 0; i < len; i++)
    p[i] ^= mask[i & 3];
}

ssize_t
ws_frame_decode(uint8_t *data, size_t len, size_t max_payload, struct ws_frame *f, k8c_err *err)
{
  if (len < 2)
    return 0;
  uint8_t b0 = data[0], b1 = data[1];
  if (b0 & 0x70)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "websocket: reserved bits set");
  int op = b0 & 0x0F;
  bool control = op & 0x08;
  if ((op > WS_OP_BINARY && !control) || op > WS_OP_PONG)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "websocket: unknown opcode %d", op);
  size_t off = 2;
  uint64_t plen = b1 & 0x7F;
  if (plen == 126) {
    if (len < 4)
      return 0;
    plen = ((uint64_t)data[2] << 8) | data[3];
    off = 4;
  } else if (plen == 127) {
    if (len < 10)
      return 0;
    plen = 0;
    for (int i = 0; i < 8; i++)
      plen = (plen << 8) | data[2 + i];
    off = 10;
  }
  if (control && (plen > WS_MAX_CONTROL_PAYLOAD || !(b0 & 0x80)))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "websocket: invalid control frame");
  if (plen > max_payload)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "websocket: frame of %llu bytes exceeds the limit of %zu",
                     (unsigned long long)plen, max_payload);
  bool masked = b1 & 0x80;
  uint8_t mask[4] = {0};
  if (masked) {
    if (len < off + 4)
      return 0;
    memcpy(mask, data + off, 4);
    off += 4;
  }
  if (len - off < plen)
    return 0;
  uint8_t *payload = data + off;
  if (masked)
    for (size_t i = 0; i < plen; i++)
      payload[i] ^= mask[i & 3];
  f->fin = b0 & 0x80;
  f->opcode = (enum ws_opcode)op;
  f->masked = masked;
  f->payload = payload;
  f->len = (size_t)plen;
  return (ssize_t)(off + plen);
}

void
ws_reader_init(struct ws_reader *r, size_t max_message)
{
  memset(r, 0, sizeof *r);
  buf_init(&r->message);
  r->max_message = max_message;
}

void
ws_reader_free(struct ws_reader *r)
{
  buf_free(&r->message);
}

ssize_t
ws_reader_feed(struct ws_reader *r, uint8_t *in, size_t len, struct ws_message *m, bool *have,
               k8c_err *err)
{
  *have = false;
  size_t used = 0;
  while (used < len && !*have) {
    struct ws_frame f = {0};
    ssize_t n = ws_frame_decode(in + used, len - used, r->max_message, &f, err);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    used += (size_t)n;
    if (f.opcode & 0x08) {
      m->opcode = f.opcode;
      m->payload = f.payload;
      m->len = f.len;
      *have = true;
      break;
    }
    if (f.opcode == WS_OP_CONTINUATION) {
      if (!r->in_message)
        return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "websocket: unexpected continuation");
    } else {
      if (r->in_message)
        return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                         "websocket: new message inside a fragmented one");
      buf_reset(&r->message);
      r->message_op = f.opcode;
      r->in_message = true;
    }
    if (r->message.len + f.len > r->max_message)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "websocket: message too large");
    buf_append(&r->message, f.payload, f.len);
    if (f.fin) {
      r->in_message = false;
      m->opcode = r->message_op;
      m->payload = (const uint8_t *)r->message.data;
      m->len = r->message.len;
      *have = true;
    }
  }
  return (ssize_t)used;
}
