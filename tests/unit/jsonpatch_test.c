/* jsonpatch_test.c — RFC 6902 JSON Patch: the RFC's appendix scenarios (own data),
 * upstream's leniencies and limits, and the apiserver's error statuses. */
#include <stdlib.h>

#include "apimachinery/patch/jsonpatch.h"
#include "testlib.h"

static json_t *
parse(const char *text)
{
  json_error_t jerr;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
  if (v == NULL)
    fprintf(stderr, "bad test JSON: %s: %s\n", text, jerr.text);
  return v;
}

/* Applies patch text to doc text; returns the result (NULL on error, err filled). */
static json_t *
apply(const char *doc_text, const char *patch_text, k8c_err *err)
{
  json_t *doc = parse(doc_text), *patch = parse(patch_text);
  json_t *out = json_patch_apply(doc, patch, err);
  json_decref(doc);
  json_decref(patch);
  return out;
}

#define CHECK_PATCH(doc, patch, expected)                                                          \
  do {                                                                                             \
    k8c_err err_ = {0};                                                                            \
    json_t *out_ = apply(doc, patch, &err_);                                                       \
    if (out_ == NULL)                                                                              \
      testlib_fail(__FILE__, __LINE__, "patch failed: %d %s", err_.status, err_.message);          \
    else                                                                                           \
      CHECK_JSON(out_, expected);                                                                  \
    json_decref(out_);                                                                             \
    k8c_err_clear(&err_);                                                                          \
  } while (0)

#define CHECK_PATCH_FAILS(doc, patch, status_)                                                     \
  do {                                                                                             \
    k8c_err err_ = {0};                                                                            \
    json_t *out_ = apply(doc, patch, &err_);                                                       \
    CHECK(out_ == NULL);                                                                           \
    CHECK_INT(err_.status, status_);                                                               \
    json_decref(out_);                                                                             \
    k8c_err_clear(&err_);                                                                          \
  } while (0)

TEST(rfc_add_member)
{
  CHECK_PATCH("{\"color\":\"red\"}", "[{\"op\":\"add\",\"path\":\"/size\",\"value\":3}]",
              "{\"color\":\"red\",\"size\":3}");
}

TEST(rfc_add_array_element_before_index)
{
  CHECK_PATCH("{\"l\":[\"a\",\"c\"]}", "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":\"b\"}]",
              "{\"l\":[\"a\",\"b\",\"c\"]}");
}

TEST(rfc_remove_member_and_element)
{
  CHECK_PATCH("{\"a\":1,\"b\":2}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", "{\"a\":1}");
  CHECK_PATCH("{\"l\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/l/1\"}]", "{\"l\":[1,3]}");
}

TEST(rfc_replace)
{
  CHECK_PATCH("{\"a\":1,\"b\":2}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":\"x\"}]",
              "{\"a\":\"x\",\"b\":2}");
}

TEST(rfc_move_member_and_element)
{
  CHECK_PATCH("{\"src\":{\"k\":\"v\",\"o\":1},\"dst\":{}}",
              "[{\"op\":\"move\",\"from\":\"/src/k\",\"path\":\"/dst/k\"}]",
              "{\"src\":{\"o\":1},\"dst\":{\"k\":\"v\"}}");
  CHECK_PATCH("{\"l\":[\"w\",\"x\",\"y\",\"z\"]}",
              "[{\"op\":\"move\",\"from\":\"/l/1\",\"path\":\"/l/3\"}]",
              "{\"l\":[\"w\",\"y\",\"z\",\"x\"]}");
}

TEST(rfc_test_success_and_failure)
{
  CHECK_PATCH("{\"n\":\"v\",\"l\":[1,\"two\"]}",
              "[{\"op\":\"test\",\"path\":\"/n\",\"value\":\"v\"},"
              "{\"op\":\"test\",\"path\":\"/l\",\"value\":[1,\"two\"]}]",
              "{\"n\":\"v\",\"l\":[1,\"two\"]}");
  CHECK_PATCH_FAILS("{\"n\":\"v\"}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":\"w\"}]", 422);
  /* a string never equals a number */
  CHECK_PATCH_FAILS("{\"n\":7}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":\"7\"}]", 422);
}

TEST(rfc_add_nested_object_and_array_value)
{
  CHECK_PATCH("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"g\":\"h\"}}]",
              "{\"a\":1,\"child\":{\"g\":\"h\"}}");
  CHECK_PATCH("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/l\",\"value\":[\"x\",[1]]}]",
              "{\"a\":1,\"l\":[\"x\",[1]]}");
}

TEST(rfc_unrecognized_members_ignored)
{
  CHECK_PATCH("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2,\"extra\":true}]",
              "{\"a\":1,\"b\":2}");
}

TEST(rfc_add_to_missing_parent_fails)
{
  CHECK_PATCH_FAILS("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/missing/x\",\"value\":1}]", 422);
}

TEST(rfc_pointer_escapes)
{
  CHECK_PATCH("{\"a/b\":1,\"c~d\":2}",
              "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":10},"
              "{\"op\":\"remove\",\"path\":\"/c~0d\"},"
              "{\"op\":\"add\",\"path\":\"/~01\",\"value\":3}]",
              "{\"a/b\":10,\"~1\":3}");
  /* the apiserver's usual case: a label key with a slash */
  CHECK_PATCH("{\"metadata\":{\"labels\":{}}}",
              "[{\"op\":\"add\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\","
              "\"value\":\"web\"}]",
              "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"web\"}}}");
}

