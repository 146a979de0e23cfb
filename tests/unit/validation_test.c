/* validation_test.c — the generic validators: upstream's messages, cause shapes, and the
 * 422 that validation_finish() builds. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "testlib.h"

static const char *
cause_message(const k8c_err *err, size_t i)
{
  return json_string_value(json_object_get(json_array_get(err->causes, i), "message"));
}

static const char *
cause_field(const k8c_err *err, size_t i)
{
  return json_string_value(json_object_get(json_array_get(err->causes, i), "field"));
}

static const char *
cause_reason(const k8c_err *err, size_t i)
{
  return json_string_value(json_object_get(json_array_get(err->causes, i), "reason"));
}

#define SUBDOMAIN_MSG                                                                              \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "        \
  "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "            \
  "regex used for validation is "                                                                  \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

TEST(subdomain_valid_and_invalid)
{
  k8c_err err = {0};
  CHECK_INT(validate_dns1123_subdomain(&err, "metadata.name", "example.com"), 0);
  CHECK_INT(validate_dns1123_subdomain(&err, "metadata.name", "a-b.c1"), 0);
  CHECK(err.causes == NULL);
  CHECK_INT(validate_dns1123_subdomain(&err, "metadata.name", "bad_name"), 1);
  CHECK_STR(cause_message(&err, 0), "Invalid value: \"bad_name\": " SUBDOMAIN_MSG);
  CHECK_STR(cause_field(&err, 0), "metadata.name");
  CHECK_STR(cause_reason(&err, 0), "FieldValueInvalid");
  CHECK_INT(validate_dns1123_subdomain(&err, "x", "a..b"), 1);
  CHECK_INT(validate_dns1123_subdomain(&err, "x", "-a"), 1);
  CHECK_INT(validate_dns1123_subdomain(&err, "x", "a."), 1);
  CHECK_INT(validate_dns1123_subdomain(&err, "x", ""), 1);
  k8c_err_clear(&err);
}

TEST(subdomain_too_long_gives_two_causes)
{
  k8c_err err = {0};
  char name[300];
  memset(name, 'a', 254);
  name[254] = 0;
  CHECK_INT(validate_dns1123_subdomain(&err, "metadata.name", name), 1);
  name[100] = '_';
  CHECK_INT(validate_dns1123_subdomain(&err, "metadata.name", name), 2);
  CHECK(strstr(cause_message(&err, 0), ": must be no more than 253 characters") != NULL);
  k8c_err_clear(&err);
}

TEST(finish_builds_upstream_422)
{
  k8c_err err = {0};
  validate_dns1123_subdomain(&err, "metadata.name", "bad_name");
  CHECK_INT(validation_finish(&err, "Deployment", "apps", "bad_name"), -1);
  CHECK_INT(err.status, 422);
  CHECK_STR(err.reason, "Invalid");
  CHECK_STR(err.message, "Deployment.apps \"bad_name\" is invalid: metadata.name: Invalid "
                         "value: \"bad_name\": " SUBDOMAIN_MSG);
  CHECK_INT(json_array_size(err.causes), 1);
  CHECK_STR(cause_field(&err, 0), "metadata.name");
  k8c_err_clear(&err);
}

TEST(finish_multiple_causes_bracketed_core_group)
{
  k8c_err err = {0};
  validation_add_required(&err, "spec.containers", "");
  validate_port_number(&err, "spec.ports[0].port", 70000);
  validate_port_number(&err, "spec.ports[0].port", 70000);
  CHECK_INT(validation_finish(&err, "Service", "", "web"), -1);
  CHECK_STR(err.message, "Service \"web\" is invalid: [spec.containers: Required value, "
                         "spec.ports[0].port: Invalid value: 70000: must be between 1 and "
                         "65535, inclusive]");
  CHECK_INT(json_array_size(err.causes), 3);
  k8c_err_clear(&err);
}

TEST(finish_without_causes_is_ok)
{
  k8c_err err = {0};
  CHECK_INT(validation_finish(&err, "Pod", "", "x"), 0);
  CHECK_INT(err.status, 0);
}

TEST(dns_labels)
{
  k8c_err err = {0};
  CHECK_INT(validate_dns1123_label(&err, "f", "abc-1"), 0);
  CHECK_INT(validate_dns1123_label(&err, "f", "1abc"), 0);
  CHECK_INT(validate_dns1123_label(&err, "f", "a.b"), 1);
  CHECK(strstr(cause_message(&err, 0), "a lowercase RFC 1123 label must consist of lower "
                                       "case alphanumeric characters or '-'") != NULL);
  CHECK(strstr(cause_message(&err, 0), "(e.g. 'my-name',  or '123-abc', regex used") != NULL);
  CHECK_INT(validate_dns1035_label(&err, "f", "abc-1"), 0);
  CHECK_INT(validate_dns1035_label(&err, "f", "1abc"), 1);
  CHECK(strstr(cause_message(&err, 1), "a DNS-1035 label must") != NULL);
  char long_label[70];
  memset(long_label, 'a', 64);
  long_label[64] = 0;
  CHECK_INT(validate_dns1123_label(&err, "f", long_label), 1);
  CHECK(strstr(cause_message(&err, 2), "must be no more than 63 characters") != NULL);
  k8c_err_clear(&err);
}

TEST(qualified_names)
{
  k8c_err err = {0};
  CHECK_INT(validate_qualified_name(&err, "k", "app"), 0);
  CHECK_INT(validate_qualified_name(&err, "k", "app.kubernetes.io/name"), 0);
  CHECK_INT(validate_qualified_name(&err, "k", "My_Name.1"), 0);
  CHECK(err.causes == NULL);
  CHECK_INT(validate_qualified_name(&err, "k", "/name"), 1);
  CHECK_STR(cause_message(&err, 0), "Invalid value: \"/name\": prefix part must be non-empty");
  CHECK_INT(validate_qualified_name(&err, "k", "a/"), 2);
  CHECK_STR(cause_message(&err, 1), "Invalid value: \"a/\": name part must be non-empty");
  CHECK(strstr(cause_message(&err, 2), "name part must consist of alphanumeric characters, "
                                       "'-', '_' or '.', and must start and end with an "
                                       "alphanumeric character (e.g. 'MyName',  or "
                                       "'my.name',  or '123-abc', regex used for validation "
                                       "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')") != NULL);
  CHECK_INT(validate_qualified_name(&err, "k", "a/b/c"), 1);
  CHECK(strstr(cause_message(&err, 3), "a qualified name must consist of") != NULL);
  CHECK(strstr(cause_message(&err, 3), "with an optional DNS subdomain prefix and '/' (e.g. "
                                       "'example.com/MyName')") != NULL);
  CHECK_INT(validate_qualified_name(&err, "k", "Bad_Prefix/x"), 1);
  CHECK(strstr(cause_message(&err, 4), "prefix part a lowercase RFC 1123 subdomain") != NULL);
  k8c_err_clear(&err);
}

TEST(label_values)
{
  k8c_err err = {0};
  CHECK_INT(validate_label_value(&err, "l", ""), 0);
  CHECK_INT(validate_label_value(&err, "l", "v1.2_x-y"), 0);
  CHECK_INT(validate_label_value(&err, "l", "-x"), 1);
  CHECK(strstr(cause_message(&err, 0), "a valid label must be an empty string or consist of") !=
        NULL);
  CHECK(strstr(cause_message(&err, 0), "(e.g. 'MyValue',  or 'my_value',  or '12345', regex "
                                       "used for validation is "
                                       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')") != NULL);
  char v[80];
  memset(v, 'a', 64);
  v[64] = 0;
  CHECK_INT(validate_label_value(&err, "l", v), 1);
  CHECK(strstr(cause_message(&err, 1), ": must be no more than 63 characters") != NULL);
  CHECK(validation_is_label_value("abc"));
  CHECK(!validation_is_label_value("a b"));
  k8c_err_clear(&err);
}

TEST(labels_and_annotations_maps)
{
  k8c_err err = {0};
  json_t *labels = json_pack("{s:s,s:s}", "app", "web", "bad key", "ok");
  CHECK_INT(validate_labels(&err, "metadata.labels", labels), 1);
  CHECK_STR(cause_field(&err, 0), "metadata.labels");
  CHECK(strncmp(cause_message(&err, 0), "Invalid value: \"bad key\": name part must", 40) == 0);
  json_decref(labels);
  k8c_err_clear(&err);

  json_t *ann = json_pack("{s:s}", "Example.COM/Thing", "x");
  CHECK_INT(validate_annotations(&err, "metadata.annotations", ann), 0); /* lowercased */
  char *big = xmalloc(300 * 1024);
  memset(big, 'x', 300 * 1024 - 1);
  big[300 * 1024 - 1] = 0;
  json_object_set_new(ann, "huge", json_string(big));
  free(big);
  CHECK_INT(validate_annotations(&err, "metadata.annotations", ann), 1);
  CHECK_STR(cause_reason(&err, 0), "FieldValueTooLong");
  CHECK_STR(cause_message(&err, 0), "Too long: may not be more than 262144 bytes");
  json_decref(ann);
  k8c_err_clear(&err);
}

