/* openapi_pb_test.c — the compiled-in /openapi/v2 protobuf (gnostic openapi.v2.Document):
 * it inflates, and a minimal wire-format walker finds swagger "2.0" as field 1, parses every
 * top-level field to the end, and reaches the Deployment definition and its GVK extension. */
#include <stdint.h>
#include <string.h>

#include "api/openapi.h"
#include "lib/mem.h"
#include "testlib.h"

/* One protobuf field: number, wire type and, for length-delimited ones, the payload. */
struct pb_field {
  uint64_t number;
  int wire;
  const unsigned char *data;
  size_t len;
};

static int
read_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 70 && *p < end; shift += 7) {
    unsigned char b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return -1;
}

/* Reads the field at *p and advances past it; -1 on malformed input. */
static int
next_field(const unsigned char **p, const unsigned char *end, struct pb_field *f)
{
  uint64_t key = 0, n = 0;
  if (read_varint(p, end, &key) < 0 || key >> 3 == 0)
    return -1;
  f->number = key >> 3;
  f->wire = (int)(key & 7);
  f->data = NULL;
  f->len = 0;
  switch (f->wire) {
  case 0:
    return read_varint(p, end, &n);
  case 1:
    if (end - *p < 8)
      return -1;
    *p += 8;
    return 0;
  case 2:
    if (read_varint(p, end, &n) < 0 || n > (uint64_t)(end - *p))
      return -1;
    f->data = *p;
    f->len = (size_t)n;
    *p += n;
    return 0;
  case 5:
    if (end - *p < 4)
      return -1;
    *p += 4;
    return 0;
  default:
    return -1;
  }
}

/* The first length-delimited field `number` in a message, or NULL data when absent. */
static struct pb_field
find_field(const unsigned char *msg, size_t len, uint64_t number)
{
  struct pb_field f = {0};
  const unsigned char *p = msg, *end = msg + len;
  while (p < end) {
    if (next_field(&p, end, &f) < 0)
      break;
    if (f.number == number && f.wire == 2)
      return f;
  }
  return (struct pb_field){0};
}

static int
field_is(struct pb_field f, const char *text)
{
  return f.data && f.len == strlen(text) && memcmp(f.data, text, f.len) == 0;
}

static char *
inflate_document(size_t *len)
{
  const unsigned char *gz = NULL;
  size_t gz_len = 0;
  k8c_err err = {0};
  CHECK_INT(openapi_v2_protobuf(&gz, &gz_len, &err), 0);
  CHECK(gz != NULL && gz_len > 18 && gz[0] == 0x1f && gz[1] == 0x8b);
  if (gz == NULL)
    return NULL;
  char *raw = openapi_inflate(gz, gz_len, len, &err);
  CHECK(raw != NULL);
  return raw;
}

TEST(document_starts_with_swagger_version_and_parses_to_the_end)
{
  size_t len = 0;
  cleanup_free char *raw = inflate_document(&len);
  if (!raw)
    return;
  const unsigned char *doc = (const unsigned char *)raw;
  CHECK(len > 1000000);
  /* field 1 (swagger), wire type 2, length 3, "2.0" */
  CHECK(doc[0] == 0x0a && doc[1] == 3 && memcmp(doc + 2, "2.0", 3) == 0);

  const unsigned char *p = doc, *end = doc + len;
  struct pb_field f;
  uint64_t last = 0;
  int fields = 0, ok = 1;
  while (p < end && ok) {
    ok = next_field(&p, end, &f) == 0;
    if (ok) {
      CHECK(f.wire == 2);      /* every Document field k8c fills is a string or message */
      CHECK(f.number >= last); /* emitted in field-number order */
      last = f.number;
      fields++;
    }
  }
  CHECK(ok && p == end);
  CHECK(fields >= 6); /* swagger, info, paths, definitions, parameters, security... */
  CHECK(memmem(doc, len, "io.k8s.api.apps.v1.Deployment", 29) != NULL);
  CHECK(field_is(find_field(find_field(doc, len, 2).data, find_field(doc, len, 2).len, 1),
                 "Kubernetes")); /* info.title */
}

TEST(deployment_definition_carries_its_group_version_kind)
{
  size_t len = 0;
  cleanup_free char *raw = inflate_document(&len);
  if (!raw)
    return;
  struct pb_field defs = find_field((const unsigned char *)raw, len, 9);
  CHECK(defs.data != NULL);
  if (!defs.data)
    return;
  struct pb_field named, schema = {0};
  const unsigned char *p = defs.data, *end = defs.data + defs.len;
  int count = 0;
  while (p < end && next_field(&p, end, &named) == 0) {
    CHECK(named.number == 1 && named.wire == 2); /* Definitions.additional_properties */
    count++;
    if (field_is(find_field(named.data, named.len, 1), "io.k8s.api.apps.v1.Deployment"))
      schema = find_field(named.data, named.len, 2);
  }
  CHECK(p == end);
  CHECK(count > 100);
  CHECK(schema.data != NULL);
  if (!schema.data)
    return;
  /* Schema.type (22) is TypeItem{value: "object"}; Schema.properties (25) holds "spec". */
  CHECK(field_is(find_field(find_field(schema.data, schema.len, 22).data,
                            find_field(schema.data, schema.len, 22).len, 1),
                 "object"));
  struct pb_field props = find_field(schema.data, schema.len, 25);
  CHECK(props.data && memmem(props.data, props.len, "DeploymentSpec", 14) != NULL);
  /* vendor_extension (31): NamedAny{name, value: Any{yaml}} */
  int found_gvk = 0;
  const unsigned char *q = schema.data, *qend = schema.data + schema.len;
  struct pb_field f;
  while (q < qend && next_field(&q, qend, &f) == 0) {
    if (f.number != 31)
      continue;
    if (!field_is(find_field(f.data, f.len, 1), "x-kubernetes-group-version-kind"))
      continue;
    struct pb_field any = find_field(f.data, f.len, 2);
    struct pb_field yaml = find_field(any.data, any.len, 2);
    found_gvk = yaml.data && memmem(yaml.data, yaml.len, "\"kind\": \"Deployment\"", 20) &&
                memmem(yaml.data, yaml.len, "\"group\": \"apps\"", 15);
  }
  CHECK(found_gvk);
}

TEST(walker_rejects_truncated_input)
{
  static const unsigned char truncated[] = {0x0a, 0x05, '2', '.'};
  const unsigned char *p = truncated;
  struct pb_field f;
  CHECK_INT(next_field(&p, truncated + sizeof truncated, &f), -1);
}

TEST_MAIN()
