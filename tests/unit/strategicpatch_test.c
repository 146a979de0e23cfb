/* strategicpatch_test.c — strategic merge patch: semantics against a small fake schema,
 * then against the generated table with Deployments, including the patch body that
 * client-side `kubectl apply` sends. */
#include <string.h>

#include "apimachinery/patch/strategicpatch.h"
#include "testlib.h"

/* ---- a fake schema: definition "T" and its parts ---- */
static const struct schema_field fake_fields[] = {
    {"T", "items", SCHEMA_ARRAY, SCHEMA_OBJECT, "Item", "merge", "name", "map", "name", false,
     NULL},
    {"T", "tags", SCHEMA_ARRAY, SCHEMA_SCALAR, NULL, "merge", NULL, "set", NULL, false, NULL},
    {"T", "plain", SCHEMA_ARRAY, SCHEMA_SCALAR, NULL, NULL, NULL, "atomic", NULL, false, NULL},
    {"T", "objs", SCHEMA_ARRAY, SCHEMA_OBJECT, "Item", NULL, NULL, "atomic", NULL, false, NULL},
    {"T", "obj", SCHEMA_OBJECT, SCHEMA_SCALAR, "Obj", NULL, NULL, NULL, NULL, false, NULL},
    {"T", "rep", SCHEMA_OBJECT, SCHEMA_SCALAR, "Obj", "replace", NULL, NULL, NULL, false, NULL},
    {"T", "labels", SCHEMA_MAP, SCHEMA_SCALAR, NULL, NULL, NULL, NULL, NULL, false, NULL},
    {"T", "byname", SCHEMA_MAP, SCHEMA_OBJECT, "Obj", NULL, NULL, NULL, NULL, false, NULL},
    {"T", "lists", SCHEMA_ARRAY, SCHEMA_ARRAY, NULL, "merge", NULL, NULL, NULL, false, NULL},
    {"Item", "name", SCHEMA_SCALAR, SCHEMA_SCALAR, NULL, NULL, NULL, NULL, NULL, true, NULL},
    {"Item", "env", SCHEMA_ARRAY, SCHEMA_OBJECT, "Item", "merge", "name", "map", "name", false,
     NULL},
    {"Obj", "list", SCHEMA_ARRAY, SCHEMA_SCALAR, NULL, "merge", NULL, NULL, NULL, false, NULL},
};

static const struct schema_field *
fake_lookup(const char *definition, const char *field)
{
  for (size_t i = 0; i < sizeof fake_fields / sizeof *fake_fields; i++)
    if (strcmp(fake_fields[i].definition, definition) == 0 &&
        strcmp(fake_fields[i].name, field) == 0)
      return &fake_fields[i];
  return NULL;
}

static const struct smp_schema fake_schema = {.lookup = fake_lookup};

static json_t *
parse(const char *text)
{
  json_error_t jerr;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
  if (v == NULL)
    fprintf(stderr, "bad test JSON: %s\n  %s\n", jerr.text, text);
  return v;
}

static json_t *
smp(const struct smp_schema *schema, const char *definition, const char *doc_text,
    const char *patch_text, k8c_err *err)
{
  json_t *doc = parse(doc_text), *patch = parse(patch_text);
  json_t *out = strategic_merge_patch_apply_with_schema(doc, patch, definition, schema, err);
  json_decref(doc);
  json_decref(patch);
  return out;
}

#define CHECK_SMP_WITH(schema, def, doc, patch, expected)                                          \
  do {                                                                                             \
    k8c_err err_ = {0};                                                                            \
    json_t *out_ = smp(schema, def, doc, patch, &err_);                                            \
    if (out_ == NULL)                                                                              \
      testlib_fail(__FILE__, __LINE__, "patch failed: %d %s", err_.status, err_.message);          \
    else                                                                                           \
      CHECK_JSON(out_, expected);                                                                  \
    json_decref(out_);                                                                             \
    k8c_err_clear(&err_);                                                                          \
  } while (0)

#define CHECK_SMP_FAILS_WITH(schema, def, doc, patch, status_)                                     \
  do {                                                                                             \
    k8c_err err_ = {0};                                                                            \
    json_t *out_ = smp(schema, def, doc, patch, &err_);                                            \
    CHECK(out_ == NULL);                                                                           \
    CHECK_INT(err_.status, status_);                                                               \
    json_decref(out_);                                                                             \
    k8c_err_clear(&err_);                                                                          \
  } while (0)

