/* apply_test.c — server-side apply and Update ownership tracking: managedFields in
 * FieldsV1 form, conflicts, force, pruning, keyed lists, and kubectl's apply flow on the
 * seed Deployment. Uses the real schema table with a fixed clock; one test uses a fake
 * schema through the apply_env indirection. */
#include "api/resource.h"
#include "api/schema.h"
#include "apimachinery/fieldset.h"
#include "registry/apply.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#define DEPLOYMENT "io.k8s.api.apps.v1.Deployment"
#define T1 "2025-01-01T00:00:00Z"
#define T2 "2025-01-02T00:00:00Z"

/* The first document of shared/examples/seed/web.yaml, as kubectl sends it. */
static const char seed_deployment[] =
    "{\"apiVersion\":\"apps/"
    "v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"nginx-deployment\","
    "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":"
    "\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":["
    "{"
    "\"name\":\"nginx\",\"image\":\"nginx:1.27-alpine\",\"ports\":[{\"containerPort\":80}],"
    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},\"initialDelaySeconds\":2,"
    "\"periodSeconds\":5},\"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},"
    "\"initialDelaySeconds\":5,\"periodSeconds\":10},\"resources\":{\"requests\":{\"cpu\":\"50m\","
    "\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"200m\",\"memory\":\"128Mi\"}}}]}}}}";

