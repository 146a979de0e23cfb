/* protobuf_wire.c — the bounds-checked protobuf wire reader (see protobuf_wire.h).
 * Lengths are compared against what remains before any pointer moves, so a hostile
 * length can never step past the end of the buffer. */
#include "apimachinery/protobuf_wire.h"

#include <string.h>

#define BAD(err, ...) k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "protobuf: " __VA_ARGS__)

int
pb_read_varint(struct pb_reader *r, uint64_t *value, k8c_err *err)
{
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->pos >= r->end)
      return BAD(err, "truncated varint");
    uint8_t byte = *r->pos++;
    result |= (uint64_t)(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *value = result;
      return 0;
    }
  }
  return BAD(err, "varint longer than 10 bytes");
}

int
pb_read_fixed32(struct pb_reader *r, uint32_t *value, k8c_err *err)
{
  if (r->end - r->pos < 4)
    return BAD(err, "truncated fixed32");
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = (v << 8) | r->pos[i];
  r->pos += 4;
  *value = v;
  return 0;
}

int
pb_read_fixed64(struct pb_reader *r, uint64_t *value, k8c_err *err)
{
  if (r->end - r->pos < 8)
    return BAD(err, "truncated fixed64");
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | r->pos[i];
  r->pos += 8;
  *value = v;
  return 0;
}

int
pb_read_key(struct pb_reader *r, uint32_t *number, int *wire, k8c_err *err)
{
  uint64_t key = 0;
  if (pb_read_varint(r, &key, err) < 0)
    return -1;
  uint64_t field = key >> 3;
  int type = (int)(key & 7);
  if (field == 0 || field > 0x1fffffff)
    return BAD(err, "invalid field number %llu", (unsigned long long)field);
  if (type > PB_WIRE_FIXED32)
    return BAD(err, "invalid wire type %d for field %llu", type, (unsigned long long)field);
  *number = (uint32_t)field;
  *wire = type;
  return 0;
}

int
pb_read_bytes(struct pb_reader *r, const uint8_t **data, size_t *len, k8c_err *err)
{
  uint64_t size = 0;
  if (pb_read_varint(r, &size, err) < 0)
    return -1;
  if (size > (uint64_t)(r->end - r->pos))
    return BAD(err, "length %llu runs past the end of the message", (unsigned long long)size);
  *data = r->pos;
  *len = (size_t)size;
  r->pos += size;
  return 0;
}

int
pb_skip(struct pb_reader *r, uint32_t number, int wire, int depth, k8c_err *err)
{
  uint64_t ignored;
  const uint8_t *data;
  size_t len;
  switch (wire) {
  case PB_WIRE_VARINT:
    return pb_read_varint(r, &ignored, err);
  case PB_WIRE_FIXED64:
    return pb_read_fixed64(r, &ignored, err);
  case PB_WIRE_FIXED32: {
    uint32_t ignored32;
    return pb_read_fixed32(r, &ignored32, err);
  }
  case PB_WIRE_BYTES:
    return pb_read_bytes(r, &data, &len, err);
  case PB_WIRE_START_GROUP:
    if (depth >= PB_MAX_DEPTH)
      return BAD(err, "groups nested deeper than %d", PB_MAX_DEPTH);
    for (;;) {
      uint32_t inner;
      int inner_wire;
      if (pb_at_end(r))
        return BAD(err, "unterminated group %u", number);
      if (pb_read_key(r, &inner, &inner_wire, err) < 0)
        return -1;
      if (inner_wire == PB_WIRE_END_GROUP) {
        if (inner != number)
          return BAD(err, "group %u closed by end-group %u", number, inner);
        return 0;
      }
      if (pb_skip(r, inner, inner_wire, depth + 1, err) < 0)
        return -1;
    }
  default:
    return BAD(err, "unexpected end-group %u", number);
  }
}
