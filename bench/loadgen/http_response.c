/* http_response.c — status line, framing headers and chunked bodies (see http_response.h).
 *
 * Only what decides where a response ends is interpreted: Content-Length,
 * Transfer-Encoding and Connection. The chunked decoder is a byte-driven state machine
 * that copies chunk data in bulk, so it accepts any split of the input. */
#include "http_response.h"

#include <string.h>
#include <strings.h>

static int header_is(const char *name, size_t name_len, const char *expected);
static int list_has_token(const char *value, size_t len, const char *token);
static int last_token_is(const char *value, size_t len, const char *token);
static int parse_decimal(const char *text, size_t len, uint64_t *value);
static int hex_value(char c);

long
http_head_parse(const char *data, size_t len, http_head *head)
{
  memset(head, 0, sizeof(*head));
  const char *end = memmem(data, len, "\r\n\r\n", 4);
  if (end == NULL)
    return len > 64 * 1024 ? -1 : 0;
  const char *line_end = memmem(data, (size_t)(end - data) + 2, "\r\n", 2);
  /* "HTTP/1.x NNN" followed by a space (reason phrase) or the end of the line. */
  size_t status_len = (size_t)(line_end - data);
  if (status_len < 12 || memcmp(data, "HTTP/1.", 7) != 0 || (data[7] != '0' && data[7] != '1') ||
      data[8] != ' ' || (status_len > 12 && data[12] != ' '))
    return -1;
  for (int i = 9; i < 12; i++) {
    if (data[i] < '0' || data[i] > '9')
      return -1;
    head->status = head->status * 10 + (data[i] - '0');
  }
  if (head->status < 100)
    return -1;
  int http10 = data[7] == '0';
  int keep_alive = 0, chunked = 0, transfer_encoded = 0, has_length = 0;

  for (const char *line = line_end + 2; line < end + 2; line = line_end + 2) {
    line_end = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
    const char *colon = memchr(line, ':', (size_t)(line_end - line));
    if (colon == NULL || colon == line)
      return -1;
    size_t name_len = (size_t)(colon - line);
    const char *value = colon + 1;
    const char *value_end = line_end;
    while (value < value_end && (*value == ' ' || *value == '\t'))
      value++;
    while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
      value_end--;
    size_t value_len = (size_t)(value_end - value);
    if (header_is(line, name_len, "content-length")) {
      uint64_t length;
      if (parse_decimal(value, value_len, &length) < 0)
        return -1;
      if (has_length && length != head->content_length)
        return -1;
      head->content_length = length;
      has_length = 1;
    } else if (header_is(line, name_len, "transfer-encoding")) {
      transfer_encoded = 1;
      chunked = last_token_is(value, value_len, "chunked");
    } else if (header_is(line, name_len, "connection")) {
      if (list_has_token(value, value_len, "close"))
        head->close = 1;
      if (list_has_token(value, value_len, "keep-alive"))
        keep_alive = 1;
    }
  }
  if (http10 && !keep_alive)
    head->close = 1;

  if (head->status < 200 || head->status == 204 || head->status == 304) {
    head->framing = HTTP_BODY_NONE;
  } else if (transfer_encoded) {
    /* Transfer-Encoding wins over Content-Length; a non-chunked coding runs to the close. */
    head->framing = chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_UNTIL_CLOSE;
  } else if (has_length) {
    head->framing = HTTP_BODY_LENGTH;
  } else {
    head->framing = HTTP_BODY_UNTIL_CLOSE;
  }
  if (head->framing == HTTP_BODY_UNTIL_CLOSE)
    head->close = 1;
  return (long)(end + 4 - data);
}

void
chunked_decoder_init(chunked_decoder *decoder)
{
  memset(decoder, 0, sizeof(*decoder));
  decoder->state = CHUNK_SIZE;
}

