/* yaml_test.c — YAML → JSON typing as upstream does it, anchors and their budget, error
 * positions, and JSON → YAML output that reads back to the same JSON. */
#include "apimachinery/yaml.h"
#include "lib/mem.h"
#include "testlib.h"

static json_t *
load(const char *text)
{
  k8c_err err = {0};
  json_t *j = yaml_to_json(text, strlen(text), &err);
  if (j == NULL)
    testlib_fail(__FILE__, __LINE__, "yaml_to_json failed: %s", err.message);
  k8c_err_clear(&err);
  return j;
}

static void
check_yaml(const char *text, const char *json)
{
  json_t *j = load(text);
  CHECK_JSON(j, json);
  json_decref(j);
}

static void
check_fails(const char *text, const char *want_substring)
{
  k8c_err err = {0};
  json_t *j = yaml_to_json(text, strlen(text), &err);
  if (j != NULL) {
    testlib_fail(__FILE__, __LINE__, "yaml_to_json(%s) unexpectedly succeeded", text);
    json_decref(j);
    return;
  }
  if (err.status != 400 || strstr(err.message, want_substring) == NULL)
    testlib_fail(__FILE__, __LINE__, "error %d \"%s\", want \"%s\"", err.status, err.message,
                 want_substring);
  k8c_err_clear(&err);
}

TEST(manifest)
{
  check_yaml("apiVersion: apps/v1\n"
             "kind: Deployment\n"
             "metadata:\n"
             "  name: web\n"
             "  labels: {app: web}\n"
             "spec:\n"
             "  replicas: 3\n"
             "  template:\n"
             "    spec:\n"
             "      containers:\n"
             "      - name: nginx\n"
             "        image: nginx:1.25\n"
             "        ports:\n"
             "        - containerPort: 80\n",
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
             "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3,\"template\":{\"spec\":"
             "{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"ports\":"
             "[{\"containerPort\":80}]}]}}}}");
}

TEST(scalar_typing)
{
  check_yaml("[true, True, yes, on, false, no, Off, null, ~, '', \"true\", 'null', y, n]",
             "[true,true,true,true,false,false,false,null,null,\"\",\"true\",\"null\",true,"
             "false]");
  check_yaml("a:\nb: !!str 12\nc: '12'\nd: 12\n",
             "{\"a\":null,\"b\":\"12\",\"c\":\"12\",\"d\":12}");
  check_yaml("[0x1F, 0o17, 017, 0b101, 1_000, -42, +7, 1.5, 1e3, 1.0, .5, 08, 1.2.3]",
             "[31,15,15,5,1000,-42,7,1.5,1000,1,0.5,8,\"1.2.3\"]");
  check_yaml("[9223372036854775807, -9223372036854775808, 1e400, 2020-01-01, 1:20]",
             "[9223372036854775807,-9223372036854775808,\"1e400\",\"2020-01-01\",\"1:20\"]");
  json_t *big = load("18446744073709551615");
  CHECK(json_is_real(big));
  json_decref(big);
  check_yaml("s: |\n  line1\n  line2\nf: >\n  a\n  b\n",
             "{\"s\":\"line1\\nline2\\n\",\"f\":\"a b\\n\"}");
}

TEST(keys_become_strings)
{
  check_yaml("1: a\ntrue: b\n~: c\n1.5: d\n0x10: e\n",
             "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\",\"1.5\":\"d\",\"16\":\"e\"}");
  check_yaml("y: 1\n", "{\"true\":1}"); /* YAML 1.1 quirk, as upstream */
  check_fails("[a]: 1\n", "a mapping or sequence cannot be a mapping key");
}

TEST(anchors_aliases_and_merge)
{
  check_yaml("base: &b {x: 1, z: 2}\nuse: *b\nmerged:\n  <<: *b\n  z: 3\n",
             "{\"base\":{\"x\":1,\"z\":2},\"use\":{\"x\":1,\"z\":2},\"merged\":{\"x\":1,\"z\":3}}");
  check_yaml("m:\n  <<: [{a: 1}, {a: 2, b: 2}]\n", "{\"m\":{\"a\":1,\"b\":2}}");
  check_fails("m:\n  <<: 5\n", "map merge requires map");
  check_fails("a: *nope\n", "unknown anchor 'nope' referenced");
  json_t *j = load("a: &a [1]\nb: *a\n");
  json_array_append_new(json_object_get(j, "b"), json_integer(2)); /* copies, not shared */
  CHECK_JSON(j, "{\"a\":[1],\"b\":[1,2]}");
  json_decref(j);
}

