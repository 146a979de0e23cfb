/* protobuf_wellknown.c — the JSON forms of the apimachinery types whose Go code writes
 * its own JSON (Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1).
 * Each reads its few fields with the wire reader, skipping unknown ones as Go does. */
#include "apimachinery/protobuf_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/proto.h"
#include "apimachinery/protobuf_wire.h"

#define BAD(err, ...) k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "protobuf: " __VA_ARGS__)

/* The fields 1..3 of a small message: varints as numbers, length-delimited as slices. */
struct small_fields {
  bool present[4];
  uint64_t number[4];
  const uint8_t *bytes[4];
  size_t len[4];
};

static int read_small_fields(const uint8_t *data, size_t len, const char *what,
                             struct small_fields *out, k8c_err *err);
static int time_json(const uint8_t *data, size_t len, bool micro, json_t **out, k8c_err *err);
static int embedded_json(const uint8_t *data, size_t len, int depth, json_t **out, k8c_err *err);

int
pb_well_known_json(int well_known, const uint8_t *data, size_t len, int depth, json_t **out,
                   k8c_err *err)
{
  struct small_fields f;
  *out = NULL;
  switch (well_known) {
  case PROTO_WK_TIME:
    return time_json(data, len, false, out, err);
  case PROTO_WK_MICRO_TIME:
    return time_json(data, len, true, out, err);
  case PROTO_WK_DURATION: {
    char text[64];
    if (read_small_fields(data, len, "Duration", &f, err) < 0)
      return -1;
    pb_go_duration((int64_t)f.number[1], text, sizeof text);
    *out = json_string(text);
    return 0;
  }
  case PROTO_WK_QUANTITY:
    if (read_small_fields(data, len, "Quantity", &f, err) < 0)
      return -1;
    if (f.len[1] == 0) {
      *out = json_string("0");
      return 0;
    }
    *out = pb_json_string(f.bytes[1], f.len[1], "Quantity", err);
    return *out ? 0 : -1;
  case PROTO_WK_INT_OR_STRING:
    if (read_small_fields(data, len, "IntOrString", &f, err) < 0)
      return -1;
    if (f.number[1] == 1) {
      *out = pb_json_string(f.bytes[3], f.len[3], "IntOrString", err);
      return *out ? 0 : -1;
    }
    *out = json_integer((int32_t)(uint32_t)f.number[2]);
    return 0;
  case PROTO_WK_RAW_EXTENSION:
  case PROTO_WK_FIELDS_V1:
    if (read_small_fields(data, len, "RawExtension", &f, err) < 0)
      return -1;
    return embedded_json(f.bytes[1], f.len[1], depth, out, err);
  default:
    return BAD(err, "no JSON form for well-known type %d", well_known);
  }
}

json_t *
pb_json_string(const uint8_t *data, size_t len, const char *what, k8c_err *err)
{
  json_t *s = json_stringn((const char *)(data ? data : (const uint8_t *)""), len);
  if (!s)
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "protobuf: %s is not valid UTF-8", what);
  return s;
}

