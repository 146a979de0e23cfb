/* ws.h — RFC 6455 WebSocket framing: the handshake's accept key, encoding frames and an
 * incremental decoder that works on whatever bytes have arrived so far. The caller owns
 * every buffer; nothing here does I/O, so the same code serves the kubelet's streaming
 * server, its tests and its fuzz target. */
#ifndef K8C_KUBELET_SERVER_WS_H
#define K8C_KUBELET_SERVER_WS_H

#include "lib/buf.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum ws_opcode {
  WS_OP_CONTINUATION = 0x0,
  WS_OP_TEXT = 0x1,
  WS_OP_BINARY = 0x2,
  WS_OP_CLOSE = 0x8,
  WS_OP_PING = 0x9,
  WS_OP_PONG = 0xA,
};

#define WS_ACCEPT_KEY_LEN 28

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
 * out receives WS_ACCEPT_KEY_LEN characters and a NUL. */
void ws_accept_key(const char *client_key, char out[WS_ACCEPT_KEY_LEN + 1]);

/* Appends one final frame to out. mask is NULL for server frames, 4 bytes for client
 * frames (the payload is masked as it is copied). */
void ws_frame_encode(buf *out, enum ws_opcode op, const void *payload, size_t len,
                     const uint8_t *mask);

/* One decoded frame; payload points into the caller's input (unmasked in place). */
struct ws_frame {
  bool fin;
  enum ws_opcode opcode;
  bool masked;
  uint8_t *payload;
  size_t len;
};

/* Decodes the frame at the start of data[0..len). Returns the bytes it occupies (> 0),
 * 0 when more bytes are needed, or -1 with a 400 error for a protocol violation (reserved
 * bits or opcodes, oversized or fragmented control frames, payload over max_payload). */
ssize_t ws_frame_decode(uint8_t *data, size_t len, size_t max_payload, struct ws_frame *f,
                        k8c_err *err);

/* Reassembles fragmented messages; control frames pass through between fragments. */
struct ws_reader {
  buf message; /* the data message being assembled */
  enum ws_opcode message_op;
  bool in_message;
  size_t max_message;
};

/* A complete message (data or control) taken from the reader; payload is owned by the
 * reader (data messages) or the input (control frames) and valid until the next call. */
struct ws_message {
  enum ws_opcode opcode;
  const uint8_t *payload;
  size_t len;
};

void ws_reader_init(struct ws_reader *r, size_t max_message);
void ws_reader_free(struct ws_reader *r);
/* Consumes frames from in[0..len): returns the bytes consumed and, when a whole message
 * (or a control frame) is ready, sets *have = true and fills *m. Call again with the
 * remaining bytes until it consumes nothing. -1 with err on protocol errors. */
ssize_t ws_reader_feed(struct ws_reader *r, uint8_t *in, size_t len, struct ws_message *m,
                       bool *have, k8c_err *err);

#endif
