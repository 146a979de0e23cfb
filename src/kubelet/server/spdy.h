/* spdy.h — SPDY/3.1 framing as Kubernetes' streaming protocols use it (exec, attach,
 * port-forward; moby/spdystream on the client side): frame envelopes, the fixed fields
 * of each control frame, and header blocks compressed with one zlib stream per
 * direction primed with the SPDY/3 dictionary. No I/O and no stream bookkeeping here:
 * the sessions in remotecommand.c and portforward.c own that. */
#ifndef K8C_KUBELET_SERVER_SPDY_H
#define K8C_KUBELET_SERVER_SPDY_H

#include "lib/buf.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#define SPDY3_DICTIONARY_LEN 1423
extern const unsigned char spdy3_dictionary[SPDY3_DICTIONARY_LEN];

#define SPDY_VERSION 3
#define SPDY_FLAG_FIN 0x01
#define SPDY_FLAG_UNIDIRECTIONAL 0x02
#define SPDY_MAX_FRAME (16u * 1024u * 1024u - 1u) /* the 24-bit length field */

enum spdy_type {
  SPDY_DATA = 0, /* not a control type: marks a data frame in spdy_frame.type */
  SPDY_SYN_STREAM = 1,
  SPDY_SYN_REPLY = 2,
  SPDY_RST_STREAM = 3,
  SPDY_SETTINGS = 4,
  SPDY_PING = 6,
  SPDY_GOAWAY = 7,
  SPDY_HEADERS = 8,
  SPDY_WINDOW_UPDATE = 9,
};

/* RST_STREAM status codes used here. */
#define SPDY_RST_PROTOCOL_ERROR 1
#define SPDY_RST_CANCEL 5

/* One decoded frame; pointers go into the caller's input. */
struct spdy_frame {
  enum spdy_type type;
  uint8_t flags;
  uint32_t stream_id;     /* data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE */
  uint32_t value;         /* RST/GOAWAY status, PING id, WINDOW_UPDATE delta, GOAWAY last id */
  const uint8_t *payload; /* data payload, or the compressed header block */
  size_t len;
};

/* Decodes the frame at the start of data[0..len). Returns its size (> 0), 0 when more
 * bytes are needed, or -1 with a 400 error (wrong version, truncated fixed fields,
 * frame over max_frame). Unknown control types decode with their raw payload. */
ssize_t spdy_frame_decode(const uint8_t *data, size_t len, size_t max_frame, struct spdy_frame *f,
                          k8c_err *err);

/* The two zlib streams of one connection (inflate what the peer sends, deflate what we
 * send). Owned by the connection; spdy_codec_free releases them. */
struct spdy_codec {
  z_stream in;
  z_stream out;
};

int spdy_codec_init(struct spdy_codec *c, k8c_err *err);
void spdy_codec_free(struct spdy_codec *c);

/* Decompresses and parses a header block into a new object of lowercase name → first
 * value (caller-owned). -1 with a 400 error on corrupt or oversized blocks. */
json_t *spdy_headers_decode(struct spdy_codec *c, const uint8_t *block, size_t len, k8c_err *err);

/* Control frames carrying headers; pairs is NULL-terminated name, value, name, value ... */
void spdy_syn_stream_encode(struct spdy_codec *c, buf *out, uint32_t stream_id, uint8_t flags,
                            const char *const *pairs);
void spdy_syn_reply_encode(struct spdy_codec *c, buf *out, uint32_t stream_id, uint8_t flags,
                           const char *const *pairs);
/* Frames without headers. */
void spdy_data_encode(buf *out, uint32_t stream_id, uint8_t flags, const void *data, size_t len);
void spdy_rst_stream_encode(buf *out, uint32_t stream_id, uint32_t status);
void spdy_ping_encode(buf *out, uint32_t id);
void spdy_goaway_encode(buf *out, uint32_t last_stream_id, uint32_t status);

#endif