#define CHECK_SMP(doc, patch, expected) CHECK_SMP_WITH(&fake_schema, "T", doc, patch, expected)
#define CHECK_SMP_FAILS(doc, patch, status_)                                                       \
  CHECK_SMP_FAILS_WITH(&fake_schema, "T", doc, patch, status_)

TEST(maps_merge_and_null_deletes)
{
  CHECK_SMP("{\"labels\":{\"a\":\"1\",\"b\":\"2\"},\"obj\":{\"x\":1},\"s\":\"v\"}",
            "{\"labels\":{\"b\":null,\"c\":\"3\"},\"obj\":{\"y\":2},\"s\":null,\"n\":null}",
            "{\"labels\":{\"a\":\"1\",\"c\":\"3\"},\"obj\":{\"x\":1,\"y\":2}}");
}

TEST(list_of_objects_merges_by_key)
{
  CHECK_SMP("{\"items\":[{\"name\":\"a\",\"v\":1},{\"name\":\"b\",\"v\":2}]}",
            "{\"items\":[{\"name\":\"b\",\"v\":20,\"w\":true},{\"name\":\"c\",\"v\":3}]}",
            "{\"items\":[{\"name\":\"a\",\"v\":1},{\"name\":\"b\",\"v\":20,\"w\":true},"
            "{\"name\":\"c\",\"v\":3}]}");
  /* nested merge lists merge too */
  CHECK_SMP("{\"items\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"}]}]}",
            "{\"items\":[{\"name\":\"a\",\"env\":[{\"name\":\"Y\",\"value\":\"2\"}]}]}",
            "{\"items\":[{\"name\":\"a\",\"env\":[{\"name\":\"Y\",\"value\":\"2\"},"
            "{\"name\":\"X\",\"value\":\"1\"}]}]}");
}

/* Upstream orders a merged list as: patch items in patch order, interleaved with the
 * server-only items by their live positions; items new to the list come first. */
TEST(merged_list_order_follows_upstream)
{
  CHECK_SMP("{\"items\":[{\"name\":\"a\"}]}", "{\"items\":[{\"name\":\"z\"},{\"name\":\"m\"}]}",
            "{\"items\":[{\"name\":\"z\"},{\"name\":\"m\"},{\"name\":\"a\"}]}");
  CHECK_SMP("{\"items\":[{\"name\":\"1\"},{\"name\":\"2\",\"v\":\"b\"},{\"name\":\"3\"}]}",
            "{\"items\":[{\"name\":\"3\",\"v\":\"c\"},{\"name\":\"1\",\"v\":\"a\"}]}",
            "{\"items\":[{\"name\":\"2\",\"v\":\"b\"},{\"name\":\"3\",\"v\":\"c\"},"
            "{\"name\":\"1\",\"v\":\"a\"}]}");
  CHECK_SMP("{\"tags\":[1,2,3]}", "{\"tags\":[3,1]}", "{\"tags\":[2,3,1]}");
}

TEST(primitive_merge_lists_union_others_replace)
{
  CHECK_SMP("{\"tags\":[\"a\",\"b\"],\"plain\":[1,2],\"objs\":[{\"name\":\"a\"}]}",
            "{\"tags\":[\"c\",\"a\"],\"plain\":[3],\"objs\":[{\"name\":\"b\"}]}",
            "{\"tags\":[\"c\",\"a\",\"b\"],\"plain\":[3],\"objs\":[{\"name\":\"b\"}]}");
}

TEST(delete_from_primitive_list)
{
  CHECK_SMP("{\"tags\":[\"a\",\"b\",\"c\"]}",
            "{\"$deleteFromPrimitiveList/tags\":[\"b\"],\"tags\":[\"d\"]}",
            "{\"tags\":[\"d\",\"a\",\"c\"]}");
  /* nothing to delete from: no list appears */
  CHECK_SMP("{}", "{\"$deleteFromPrimitiveList/tags\":[\"b\"]}", "{}");
  CHECK_SMP_FAILS("{\"tags\":[]}", "{\"$deleteFromPrimitiveListtags\":[\"b\"]}", 400);
}