static const char seed_fields[] =
    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
    "\"f:spec\":{\"f:replicas\":{},\"f:selector\":{},\"f:template\":{"
    "\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":{"
    "\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:name\":{},\"f:image\":{},"
    "\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
    "\"f:containerPort\":{}}},"
    "\"f:readinessProbe\":{\"f:httpGet\":{\"f:path\":{},\"f:port\":{}},"
    "\"f:initialDelaySeconds\":{},\"f:periodSeconds\":{}},"
    "\"f:livenessProbe\":{\"f:httpGet\":{\"f:path\":{},\"f:port\":{}},"
    "\"f:initialDelaySeconds\":{},\"f:periodSeconds\":{}},"
    "\"f:resources\":{\"f:requests\":{\"f:cpu\":{},\"f:memory\":{}},"
    "\"f:limits\":{\"f:cpu\":{},\"f:memory\":{}}}}}}}}}";

static const char *
definition_for(const char *api_version, const char *kind)
{
  const char *slash = strchr(api_version, '/');
  char group[64] = "";
  if (slash)
    snprintf(group, sizeof group, "%.*s", (int)(slash - api_version), api_version);
  const struct api_resource *r =
      api_resource_find_kind(group, slash ? slash + 1 : api_version, kind);
  return r ? r->definition : NULL;
}

static const struct apply_env env1 = {schema_field_lookup, definition_for, T1};
static const struct apply_env env2 = {schema_field_lookup, definition_for, T2};

static json_t *
parse(const char *text)
{
  json_error_t jerr;
  json_t *v = json_loads(text, 0, &jerr);
  if (v == NULL)
    fprintf(stderr, "bad test JSON: %s\n", jerr.text);
  return v;
}

static json_t *
managed(const json_t *obj)
{
  return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

/* The managedFields entry of `manager` (NULL if none). */
static json_t *
entry_of(const json_t *obj, const char *manager)
{
  size_t i;
  json_t *e;
  json_array_foreach (managed(obj), i, e) {
    if (strcmp(json_string_value(json_object_get(e, "manager")), manager) == 0)
      return e;
  }
  return NULL;
}

static json_t *
fields_of(const json_t *obj, const char *manager)
{
  return json_object_get(entry_of(obj, manager), "fieldsV1");
}

static json_t *
apply_text(const struct apply_env *env, const json_t *live, const char *text, const char *manager,
           bool force, k8c_err *err)
{
  json_t *applied = parse(text);
  json_t *out = apply_server_side_env(env, live, applied, DEPLOYMENT, manager, force, err);
  json_decref(applied);
  return out;
}

static json_t *
seed_created(void)
{
  k8c_err err = {0};
  json_t *obj = apply_text(&env1, NULL, seed_deployment, "kubectl", false, &err);
  CHECK(obj != NULL);
  k8c_err_clear(&err);
  return obj;
}

TEST(create_via_apply_is_applied_plus_entry)
{
  json_t *obj = seed_created();
  json_t *expected = parse(seed_deployment);
  json_t *without = json_deep_copy(obj);
  json_object_del(json_object_get(without, "metadata"), "managedFields");
  CHECK(json_equal(without, expected));
  CHECK_INT(json_array_size(managed(obj)), 1);
  json_t *e = entry_of(obj, "kubectl");
  CHECK_STR(json_string_value(json_object_get(e, "operation")), "Apply");
  CHECK_STR(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
  CHECK_STR(json_string_value(json_object_get(e, "time")), T1);
  CHECK_STR(json_string_value(json_object_get(e, "fieldsType")), "FieldsV1");
  CHECK(json_object_get(e, "subresource") == NULL);
  CHECK_JSON(fields_of(obj, "kubectl"), seed_fields);
  json_decref(without);
  json_decref(expected);
  json_decref(obj);
}

TEST(reapply_identical_changes_nothing)
{
  json_t *obj = seed_created();
  k8c_err err = {0};
  json_t *again = apply_text(&env2, obj, seed_deployment, "kubectl", false, &err);
  CHECK(again != NULL);
  CHECK(json_equal(again, obj));
  CHECK_STR(json_string_value(json_object_get(entry_of(again, "kubectl"), "time")), T1);
  json_decref(again);
  json_decref(obj);
}

TEST(kubectl_apply_then_change_image)
{
  json_t *obj = seed_created();
  json_t *changed = parse(seed_deployment);
  json_t *container = json_array_get(
      json_object_get(
          json_object_get(json_object_get(json_object_get(changed, "spec"), "template"), "spec"),
          "containers"),
      0);
  json_object_set_new(container, "image", json_string("nginx:1.28-alpine"));
  k8c_err err = {0};
  json_t *next = apply_server_side_env(&env2, obj, changed, DEPLOYMENT, "kubectl", false, &err);
  CHECK(next != NULL);
  json_t *containers = json_object_get(
      json_object_get(json_object_get(json_object_get(next, "spec"), "template"), "spec"),
      "containers");
  CHECK_INT(json_array_size(containers), 1);
  CHECK_STR(json_string_value(json_object_get(json_array_get(containers, 0), "image")),
            "nginx:1.28-alpine");
  CHECK_JSON(fields_of(next, "kubectl"), seed_fields);
  CHECK_STR(json_string_value(json_object_get(entry_of(next, "kubectl"), "time")), T2);
  CHECK_INT(json_array_size(managed(next)), 1);
  json_decref(next);
  json_decref(changed);
  json_decref(obj);
}

TEST(apply_dropping_fields_removes_them)
{
  k8c_err err = {0};
  json_t *obj = apply_text(&env1, NULL,
                           "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                           "\"name\":\"d\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},"
                           "\"spec\":{\"replicas\":3,\"paused\":true}}",
                           "mgr", false, &err);
  CHECK(obj != NULL);
  json_t *next =
      apply_text(&env2, obj,
                 "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                 "\"name\":\"d\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3}}",
                 "mgr", false, &err);
  CHECK(next != NULL);
  json_t *spec = json_object_get(next, "spec");
  CHECK(json_object_get(spec, "paused") == NULL);
  CHECK_JSON(json_object_get(json_object_get(next, "metadata"), "labels"), "{\"app\":\"web\"}");
  CHECK_STR(json_string_value(json_object_get(json_object_get(next, "metadata"), "name")), "d");
  CHECK_JSON(fields_of(next, "mgr"),
             "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{}}}");
  /* dropping every label removes the labels map itself */
  json_t *last = apply_text(&env2, next,
                            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                            "\"name\":\"d\"},\"spec\":{\"replicas\":3}}",
                            "mgr", false, &err);
  CHECK(last != NULL);
  CHECK(json_object_get(json_object_get(last, "metadata"), "labels") == NULL);
  CHECK_STR(json_string_value(json_object_get(json_object_get(last, "metadata"), "name")), "d");
  json_decref(last);
  json_decref(next);
  json_decref(obj);
}

TEST(second_manager_conflicts_and_force_takes_ownership)
{
  json_t *obj = seed_created();
  const char *other = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                      "\"name\":\"nginx-deployment\"},\"spec\":{\"replicas\":5}}";
  k8c_err err = {0};
  json_t *refused = apply_text(&env2, obj, other, "scaler", false, &err);
  CHECK(refused == NULL);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, "Conflict");
  CHECK_STR(err.message, "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas");
  CHECK_JSON(err.causes, "[{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with "
                         "\\\"kubectl\\\"\",\"field\":\".spec.replicas\"}]");
  k8c_err_clear(&err);

  /* the same value is no conflict: both own it */
  json_t *shared = apply_text(&env2, obj,
                              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                              "\"name\":\"nginx-deployment\"},\"spec\":{\"replicas\":3}}",
                              "scaler", false, &err);
  CHECK(shared != NULL);
  CHECK_JSON(fields_of(shared, "scaler"), "{\"f:spec\":{\"f:replicas\":{}}}");
  CHECK(json_object_get(json_object_get(fields_of(shared, "kubectl"), "f:spec"), "f:replicas"));
  json_decref(shared);

  json_t *forced = apply_text(&env2, obj, other, "scaler", true, &err);
  CHECK(forced != NULL);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(forced, "spec"), "replicas")), 5);
  CHECK_JSON(fields_of(forced, "scaler"), "{\"f:spec\":{\"f:replicas\":{}}}");
  CHECK(json_object_get(json_object_get(fields_of(forced, "kubectl"), "f:spec"), "f:replicas") ==
        NULL);
  CHECK_INT(json_array_size(managed(forced)), 2);
  /* kubectl re-applying its config now conflicts with the new owner */
  json_t *back = apply_text(&env2, forced, seed_deployment, "kubectl", false, &err);
  CHECK(back == NULL);
  CHECK_STR(err.message, "Apply failed with 1 conflict: conflict with \"scaler\": .spec.replicas");
  k8c_err_clear(&err);
  json_decref(forced);
  json_decref(obj);
}