TEST(ports_and_identifiers)
{
  k8c_err err = {0};
  CHECK_INT(validate_port_number(&err, "p", 80), 0);
  CHECK_INT(validate_port_number(&err, "p", 0), 1);
  CHECK_STR(cause_message(&err, 0), "Invalid value: 0: must be between 1 and 65535, inclusive");
  CHECK_INT(validate_port_name(&err, "n", "http"), 0);
  CHECK_INT(validate_port_name(&err, "n", "http-8080"), 0);
  CHECK_INT(validate_port_name(&err, "n", "123"), 1);
  CHECK_STR(cause_message(&err, 1),
            "Invalid value: \"123\": must contain at least one letter (a-z)");
  CHECK_INT(validate_port_name(&err, "n", "-a--B"), 3);
  CHECK_INT(validate_port_name(&err, "n", "abcdefghijklmnop"), 1);
  k8c_err_clear(&err);

  CHECK_INT(validate_c_identifier(&err, "e", "MY_VAR1"), 0);
  CHECK_INT(validate_c_identifier(&err, "e", "1abc"), 1);
  CHECK(strstr(cause_message(&err, 0), "a valid C identifier must start with alphabetic") != NULL);
  CHECK_INT(validate_env_var_name(&err, "e", "my.env-name"), 0);
  CHECK_INT(validate_env_var_name(&err, "e", "1x"), 1);
  CHECK_INT(validate_env_var_name(&err, "e", ".."), 1);
  CHECK_STR(cause_message(&err, 2), "Invalid value: \"..\": must not be '..'");
  k8c_err_clear(&err);
}

