/* labels_test.c — label selectors: string syntax, upstream's error messages, the
 * metav1.LabelSelector form, matching and canonical strings. */
#include "apimachinery/labels.h"
#include "lib/mem.h"
#include "testlib.h"

static void
check_roundtrip(const char *in, const char *want)
{
  k8c_err err = {0};
  label_selector *sel = label_selector_parse(in, &err);
  if (sel == NULL) {
    testlib_fail(__FILE__, __LINE__, "parse(%s) failed: %s", in, err.message);
    k8c_err_clear(&err);
    return;
  }
  char *s = label_selector_to_string(sel);
  if (strcmp(s, want) != 0)
    testlib_fail(__FILE__, __LINE__, "parse(%s) printed %s, want %s", in, s, want);
  free(s);
  label_selector_free(sel);
}

static void
check_error(const char *in, const char *want)
{
  k8c_err err = {0};
  label_selector *sel = label_selector_parse(in, &err);
  if (sel != NULL) {
    testlib_fail(__FILE__, __LINE__, "parse(%s) unexpectedly succeeded", in);
    label_selector_free(sel);
    return;
  }
  if (err.status != 400 || strcmp(err.reason, "BadRequest") != 0)
    testlib_fail(__FILE__, __LINE__, "parse(%s): status %d %s", in, err.status, err.reason);
  if (strncmp(err.message, want, strlen(want)) != 0)
    testlib_fail(__FILE__, __LINE__, "parse(%s) error \"%s\", want prefix \"%s\"", in, err.message,
                 want);
  k8c_err_clear(&err);
}

static bool
matches(const char *selector, const char *labels_json)
{
  k8c_err err = {0};
  label_selector *sel = label_selector_parse(selector, &err);
  if (sel == NULL) {
    testlib_fail(__FILE__, __LINE__, "parse(%s) failed: %s", selector, err.message);
    k8c_err_clear(&err);
    return false;
  }
  json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
  bool m = label_selector_matches(sel, labels);
  json_decref(labels);
  label_selector_free(sel);
  return m;
}

TEST(parse_and_print_canonical)
{
  check_roundtrip("", "");
  check_roundtrip("a=b", "a=b");
  check_roundtrip("  a == b ", "a==b");
  check_roundtrip("x!=y,a=b", "a=b,x!=y");
  check_roundtrip("env in (prod, dev,prod)", "env in (dev,prod)");
  check_roundtrip("env notin(a)", "env notin (a)");
  check_roundtrip("a,!b", "a,!b");
  check_roundtrip("! b", "!b");
  check_roundtrip("a=", "a=");
  check_roundtrip("x in ()", "x in ()");
  check_roundtrip("x in (,a)", "x in (,a)");
  check_roundtrip("x in (in,notin)", "x in (in,notin)");
  check_roundtrip("in=notin", "in=notin");
  check_roundtrip("n>5,m<10", "m<10,n>5");
  check_roundtrip("app.kubernetes.io/name=web", "app.kubernetes.io/name=web");
}