TEST(billion_laughs_is_refused)
{
  const char *bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                     "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                     "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                     "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                     "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n";
  check_fails(bomb, "document contains excessive aliasing");
}

TEST(errors_carry_positions)
{
  check_fails("a: b\nc: d: e\n", "line 2, column");
  check_fails("a: [1, 2\n", "error converting YAML to JSON: yaml: line");
  check_fails("a: 1\n---\nb: 2\n", "line 2, column 1: multiple YAML documents");
  check_fails("a: .inf\n", "infinity and NaN");
  check_yaml("---\na: 1\n---\n", "{\"a\":1}");
  check_yaml("", "null");
  check_yaml("# only a comment\n", "null");
}

TEST(deep_nesting_is_refused)
{
  size_t n = 5000;
  char *deep = xmalloc(2 * n + 1);
  memset(deep, '[', n);
  memset(deep + n, ']', n);
  deep[2 * n] = 0;
  check_fails(deep, "nested too deeply");
  free(deep);
}

TEST(json_to_yaml_output)
{
  json_t *j = json_loads("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\","
                         "\"labels\":{}},\"spec\":{\"containers\":[{\"name\":\"c\",\"args\":"
                         "[\"true\",\"123\",\"\",\"plain\",\"a: b\"]}],\"n\":5,\"r\":1.5,"
                         "\"on\":true,\"z\":null,\"e\":[]}}",
                         0, NULL);
  size_t len = 0;
  char *y = json_to_yaml(j, &len);
  CHECK_INT(len, strlen(y));
  CHECK_STR(y, "apiVersion: v1\n"
               "kind: Pod\n"
               "metadata:\n"
               "  labels: {}\n"
               "  name: p\n"
               "spec:\n"
               "  containers:\n"
               "  - args:\n"
               "    - \"true\"\n"
               "    - \"123\"\n"
               "    - \"\"\n"
               "    - plain\n"
               "    - 'a: b'\n"
               "    name: c\n"
               "  e: []\n"
               "  \"n\": 5\n"
               "  \"on\": true\n"
               "  r: 1.5\n"
               "  z: null\n");
  json_t *back = yaml_to_json(y, len, NULL);
  CHECK(json_equal(back, j));
  json_decref(back);
  free(y);
  json_decref(j);
}

TEST(json_to_yaml_multiline_and_scalars)
{
  json_t *j = json_pack("{s:s,s:s}", "script", "echo a\necho b\n", "weird", "0x10");
  char *y = json_to_yaml(j, NULL);
  CHECK_STR(y, "script: |\n  echo a\n  echo b\nweird: \"0x10\"\n");
  json_t *back = yaml_to_json(y, strlen(y), NULL);
  CHECK(json_equal(back, j));
  json_decref(back);
  free(y);
  json_decref(j);
  json_t *s = json_string("hello");
  y = json_to_yaml(s, NULL);
  CHECK_STR(y, "hello\n");
  free(y);
  json_decref(s);
}

TEST(merge_key_lookalike_round_trips)
{
  /* A tagged "<<" is a plain string key; written back it must not become a merge key. */
  const char *text = "c:\n !!str <<: 1\n";
  k8c_err err = {0};
  json_t *j = yaml_to_json(text, strlen(text), &err);
  CHECK_JSON(j, "{\"c\":{\"<<\":1}}");
  size_t len = 0;
  char *out = json_to_yaml(j, &len);
  json_t *back = yaml_to_json(out, len, &err);
  CHECK_JSON(back, "{\"c\":{\"<<\":1}}");
  json_decref(back);
  free(out);
  json_decref(j);
  k8c_err_clear(&err);
}

TEST_MAIN()