TEST(required_one_of_nonnegative)
{
  k8c_err err = {0};
  json_t *s = json_string("x"), *empty = json_string("");
  CHECK_INT(validate_required_string(&err, "spec.image", s), 0);
  CHECK_INT(validate_required_string(&err, "spec.image", empty), 1);
  CHECK_INT(validate_required_string(&err, "spec.image", NULL), 1);
  CHECK_STR(cause_message(&err, 0), "Required value");
  CHECK_STR(cause_reason(&err, 0), "FieldValueRequired");
  json_decref(s);
  json_decref(empty);
  static const char *const policies[] = {"Always", "OnFailure", "Never", NULL};
  CHECK_INT(validate_one_of(&err, "spec.restartPolicy", "Always", policies), 0);
  CHECK_INT(validate_one_of(&err, "spec.restartPolicy", "Sometimes", policies), 1);
  CHECK_STR(cause_message(&err, 2), "Unsupported value: \"Sometimes\": supported values: "
                                    "\"Always\", \"OnFailure\", \"Never\"");
  CHECK_STR(cause_reason(&err, 2), "FieldValueNotSupported");
  CHECK_INT(validate_nonnegative(&err, "spec.replicas", -1), 1);
  CHECK_STR(cause_message(&err, 3), "Invalid value: -1: must be greater than or equal to 0");
  CHECK_INT(validate_nonnegative(&err, "spec.replicas", 0), 0);
  k8c_err_clear(&err);
}

