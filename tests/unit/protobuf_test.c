/* protobuf_test.c — k8s_protobuf_decode on hand-built protobuf bodies (a tiny encoder below
 * writes the wire format, field numbers from k8s.io/api's generated.proto) and on bodies
 * kubectl 1.33 really sent (the .pb files of tests/unit/data/protobuf/, captured from `kubectl
 * create`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apimachinery/protobuf.h"
#include "apimachinery/protobuf_internal.h"
#include "lib/mem.h"
#include "testlib.h"

/* ---- a tiny protobuf encoder -------------------------------------------------------- */

struct enc {
  uint8_t *data;
  size_t len;
};

static void
put_raw(struct enc *e, const void *data, size_t len)
{
  e->data = xrealloc(e->data, e->len + len + 1);
  if (len)
    memcpy(e->data + e->len, data, len);
  e->len += len;
}

static void
put_varint(struct enc *e, uint64_t v)
{
  uint8_t b[10];
  size_t n = 0;
  do {
    b[n] = v & 0x7f;
    v >>= 7;
    if (v)
      b[n] |= 0x80;
    n++;
  } while (v);
  put_raw(e, b, n);
}

static void
put_key(struct enc *e, uint32_t number, int wire)
{
  put_varint(e, ((uint64_t)number << 3) | (uint64_t)wire);
}

static void
put_uint(struct enc *e, uint32_t number, uint64_t v)
{
  put_key(e, number, 0);
  put_varint(e, v);
}

static void
put_bytes(struct enc *e, uint32_t number, const void *data, size_t len)
{
  put_key(e, number, 2);
  put_varint(e, len);
  put_raw(e, data, len);
}

static void
put_str(struct enc *e, uint32_t number, const char *s)
{
  put_bytes(e, number, s, strlen(s));
}

/* Appends sub as a length-delimited field and frees it. */
static void
put_msg(struct enc *e, uint32_t number, struct enc *sub)
{
  put_bytes(e, number, sub->data, sub->len);
  free(sub->data);
  *sub = (struct enc){0};
}

static void
put_map_entry(struct enc *e, uint32_t number, const char *key, const void *value, size_t len)
{
  struct enc entry = {0};
  put_str(&entry, 1, key);
  put_bytes(&entry, 2, value, len);
  put_msg(e, number, &entry);
}

/* "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}; frees raw. */
static struct enc
envelope(const char *api_version, const char *kind, struct enc *raw)
{
  struct enc out = {0}, unknown = {0}, type_meta = {0};
  put_raw(&out, "k8s\0", 4);
  put_str(&type_meta, 1, api_version);
  put_str(&type_meta, 2, kind);
  put_msg(&unknown, 1, &type_meta);
  put_msg(&unknown, 2, raw);
  put_raw(&out, unknown.data, unknown.len);
  free(unknown.data);
  return out;
}

static json_t *
decode(struct enc *body, k8c_err *err)
{
  json_t *j = k8s_protobuf_decode(body->data, body->len, err);
  free(body->data);
  *body = (struct enc){0};
  return j;
}

static struct enc
metadata_named(const char *name)
{
  struct enc meta = {0};
  put_str(&meta, 1, name);
  return meta;
}

/* ---- hand-built bodies ---------------------------------------------------------------- */

