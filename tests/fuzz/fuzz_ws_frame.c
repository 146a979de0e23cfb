/* fuzz_ws_frame.c — the WebSocket decoder and message reassembler on arbitrary bytes:
 * never reads past the input, never loops without progress, and a decoded frame
 * re-encodes (unmasked) to a frame that decodes to the same payload. */
#include "kubelet/server/ws.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint8_t *copy = xmalloc(size + 1);
  memcpy(copy, data, size);
  k8c_err err = {0};
  struct ws_frame f;
  ssize_t n = ws_frame_decode(copy, size, 1 << 16, &f, &err);
  if (n > (ssize_t)size)
    abort();
  if (n > 0) {
    buf b;
    buf_init(&b);
    ws_frame_encode(&b, f.opcode, f.payload, f.len, NULL);
    struct ws_frame g;
    if (ws_frame_decode((uint8_t *)b.data, b.len, 1 << 16, &g, &err) != (ssize_t)b.len ||
        g.len != f.len || g.opcode != f.opcode || (f.len && memcmp(g.payload, f.payload, f.len)))
      abort();
    buf_free(&b);
  }
  memcpy(copy, data, size);
  struct ws_reader r;
  ws_reader_init(&r, 1 << 16);
  size_t used = 0;
  while (used < size) {
    struct ws_message m;
    bool have = false;
    ssize_t k = ws_reader_feed(&r, copy + used, size - used, &m, &have, &err);
    if (k < 0 || (k == 0 && !have))
      break;
    used += (size_t)k;
    if (used > size)
      abort();
  }
  ws_reader_free(&r);
  free(copy);
  return 0;
}
