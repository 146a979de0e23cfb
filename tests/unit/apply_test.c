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

/* ---- realistic objects: the results stay those of the first implementation ------------ */

/* Realistic objects as the API server holds them at create (after defaulting). The
 * Deployment is seed_deployment above. */
static const char seed_service[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web-svc\","
    "\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":80,"
    "\"protocol\":\"TCP\"}],\"selector\":{\"app\":\"web\"},\"type\":\"ClusterIP\","
    "\"sessionAffinity\":\"None\",\"internalTrafficPolicy\":\"Cluster\",\"ipFamilyPolicy\":"
    "\"SingleStack\",\"ipFamilies\":[\"IPv4\"],\"clusterIP\":\"10.43.0.2\",\"clusterIPs\":["
    "\"10.43.0.2\"]}}";

static const char multi_container_pod[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{\"note\":\"x\"},"
    "\"labels\":{\"app\":\"web\",\"tier\":\"be\"},\"name\":\"multi\",\"namespace\":\"default\"},"
    "\"spec\":{\"containers\":[{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\","
    "\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\",\"apiVersion\":\"v1\"}}}],"
    "\"image\":\"nginx\",\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"http\","
    "\"protocol\":\"TCP\"},{\"containerPort\":443,\"protocol\":\"TCP\"}],\"volumeMounts\":[{"
    "\"mountPath\":\"/data\",\"name\":\"data\"}],\"terminationMessagePath\":\"/dev/"
    "termination-log\","
    "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"Always\",\"resources\":{}},"
    "{\"args\":[\"--port\",\"6379\"],\"image\":\"redis\",\"name\":\"b\",\"resources\":{\"limits\":{"
    "\"cpu\":\"100m\"},\"requests\":{\"cpu\":\"100m\"}},\"terminationMessagePath\":"
    "\"/dev/"
    "termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"Always\"},"
    "{\"command\":[\"sleep\",\"3600\"],\"image\":\"busybox\",\"name\":\"c\","
    "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
    "\"imagePullPolicy\":\"Always\",\"resources\":{}}],\"initContainers\":[{\"command\":[\"sh\","
    "\"-c\",\"true\"],\"image\":\"busybox\",\"name\":\"init\",\"terminationMessagePath\":"
    "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"Always\","
    "\"resources\":{}}],\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}],\"volumes\":[{"
    "\"emptyDir\":{},\"name\":\"data\"}],\"dnsPolicy\":\"ClusterFirst\",\"restartPolicy\":"
    "\"Always\",\"securityContext\":{},\"terminationGracePeriodSeconds\":30,\"schedulerName\":"
    "\"default-scheduler\",\"enableServiceLinks\":true},\"status\":{\"phase\":\"Pending\","
    "\"qosClass\":\"Burstable\"}}";

/* metadata.managedFields as compact JSON in stored key order (caller frees). */
static char *
managed_text(const json_t *obj)
{
  return json_dumps(managed(obj), JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* A copy of obj without managedFields, as a client sends it back. */
static json_t *
client_copy(const json_t *obj)
{
  json_t *copy = json_deep_copy(obj);
  json_object_del(json_object_get(copy, "metadata"), "managedFields");
  return copy;
}

/* One object's life: created by kubectl-create, edited by kubectl-edit (edit() changes
 * it), a status write by the controller, then a forced apply of `applied` by kubectl.
 * Fills out[0..4) with the managedFields after each step (caller frees). */
static void
object_life(const char *created_text, void (*edit)(json_t *), const char *definition,
            const char *applied, char *out[4])
{
  json_t *obj = parse(created_text);
  apply_track_update_env(&env1, obj, NULL, "kubectl-create", "Update", "");
  out[0] = managed_text(obj);

  json_t *edited = client_copy(obj);
  edit(edited);
  json_t *before = json_deep_copy(obj);
  apply_track_update_env(&env2, edited, obj, "kubectl-edit", "Update", "");
  CHECK(json_equal(obj, before)); /* the old object is only read, even where shared */
  out[1] = managed_text(edited);

  json_t *status = client_copy(edited);
  json_object_set_new(status, "status", json_pack("{s:s,s:i}", "phase", "Running", "replicas", 2));
  apply_track_update_env(&env2, status, edited, "controller", "Update", "status");
  out[2] = managed_text(status);

  k8c_err err = {0};
  json_t *config = parse(applied);
  json_t *result = apply_server_side_env(&env2, status, config, definition, "kubectl", true, &err);
  CHECK(result != NULL);
  out[3] = result ? managed_text(result) : NULL;
  k8c_err_clear(&err);
  json_decref(config);
  json_decref(result);
  json_decref(status);
  json_decref(before);
  json_decref(edited);
  json_decref(obj);
}

static void
edit_deployment(json_t *d)
{
  json_t *spec = json_object_get(d, "spec");
  json_object_set_new(spec, "replicas", json_integer(5));
  json_object_set_new(json_object_get(json_object_get(d, "metadata"), "labels"), "tier",
                      json_string("fe"));
  json_t *pod_spec = json_object_get(json_object_get(spec, "template"), "spec");
  json_t *c = json_array_get(json_object_get(pod_spec, "containers"), 0);
  json_object_set_new(c, "image", json_string("nginx:1.28"));
  json_object_del(c, "readinessProbe");
}

static void
edit_service(json_t *s)
{
  json_t *spec = json_object_get(s, "spec");
  json_object_set_new(spec, "selector", json_pack("{s:s}", "app", "web2"));
  json_array_append_new(json_object_get(spec, "ports"),
                        json_pack("{s:i,s:i}", "port", 443, "targetPort", 8443));
  json_object_del(spec, "sessionAffinity");
}

static void
edit_pod(json_t *p)
{
  json_t *containers = json_object_get(json_object_get(p, "spec"), "containers");
  json_object_set_new(json_array_get(containers, 1), "image", json_string("redis:7"));
  json_array_remove(containers, 2);
  json_array_append_new(json_object_get(json_array_get(containers, 0), "env"),
                        json_pack("{s:s,s:s}", "name", "C", "value", "3"));
  json_object_set_new(json_object_get(json_object_get(p, "metadata"), "annotations"), "more",
                      json_string("y"));
}

static const char deployment_applied[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
    "\"nginx-deployment\"},\"spec\":{\"replicas\":4,\"template\":{\"spec\":{\"containers\":[{"
    "\"name\":\"nginx\",\"image\":\"nginx:1.29\"}]}}}}";
static const char service_applied[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web-svc\"},"
    "\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}";
static const char pod_applied[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"multi\",\"labels\":{"
    "\"tier\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx:2\"}]}}";

/* The managedFields (in stored key order) that the first implementation — compare
 * against the old object, insert every changed path from the root, copy every set —
 * gave for object_life on these objects. The one-walk create path, the copy-on-write
 * sets and the direct list-item keys must reproduce them byte for byte. */
static const char expected_deployment_created[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\",\""
    "time\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata"
    "\":{\"f:labels\":{\"f:app\":{},\".\":{}}},\"f:spec\":{\"f:replicas\":{},\"f:selector\""
    ":{},\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{},\".\":{}}},\"f:spec\":{"
    "\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\"f:name\":{},\"f:image\":{},\"f"
    ":ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:container"
    "Port\":{},\".\":{}},\".\":{}},\"f:readinessProbe\":{\"f:httpGet\":{\"f:path\":{},\"f:p"
    "ort\":{}},\"f:initialDelaySeconds\":{},\"f:periodSeconds\":{}},\"f:livenessProbe\":{\""
    "f:httpGet\":{\"f:path\":{},\"f:port\":{}},\"f:initialDelaySeconds\":{},\"f:periodSecon"
    "ds\":{}},\"f:resources\":{\"f:requests\":{\"f:cpu\":{},\"f:memory\":{},\".\":{}},\"f:l"
    "imits\":{\"f:cpu\":{},\"f:memory\":{},\".\":{}}},\".\":{}},\".\":{}}}}}}}]";
static const char expected_deployment_edited[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\",\""
    "time\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata"
    "\":{\"f:labels\":{\"f:app\":{},\".\":{}}},\"f:spec\":{\"f:selector\":{},\"f:template\""
    ":{\"f:metadata\":{\"f:labels\":{\"f:app\":{},\".\":{}}},\"f:spec\":{\"f:containers\":{"
    "\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\"
    "\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:containerPort\":{},\".\":{}},\".\":{}},\"f:"
    "livenessProbe\":{\"f:httpGet\":{\"f:path\":{},\"f:port\":{}},\"f:initialDelaySeconds\""
    ":{},\"f:periodSeconds\":{}},\"f:resources\":{\"f:requests\":{\"f:cpu\":{},\"f:memory\""
    ":{},\".\":{}},\"f:limits\":{\"f:cpu\":{},\"f:memory\":{},\".\":{}}},\".\":{}},\".\":{}"
    "}}}}}},{\"manager\":\"kubectl-edit\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1"
    "\",\"time\":\"2025-01-02T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:met"
    "adata\":{\"f:labels\":{\"f:tier\":{}}},\"f:spec\":{\"f:replicas\":{},\"f:template\":{\""
    "f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\"f:image\":{}}}}}}}}]";
static const char expected_service_created[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time"
    "\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:"
    "ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:targe"
    "tPort\":{},\"f:protocol\":{},\".\":{}},\".\":{}},\"f:selector\":{},\"f:type\":{},\"f:s"
    "essionAffinity\":{},\"f:internalTrafficPolicy\":{},\"f:ipFamilyPolicy\":{},\"f:ipFamil"
    "ies\":{},\"f:clusterIP\":{},\"f:clusterIPs\":{}}}}]";
static const char expected_service_edited[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time"
    "\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:"
    "ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:targe"
    "tPort\":{},\"f:protocol\":{},\".\":{}},\".\":{}},\"f:type\":{},\"f:internalTrafficPoli"
    "cy\":{},\"f:ipFamilyPolicy\":{},\"f:ipFamilies\":{},\"f:clusterIP\":{},\"f:clusterIPs\""
    ":{}}}},{\"manager\":\"kubectl-edit\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\""
    "time\":\"2025-01-02T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{"
    "\"f:ports\":{\"k:{\\\"port\\\":443,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:"
    "targetPort\":{},\".\":{}}},\"f:selector\":{}}}}]";
static const char expected_service_status[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time"
    "\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:"
    "ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:targe"
    "tPort\":{},\"f:protocol\":{},\".\":{}},\".\":{}},\"f:type\":{},\"f:internalTrafficPoli"
    "cy\":{},\"f:ipFamilyPolicy\":{},\"f:ipFamilies\":{},\"f:clusterIP\":{},\"f:clusterIPs\""
    ":{}}}},{\"manager\":\"controller\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"ti"
    "me\":\"2025-01-02T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{"
    "\"f:phase\":{},\"f:replicas\":{}}},\"subresource\":\"status\"},{\"manager\":\"kubectl-"
    "edit\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2025-01-02T00:00:00Z\""
    ",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":"
    "443,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:targetPort\":{},\".\":{}}},\"f:"
    "selector\":{}}}}]";
static const char expected_service_applied[] =
    "[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"v1\",\"time\":\"202"
    "5-01-02T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:ports\":"
    "{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:targetPort\":"
    "{},\".\":{}}}}}},{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion"
    "\":\"v1\",\"time\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
    "\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:por"
    "t\":{},\"f:protocol\":{},\".\":{}},\".\":{}},\"f:type\":{},\"f:internalTrafficPolicy\""
    ":{},\"f:ipFamilyPolicy\":{},\"f:ipFamilies\":{},\"f:clusterIP\":{},\"f:clusterIPs\":{}"
    "}}},{\"manager\":\"controller\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\""
    ":\"2025-01-02T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:"
    "phase\":{},\"f:replicas\":{}}},\"subresource\":\"status\"},{\"manager\":\"kubectl-edit"
    "\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2025-01-02T00:00:00Z\",\""
    "fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":443"
    ",\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:port\":{},\"f:targetPort\":{},\".\":{}}},\"f:sel"
    "ector\":{}}}}]";
static const char expected_pod_created[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time"
    "\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{"
    "\"f:annotations\":{\"f:note\":{},\".\":{}},\"f:labels\":{\"f:app\":{},\"f:tier\":{},\""
    ".\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"a\\\"}\":{\"f:env\":{\"k:"
    "{\\\"name\\\":\\\"A\\\"}\":{\"f:name\":{},\"f:value\":{},\".\":{}},\"k:{\\\"name\\\":\\"
    "\"B\\\"}\":{\"f:name\":{},\"f:valueFrom\":{\"f:fieldRef\":{}},\".\":{}},\".\":{}},\"f:"
    "image\":{},\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\"
    "\"TCP\\\"}\":{\"f:containerPort\":{},\"f:name\":{},\"f:protocol\":{},\".\":{}},\"k:{\\"
    "\"containerPort\\\":443,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:containerPort\":{},\"f:pr"
    "otocol\":{},\".\":{}},\".\":{}},\"f:volumeMounts\":{\"k:{\\\"mountPath\\\":\\\"/data\\"
    "\"}\":{\"f:mountPath\":{},\"f:name\":{},\".\":{}},\".\":{}},\"f:terminationMessagePath"
    "\":{},\"f:terminationMessagePolicy\":{},\"f:imagePullPolicy\":{},\"f:resources\":{},\""
    ".\":{}},\"k:{\\\"name\\\":\\\"b\\\"}\":{\"f:args\":{},\"f:image\":{},\"f:name\":{},\"f"
    ":resources\":{\"f:limits\":{\"f:cpu\":{},\".\":{}},\"f:requests\":{\"f:cpu\":{},\".\":"
    "{}}},\"f:terminationMessagePath\":{},\"f:terminationMessagePolicy\":{},\"f:imagePullPo"
    "licy\":{},\".\":{}},\"k:{\\\"name\\\":\\\"c\\\"}\":{\"f:command\":{},\"f:image\":{},\""
    "f:name\":{},\"f:terminationMessagePath\":{},\"f:terminationMessagePolicy\":{},\"f:imag"
    "ePullPolicy\":{},\"f:resources\":{},\".\":{}},\".\":{}},\"f:initContainers\":{\"k:{\\\""
    "name\\\":\\\"init\\\"}\":{\"f:command\":{},\"f:image\":{},\"f:name\":{},\"f:terminatio"
    "nMessagePath\":{},\"f:terminationMessagePolicy\":{},\"f:imagePullPolicy\":{},\"f:resou"
    "rces\":{},\".\":{}},\".\":{}},\"f:tolerations\":{},\"f:volumes\":{\"k:{\\\"name\\\":\\"
    "\"data\\\"}\":{\"f:emptyDir\":{},\"f:name\":{},\".\":{}},\".\":{}},\"f:dnsPolicy\":{},"
    "\"f:restartPolicy\":{},\"f:securityContext\":{},\"f:terminationGracePeriodSeconds\":{}"
    ",\"f:schedulerName\":{},\"f:enableServiceLinks\":{}},\"f:status\":{\"f:phase\":{},\"f:"
    "qosClass\":{}}}}]";
static const char expected_pod_edited[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time"
    "\":\"2025-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{"
    "\"f:annotations\":{\"f:note\":{},\".\":{}},\"f:labels\":{\"f:app\":{},\"f:tier\":{},\""
    ".\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"a\\\"}\":{\"f:env\":{\"k:"
    "{\\\"name\\\":\\\"A\\\"}\":{\"f:name\":{},\"f:value\":{},\".\":{}},\"k:{\\\"name\\\":\\"
    "\"B\\\"}\":{\"f:name\":{},\"f:valueFrom\":{\"f:fieldRef\":{}},\".\":{}},\".\":{}},\"f:"
    "image\":{},\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\"
    "\"TCP\\\"}\":{\"f:containerPort\":{},\"f:name\":{},\"f:protocol\":{},\".\":{}},\"k:{\\"
    "\"containerPort\\\":443,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:containerPort\":{},\"f:pr"
    "otocol\":{},\".\":{}},\".\":{}},\"f:volumeMounts\":{\"k:{\\\"mountPath\\\":\\\"/data\\"
    "\"}\":{\"f:mountPath\":{},\"f:name\":{},\".\":{}},\".\":{}},\"f:terminationMessagePath"
    "\":{},\"f:terminationMessagePolicy\":{},\"f:imagePullPolicy\":{},\"f:resources\":{},\""
    ".\":{}},\"k:{\\\"name\\\":\\\"b\\\"}\":{\"f:args\":{},\"f:name\":{},\"f:resources\":{\""
    "f:limits\":{\"f:cpu\":{},\".\":{}},\"f:requests\":{\"f:cpu\":{},\".\":{}}},\"f:termina"
    "tionMessagePath\":{},\"f:terminationMessagePolicy\":{},\"f:imagePullPolicy\":{},\".\":"
    "{}},\".\":{}},\"f:initContainers\":{\"k:{\\\"name\\\":\\\"init\\\"}\":{\"f:command\":{"
    "},\"f:image\":{},\"f:name\":{},\"f:terminationMessagePath\":{},\"f:terminationMessageP"
    "olicy\":{},\"f:imagePullPolicy\":{},\"f:resources\":{},\".\":{}},\".\":{}},\"f:tolerat"
    "ions\":{},\"f:volumes\":{\"k:{\\\"name\\\":\\\"data\\\"}\":{\"f:emptyDir\":{},\"f:name"
    "\":{},\".\":{}},\".\":{}},\"f:dnsPolicy\":{},\"f:restartPolicy\":{},\"f:securityContex"
    "t\":{},\"f:terminationGracePeriodSeconds\":{},\"f:schedulerName\":{},\"f:enableService"
    "Links\":{}},\"f:status\":{\"f:phase\":{},\"f:qosClass\":{}}}},{\"manager\":\"kubectl-e"
    "dit\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2025-01-02T00:00:00Z\""
    ",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:annotations\":{\"f:more"
    "\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"a\\\"}\":{\"f:env\":{\"k:{"
    "\\\"name\\\":\\\"C\\\"}\":{\"f:name\":{},\"f:value\":{},\".\":{}}}},\"k:{\\\"name\\\":"
    "\\\"b\\\"}\":{\"f:image\":{}}}}}}]";

static void
check_life(const char *object, void (*edit)(json_t *), const char *definition, const char *applied,
           const char *const expected[4])
{
  char *out[4];
  object_life(object, edit, definition, applied, out);
  for (size_t i = 0; i < 4; i++) {
    if (expected[i] != NULL)
      CHECK_STR(out[i], expected[i]);
    free(out[i]);
  }
}

TEST(realistic_objects_keep_their_managed_fields)
{
  const char *deployment[4] = {expected_deployment_created, expected_deployment_edited, NULL, NULL};
  check_life(seed_deployment, edit_deployment, DEPLOYMENT, deployment_applied, deployment);
  const char *service[4] = {expected_service_created, expected_service_edited,
                            expected_service_status, expected_service_applied};
  check_life(seed_service, edit_service, "io.k8s.api.core.v1.Service", service_applied, service);
  const char *pod[4] = {expected_pod_created, expected_pod_edited, NULL, NULL};
  check_life(multi_container_pod, edit_pod, "io.k8s.api.core.v1.Pod", pod_applied, pod);
}

TEST(create_equals_update_from_an_empty_object)
{
  /* old == NULL takes the one-walk path; an empty old object goes through the compare */
  const char *objects[] = {seed_deployment, seed_service, multi_container_pod};
  for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
    json_t *fast = parse(objects[i]);
    json_t *slow = json_deep_copy(fast);
    json_t *empty = json_pack("{s:O,s:O}", "apiVersion", json_object_get(fast, "apiVersion"),
                              "kind", json_object_get(fast, "kind"));
    apply_track_update_env(&env1, fast, NULL, "m", "Update", "");
    apply_track_update_env(&env1, slow, empty, "m", "Update", "");
    CHECK(json_equal(managed(fast), managed(slow)));
    json_decref(fast);
    json_decref(slow);
    json_decref(empty);
  }
}

/* "k:"/"v:" + jansson's compact encoding of value with sorted keys (caller frees). */
static char *
jansson_key(const char *prefix, const json_t *value)
{
  char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  size_t len = strlen(prefix) + strlen(text) + 1;
  char *key = malloc(len);
  snprintf(key, len, "%s%s", prefix, text);
  free(text);
  return key;
}

TEST(list_item_keys_match_jansson_encoding)
{
  /* plain key values are encoded directly, others (escapes, numbers) by jansson: every
   * key must read as jansson writes it */
  json_t *obj = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                      "\"finalizers\":[\"a/b\",\"t\\u0001\",\"q\\\"x\",7,1.5,true]},"
                      "\"spec\":{\"containers\":[{\"name\":\"plain\",\"ports\":["
                      "{\"containerPort\":1,\"protocol\":\"UDP\"},{\"containerPort\":2},"
                      "{\"containerPort\":-3,\"protocol\":\"a\\\\b\"}]},"
                      "{\"name\":\"q\\\"x\"},{\"name\":\"\\u00e9\\\\\"},{\"name\":2.5}]}}");
  apply_track_update_env(&env1, obj, NULL, "m", "Update", "");
  const json_t *set = fields_of(obj, "m");
  const json_t *finalizers =
      json_object_get(json_object_get(json_object_get(set, "f:metadata"), "f:finalizers"), ".");
  CHECK(finalizers != NULL);
  finalizers = json_object_get(json_object_get(set, "f:metadata"), "f:finalizers");
  size_t i;
  json_t *value;
  json_array_foreach (json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, value) {
    char *key = jansson_key("v:", value);
    CHECK(json_object_get(finalizers, key) != NULL);
    free(key);
  }
  CHECK_INT(json_object_size(finalizers), 7);
  const json_t *containers = json_object_get(json_object_get(set, "f:spec"), "f:containers");
  json_t *container;
  json_array_foreach (json_object_get(json_object_get(obj, "spec"), "containers"), i, container) {
    json_t *fields = json_pack("{s:O}", "name", json_object_get(container, "name"));
    char *key = jansson_key("k:", fields);
    const json_t *node = json_object_get(containers, key);
    CHECK(node != NULL);
    free(key);
    json_decref(fields);
    size_t j;
    json_t *port;
    json_array_foreach (json_object_get(container, "ports"), j, port) {
      json_t *port_key =
          json_pack("{s:O}", "containerPort", json_object_get(port, "containerPort"));
      json_t *protocol = json_object_get(port, "protocol"); /* upstream defaults it to TCP */
      json_object_set_new(port_key, "protocol",
                          protocol ? json_incref(protocol) : json_string("TCP"));
      key = jansson_key("k:", port_key);
      CHECK(json_object_get(json_object_get(node, "f:ports"), key) != NULL);
      free(key);
      json_decref(port_key);
    }
  }
  json_decref(obj);
}

TEST(fieldset_copy_and_subtract_changes)
{
  json_t *set =
      parse("{\"f:a\":{\".\":{},\"f:b\":{}},\"f:c\":{\"k:{\\\"x\\\":1}\":{}},\"f:d\":{}}");
  json_t *copy = fieldset_copy(set);
  CHECK(copy != set && json_equal(copy, set));
  json_object_del(json_object_get(copy, "f:a"), "f:b"); /* a deep copy: set is untouched */
  CHECK(json_object_get(json_object_get(set, "f:a"), "f:b") != NULL);
  json_decref(copy);
  /* subtract_changes says exactly when fieldset_subtract would modify the set */
  const char *subtrahends[] = {
      "{}",
      "{\"f:x\":{}}",
      "{\"f:a\":{\"f:z\":{}}}",
      "{\"f:a\":{\"f:b\":{}}}",
      "{\"f:a\":{}}",
      "{\"f:c\":{\"k:{\\\"x\\\":2}\":{}}}",
      "{\"f:c\":{\"k:{\\\"x\\\":1}\":{}}}",
      "{\"f:d\":{\"f:e\":{}}}",
      "{\"f:d\":{}}",
  };
  const bool changes[] = {false, false, false, true, true, false, true, false, true};
  for (size_t i = 0; i < sizeof subtrahends / sizeof subtrahends[0]; i++) {
    json_t *src = parse(subtrahends[i]);
    json_t *dst = fieldset_copy(set);
    CHECK_INT(fieldset_subtract_changes(dst, src), changes[i]);
    fieldset_subtract(dst, src);
    CHECK_INT(!json_equal(dst, set), changes[i]);
    json_decref(dst);
    json_decref(src);
  }
  json_decref(set);
}

TEST_MAIN()