TEST(conflicts_with_several_fields_list_them)
{
  json_t *obj = seed_created();
  k8c_err err = {0};
  json_t *refused = apply_text(
      &env2, obj,
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"nginx-"
      "deployment\"},\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{\"name\":"
      "\"nginx\",\"image\":\"busybox\"}]}}}}",
      "other", false, &err);
  CHECK(refused == NULL);
  CHECK_STR(err.message, "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n"
                         "- .spec.replicas\n"
                         "- .spec.template.spec.containers[name=\"nginx\"].image");
  CHECK_INT(json_array_size(err.causes), 2);
  k8c_err_clear(&err);
  json_decref(obj);
}

TEST(update_by_another_manager_moves_ownership)
{
  json_t *obj = seed_created();
  json_t *edited = json_deep_copy(obj);
  json_object_set_new(json_object_get(edited, "spec"), "replicas", json_integer(7));
  apply_track_update_env(&env2, edited, obj, "kubectl-edit", "Update", "");
  json_t *e = entry_of(edited, "kubectl-edit");
  CHECK(e != NULL);
  CHECK_STR(json_string_value(json_object_get(e, "operation")), "Update");
  CHECK_STR(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
  CHECK_STR(json_string_value(json_object_get(e, "time")), T2);
  CHECK_JSON(fields_of(edited, "kubectl-edit"), "{\"f:spec\":{\"f:replicas\":{}}}");
  CHECK(json_object_get(json_object_get(fields_of(edited, "kubectl"), "f:spec"), "f:replicas") ==
        NULL);
  CHECK_STR(json_string_value(json_object_get(entry_of(edited, "kubectl"), "time")), T1);
  /* Apply entries sort before Update entries */
  CHECK_STR(json_string_value(json_object_get(json_array_get(managed(edited), 0), "manager")),
            "kubectl");

  /* re-applying the old replicas now conflicts with the editor */
  k8c_err err = {0};
  json_t *refused = apply_text(&env2, edited, seed_deployment, "kubectl", false, &err);
  CHECK(refused == NULL);
  CHECK_STR(err.message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using "
                         "apps/v1: .spec.replicas");
  k8c_err_clear(&err);

  /* an update that changes nothing adds no entry and keeps times */
  json_t *same = json_deep_copy(edited);
  apply_track_update_env(&env1, same, edited, "noop", "Update", "");
  CHECK(json_equal(same, edited));
  json_decref(same);
  json_decref(edited);
  json_decref(obj);
}

TEST(update_on_create_owns_everything)
{
  json_t *obj = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                      "\"name\":\"d\",\"namespace\":\"default\",\"uid\":\"u\",\"labels\":{\"app\":"
                      "\"web\"}},\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":"
                      "[{\"name\":\"c\",\"image\":\"i\"}]}}},\"status\":{}}");
  apply_track_update_env(&env1, obj, NULL, NULL, "Update", "");
  CHECK_INT(json_array_size(managed(obj)), 1);
  CHECK_JSON(fields_of(obj, "unknown"),
             "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},"
             "\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{\".\":{},"
             "\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:name\":{},\"f:image\":{}}}}}},"
             "\"f:status\":{}}");
  /* a status write by a controller moves only the status fields */
  json_t *status = json_deep_copy(obj);
  json_object_set_new(status, "status", json_pack("{s:i}", "replicas", 2));
  apply_track_update_env(&env2, status, obj, "kube-controller-manager", "Update", "status");
  json_t *e = entry_of(status, "kube-controller-manager");
  CHECK_STR(json_string_value(json_object_get(e, "subresource")), "status");
  CHECK_JSON(json_object_get(e, "fieldsV1"), "{\"f:status\":{\"f:replicas\":{}}}");
  CHECK(json_object_get(json_object_get(fields_of(status, "unknown"), "f:status"), "f:replicas") ==
        NULL);
  CHECK_STR(json_string_value(json_object_get(entry_of(status, "unknown"), "time")), T1);
  json_decref(status);
  json_decref(obj);
}

