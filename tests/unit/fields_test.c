/* fields_test.c — field selectors: parsing with escapes, upstream's errors, matching,
 * supported-field checks and exact-value narrowing. */
#include "apimachinery/fields.h"
#include "lib/mem.h"
#include "testlib.h"

static void
check_roundtrip(const char *in, const char *want)
{
  k8c_err err = {0};
  field_selector *sel = field_selector_parse(in, &err);
  if (sel == NULL) {
    testlib_fail(__FILE__, __LINE__, "parse(%s) failed: %s", in, err.message);
    k8c_err_clear(&err);
    return;
  }
  char *s = field_selector_to_string(sel);
  if (strcmp(s, want) != 0)
    testlib_fail(__FILE__, __LINE__, "parse(%s) printed %s, want %s", in, s, want);
  free(s);
  field_selector_free(sel);
}

static void
check_error(const char *in, const char *want)
{
  k8c_err err = {0};
  field_selector *sel = field_selector_parse(in, &err);
  if (sel != NULL) {
    testlib_fail(__FILE__, __LINE__, "parse(%s) unexpectedly succeeded", in);
    field_selector_free(sel);
    return;
  }
  if (err.status != 400 || strcmp(err.message, want) != 0)
    testlib_fail(__FILE__, __LINE__, "parse(%s): %d \"%s\", want \"%s\"", in, err.status,
                 err.message, want);
  k8c_err_clear(&err);
}

TEST(parse_and_print)
{
  check_roundtrip("", "");
  check_roundtrip("metadata.name=web", "metadata.name=web");
  check_roundtrip("metadata.name==web", "metadata.name=web");
  check_roundtrip("spec.nodeName!=n1,metadata.name=a", "metadata.name=a,spec.nodeName!=n1");
  check_roundtrip("a=x\\,y\\=z\\\\", "a=x\\,y\\=z\\\\");
  check_roundtrip("a=,", "a=");
  check_roundtrip("a=", "a=");
}

TEST(parse_errors)
{
  check_error("abc", "invalid selector: 'abc'; can't understand 'abc'");
  check_error("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'");
  check_error("a=b\\q", "invalid field selector: invalid escape sequence: \\q");
  check_error("a=b\\", "invalid field selector: invalid escape sequence: \\");
  check_error("a=b=c", "invalid field selector: unescaped character in value: 61");
}

TEST(matching)
{
  k8c_err err = {0};
  field_selector *sel = field_selector_parse("metadata.name=web,spec.nodeName!=n1", &err);
  json_t *f = json_pack("{s:s,s:s}", "metadata.name", "web", "spec.nodeName", "n2");
  CHECK(field_selector_matches(sel, f));
  json_object_set_new(f, "spec.nodeName", json_string("n1"));
  CHECK(!field_selector_matches(sel, f));
  json_object_del(f, "spec.nodeName"); /* missing compares as "" */
  CHECK(field_selector_matches(sel, f));
  json_object_set_new(f, "metadata.name", json_string("other"));
  CHECK(!field_selector_matches(sel, f));
  json_decref(f);
  field_selector_free(sel);

  sel = field_selector_parse("spec.nodeName=", &err);
  json_t *empty = json_object();
  CHECK(field_selector_matches(sel, empty));
  json_decref(empty);
  field_selector_free(sel);
  CHECK(field_selector_matches(NULL, NULL));
}

TEST(supported_fields_and_exact_values)
{
  k8c_err err = {0};
  static const char *const pod_fields[] = {"spec.nodeName", "status.phase", NULL};
  field_selector *sel = field_selector_parse("metadata.name=a,spec.nodeName=n", &err);
  CHECK_INT(field_selector_check_supported(sel, pod_fields, "Pod", &err), 0);
  CHECK_STR(field_selector_exact_value(sel, "metadata.name"), "a");
  CHECK(field_selector_exact_value(sel, "metadata.namespace") == NULL);
  CHECK(!field_selector_is_empty(sel));
  field_selector_free(sel);

  sel = field_selector_parse("metadata.name!=a,spec.foo=b", &err);
  CHECK(field_selector_exact_value(sel, "metadata.name") == NULL);
  CHECK_INT(field_selector_check_supported(sel, pod_fields, "Pod", &err), -1);
  CHECK_INT(err.status, 400);
  CHECK_STR(err.reason, "BadRequest");
  CHECK_STR(err.message, "field label not supported: spec.foo");
  k8c_err_clear(&err);
  CHECK_INT(field_selector_check_supported(sel, NULL, NULL, &err), -1);
  k8c_err_clear(&err);
  field_selector_free(sel);

  sel = field_selector_parse("metadata.namespace=x", &err);
  CHECK_INT(field_selector_check_supported(sel, NULL, NULL, &err), 0);
  field_selector_free(sel);
}

TEST_MAIN()