TEST(patch_directives_in_lists)
{
  CHECK_SMP("{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
            "{\"items\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}",
            "{\"items\":[{\"name\":\"b\"}]}");
  CHECK_SMP("{\"items\":[{\"name\":\"a\",\"v\":1},{\"name\":\"b\"}]}",
            "{\"items\":[{\"$patch\":\"replace\"},{\"name\":\"c\"}]}",
            "{\"items\":[{\"name\":\"c\"}]}");
  CHECK_SMP_FAILS("{\"items\":[{\"name\":\"a\"}]}", "{\"items\":[{\"$patch\":\"delete\"}]}", 500);
  CHECK_SMP_FAILS("{\"items\":[{\"name\":\"a\"}]}",
                  "{\"items\":[{\"name\":\"a\",\"$patch\":\"merge\"}]}", 500);
  CHECK_SMP_FAILS("{\"items\":[{\"name\":\"a\"}]}",
                  "{\"items\":[{\"name\":\"a\",\"$patch\":\"bogus\"}]}", 500);
}

TEST(patch_directives_in_maps)
{
  CHECK_SMP("{\"obj\":{\"x\":1,\"y\":2}}", "{\"obj\":{\"$patch\":\"replace\",\"z\":3}}",
            "{\"obj\":{\"z\":3}}");
  CHECK_SMP("{\"obj\":{\"x\":1},\"k\":1}", "{\"obj\":{\"$patch\":\"delete\"}}",
            "{\"obj\":{},\"k\":1}");
  /* a new member that carries a directive is dropped */
  CHECK_SMP("{\"k\":1}", "{\"obj\":{\"$patch\":\"delete\"}}", "{\"k\":1}");
  CHECK_SMP_FAILS("{\"obj\":{}}", "{\"obj\":{\"$patch\":\"explode\"}}", 500);
  /* the replace strategy takes the patch's map as it is */
  CHECK_SMP("{\"rep\":{\"x\":1}}", "{\"rep\":{\"y\":2}}", "{\"rep\":{\"y\":2}}");
}

TEST(retain_keys)
{
  CHECK_SMP("{\"obj\":{\"type\":\"A\",\"a\":{\"k\":1},\"keep\":true}}",
            "{\"obj\":{\"$retainKeys\":[\"type\",\"keep\"],\"type\":\"B\"}}",
            "{\"obj\":{\"type\":\"B\",\"keep\":true}}");
  CHECK_SMP_FAILS("{\"obj\":{}}", "{\"obj\":{\"$retainKeys\":[\"type\"],\"other\":1}}", 400);
  CHECK_SMP_FAILS("{\"obj\":{}}", "{\"obj\":{\"$retainKeys\":\"type\"}}", 400);
}

TEST(set_element_order)
{
  CHECK_SMP("{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}",
            "{\"$setElementOrder/items\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":\"b\"}]}",
            "{\"items\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":\"b\"}]}");
  CHECK_SMP("{\"items\":[{\"name\":\"a\",\"v\":1},{\"name\":\"b\"}]}",
            "{\"$setElementOrder/items\":[{\"name\":\"n\"},{\"name\":\"b\"},{\"name\":\"a\"}],"
            "\"items\":[{\"name\":\"n\"},{\"name\":\"a\",\"v\":2}]}",
            "{\"items\":[{\"name\":\"n\"},{\"name\":\"b\"},{\"name\":\"a\",\"v\":2}]}");
  CHECK_SMP("{\"tags\":[\"x\",\"y\"]}",
            "{\"$setElementOrder/tags\":[\"z\",\"y\",\"x\"],\"tags\":[\"z\"]}",
            "{\"tags\":[\"z\",\"y\",\"x\"]}");
  CHECK_SMP_FAILS("{\"items\":[]}", "{\"$setElementOrderitems\":[]}", 400);
  /* the patch list must follow the order list */
  CHECK_SMP_FAILS("{\"items\":[{\"name\":\"a\"}]}",
                  "{\"$setElementOrder/items\":[{\"name\":\"a\"}],\"items\":[{\"name\":\"q\"}]}",
                  500);
}

TEST(merge_key_missing_and_bad_lists)
{
  CHECK_SMP_FAILS("{\"items\":[{\"name\":\"a\"}]}", "{\"items\":[{\"v\":1}]}", 500);
  CHECK_SMP_FAILS("{\"tags\":[\"a\"]}", "{\"tags\":[1]}", 500);
  CHECK_SMP_FAILS("{\"lists\":[[1]]}", "{\"lists\":[[2]]}", 422);
  CHECK_SMP_FAILS("[]", "{}", 400);
  CHECK_SMP_FAILS("{}", "[]", 400);
}