TEST(configmap_data_map_and_timestamp)
{
  struct enc meta = {0}, ts = {0}, empty_ts = {0}, cm = {0};
  put_str(&meta, 1, "cm");
  put_str(&meta, 2, ""); /* generateName: Go always writes it; JSON omits it */
  put_str(&meta, 3, "default");
  put_uint(&meta, 7, 0); /* generation 0 (omitempty) */
  put_uint(&ts, 1, 1700000000);
  put_msg(&meta, 8, &ts);       /* creationTimestamp */
  put_msg(&meta, 9, &empty_ts); /* deletionTimestamp: the zero time, written as empty */
  put_map_entry(&meta, 11, "app", "web", 3);
  put_msg(&cm, 1, &meta);
  put_map_entry(&cm, 2, "a", "b", 1);
  put_map_entry(&cm, 2, "empty", "", 0);
  put_uint(&cm, 4, 1); /* immutable */
  struct enc body = envelope("v1", "ConfigMap", &cm);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK(j != NULL);
  CHECK_JSON(j, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\","
                "\"namespace\":\"default\",\"creationTimestamp\":\"2023-11-14T22:13:20Z\","
                "\"labels\":{\"app\":\"web\"}},\"immutable\":true,"
                "\"data\":{\"a\":\"b\",\"empty\":\"\"}}");
  /* apiVersion and kind come first, then the fields in Go struct order. */
  const char *expected_order[] = {"apiVersion", "kind", "metadata", "immutable", "data"};
  void *it = json_object_iter(j);
  for (size_t i = 0; i < 5; i++, it = json_object_iter_next(j, it)) {
    CHECK(it != NULL);
    if (it)
      CHECK_STR(json_object_iter_key(it), expected_order[i]);
  }
}

TEST(secret_bytes_map_is_base64)
{
  struct enc meta = metadata_named("s"), secret = {0};
  put_msg(&secret, 1, &meta);
  put_map_entry(&secret, 2, "p", "q", 1);
  put_map_entry(&secret, 2, "bin", "\xff\x00\x01", 3);
  put_map_entry(&secret, 2, "none", "", 0);
  put_str(&secret, 3, "Opaque");
  struct enc body = envelope("v1", "Secret", &secret);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                "\"data\":{\"p\":\"cQ==\",\"bin\":\"/wAB\",\"none\":\"\"},\"type\":\"Opaque\"}");
}

TEST(deployment_keeps_explicit_zero_replicas)
{
  struct enc meta = metadata_named("d"), spec = {0}, template = {0}, pod = {0}, container = {0};
  struct enc selector = {0}, strategy = {0}, status = {0}, dep = {0}, tmeta = {0};
  put_uint(&spec, 1, 0); /* replicas: a pointer in Go, so 0 is explicit */
  put_map_entry(&selector, 1, "app", "d", 1);
  put_msg(&spec, 2, &selector);
  put_map_entry(&tmeta, 11, "app", "d", 1);
  put_msg(&template, 1, &tmeta);
  put_str(&container, 1, "nginx");
  put_str(&container, 2, "nginx");
  put_uint(&container, 16, 0); /* stdin false: omitempty */
  put_msg(&pod, 2, &container);
  put_uint(&pod, 11, 0); /* hostNetwork false: omitempty */
  put_msg(&template, 2, &pod);
  put_msg(&spec, 3, &template);
  put_msg(&spec, 4, &strategy); /* an empty struct stays {} */
  put_uint(&spec, 5, 0);        /* minReadySeconds 0: omitempty */
  put_uint(&spec, 6, 0);        /* revisionHistoryLimit: pointer, kept */
  put_uint(&spec, 7, 0);        /* paused false: omitempty */
  put_msg(&dep, 1, &meta);
  put_msg(&dep, 2, &spec);
  put_uint(&status, 2, 0);
  put_msg(&dep, 3, &status);
  struct enc body = envelope("apps/v1", "Deployment", &dep);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
                "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"d\"}},"
                "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},\"spec\":{\"containers\":"
                "[{\"name\":\"nginx\",\"image\":\"nginx\"}]}},\"strategy\":{},"
                "\"revisionHistoryLimit\":0},\"status\":{}}");
}

