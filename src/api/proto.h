/* proto.h — the Kubernetes protobuf messages as data: each message's fields (number, JSON
 * name, type), generated from the descriptors kubectl embeds into src/api/gen/proto.c by
 * tools/codegen/proto_gen.py (do not edit that), plus which message an (apiVersion, kind)
 * names. The decoder (apimachinery/protobuf.h) walks these tables; it has no per-kind code. */
#ifndef K8C_API_PROTO_H
#define K8C_API_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FieldDescriptorProto.Type values (descriptor.proto). */
enum proto_type {
  PROTO_TYPE_DOUBLE = 1,
  PROTO_TYPE_FLOAT = 2,
  PROTO_TYPE_INT64 = 3,
  PROTO_TYPE_UINT64 = 4,
  PROTO_TYPE_INT32 = 5,
  PROTO_TYPE_FIXED64 = 6,
  PROTO_TYPE_FIXED32 = 7,
  PROTO_TYPE_BOOL = 8,
  PROTO_TYPE_STRING = 9,
  PROTO_TYPE_GROUP = 10,
  PROTO_TYPE_MESSAGE = 11,
  PROTO_TYPE_BYTES = 12,
  PROTO_TYPE_UINT32 = 13,
  PROTO_TYPE_ENUM = 14,
  PROTO_TYPE_SFIXED32 = 15,
  PROTO_TYPE_SFIXED64 = 16,
  PROTO_TYPE_SINT32 = 17,
  PROTO_TYPE_SINT64 = 18,
};

/* Messages whose Go types write their own JSON instead of an object of their fields. */
enum proto_well_known {
  PROTO_WK_NONE,
  PROTO_WK_TIME,          /* meta/v1 Time {seconds, nanos}: RFC 3339 seconds, omitted when empty */
  PROTO_WK_MICRO_TIME,    /* meta/v1 MicroTime: RFC 3339 with 6 fractional digits */
  PROTO_WK_DURATION,      /* meta/v1 Duration {duration ns}: Go duration string "1m30s" */
  PROTO_WK_FIELDS_V1,     /* meta/v1 FieldsV1 {Raw}: the embedded JSON */
  PROTO_WK_QUANTITY,      /* resource.Quantity {string}: the string */
  PROTO_WK_INT_OR_STRING, /* intstr.IntOrString {type, intVal, strVal}: number or string */
  PROTO_WK_RAW_EXTENSION, /* runtime.RawExtension {raw}: the embedded JSON (or object) */
  PROTO_WK_ITEMS,         /* a named Go slice type {repeated items}: the bare array */
};

#define PROTO_FIELD_REPEATED 0x1 /* label repeated (a map when message is a map entry) */
#define PROTO_FIELD_INLINE 0x2   /* Go `json:",inline"`: its fields join the parent's */
/* A Go non-pointer field (gogoproto.nullable=false, so always on the wire) whose JSON tag
 * has omitempty (not "required" in OpenAPI): its zero value is dropped, as Go would. */
#define PROTO_FIELD_OMIT_EMPTY 0x4

struct proto_field {
  uint32_t number;
  uint8_t type;    /* enum proto_type */
  uint8_t flags;   /* PROTO_FIELD_* */
  int16_t message; /* index into proto_messages for MESSAGE fields, else -1 */
  const char *json_name;
};

struct proto_message {
  const char *name;                 /* full protobuf name: "k8s.io.api.core.v1.Pod" */
  const struct proto_field *fields; /* declaration (= Go struct = JSON) order */
  uint16_t field_count;
  uint8_t well_known; /* enum proto_well_known */
  bool map_entry;     /* a map's XEntry {key 1, value 2} */
};

struct proto_kind {
  const char *api_version; /* "apps/v1" */
  const char *kind;        /* "Deployment" */
  int16_t message;         /* index into proto_messages */
};

/* Sorted by name; immutable. */
extern const struct proto_message proto_messages[];
extern const size_t proto_messages_count;
/* Sorted by (api_version, kind); immutable. */
extern const struct proto_kind proto_kinds[];
extern const size_t proto_kinds_count;

/* Lookups into the static tables (never to be freed); NULL when unknown. */
const struct proto_message *proto_message_find(const char *name);
const struct proto_message *proto_message_for_kind(const char *api_version, const char *kind);
const struct proto_field *proto_message_field(const struct proto_message *message, uint32_t number);

#endif