TEST(label_selector_object)
{
  k8c_err err = {0};
  json_t *ok = json_loads("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":"
                          "\"tier\",\"operator\":\"In\",\"values\":[\"a\"]},{\"key\":\"x\","
                          "\"operator\":\"Exists\"}]}",
                          0, NULL);
  CHECK_INT(validate_label_selector(&err, "spec.selector", ok), 0);
  json_decref(ok);
  json_t *bad = json_loads("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\"},"
                           "{\"key\":\"x\",\"operator\":\"Exists\",\"values\":[\"a\"]},"
                           "{\"key\":\"y\",\"operator\":\"Near\"}]}",
                           0, NULL);
  CHECK_INT(validate_label_selector(&err, "spec.selector", bad), 3);
  CHECK_STR(cause_field(&err, 0), "spec.selector.matchExpressions[0].values");
  CHECK_STR(cause_message(&err, 0),
            "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  CHECK_STR(cause_reason(&err, 1), "FieldValueForbidden");
  CHECK_STR(cause_field(&err, 2), "spec.selector.matchExpressions[2].operator");
  CHECK_STR(cause_message(&err, 2), "Invalid value: \"Near\": not a valid selector operator");
  json_decref(bad);
  k8c_err_clear(&err);
}

TEST(quantities)
{
  k8c_err err = {0};
  json_t *a = json_string("100m"), *b = json_integer(3), *c = json_string("1Mi5");
  CHECK_INT(validate_quantity(&err, "spec.cpu", a), 0);
  CHECK_INT(validate_quantity(&err, "spec.cpu", b), 0);
  CHECK_INT(validate_quantity(&err, "spec.cpu", c), 1);
  CHECK_STR(cause_message(&err, 0), "Invalid value: \"1Mi5\": unable to parse quantity's suffix");
  json_decref(a);
  json_decref(b);
  json_decref(c);
  k8c_err_clear(&err);
}

TEST(object_meta_create)
{
  k8c_err err = {0};
  json_t *meta = json_pack("{s:s,s:s}", "name", "web", "namespace", "default");
  CHECK_INT(validate_object_meta(&err, meta, NULL, true, NULL), 0);
  CHECK_INT(validate_object_meta(&err, meta, NULL, false, NULL), 1);
  CHECK_STR(cause_message(&err, 0), "Forbidden: not allowed on this type");
  CHECK_STR(cause_field(&err, 0), "metadata.namespace");
  json_decref(meta);
  k8c_err_clear(&err);

  meta = json_pack("{s:s}", "generateName", "Web-");
  CHECK_INT(validate_object_meta(&err, meta, NULL, true, validate_dns1123_label), 3);
  CHECK_STR(cause_field(&err, 0), "metadata.generateName");
  CHECK(strstr(cause_message(&err, 0), "Invalid value: \"Web-\": a lowercase RFC 1123 label") ==
        cause_message(&err, 0));
  CHECK_STR(cause_message(&err, 1), "Required value: name or generateName is required");
  CHECK_STR(cause_field(&err, 2), "metadata.namespace");
  json_decref(meta);
  k8c_err_clear(&err);

  meta = json_pack("{s:s,s:s}", "generateName", "web-", "name", "web-abcde");
  CHECK_INT(validate_object_meta(&err, meta, NULL, false, NULL), 0);
  json_decref(meta);
}

TEST(object_meta_update_immutables)
{
  k8c_err err = {0};
  json_t *old = json_pack("{s:s,s:s,s:s,s:s}", "name", "a", "namespace", "ns", "uid", "u1",
                          "creationTimestamp", "2024-01-01T00:00:00Z");
  json_t *now = json_pack("{s:s,s:s,s:s,s:{s:s}}", "name", "a", "namespace", "ns", "uid", "u2",
                          "labels", "k", "-bad");
  CHECK_INT(validate_object_meta(&err, now, old, true, NULL), 2);
  CHECK_STR(cause_field(&err, 0), "metadata.uid");
  CHECK_STR(cause_message(&err, 0), "Invalid value: \"u2\": field is immutable");
  CHECK_STR(cause_field(&err, 1), "metadata.labels");
  json_decref(old);
  json_decref(now);
  k8c_err_clear(&err);
}

TEST(quote_escapes_like_go)
{
  buf b;
  buf_init(&b);
  validation_quote(&b, "a\"b\\c\n\x01");
  CHECK_STR(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\x01\"");
  buf_free(&b);
}

TEST(invalid_utf8_is_escaped_in_causes)
{
  k8c_err err = {0};
  CHECK_INT(validate_dns1123_subdomain(&err, "metadata.name", "a\xff\xc3\xa9"), 1);
  CHECK(strstr(cause_message(&err, 0), "Invalid value: \"a\\xff\xc3\xa9\": a lowercase") ==
        cause_message(&err, 0));
  k8c_err_clear(&err);
}

TEST_MAIN()