TEST(parse_errors_match_upstream)
{
  check_error("a b",
              "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
  check_error("a=b c", "found 'c', expected: ',' or 'end of string'");
  check_error(",a", "found ',', expected: !, identifier, or 'end of string'");
  check_error("a=b,", "found '', expected: identifier after ','");
  check_error("a in", "unable to parse requirement: found '' expected: '('");
  check_error("a in (x", "unable to parse requirement: found '', expected: ',' or ')'");
  check_error("a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'");
  check_error("a in (=)",
              "unable to parse requirement: found '=', expected: ',', ')' or identifier");
  check_error("a=(x)", "unable to parse requirement: found '(', expected: identifier");
  check_error("!=x", "found '!=', expected: !, identifier, or 'end of string'");
  check_error("!(x", "unable to parse requirement: found '(', expected: identifier");
  check_error("a)",
              "unable to parse requirement: found ')', expected: in, notin, =, ==, !=, gt, lt");
  check_error("a_=b", "unable to parse requirement: <nil>: Invalid value: \"a_\": name part must "
                      "consist of alphanumeric characters, '-', '_' or '.', and must start and "
                      "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                      "'123-abc', regex used for validation is "
                      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  check_error("app:monolith",
              "unable to parse requirement: <nil>: Invalid value: \"app:monolith\"");
  check_error("a=b_", "unable to parse requirement: values[0][a]: Invalid value: \"b_\": a valid "
                      "label must be an empty string or consist of");
  check_error("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', "
                     "'Lt' operators, the value must be an integer");
  check_error("a in (x_,y_)", "unable to parse requirement: [values[0][a]: Invalid value: \"x_\"");
}

TEST(matching)
{
  CHECK(matches("", NULL));
  CHECK(matches("", "{\"a\":\"b\"}"));
  CHECK(matches("a=b", "{\"a\":\"b\",\"c\":\"d\"}"));
  CHECK(!matches("a=b", "{\"a\":\"c\"}"));
  CHECK(!matches("a=b", NULL));
  CHECK(matches("a!=b", NULL));
  CHECK(matches("a!=b", "{\"a\":\"c\"}"));
  CHECK(!matches("a!=b", "{\"a\":\"b\"}"));
  CHECK(matches("a in (x,y)", "{\"a\":\"y\"}"));
  CHECK(!matches("a in (x,y)", "{\"a\":\"z\"}"));
  CHECK(matches("a notin (x)", "{}"));
  CHECK(!matches("a notin (x)", "{\"a\":\"x\"}"));
  CHECK(matches("a", "{\"a\":\"\"}"));
  CHECK(!matches("a", "{}"));
  CHECK(matches("!a", "{}"));
  CHECK(!matches("!a", "{\"a\":\"1\"}"));
  CHECK(matches("a=", "{\"a\":\"\"}"));
  CHECK(matches("n>5", "{\"n\":\"6\"}"));
  CHECK(!matches("n>5", "{\"n\":\"5\"}"));
  CHECK(!matches("n>5", "{\"n\":\"x\"}"));
  CHECK(matches("n<5", "{\"n\":\"-1\"}"));
  CHECK(matches("a=b,c in (d)", "{\"a\":\"b\",\"c\":\"d\"}"));
  CHECK(!matches("a=b,c in (d)", "{\"a\":\"b\",\"c\":\"e\"}"));
}

TEST(from_json_label_selector)
{
  k8c_err err = {0};
  json_t *ls = json_loads("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                          "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"fe\",\"be\"]},"
                          "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},"
                          "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"dev\"]},"
                          "{\"key\":\"zone\",\"operator\":\"Exists\"}]}",
                          0, NULL);
  label_selector *sel = label_selector_from_json(ls, &err);
  CHECK(sel != NULL);
  char *s = label_selector_to_string(sel);
  CHECK_STR(s, "app=web,!canary,env notin (dev),tier in (be,fe),zone");
  free(s);
  json_t *labels = json_loads("{\"app\":\"web\",\"tier\":\"fe\",\"zone\":\"a\"}", 0, NULL);
  CHECK(label_selector_matches(sel, labels));
  json_object_set_new(labels, "canary", json_string("1"));
  CHECK(!label_selector_matches(sel, labels));
  CHECK(!label_selector_is_empty(sel));
  json_decref(labels);
  label_selector_free(sel);
  json_decref(ls);

  ls = json_loads("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}", 0, NULL);
  CHECK(label_selector_from_json(ls, &err) == NULL);
  CHECK_INT(err.status, 400);
  CHECK_STR(err.message, "\"Near\" is not a valid label selector operator");
  json_decref(ls);
  k8c_err_clear(&err);

  ls = json_loads("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", 0,
                  NULL);
  CHECK(label_selector_from_json(ls, &err) == NULL);
  CHECK(strstr(err.message, "values set can't be empty") != NULL);
  json_decref(ls);
  k8c_err_clear(&err);
}

TEST(empty_and_nothing)
{
  k8c_err err = {0};
  label_selector *all = label_selector_from_json(NULL, &err);
  CHECK(label_selector_is_empty(all));
  CHECK(label_selector_matches(all, NULL));
  label_selector_free(all);
  json_t *empty = json_object();
  all = label_selector_from_json(empty, &err);
  CHECK(label_selector_is_empty(all));
  label_selector_free(all);
  json_decref(empty);
  CHECK(label_selector_matches(NULL, NULL));
  label_selector *none = label_selector_nothing();
  CHECK(!label_selector_is_empty(none));
  CHECK(!label_selector_matches(none, NULL));
  label_selector_free(none);

  json_t *map = json_pack("{s:s,s:s}", "b", "2", "a", "1");
  label_selector *sel = label_selector_from_map(map, &err);
  char *s = label_selector_to_string(sel);
  CHECK_STR(s, "a=1,b=2");
  free(s);
  label_selector_free(sel);
  json_decref(map);
}

TEST_MAIN()