TEST(keyed_lists_merge_by_key)
{
  /* live: two containers and two ports, created by someone else */
  json_t *live = parse(
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
      "\"spec\":{\"template\":{\"spec\":{\"containers\":["
      "{\"name\":\"nginx\",\"image\":\"nginx:1\",\"ports\":[{\"containerPort\":80,\"protocol\":"
      "\"TCP\"},{\"containerPort\":53,\"protocol\":\"UDP\"}]},"
      "{\"name\":\"sidecar\",\"image\":\"side:1\"}]}}}}");
  apply_track_update_env(&env1, live, NULL, "kubectl-create", "Update", "");
  k8c_err err = {0};
  json_t *next = apply_text(
      &env2, live,
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
      "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"ports\":["
      "{\"containerPort\":80,\"name\":\"http\"},{\"containerPort\":443}]}]}}}}",
      "mgr", false, &err);
  CHECK(next != NULL);
  json_t *containers = json_object_get(
      json_object_get(json_object_get(json_object_get(next, "spec"), "template"), "spec"),
      "containers");
  CHECK_JSON(containers, "[{\"name\":\"nginx\",\"image\":\"nginx:1\",\"ports\":["
                         "{\"containerPort\":80,\"protocol\":\"TCP\",\"name\":\"http\"},"
                         "{\"containerPort\":53,\"protocol\":\"UDP\"},"
                         "{\"containerPort\":443}]},"
                         "{\"name\":\"sidecar\",\"image\":\"side:1\"}]");
  CHECK_JSON(fields_of(next, "mgr"),
             "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{"
             "\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:name\":{},\"f:ports\":{"
             "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
             "\"f:containerPort\":{},\"f:name\":{}},"
             "\"k:{\\\"containerPort\\\":443,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
             "\"f:containerPort\":{}}}}}}}}}");
  /* dropping port 443 from the config removes it; the creator's items stay */
  json_t *after = apply_text(
      &env2, next,
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
      "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"ports\":["
      "{\"containerPort\":80,\"name\":\"http\"}]}]}}}}",
      "mgr", false, &err);
  CHECK(after != NULL);
  containers = json_object_get(
      json_object_get(json_object_get(json_object_get(after, "spec"), "template"), "spec"),
      "containers");
  CHECK_JSON(containers, "[{\"name\":\"nginx\",\"image\":\"nginx:1\",\"ports\":["
                         "{\"containerPort\":80,\"protocol\":\"TCP\",\"name\":\"http\"},"
                         "{\"containerPort\":53,\"protocol\":\"UDP\"}]},"
                         "{\"name\":\"sidecar\",\"image\":\"side:1\"}]");
  json_decref(after);
  json_decref(next);
  json_decref(live);
}

