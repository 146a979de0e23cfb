/* protobuf.c — Kubernetes protobuf bodies to JSON, driven by the generated message table.
 * A message is decoded into one slot per declared field (repeated fields accumulate, maps
 * fill objects), then the slots are laid out in declaration order, dropping what Go's
 * `omitempty` would drop: zero values of non-pointer fields, empty lists and maps. */
#include "apimachinery/protobuf.h"

#include <math.h>
#include <nettle/base64.h>
#include <string.h>

#include "api/proto.h"
#include "apimachinery/protobuf_internal.h"
#include "apimachinery/protobuf_wire.h"
#include "lib/mem.h"

#define BAD(err, ...) k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "protobuf: " __VA_ARGS__)

static int decode_message(const struct proto_message *m, const uint8_t *data, size_t len, int depth,
                          json_t **out, k8c_err *err);
static int decode_value(const struct proto_field *f, const uint8_t *data, size_t len, int depth,
                        json_t **out, k8c_err *err);

json_t *
k8s_protobuf_decode(const void *data, size_t len, k8c_err *err)
{
  json_t *out = NULL;
  if (pb_decode_envelope(data, len, 0, &out, err) < 0)
    return NULL;
  if (!out || !json_is_object(out)) {
    json_decref(out);
    BAD(err, "the body is not an object");
    return NULL;
  }
  return out;
}

/* ---- runtime.Unknown ------------------------------------------------------------------ */

struct unknown {
  char *api_version; /* owned */
  char *kind;        /* owned */
  const uint8_t *raw;
  size_t raw_len;
  char *content_encoding; /* owned */
  char *content_type;     /* owned */
};

static void
unknown_free(struct unknown *u)
{
  free(u->api_version);
  free(u->kind);
  free(u->content_encoding);
  free(u->content_type);
}

static int
read_string(struct pb_reader *r, int wire, const char *what, char **out, k8c_err *err)
{
  const uint8_t *data;
  size_t len;
  if (wire != PB_WIRE_BYTES)
    return BAD(err, "%s has wire type %d", what, wire);
  if (pb_read_bytes(r, &data, &len, err) < 0)
    return -1;
  if (memchr(data, '\0', len))
    return BAD(err, "%s contains a NUL byte", what);
  free(*out);
  *out = xstrndup((const char *)data, len);
  return 0;
}

