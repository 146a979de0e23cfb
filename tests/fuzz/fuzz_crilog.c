/* fuzz_crilog.c — the CRI log record parser and formatter on arbitrary lines: text stays
 * inside the line, and formatting adds exactly the text, a newline for full records and
 * the timestamp when asked. */
#include "kubelet/server/crilog.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *line = (const char *)data;
  struct cri_record r;
  if (cri_record_parse(line, size, &r) < 0)
    return 0;
  if (r.text < line || r.text + r.text_len > line + size || r.time != line || r.time_len > size)
    abort();
  struct crilog_options o = {.tail_lines = -1, .limit_bytes = -1, .timestamps = true};
  buf out;
  buf_init(&out);
  if (!crilog_format_record(&o, &r, &out))
    abort();
  size_t want = r.time_len + 1 + r.text_len + (r.partial ? 0 : 1);
  if (out.len != want || memcmp(out.data + r.time_len + 1, r.text, r.text_len) != 0)
    abort();
  buf_free(&out);
  return 0;
}