TEST(set_lists_and_first_apply_on_untracked_object)
{
  /* an object stored without managedFields: its content belongs to before-first-apply */
  json_t *live = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                       "\"name\":\"d\",\"finalizers\":[\"a\"]},\"spec\":{\"replicas\":1}}");
  k8c_err err = {0};
  json_t *next = apply_text(&env1, live,
                            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                            "\"name\":\"d\",\"finalizers\":[\"b\"]}}",
                            "mgr", false, &err);
  CHECK(next != NULL);
  CHECK_JSON(json_object_get(json_object_get(next, "metadata"), "finalizers"), "[\"a\",\"b\"]");
  CHECK_JSON(fields_of(next, "mgr"), "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"b\\\"\":{}}}}");
  CHECK_JSON(
      fields_of(next, "before-first-apply"),
      "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":{}}},\"f:spec\":{\"f:replicas\":{}}}");
  json_t *refused = apply_text(&env1, live,
                               "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                               "\"name\":\"d\"},\"spec\":{\"replicas\":2}}",
                               "mgr", false, &err);
  CHECK(refused == NULL);
  CHECK_STR(err.message, "Apply failed with 1 conflict: conflict with \"before-first-apply\" "
                         "using apps/v1: .spec.replicas");
  k8c_err_clear(&err);
  json_decref(next);
  json_decref(live);
}

TEST(bad_apply_requests_are_rejected)
{
  k8c_err err = {0};
  CHECK(apply_text(&env1, NULL, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}", NULL, false,
                   &err) == NULL);
  CHECK_INT(err.status, 422);
  CHECK(apply_text(&env1, NULL,
                   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                   "\"managedFields\":[{\"manager\":\"x\"}]}}",
                   "m", false, &err) == NULL);
  CHECK_INT(err.status, 400);
  CHECK_STR(err.message, "metadata.managedFields must be nil");
  k8c_err_clear(&err);
}

/* ---- a fake schema through the indirection ---------------------------------------------- */

