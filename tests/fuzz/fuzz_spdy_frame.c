/* fuzz_spdy_frame.c — SPDY/3.1 frames and header blocks on arbitrary bytes: every frame
 * the decoder accepts stays inside the input, and header blocks either parse or fail
 * cleanly; the zlib stream state carries across blocks as on a real connection. */
#include "kubelet/server/spdy.h"

#include <stdlib.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct spdy_codec c;
  k8c_err err = {0};
  if (spdy_codec_init(&c, &err) < 0)
    abort();
  size_t off = 0;
  while (off < size) {
    struct spdy_frame f;
    ssize_t n = spdy_frame_decode(data + off, size - off, 1 << 20, &f, &err);
    if (n <= 0)
      break;
    if ((size_t)n > size - off || f.payload + f.len > data + size)
      abort();
    if (f.type == SPDY_SYN_STREAM || f.type == SPDY_SYN_REPLY || f.type == SPDY_HEADERS)
      json_decref(spdy_headers_decode(&c, f.payload, f.len, &err));
    off += (size_t)n;
  }
  spdy_codec_free(&c);
  return 0;
}