int
chunked_decoder_feed(chunked_decoder *decoder, const char *in, size_t len, buf *out,
                     size_t *consumed)
{
  size_t i = 0;
  while (i < len && decoder->state != CHUNK_DONE) {
    char c = in[i];
    switch (decoder->state) {
    case CHUNK_SIZE: {
      int digit = hex_value(c);
      if (digit >= 0) {
        if (decoder->digits >= 15) /* sizes beyond 2^60 are not a real response */
          return -1;
        decoder->remaining = decoder->remaining * 16 + (uint64_t)digit;
        decoder->digits++;
        i++;
        break;
      }
      if (decoder->digits == 0)
        return -1;
      decoder->state = CHUNK_SIZE_TAIL;
      break;
    }
    case CHUNK_SIZE_TAIL:
      /* Skips chunk extensions (";name=value") and the CR; the LF ends the size line. */
      i++;
      if (c == '\n')
        decoder->state = decoder->remaining == 0 ? CHUNK_TRAILER : CHUNK_DATA;
      break;
    case CHUNK_DATA: {
      size_t take = len - i;
      if ((uint64_t)take > decoder->remaining)
        take = (size_t)decoder->remaining;
      buf_append(out, in + i, take);
      i += take;
      decoder->remaining -= take;
      if (decoder->remaining == 0)
        decoder->state = CHUNK_DATA_CR;
      break;
    }
    case CHUNK_DATA_CR:
      if (c != '\r')
        return -1;
      i++;
      decoder->state = CHUNK_DATA_LF;
      break;
    case CHUNK_DATA_LF:
      if (c != '\n')
        return -1;
      i++;
      decoder->state = CHUNK_SIZE;
      decoder->digits = 0;
      break;
    case CHUNK_TRAILER:
      i++;
      if (c == '\r')
        decoder->state = CHUNK_FINAL_LF;
      else if (c == '\n')
        decoder->state = CHUNK_DONE;
      else
        decoder->state = CHUNK_TRAILER_SKIP;
      break;
    case CHUNK_TRAILER_SKIP:
      i++;
      if (c == '\n')
        decoder->state = CHUNK_TRAILER;
      break;
    case CHUNK_FINAL_LF:
      if (c != '\n')
        return -1;
      i++;
      decoder->state = CHUNK_DONE;
      break;
    case CHUNK_DONE:
      break;
    }
  }
  *consumed = i;
  return decoder->state == CHUNK_DONE ? 1 : 0;
}

static int
header_is(const char *name, size_t name_len, const char *expected)
{
  return name_len == strlen(expected) && strncasecmp(name, expected, name_len) == 0;
}

/* Whether the comma-separated list value holds token (case-insensitive). */
static int
list_has_token(const char *value, size_t len, const char *token)
{
  size_t token_len = strlen(token);
  size_t start = 0;
  while (start <= len) {
    size_t stop = start;
    while (stop < len && value[stop] != ',')
      stop++;
    size_t a = start, b = stop;
    while (a < b && (value[a] == ' ' || value[a] == '\t'))
      a++;
    while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t'))
      b--;
    if (b - a == token_len && strncasecmp(value + a, token, token_len) == 0)
      return 1;
    start = stop + 1;
  }
  return 0;
}

/* Whether the last element of the comma-separated list value is token. */
static int
last_token_is(const char *value, size_t len, const char *token)
{
  size_t start = len;
  while (start > 0 && value[start - 1] != ',')
    start--;
  while (start < len && (value[start] == ' ' || value[start] == '\t'))
    start++;
  size_t token_len = strlen(token);
  return len - start == token_len && strncasecmp(value + start, token, token_len) == 0;
}

static int
parse_decimal(const char *text, size_t len, uint64_t *value)
{
  if (len == 0 || len > 18)
    return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] < '0' || text[i] > '9')
      return -1;
    v = v * 10 + (uint64_t)(text[i] - '0');
  }
  *value = v;
  return 0;
}

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
