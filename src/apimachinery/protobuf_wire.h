/* protobuf_wire.h — a bounds-checked reader for the protobuf wire format (varints, fixed
 * widths, length-delimited fields, skipping unknown fields and groups). Every read checks
 * the remaining length first and fails with a 400 BadRequest, so malformed input can only
 * ever produce an error. The reader borrows the caller's bytes; nothing is allocated. */
#ifndef K8C_APIMACHINERY_PROTOBUF_WIRE_H
#define K8C_APIMACHINERY_PROTOBUF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

enum pb_wire {
  PB_WIRE_VARINT = 0,
  PB_WIRE_FIXED64 = 1,
  PB_WIRE_BYTES = 2,
  PB_WIRE_START_GROUP = 3,
  PB_WIRE_END_GROUP = 4,
  PB_WIRE_FIXED32 = 5,
};

/* Nesting bound for messages and groups, as a defence against stack exhaustion. */
#define PB_MAX_DEPTH 100

struct pb_reader {
  const uint8_t *pos;
  const uint8_t *end;
};

static inline struct pb_reader
pb_reader_of(const void *data, size_t len)
{
  const uint8_t *p = data;
  return (struct pb_reader){p, p + len};
}

static inline int
pb_at_end(const struct pb_reader *r)
{
  return r->pos >= r->end;
}

/* Each returns 0, or -1 with a 400 in err. */
int pb_read_varint(struct pb_reader *r, uint64_t *value, k8c_err *err);
int pb_read_fixed32(struct pb_reader *r, uint32_t *value, k8c_err *err);
int pb_read_fixed64(struct pb_reader *r, uint64_t *value, k8c_err *err);
/* A field key: rejects field number 0 and wire types 6 and 7. */
int pb_read_key(struct pb_reader *r, uint32_t *number, int *wire, k8c_err *err);
/* A length-delimited payload; *data points into the reader's bytes. */
int pb_read_bytes(struct pb_reader *r, const uint8_t **data, size_t *len, k8c_err *err);
/* Skips the value of a field already keyed (number, wire); depth counts group nesting. */
int pb_skip(struct pb_reader *r, uint32_t number, int wire, int depth, k8c_err *err);

#endif