void
pb_go_duration(int64_t nanoseconds, char *out, size_t size)
{
  /* Go prints whole hours and minutes, then seconds with the fraction trimmed of zeros;
   * under a second it picks ns, µs or ms with a trimmed fraction. */
  bool negative = nanoseconds < 0;
  uint64_t u = negative ? (uint64_t)0 - (uint64_t)nanoseconds : (uint64_t)nanoseconds;
  const char *sign = negative ? "-" : "";
  char fraction[16] = "";
  if (u == 0) {
    snprintf(out, size, "0s");
    return;
  }
  if (u < 1000000000ULL) {
    uint64_t unit = 1;
    const char *name = "ns";
    if (u >= 1000000ULL) {
      unit = 1000000ULL;
      name = "ms";
    } else if (u >= 1000ULL) {
      unit = 1000ULL;
      name = "\xc2\xb5s";
    }
    if (unit > 1 && u % unit) {
      int digits = unit == 1000ULL ? 3 : 6;
      snprintf(fraction, sizeof fraction, ".%0*" PRIu64, digits, u % unit);
      for (size_t n = strlen(fraction); n > 1 && fraction[n - 1] == '0'; n--)
        fraction[n - 1] = '\0';
    }
    snprintf(out, size, "%s%" PRIu64 "%s%s", sign, u / unit, fraction, name);
    return;
  }
  uint64_t nanos = u % 1000000000ULL, secs = u / 1000000000ULL;
  if (nanos) {
    snprintf(fraction, sizeof fraction, ".%09" PRIu64, nanos);
    for (size_t n = strlen(fraction); n > 1 && fraction[n - 1] == '0'; n--)
      fraction[n - 1] = '\0';
  }
  uint64_t hours = secs / 3600, minutes = secs / 60 % 60, seconds = secs % 60;
  if (hours)
    snprintf(out, size, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", sign, hours, minutes, seconds,
             fraction);
  else if (minutes)
    snprintf(out, size, "%s%" PRIu64 "m%" PRIu64 "%ss", sign, minutes, seconds, fraction);
  else
    snprintf(out, size, "%s%" PRIu64 "%ss", sign, seconds, fraction);
}

static int
read_small_fields(const uint8_t *data, size_t len, const char *what, struct small_fields *out,
                  k8c_err *err)
{
  struct pb_reader r = pb_reader_of(data, len);
  memset(out, 0, sizeof *out);
  while (!pb_at_end(&r)) {
    uint32_t number;
    int wire;
    if (pb_read_key(&r, &number, &wire, err) < 0)
      return -1;
    if (number > 3) {
      if (pb_skip(&r, number, wire, 0, err) < 0)
        return -1;
      continue;
    }
    if (wire == PB_WIRE_VARINT) {
      if (pb_read_varint(&r, &out->number[number], err) < 0)
        return -1;
    } else if (wire == PB_WIRE_BYTES) {
      if (pb_read_bytes(&r, &out->bytes[number], &out->len[number], err) < 0)
        return -1;
    } else {
      return BAD(err, "%s field %u has wire type %d", what, number, wire);
    }
    out->present[number] = true;
  }
  return 0;
}

static int
time_json(const uint8_t *data, size_t len, bool micro, json_t **out, k8c_err *err)
{
  struct small_fields f;
  if (len == 0)
    return 0; /* the zero time: Go writes null, the JSON API omits it */
  if (read_small_fields(data, len, "Time", &f, err) < 0)
    return -1;
  int64_t seconds = (int64_t)f.number[1];
  int64_t nanos = (int32_t)(uint32_t)f.number[2];
  seconds += nanos / 1000000000;
  nanos %= 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    seconds -= 1;
  }
  /* Years 0..9999 only, as RFC 3339 requires. */
  if (seconds < -62167219200LL || seconds > 253402300799LL)
    return BAD(err, "time %" PRId64 " is outside years 0-9999", seconds);
  time_t t = (time_t)seconds;
  struct tm tm;
  if (!gmtime_r(&t, &tm))
    return BAD(err, "time %" PRId64 " cannot be represented", seconds);
  char text[48];
  int year = tm.tm_year + 1900;
  if (micro)
    snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(nanos / 1000));
  else
    snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
  *out = json_string(text);
  return 0;
}

static int
embedded_json(const uint8_t *data, size_t len, int depth, json_t **out, k8c_err *err)
{
  if (len == 0)
    return 0;
  if (len >= 4 && memcmp(data, "k8s\0", 4) == 0)
    return pb_decode_envelope(data, len, depth + 1, out, err);
  json_error_t jerr;
  *out = json_loadb((const char *)data, len, JSON_DECODE_ANY, &jerr);
  if (*out)
    return 0;
  *out = pb_json_string(data, len, "embedded raw object", err);
  return *out ? 0 : -1;
}