TEST(unknown_fields_patch_like_merge_patch)
{
  CHECK_SMP("{\"x\":{\"l\":[{\"name\":\"a\"}],\"m\":{\"p\":1}}}",
            "{\"x\":{\"l\":[{\"name\":\"b\"}],\"m\":{\"q\":2}}}",
            "{\"x\":{\"l\":[{\"name\":\"b\"}],\"m\":{\"p\":1,\"q\":2}}}");
  CHECK_SMP_WITH(&fake_schema, NULL, "{\"a\":[1]}", "{\"a\":[2]}", "{\"a\":[2]}");
}

TEST(map_of_objects_uses_value_definition)
{
  CHECK_SMP("{\"byname\":{\"k\":{\"list\":[\"a\"]}}}", "{\"byname\":{\"k\":{\"list\":[\"b\"]}}}",
            "{\"byname\":{\"k\":{\"list\":[\"b\",\"a\"]}}}");
}

TEST(inputs_untouched_and_no_directives_left)
{
  json_t *doc = parse("{\"items\":[{\"name\":\"a\",\"v\":1}]}");
  json_t *patch =
      parse("{\"items\":[{\"name\":\"b\",\"env\":[{\"name\":\"E\",\"$patch\":\"x\"}],"
            "\"$setElementOrder/env\":[{\"name\":\"E\"}]}],\"$retainKeys\":[\"items\"]}");
  k8c_err err = {0};
  json_t *out = strategic_merge_patch_apply_with_schema(doc, patch, "T", &fake_schema, &err);
  CHECK_JSON(out,
             "{\"items\":[{\"name\":\"b\",\"env\":[{\"name\":\"E\"}]},{\"name\":\"a\",\"v\":1}]}");
  CHECK_JSON(doc, "{\"items\":[{\"name\":\"a\",\"v\":1}]}");
  CHECK(json_object_get(patch, "$retainKeys") != NULL);
  json_decref(out);
  json_decref(doc);
  json_decref(patch);
  out = smp(&fake_schema, "T", "{\"a\":1}", "null", &err);
  CHECK_JSON(out, "{\"a\":1}");
  json_decref(out);
}

/* ---- the generated schema table ---- */
#define DEPLOYMENT "io.k8s.api.apps.v1.Deployment"
#define CHECK_DEPLOY(doc, patch, expected)                                                         \
  CHECK_SMP_WITH(&smp_schema_builtin, DEPLOYMENT, doc, patch, expected)