static const struct schema_field fake_fields[] = {
    {"fake.Widget", "spec", SCHEMA_OBJECT, SCHEMA_SCALAR, "fake.WidgetSpec", NULL, NULL, NULL, NULL,
     false, NULL},
    {"fake.WidgetSpec", "args", SCHEMA_ARRAY, SCHEMA_SCALAR, NULL, NULL, NULL, "atomic", NULL,
     false, NULL},
    {"fake.WidgetSpec", "parts", SCHEMA_ARRAY, SCHEMA_OBJECT, "fake.Part", "merge", "id", NULL,
     NULL, false, NULL},
    {"fake.Part", "id", SCHEMA_SCALAR, SCHEMA_SCALAR, NULL, NULL, NULL, NULL, NULL, false, NULL},
    {"fake.Part", "size", SCHEMA_SCALAR, SCHEMA_SCALAR, NULL, NULL, NULL, NULL, NULL, false, NULL},
};

static const struct schema_field *
fake_lookup(const char *definition, const char *name)
{
  for (size_t i = 0; i < sizeof fake_fields / sizeof fake_fields[0]; i++)
    if (strcmp(fake_fields[i].definition, definition) == 0 &&
        strcmp(fake_fields[i].name, name) == 0)
      return &fake_fields[i];
  return NULL;
}

TEST(fake_schema_atomic_and_merge_key_lists_and_free_form)
{
  const struct apply_env fake = {fake_lookup, NULL, T1};
  json_t *live = parse("{\"apiVersion\":\"x/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"},"
                       "\"spec\":{\"args\":[\"a\",\"b\"],\"parts\":[{\"id\":1,\"size\":2}],"
                       "\"extra\":{\"k\":[1,2]}}}");
  json_t *applied = parse("{\"apiVersion\":\"x/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":"
                          "\"w\"},\"spec\":{\"args\":[\"c\"],\"parts\":[{\"id\":2}],"
                          "\"extra\":{\"k\":[3]}}}");
  apply_track_update_env(&fake, live, NULL, "creator", "Update", "");
  k8c_err err = {0};
  json_t *out = apply_server_side_env(&fake, live, applied, "fake.Widget", "m", true, &err);
  CHECK(out != NULL);
  CHECK_JSON(json_object_get(out, "spec"), "{\"args\":[\"c\"],\"parts\":[{\"id\":1,\"size\":2},"
                                           "{\"id\":2}],\"extra\":{\"k\":[3]}}");
  CHECK_JSON(fields_of(out, "m"), "{\"f:spec\":{\"f:args\":{},\"f:parts\":{\"k:{\\\"id\\\":2}\":{"
                                  "\".\":{},\"f:id\":{}}},\"f:extra\":{\".\":{},\"f:k\":{}}}}");
  json_decref(out);
  json_decref(applied);
  json_decref(live);
}

/* ---- fieldset algebra ------------------------------------------------------------------- */

TEST(fieldset_union_subtract_intersect)
{
  json_t *a = parse("{\"f:a\":{\"f:b\":{},\"f:c\":{}},\"f:d\":{}}");
  json_t *b = parse("{\"f:a\":{\".\":{},\"f:c\":{}},\"f:e\":{}}");
  json_t *i = fieldset_intersect(a, b);
  CHECK_JSON(i, "{\"f:a\":{\"f:c\":{}}}");
  fieldset_union(a, b);
  CHECK_JSON(a, "{\"f:a\":{\".\":{},\"f:b\":{},\"f:c\":{}},\"f:d\":{},\"f:e\":{}}");
  fieldset_subtract(a, b);
  CHECK_JSON(a, "{\"f:a\":{\"f:b\":{}},\"f:d\":{}}");
  json_t *copy = json_deep_copy(a);
  fieldset_subtract(a, copy);
  CHECK(fieldset_is_empty(a));
  json_decref(copy);
  const char *elems[] = {"f:spec", "k:{\"containerPort\":80,\"protocol\":\"TCP\"}", "f:args",
                         "v:\"x\""};
  char *path = fieldset_path_string(elems, 4);
  CHECK_STR(path, ".spec[containerPort=80,protocol=\"TCP\"].args[=\"x\"]");
  free(path);
  json_decref(i);
  json_decref(a);
  json_decref(b);
}

TEST_MAIN()