TEST(service_target_port_int_or_string)
{
  struct enc meta = metadata_named("svc"), spec = {0}, port1 = {0}, port2 = {0}, tp1 = {0},
             tp2 = {0}, svc = {0};
  put_str(&port1, 1, "http");
  put_str(&port1, 2, "TCP");
  put_uint(&port1, 3, 80);
  put_uint(&tp1, 1, 0);
  put_uint(&tp1, 2, 8080);
  put_msg(&port1, 4, &tp1);
  put_uint(&port1, 5, 0); /* nodePort 0: omitempty */
  put_str(&port2, 1, "named");
  put_uint(&port2, 3, 443);
  put_uint(&tp2, 1, 1);
  put_str(&tp2, 3, "https");
  put_msg(&port2, 4, &tp2);
  put_msg(&spec, 1, &port1);
  put_msg(&spec, 1, &port2);
  put_str(&spec, 4, "ClusterIP");
  put_str(&spec, 21, ""); /* loadBalancerClass: a pointer in Go, so "" is explicit */
  put_msg(&svc, 1, &meta);
  put_msg(&svc, 2, &spec);
  struct enc body = envelope("v1", "Service", &svc);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc\"},"
                "\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,"
                "\"targetPort\":8080},{\"name\":\"named\",\"port\":443,\"targetPort\":\"https\"}],"
                "\"type\":\"ClusterIP\",\"loadBalancerClass\":\"\"}}");
}

TEST(inline_structs_quantities_and_packed_lists)
{
  struct enc pod = {0}, spec = {0}, volume = {0}, source = {0}, empty_dir = {0}, qty = {0};
  struct enc container = {0}, resources = {0}, cpu = {0}, probe = {0}, handler = {0}, exec = {0},
             security = {0}, packed = {0}, meta = metadata_named("p");
  put_str(&volume, 1, "scratch");
  put_str(&qty, 1, "1Gi");
  put_msg(&empty_dir, 2, &qty);
  put_msg(&source, 2, &empty_dir);
  put_msg(&volume, 2, &source); /* VolumeSource is inline in Go: its fields join Volume's */
  put_msg(&spec, 1, &volume);
  put_str(&container, 1, "c");
  put_str(&cpu, 1, "500m");
  struct enc entry = {0};
  put_str(&entry, 1, "cpu");
  put_msg(&entry, 2, &cpu);
  put_msg(&resources, 1, &entry);
  put_msg(&container, 8, &resources);
  put_str(&exec, 1, "true");
  put_msg(&handler, 1, &exec);
  put_msg(&probe, 1, &handler); /* ProbeHandler is inline too */
  put_uint(&probe, 4, 10);
  put_msg(&container, 10, &probe);
  put_msg(&spec, 2, &container);
  put_uint(&security, 4, 5); /* supplementalGroups, one unpacked element */
  put_varint(&packed, 6);
  put_varint(&packed, 7);
  put_bytes(&security, 4, packed.data, packed.len); /* ...and two packed */
  free(packed.data);
  put_uint(&security, 2, 0); /* runAsUser: a pointer, so 0 is kept */
  put_msg(&spec, 14, &security);
  put_msg(&pod, 1, &meta);
  put_msg(&pod, 2, &spec);
  struct enc body = envelope("v1", "Pod", &pod);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"
                "\"volumes\":[{\"name\":\"scratch\",\"emptyDir\":{\"sizeLimit\":\"1Gi\"}}],"
                "\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"500m\"}},"
                "\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]},\"periodSeconds\":10}}],"
                "\"securityContext\":{\"runAsUser\":0,\"supplementalGroups\":[5,6,7]}}}");
}

TEST(micro_time_and_renamed_fields)
{
  struct enc ev = {0}, meta = metadata_named("e"), when = {0}, regarding = {0};
  put_uint(&when, 1, 1700000000);
  put_uint(&when, 2, 123456789);
  put_msg(&ev, 1, &meta);
  put_msg(&ev, 2, &when);
  put_str(&regarding, 1, "Pod");
  put_str(&regarding, 4, "uid-1"); /* the descriptor names it uID; JSON says uid */
  put_msg(&ev, 8, &regarding);
  put_uint(&ev, 15, 0);
  struct enc body = envelope("events.k8s.io/v1", "Event", &ev);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{\"name\":"
                "\"e\"},\"eventTime\":\"2023-11-14T22:13:20.123456Z\",\"regarding\":{\"kind\":"
                "\"Pod\",\"uid\":\"uid-1\"}}");
}