static int
parse_type_meta(const uint8_t *data, size_t len, struct unknown *u, k8c_err *err)
{
  struct pb_reader r = pb_reader_of(data, len);
  while (!pb_at_end(&r)) {
    uint32_t number;
    int wire;
    if (pb_read_key(&r, &number, &wire, err) < 0)
      return -1;
    int rc = number == 1   ? read_string(&r, wire, "typeMeta.apiVersion", &u->api_version, err)
             : number == 2 ? read_string(&r, wire, "typeMeta.kind", &u->kind, err)
                           : pb_skip(&r, number, wire, 0, err);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int
parse_unknown(const uint8_t *data, size_t len, struct unknown *u, k8c_err *err)
{
  struct pb_reader r = pb_reader_of(data, len);
  while (!pb_at_end(&r)) {
    uint32_t number;
    int wire;
    const uint8_t *body;
    size_t body_len;
    if (pb_read_key(&r, &number, &wire, err) < 0)
      return -1;
    if ((number == 1 || number == 2) && wire != PB_WIRE_BYTES)
      return BAD(err, "runtime.Unknown field %u has wire type %d", number, wire);
    int rc = 0;
    if (number == 1) {
      rc = pb_read_bytes(&r, &body, &body_len, err);
      if (rc == 0)
        rc = parse_type_meta(body, body_len, u, err);
    } else if (number == 2) {
      rc = pb_read_bytes(&r, &u->raw, &u->raw_len, err);
    } else if (number == 3) {
      rc = read_string(&r, wire, "contentEncoding", &u->content_encoding, err);
    } else if (number == 4) {
      rc = read_string(&r, wire, "contentType", &u->content_type, err);
    } else {
      rc = pb_skip(&r, number, wire, 0, err);
    }
    if (rc < 0)
      return -1;
  }
  return 0;
}

int
pb_decode_envelope(const uint8_t *data, size_t len, int depth, json_t **out, k8c_err *err)
{
  struct unknown u = {0};
  *out = NULL;
  if (depth > PB_MAX_DEPTH)
    return BAD(err, "objects nested deeper than %d", PB_MAX_DEPTH);
  if (len < 4 || memcmp(data, "k8s\0", 4) != 0)
    return BAD(err, "the body does not start with the Kubernetes protobuf prefix \"k8s\\x00\"");
  int rc = parse_unknown(data + 4, len - 4, &u, err);
  if (rc == 0 && u.content_encoding && u.content_encoding[0])
    rc = k8c_error(err, 415, K8C_REASON_UNSUPPORTED_MEDIA,
                   "protobuf: content encoding \"%s\" is not supported", u.content_encoding);
  if (rc == 0 && u.content_type && u.content_type[0] &&
      strcmp(u.content_type, K8S_PROTOBUF_CONTENT_TYPE) != 0)
    rc = k8c_error(err, 415, K8C_REASON_UNSUPPORTED_MEDIA,
                   "protobuf: embedded content type \"%s\" is not supported", u.content_type);
  if (rc == 0 && (!u.kind || !u.kind[0]))
    rc = BAD(err, "Object 'Kind' is missing in the protobuf envelope");
  const struct proto_message *m = NULL;
  if (rc == 0) {
    m = proto_message_for_kind(u.api_version ? u.api_version : "", u.kind);
    if (!m)
      rc = BAD(err, "no kind \"%s\" is registered for version \"%s\"", u.kind,
               u.api_version ? u.api_version : "");
  }
  json_t *body = NULL;
  if (rc == 0)
    rc = decode_message(m, u.raw, u.raw_len, depth + 1, &body, err);
  if (rc == 0) {
    json_t *obj = json_object();
    json_object_set_new(obj, "apiVersion", json_string(u.api_version ? u.api_version : ""));
    json_object_set_new(obj, "kind", json_string(u.kind));
    if (json_is_object(body))
      json_object_update(obj, body);
    *out = obj;
  }
  json_decref(body);
  unknown_free(&u);
  return rc;
}

/* ---- messages ------------------------------------------------------------------------- */

static int
expected_wire(int type)
{
  switch (type) {
  case PROTO_TYPE_DOUBLE:
  case PROTO_TYPE_FIXED64:
  case PROTO_TYPE_SFIXED64:
    return PB_WIRE_FIXED64;
  case PROTO_TYPE_FLOAT:
  case PROTO_TYPE_FIXED32:
  case PROTO_TYPE_SFIXED32:
    return PB_WIRE_FIXED32;
  case PROTO_TYPE_STRING:
  case PROTO_TYPE_BYTES:
  case PROTO_TYPE_MESSAGE:
    return PB_WIRE_BYTES;
  case PROTO_TYPE_GROUP:
    return PB_WIRE_START_GROUP;
  default:
    return PB_WIRE_VARINT;
  }
}

static json_t *
unsigned_json(uint64_t v)
{
  return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

static json_t *
base64_json(const uint8_t *data, size_t len)
{
  cleanup_free char *text = xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
  base64_encode_raw(text, len, data);
  return json_stringn(text, BASE64_ENCODE_RAW_LENGTH(len));
}

/* One scalar of a numeric type from the reader. */
static int
read_number(struct pb_reader *r, const struct proto_field *f, json_t **out, k8c_err *err)
{
  uint64_t v = 0;
  uint32_t v32 = 0;
  int wire = expected_wire(f->type);
  if (wire == PB_WIRE_FIXED64   ? pb_read_fixed64(r, &v, err)
      : wire == PB_WIRE_FIXED32 ? pb_read_fixed32(r, &v32, err)
                                : pb_read_varint(r, &v, err))
    return -1;
  double d;
  float fl;
  switch (f->type) {
  case PROTO_TYPE_INT32:
  case PROTO_TYPE_ENUM:
    *out = json_integer((int32_t)(uint32_t)v);
    return 0;
  case PROTO_TYPE_UINT32:
    *out = json_integer((uint32_t)v);
    return 0;
  case PROTO_TYPE_INT64:
  case PROTO_TYPE_SFIXED64:
    *out = json_integer((json_int_t)v);
    return 0;
  case PROTO_TYPE_UINT64:
  case PROTO_TYPE_FIXED64:
    *out = unsigned_json(v);
    return 0;
  case PROTO_TYPE_SINT32:
    *out = json_integer((int32_t)((uint32_t)(v >> 1) ^ (0u - (uint32_t)(v & 1))));
    return 0;
  case PROTO_TYPE_SINT64:
    *out = json_integer((json_int_t)((v >> 1) ^ (0ull - (v & 1))));
    return 0;
  case PROTO_TYPE_FIXED32:
    *out = json_integer(v32);
    return 0;
  case PROTO_TYPE_SFIXED32:
    *out = json_integer((int32_t)v32);
    return 0;
  case PROTO_TYPE_BOOL:
    *out = json_boolean(v != 0);
    return 0;
  case PROTO_TYPE_DOUBLE:
    memcpy(&d, &v, sizeof d);
    break;
  case PROTO_TYPE_FLOAT:
    memcpy(&fl, &v32, sizeof fl);
    d = fl;
    break;
  default:
    return BAD(err, "field %s has unsupported type %d", f->json_name, f->type);
  }
  if (!isfinite(d))
    return BAD(err, "field %s holds a non-finite number", f->json_name);
  *out = json_real(d);
  return 0;
}

/* The value of a length-delimited field: string, bytes or message. */
static int
decode_value(const struct proto_field *f, const uint8_t *data, size_t len, int depth, json_t **out,
             k8c_err *err)
{
  *out = NULL;
  if (f->type == PROTO_TYPE_STRING) {
    *out = pb_json_string(data, len, f->json_name, err);
    return *out ? 0 : -1;
  }
  if (f->type == PROTO_TYPE_BYTES) {
    *out = base64_json(data, len);
    return 0;
  }
  if (f->message < 0 || (size_t)f->message >= proto_messages_count)
    return BAD(err, "field %s has no message type", f->json_name);
  return decode_message(&proto_messages[f->message], data, len, depth + 1, out, err);
}

/* A map entry {key 1, value 2} added to the slot's object. */
static int
add_map_entry(const struct proto_message *entry, json_t *map, const uint8_t *data, size_t len,
              int depth, k8c_err *err)
{
  cleanup_json json_t *pair = NULL;
  if (decode_message(entry, data, len, depth + 1, &pair, err) < 0)
    return -1;
  json_t *key = json_object_get(pair, "key");
  json_t *value = json_object_get(pair, "value");
  const struct proto_field *value_field = proto_message_field(entry, 2);
  cleanup_json json_t *fallback = NULL;
  if (!value && value_field) { /* absent value: the zero value of its type */
    if (value_field->type == PROTO_TYPE_STRING || value_field->type == PROTO_TYPE_BYTES ||
        value_field->type == PROTO_TYPE_MESSAGE) {
      if (decode_value(value_field, (const uint8_t *)"", 0, depth + 1, &fallback, err) < 0)
        return -1;
    } else {
      fallback = json_integer(0);
    }
    value = fallback;
  }
  char number[32];
  const char *name = "";
  if (json_is_string(key))
    name = json_string_value(key);
  else if (json_is_integer(key)) {
    snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
    name = number;
  } else if (json_is_boolean(key))
    name = json_is_true(key) ? "true" : "false";
  json_object_set(map, name, value ? value : json_null());
  return 0;
}

/* Stores one occurrence of field f (already keyed with wire) into its slot. */
static int
decode_field(const struct proto_field *f, int wire, struct pb_reader *r, int depth, json_t **slot,
             k8c_err *err)
{
  bool repeated = f->flags & PROTO_FIELD_REPEATED;
  int want = expected_wire(f->type);
  json_t *value = NULL;

  if (want == PB_WIRE_START_GROUP)
    return BAD(err, "field %s is a group, which Kubernetes never uses", f->json_name);
  if (repeated && want != PB_WIRE_BYTES && wire == PB_WIRE_BYTES) { /* packed */
    const uint8_t *data;
    size_t len;
    if (pb_read_bytes(r, &data, &len, err) < 0)
      return -1;
    if (!*slot)
      *slot = json_array();
    struct pb_reader packed = pb_reader_of(data, len);
    while (!pb_at_end(&packed)) {
      if (read_number(&packed, f, &value, err) < 0)
        return -1;
      json_array_append_new(*slot, value);
    }
    return 0;
  }
  if (wire != want)
    return BAD(err, "field %s has wire type %d, expected %d", f->json_name, wire, want);

  if (want != PB_WIRE_BYTES) {
    if (read_number(r, f, &value, err) < 0)
      return -1;
  } else {
    const uint8_t *data;
    size_t len;
    if (pb_read_bytes(r, &data, &len, err) < 0)
      return -1;
    const struct proto_message *target =
        f->type == PROTO_TYPE_MESSAGE && f->message >= 0 ? &proto_messages[f->message] : NULL;
    if (repeated && target && target->map_entry) {
      if (!*slot)
        *slot = json_object();
      return add_map_entry(target, *slot, data, len, depth, err);
    }
    if (decode_value(f, data, len, depth, &value, err) < 0)
      return -1;
    if (!value)
      return 0; /* a well-known value that Go writes as null */
  }
  if (repeated) {
    if (!*slot)
      *slot = json_array();
    json_array_append_new(*slot, value);
  } else if (json_is_object(*slot) && json_is_object(value)) {
    json_object_update(*slot, value); /* a repeated message field merges, as in protobuf */
    json_decref(value);
  } else {
    json_decref(*slot);
    *slot = value;
  }
  return 0;
}

/* Would Go's omitempty drop this value of field f? Lists and maps when empty; scalars of
 * non-pointer omitempty fields when zero; pointer fields are on the wire only when set. */
static bool
omitted(const struct proto_field *f, const json_t *v)
{
  if (json_is_array(v))
    return json_array_size(v) == 0;
  if (json_is_object(v))
    return (f->flags & PROTO_FIELD_REPEATED) && json_object_size(v) == 0;
  if (json_is_string(v) && json_string_length(v) == 0 && f->type == PROTO_TYPE_BYTES)
    return true;
  if (!(f->flags & PROTO_FIELD_OMIT_EMPTY) || f->type == PROTO_TYPE_MESSAGE)
    return false;
  if (json_is_string(v))
    return json_string_length(v) == 0;
  if (json_is_integer(v))
    return json_integer_value(v) == 0;
  if (json_is_real(v))
    return json_real_value(v) == 0;
  return json_is_false(v);
}

static int
decode_message(const struct proto_message *m, const uint8_t *data, size_t len, int depth,
               json_t **out, k8c_err *err)
{
  *out = NULL;
  if (depth > PB_MAX_DEPTH)
    return BAD(err, "messages nested deeper than %d", PB_MAX_DEPTH);
  if (m->well_known != PROTO_WK_NONE && m->well_known != PROTO_WK_ITEMS)
    return pb_well_known_json(m->well_known, data, len, depth, out, err);

  cleanup_free json_t **slots = xcalloc(m->field_count ? m->field_count : 1, sizeof *slots);
  struct pb_reader r = pb_reader_of(data, len);
  int rc = 0;
  while (rc == 0 && !pb_at_end(&r)) {
    uint32_t number;
    int wire;
    rc = pb_read_key(&r, &number, &wire, err);
    if (rc < 0)
      break;
    const struct proto_field *f = proto_message_field(m, number);
    rc = f ? decode_field(f, wire, &r, depth, &slots[f - m->fields], err)
           : pb_skip(&r, number, wire, 0, err);
  }

  json_t *obj = rc == 0 ? json_object() : NULL;
  for (size_t i = 0; i < m->field_count; i++) {
    const struct proto_field *f = &m->fields[i];
    if (obj && slots[i] && !omitted(f, slots[i])) {
      if ((f->flags & PROTO_FIELD_INLINE) && json_is_object(slots[i]))
        json_object_update(obj, slots[i]);
      else
        json_object_set(obj, f->json_name, slots[i]);
    }
    json_decref(slots[i]);
  }
  if (rc < 0)
    return -1;
  if (m->well_known == PROTO_WK_ITEMS) {
    json_t *items = json_object_get(obj, m->field_count ? m->fields[0].json_name : "items");
    *out = items ? json_incref(items) : json_array();
    json_decref(obj);
    return 0;
  }
  *out = obj;
  return 0;
}