static const char live_deployment[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\","
    "\"finalizers\":[\"example.com/a\",\"example.com/b\"],"
    "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"old\\\":1}\\n\"},"
    "\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"25%\","
    "\"maxUnavailable\":\"25%\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80,"
    "\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},"
    "{\"name\":\"sidecar\",\"image\":\"busybox:1.36\"}],"
    "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}],"
    "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\"}}},"
    "\"status\":{\"replicas\":2}}";

TEST(deployment_containers_merge_by_name)
{
  k8c_err err = {0};
  json_t *out = smp(&smp_schema_builtin, DEPLOYMENT, live_deployment,
                    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\","
                    "\"image\":\"busybox:1.37\"},{\"name\":\"log\",\"image\":\"fluent\"}]}}}}",
                    &err);
  CHECK(out != NULL);
  json_t *containers = json_object_get(
      json_object_get(json_object_get(json_object_get(out, "spec"), "template"), "spec"),
      "containers");
  CHECK_JSON(
      containers,
      "[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80,"
      "\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},"
      "{\"name\":\"sidecar\",\"image\":\"busybox:1.37\"},{\"name\":\"log\",\"image\":\"fluent\"}]");
  CHECK_JSON(json_object_get(out, "status"), "{\"replicas\":2}");
  json_decref(out);
}

TEST(deployment_delete_container_env_and_finalizer)
{
  k8c_err err = {0};
  json_t *out = smp(&smp_schema_builtin, DEPLOYMENT, live_deployment,
                    "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"example.com/a\"]},"
                    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\","
                    "\"$patch\":\"delete\"},{\"name\":\"web\",\"env\":[{\"name\":\"A\","
                    "\"$patch\":\"delete\"},{\"name\":\"B\",\"value\":\"2\"}]}]}}}}",
                    &err);
  CHECK(out != NULL);
  CHECK_JSON(json_object_get(json_object_get(out, "metadata"), "finalizers"),
             "[\"example.com/b\"]");
  json_t *containers = json_object_get(
      json_object_get(json_object_get(json_object_get(out, "spec"), "template"), "spec"),
      "containers");
  CHECK_JSON(containers,
             "[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80,"
             "\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"B\",\"value\":\"2\"}]}]");
  json_decref(out);
}

TEST(deployment_strategy_retain_keys)
{
  k8c_err err = {0};
  json_t *out =
      smp(&smp_schema_builtin, DEPLOYMENT, live_deployment,
          "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}", &err);
  CHECK(out != NULL);
  CHECK_JSON(json_object_get(json_object_get(out, "spec"), "strategy"), "{\"type\":\"Recreate\"}");
  json_decref(out);
  /* without the directive the old rollingUpdate stays, as upstream */
  out = smp(&smp_schema_builtin, DEPLOYMENT, live_deployment,
            "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}", &err);
  CHECK(json_object_get(json_object_get(json_object_get(out, "spec"), "strategy"),
                        "rollingUpdate") != NULL);
  json_decref(out);
}

/* What `kubectl apply` (client side) sends after the manifest changed the image of one
 * container, the replica count, and the "data" volume from emptyDir to a ConfigMap. */
TEST(kubectl_apply_patch_against_deployment)
{
  const char *patch =
      "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
      "\"{\\\"apiVersion\\\":\\\"apps/v1\\\",\\\"kind\\\":\\\"Deployment\\\",\\\"metadata\\\":"
      "{\\\"annotations\\\":{},\\\"name\\\":\\\"web\\\",\\\"namespace\\\":\\\"default\\\"},"
      "\\\"spec\\\":{\\\"replicas\\\":5}}\\n\"}},"
      "\"spec\":{\"replicas\":5,\"template\":{\"spec\":{"
      "\"$setElementOrder/containers\":[{\"name\":\"web\"},{\"name\":\"sidecar\"}],"
      "\"$setElementOrder/volumes\":[{\"name\":\"data\"}],"
      "\"containers\":[{\"image\":\"nginx:1.27\",\"name\":\"web\"}],"
      "\"volumes\":[{\"$retainKeys\":[\"configMap\",\"name\"],\"configMap\":{\"name\":\"web-"
      "config\"},"
      "\"name\":\"data\"}]}}}}";
  k8c_err err = {0};
  json_t *out = smp(&smp_schema_builtin, DEPLOYMENT, live_deployment, patch, &err);
  if (out == NULL) {
    testlib_fail(__FILE__, __LINE__, "kubectl patch failed: %d %s", err.status, err.message);
    return;
  }
  json_t *spec = json_object_get(out, "spec");
  json_t *pod = json_object_get(json_object_get(spec, "template"), "spec");
  CHECK_INT(json_integer_value(json_object_get(spec, "replicas")), 5);
  CHECK_JSON(json_object_get(pod, "containers"),
             "[{\"name\":\"web\",\"image\":\"nginx:1.27\",\"ports\":[{\"containerPort\":80,"
             "\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},"
             "{\"name\":\"sidecar\",\"image\":\"busybox:1.36\"}]");
  CHECK_JSON(json_object_get(pod, "volumes"),
             "[{\"name\":\"data\",\"configMap\":{\"name\":\"web-config\"}}]");
  CHECK_STR(json_string_value(json_object_get(pod, "restartPolicy")), "Always");
  const char *last = json_string_value(
      json_object_get(json_object_get(json_object_get(out, "metadata"), "annotations"),
                      "kubectl.kubernetes.io/last-applied-configuration"));
  CHECK(last != NULL && strstr(last, "\"replicas\":5") != NULL);
  CHECK_JSON(json_object_get(json_object_get(out, "metadata"), "labels"), "{\"app\":\"web\"}");
  json_decref(out);
}

TEST(deployment_reorder_with_set_element_order)
{
  k8c_err err = {0};
  json_t *out = smp(&smp_schema_builtin, DEPLOYMENT, live_deployment,
                    "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":"
                    "[{\"name\":\"sidecar\"},{\"name\":\"web\"}]}}}}",
                    &err);
  json_t *containers = json_object_get(
      json_object_get(json_object_get(json_object_get(out, "spec"), "template"), "spec"),
      "containers");
  CHECK_STR(json_string_value(json_object_get(json_array_get(containers, 0), "name")), "sidecar");
  CHECK_STR(json_string_value(json_object_get(json_array_get(containers, 1), "name")), "web");
  json_decref(out);
}

TEST(deployment_missing_merge_key_is_reported)
{
  k8c_err err = {0};
  json_t *out =
      smp(&smp_schema_builtin, DEPLOYMENT, live_deployment,
          "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}", &err);
  CHECK(out == NULL);
  CHECK_INT(err.status, 500);
  CHECK(strstr(err.message, "does not contain declared merge key: name") != NULL);
  k8c_err_clear(&err);
}

TEST_MAIN()