TEST(array_append_and_index_bounds)
{
  CHECK_PATCH("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":2}]", "{\"l\":[1,2]}");
  CHECK_PATCH("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":2}]", "{\"l\":[1,2]}");
  CHECK_PATCH_FAILS("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/2\",\"value\":2}]", 422);
  CHECK_PATCH_FAILS("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/1\"}]", 422);
  CHECK_PATCH_FAILS("{\"l\":[1]}", "[{\"op\":\"replace\",\"path\":\"/l/x\",\"value\":0}]", 422);
  CHECK_PATCH_FAILS("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/-\"}]", 422);
  /* upstream accepts negative indices counting from the end */
  CHECK_PATCH("{\"l\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/l/-1\"}]", "{\"l\":[1,2]}");
  CHECK_PATCH_FAILS("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/-2\"}]", 422);
}

TEST(missing_paths_fail)
{
  CHECK_PATCH_FAILS("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", 422);
  CHECK_PATCH_FAILS("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/b\",\"path\":\"/c\"}]", 422);
  CHECK_PATCH_FAILS("{\"a\":1}", "[{\"op\":\"add\",\"value\":1}]", 422);
  CHECK_PATCH_FAILS("{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]", 422);
}

TEST(upstream_leniencies)
{
  /* replace of a missing member adds it */
  CHECK_PATCH("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]",
              "{\"a\":1,\"b\":2}");
  /* testing a missing member for null passes */
  CHECK_PATCH("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]", "{\"a\":1}");
  /* replacing the whole document */
  CHECK_PATCH("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}");
  /* a null patch changes nothing */
  CHECK_PATCH("{\"a\":1}", "null", "{\"a\":1}");
}

TEST(copy_and_copy_limit)
{
  CHECK_PATCH("{\"a\":{\"x\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
              "{\"a\":{\"x\":[1]},\"b\":{\"x\":[1]}}");
  /* doubling a 64 KiB value 6 times copies 4 MiB in total: over the 3 MiB limit */
  char *big = malloc(70000);
  memset(big, 'x', 65536);
  big[65536] = '\0';
  json_t *doc = json_pack("{s:[s]}", "a", big);
  json_t *patch = json_array();
  for (int i = 0; i < 6; i++)
    json_array_append_new(patch,
                          json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "/a", "path", "/a/-"));
  k8c_err err = {0};
  json_t *out = json_patch_apply(doc, patch, &err);
  CHECK(out == NULL);
  CHECK_INT(err.status, 422);
  CHECK_INT(json_array_size(json_object_get(doc, "a")), 1);
  json_decref(out);
  k8c_err_clear(&err);
  json_decref(patch);
  json_decref(doc);
  free(big);
}

TEST(malformed_patches_are_bad_requests)
{
  CHECK_PATCH_FAILS("{\"a\":1}", "{\"op\":\"add\"}", 400);
  CHECK_PATCH_FAILS("{\"a\":1}", "[1]", 400);
  CHECK_PATCH_FAILS("{\"a\":1}", "\"x\"", 400);
}

TEST(unknown_or_missing_op_is_unprocessable)
{
  k8c_err err = {0};
  json_t *out = apply("{\"a\":1}", "[{\"path\":\"/a\"}]", &err);
  CHECK(out == NULL);
  CHECK_INT(err.status, 422);
  CHECK_STR(err.reason, "Invalid");
  CHECK_STR(err.message, "the server rejected our request due to an error in our request");
  k8c_err_clear(&err);
  CHECK_PATCH_FAILS("{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", 422);
  CHECK_PATCH_FAILS("{\"a\":1}", "[null]", 422);
}

TEST(too_many_operations)
{
  json_t *doc = json_object();
  json_t *patch = json_array();
  for (int i = 0; i <= JSON_PATCH_MAX_OPERATIONS; i++)
    json_array_append_new(patch, json_pack("{s:s,s:s,s:n}", "op", "test", "path", "/x", "value"));
  k8c_err err = {0};
  CHECK(json_patch_apply(doc, patch, &err) == NULL);
  CHECK_INT(err.status, 413);
  CHECK_STR(err.reason, "RequestEntityTooLarge");
  k8c_err_clear(&err);
  json_array_remove(patch, 0);
  json_t *out = json_patch_apply(doc, patch, &err);
  CHECK(out != NULL);
  json_decref(out);
  json_decref(patch);
  json_decref(doc);
}

TEST(failure_leaves_document_untouched)
{
  json_t *doc = parse("{\"a\":1,\"l\":[1]}");
  json_t *patch = parse("[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"add\",\"path\":\"/l/0\","
                        "\"value\":0},{\"op\":\"test\",\"path\":\"/l/0\",\"value\":9}]");
  k8c_err err = {0};
  CHECK(json_patch_apply(doc, patch, &err) == NULL);
  CHECK_JSON(doc, "{\"a\":1,\"l\":[1]}");
  k8c_err_clear(&err);
  json_decref(patch);
  json_decref(doc);
}

TEST_MAIN()
