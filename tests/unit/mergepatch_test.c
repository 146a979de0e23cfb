/* mergepatch_test.c — RFC 7386 JSON Merge Patch: the RFC's example table (own
 * wording), upstream's null pruning and error statuses, and patch creation. */
#include "apimachinery/patch/mergepatch.h"
#include "testlib.h"

static json_t *
parse(const char *text)
{
  return json_loads(text, JSON_DECODE_ANY, NULL);
}

#define CHECK_MERGE(doc, patch, expected)                                                          \
  do {                                                                                             \
    json_t *d_ = parse(doc), *p_ = parse(patch);                                                   \
    k8c_err err_ = {0};                                                                            \
    json_t *out_ = merge_patch_apply(d_, p_, &err_);                                               \
    if (out_ == NULL)                                                                              \
      testlib_fail(__FILE__, __LINE__, "merge failed: %s", err_.message);                          \
    else                                                                                           \
      CHECK_JSON(out_, expected);                                                                  \
    json_decref(out_);                                                                             \
    json_decref(d_);                                                                               \
    json_decref(p_);                                                                               \
    k8c_err_clear(&err_);                                                                          \
  } while (0)

TEST(rfc_example_table)
{
  CHECK_MERGE("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
  CHECK_MERGE("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
  CHECK_MERGE("{\"a\":\"b\"}", "{\"a\":null}", "{}");
  CHECK_MERGE("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
  CHECK_MERGE("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
  CHECK_MERGE("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
  CHECK_MERGE("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
  CHECK_MERGE("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
  CHECK_MERGE("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
  CHECK_MERGE("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
  CHECK_MERGE("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
  CHECK_MERGE("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
  CHECK_MERGE("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

TEST(kubernetes_labels_and_lists)
{
  CHECK_MERGE("{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},"
              "\"spec\":{\"replicas\":1,\"ports\":[{\"port\":80}]}}",
              "{\"metadata\":{\"labels\":{\"b\":null,\"c\":\"3\"}},"
              "\"spec\":{\"replicas\":3,\"ports\":[{\"port\":443}]}}",
              "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"c\":\"3\"}},"
              "\"spec\":{\"replicas\":3,\"ports\":[{\"port\":443}]}}");
}

TEST(upstream_prunes_nulls_from_added_values)
{
  CHECK_MERGE("{}", "{\"a\":[1,null,{\"x\":null,\"y\":2}]}", "{\"a\":[1,{\"y\":2}]}");
  CHECK_MERGE("{\"a\":5}", "{\"a\":{\"x\":null,\"y\":1}}", "{\"a\":{\"y\":1}}");
}

TEST(inputs_are_not_modified)
{
  json_t *doc = parse("{\"a\":{\"b\":1}}"), *patch = parse("{\"a\":{\"c\":{\"d\":null}}}");
  k8c_err err = {0};
  json_t *out = merge_patch_apply(doc, patch, &err);
  CHECK_JSON(out, "{\"a\":{\"b\":1,\"c\":{}}}");
  CHECK_JSON(doc, "{\"a\":{\"b\":1}}");
  CHECK_JSON(patch, "{\"a\":{\"c\":{\"d\":null}}}");
  json_object_set_new(json_object_get(out, "a"), "b", json_integer(9));
  CHECK_JSON(doc, "{\"a\":{\"b\":1}}");
  json_decref(out);
  json_decref(doc);
  json_decref(patch);
}

TEST(bad_patches_are_bad_requests)
{
  const char *bad[] = {"null", "5", "\"x\"", "true"};
  json_t *doc = parse("{\"a\":1}");
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    json_t *patch = parse(bad[i]);
    k8c_err err = {0};
    CHECK(merge_patch_apply(doc, patch, &err) == NULL);
    CHECK_INT(err.status, 400);
    CHECK_STR(err.reason, "BadRequest");
    CHECK_STR(err.message, "Invalid JSON Patch");
    k8c_err_clear(&err);
    json_decref(patch);
  }
  json_t *null_doc = json_null(), *patch = parse("{}");
  k8c_err err = {0};
  CHECK(merge_patch_apply(null_doc, patch, &err) == NULL);
  CHECK_STR(err.message, "Invalid JSON Document");
  json_decref(patch);
  json_decref(doc);
}

TEST(create_patch)
{
  json_t *a = parse("{\"keep\":1,\"change\":\"x\",\"gone\":true,\"nested\":{\"p\":1,\"q\":2},"
                    "\"same\":{\"z\":[1,2]},\"list\":[1,2],\"num\":1}");
  json_t *b = parse("{\"keep\":1,\"change\":\"y\",\"nested\":{\"p\":1,\"r\":3},"
                    "\"same\":{\"z\":[1,2]},\"list\":[2,1],\"num\":1.0,\"new\":{\"k\":null}}");
  json_t *patch = merge_patch_create(a, b);
  CHECK_JSON(patch, "{\"change\":\"y\",\"gone\":null,\"nested\":{\"q\":null,\"r\":3},"
                    "\"list\":[2,1],\"new\":{\"k\":null}}");
  /* the patch turns a into b (the null inside an added value is pruned, as upstream) */
  k8c_err err = {0};
  json_t *applied = merge_patch_apply(a, patch, &err);
  CHECK_JSON(applied, "{\"keep\":1,\"change\":\"y\",\"nested\":{\"p\":1,\"r\":3},"
                      "\"same\":{\"z\":[1,2]},\"list\":[2,1],\"num\":1,\"new\":{}}");
  json_t *none = merge_patch_create(a, a);
  CHECK_JSON(none, "{}");
  CHECK(merge_patch_create(a, json_array_get(json_object_get(a, "list"), 0)) == NULL);
  json_decref(none);
  json_decref(applied);
  json_decref(patch);
  json_decref(a);
  json_decref(b);
}

TEST_MAIN()