TEST(named_slice_values_become_arrays)
{
  struct enc review = {0}, spec = {0}, entry = {0}, extra = {0};
  put_str(&extra, 1, "a");
  put_str(&extra, 1, "b");
  put_str(&entry, 1, "scopes");
  put_msg(&entry, 2, &extra);
  put_str(&spec, 3, "alice");
  put_msg(&spec, 5, &entry);
  put_msg(&review, 2, &spec);
  struct enc body = envelope("authorization.k8s.io/v1", "SubjectAccessReview", &review);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\","
                "\"spec\":{\"user\":\"alice\",\"extra\":{\"scopes\":[\"a\",\"b\"]}}}");
}

TEST(raw_extension_holds_json_or_protobuf)
{
  struct enc rev = {0}, data = {0}, meta = metadata_named("r1");
  const char *json = "{\"spec\":{\"x\":1}}";
  put_bytes(&data, 1, json, strlen(json));
  put_msg(&rev, 1, &meta);
  put_msg(&rev, 2, &data);
  put_uint(&rev, 3, 2);
  struct enc body = envelope("apps/v1", "ControllerRevision", &rev);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"metadata\":{"
                "\"name\":\"r1\"},\"data\":{\"spec\":{\"x\":1}},\"revision\":2}");

  struct enc cm = {0}, cm_meta = metadata_named("inner"), outer = {0}, raw = {0};
  put_msg(&cm, 1, &cm_meta);
  struct enc inner = envelope("v1", "ConfigMap", &cm);
  put_bytes(&raw, 1, inner.data, inner.len);
  free(inner.data);
  put_msg(&outer, 2, &raw);
  struct enc body2 = envelope("apps/v1", "ControllerRevision", &outer);
  cleanup_json json_t *j2 = decode(&body2, &err);
  CHECK_JSON(j2, "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                 "\"data\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                 "\"inner\"}}}");
}

TEST(unknown_fields_are_skipped)
{
  struct enc cm = {0}, meta = metadata_named("cm"), group = {0};
  put_uint(&cm, 99, 12345);
  put_key(&cm, 98, 1);
  put_raw(&cm, "12345678", 8);
  put_key(&cm, 97, 5);
  put_raw(&cm, "1234", 4);
  put_str(&cm, 96, "ignored");
  put_key(&group, 95, 3);
  put_uint(&group, 1, 7);
  put_key(&group, 95, 4);
  put_raw(&cm, group.data, group.len);
  free(group.data);
  put_msg(&cm, 1, &meta);
  struct enc body = envelope("v1", "ConfigMap", &cm);
  k8c_err err = {0};
  cleanup_json json_t *j = decode(&body, &err);
  CHECK_JSON(j, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}");
}

TEST(go_duration_strings)
{
  char s[64];
  const struct {
    int64_t ns;
    const char *text;
  } cases[] = {
      {0, "0s"},
      {1, "1ns"},
      {1500, "1.5\xc2\xb5s"},
      {300000000, "300ms"},
      {1500000000, "1.5s"},
      {90000000000LL, "1m30s"},
      {3600000000000LL, "1h0m0s"},
      {-90000000000LL, "-1m30s"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pb_go_duration(cases[i].ns, s, sizeof s);
    CHECK_STR(s, cases[i].text);
  }
}

/* ---- errors --------------------------------------------------------------------------- */

static void
check_error(struct enc *body, int status, const char *needle)
{
  k8c_err err = {0};
  json_t *j = decode(body, &err);
  CHECK(j == NULL);
  json_decref(j);
  CHECK_INT(err.status, status);
  if (!strstr(err.message, needle))
    testlib_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", err.message, needle);
  k8c_err_clear(&err);
}

TEST(malformed_bodies_are_bad_requests)
{
  struct enc e = {0};
  put_raw(&e, "{\"kind\":\"x\"}", 12);
  check_error(&e, 400, "prefix");

  struct enc cm = {0}, meta = metadata_named("x");
  put_msg(&cm, 1, &meta);
  struct enc unknown_kind = envelope("v1", "Gadget", &cm);
  check_error(&unknown_kind, 400, "no kind \"Gadget\" is registered for version \"v1\"");

  struct enc wrong_wire = {0};
  put_uint(&wrong_wire, 1, 5); /* metadata as a varint */
  struct enc b1 = envelope("v1", "ConfigMap", &wrong_wire);
  check_error(&b1, 400, "wire type");

  struct enc truncated = {0};
  put_key(&truncated, 1, 2);
  put_varint(&truncated, 50); /* 50 bytes promised, none there */
  struct enc b2 = envelope("v1", "ConfigMap", &truncated);
  check_error(&b2, 400, "past the end");

  struct enc b3 = {0};
  put_raw(&b3, "k8s\0\x12\xff", 6); /* raw with a truncated length varint */
  check_error(&b3, 400, "truncated varint");

  struct enc bad_utf8 = {0}, meta2 = {0};
  put_str(&meta2, 1, "\xc3\x28");
  put_msg(&bad_utf8, 1, &meta2);
  struct enc b4 = envelope("v1", "ConfigMap", &bad_utf8);
  check_error(&b4, 400, "UTF-8");

  struct enc b5 = {0};
  put_raw(&b5, "k8s\0", 4);
  check_error(&b5, 400, "Kind");
}

TEST(content_encoding_is_unsupported)
{
  struct enc body = {0}, unknown = {0}, tm = {0};
  put_raw(&body, "k8s\0", 4);
  put_str(&tm, 1, "v1");
  put_str(&tm, 2, "ConfigMap");
  put_msg(&unknown, 1, &tm);
  put_str(&unknown, 3, "gzip");
  put_raw(&body, unknown.data, unknown.len);
  free(unknown.data);
  check_error(&body, 415, "gzip");
}

TEST(nesting_is_bounded)
{
  /* ControllerRevision.data holding a ControllerRevision holding ... 80 levels deep. */
  struct enc cur = {0};
  struct enc first = {0};
  cur = envelope("apps/v1", "ControllerRevision", &first);
  for (int i = 0; i < 80; i++) {
    struct enc raw = {0}, rev = {0};
    put_bytes(&raw, 1, cur.data, cur.len);
    free(cur.data);
    put_msg(&rev, 2, &raw);
    cur = envelope("apps/v1", "ControllerRevision", &rev);
  }
  check_error(&cur, 400, "deeper than");
}

/* ---- real kubectl 1.33 bodies ----------------------------------------------------------- */

static json_t *
decode_captured(const char *name)
{
  const char *root = getenv("K8C_SOURCE_DIR");
  cleanup_free char *path = xasprintf("%s/tests/unit/data/protobuf/%s", root ? root : ".", name);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (!f)
    return NULL;
  uint8_t data[4096];
  size_t len = fread(data, 1, sizeof data, f);
  fclose(f);
  k8c_err err = {0};
  json_t *j = k8s_protobuf_decode(data, len, &err);
  if (!j)
    testlib_fail(__FILE__, __LINE__, "%s: %d %s", name, err.status, err.message);
  return j;
}

TEST(captured_kubectl_bodies)
{
  const struct {
    const char *file;
    const char *json;
  } cases[] = {
      {"configmap.pb", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                       "\"x\"},\"data\":{\"a\":\"b\"}}"},
      {"secret.pb", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                    "\"data\":{\"p\":\"cQ==\"}}"},
      {"deployment.pb",
       "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\","
       "\"labels\":{\"app\":\"d\"}},\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{"
       "\"app\":\"d\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},\"spec\":{"
       "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{}}]}},"
       "\"strategy\":{}},\"status\":{}}"},
      {"service.pb",
       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"labels\":{"
       "\"app\":\"s\"}},\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\","
       "\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"s\"},\"type\":\"ClusterIP\"},"
       "\"status\":{\"loadBalancer\":{}}}"},
      {"namespace.pb", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
                       "\"ns1\"},\"spec\":{},\"status\":{}}"},
      {"job.pb", "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
                 "\"spec\":{\"template\":{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":"
                 "\"j\",\"image\":\"busybox\",\"command\":[\"echo\",\"hi\"],\"resources\":{}}],"
                 "\"restartPolicy\":\"Never\"}}},\"status\":{}}"},
      {"pdb.pb", "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":{"
                 "\"name\":\"p\"},\"spec\":{\"minAvailable\":\"50%\",\"selector\":{"
                 "\"matchLabels\":{\"app\":\"x\"}}},\"status\":{\"disruptionsAllowed\":0,"
                 "\"currentHealthy\":0,\"desiredHealthy\":0,\"expectedPods\":0}}"},
      {"priorityclass.pb", "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\","
                           "\"metadata\":{\"name\":\"pc\"},\"value\":0,"
                           "\"preemptionPolicy\":\"PreemptLowerPriority\"}"},
      {"resourcequota.pb", "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{"
                           "\"name\":\"q\"},\"spec\":{\"hard\":{\"cpu\":\"1\",\"memory\":\"1G\","
                           "\"pods\":\"2\"}},\"status\":{}}"},
      {"ingress.pb", "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":"
                     "{\"name\":\"ing\"},\"spec\":{\"rules\":[{\"host\":\"foo.com\",\"http\":{"
                     "\"paths\":[{\"path\":\"/bar\",\"pathType\":\"Exact\",\"backend\":{"
                     "\"service\":{\"name\":\"svc1\",\"port\":{\"number\":8080}}}}]}}]},"
                     "\"status\":{\"loadBalancer\":{}}}"},
      {"cronjob.pb", "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":"
                     "\"cj\"},\"spec\":{\"schedule\":\"*/1 * * * *\",\"jobTemplate\":{"
                     "\"metadata\":{\"name\":\"cj\"},\"spec\":{\"template\":{\"metadata\":{},"
                     "\"spec\":{\"containers\":[{\"name\":\"cj\",\"image\":\"busybox\","
                     "\"resources\":{}}],\"restartPolicy\":\"OnFailure\"}}}}},\"status\":{}}"},
      {"tokenrequest.pb", "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":"
                          "\"TokenRequest\",\"metadata\":{},\"spec\":{},\"status\":{\"token\":"
                          "\"\"}}"},
      {"selfsubjectaccessreview.pb",
       "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
       "\"metadata\":{},\"spec\":{\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":"
       "\"get\",\"resource\":\"pods\"}},\"status\":{\"allowed\":false}}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cleanup_json json_t *j = decode_captured(cases[i].file);
    CHECK_JSON(j, cases[i].json);
  }
}

TEST(truncated_captured_bodies_fail_cleanly)
{
  const char *root = getenv("K8C_SOURCE_DIR");
  cleanup_free char *path =
      xasprintf("%s/tests/unit/data/protobuf/deployment.pb", root ? root : ".");
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (!f)
    return;
  uint8_t data[4096];
  size_t len = fread(data, 1, sizeof data, f);
  fclose(f);
  size_t failures = 0;
  for (size_t cut = 0; cut < len; cut++) {
    k8c_err err = {0};
    json_t *j = k8s_protobuf_decode(data, cut, &err);
    if (!j) {
      CHECK_INT(err.status, 400);
      failures++;
    }
    json_decref(j);
    k8c_err_clear(&err);
  }
  CHECK(failures > len / 2);
}

TEST_MAIN()
