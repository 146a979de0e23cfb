/* schema_test.c — the generated field table (patch strategies, merge keys, list types,
 * scalar/any shapes) and the unknown-field walk used by fieldValidation. */
#include <jansson.h>

#include "api/schema.h"
#include "api/schema_data.h"
#include "lib/mem.h"
#include "testlib.h"

#include <stdio.h>

#define CORE "io.k8s.api.core.v1."

TEST(pod_spec_containers_merge_on_name)
{
  const struct schema_field *f = schema_field_lookup(CORE "PodSpec", "containers");
  CHECK(f != NULL);
  if (!f)
    return;
  CHECK_INT(f->kind, SCHEMA_ARRAY);
  CHECK_INT(f->item_kind, SCHEMA_OBJECT);
  CHECK_STR(f->ref, CORE "Container");
  CHECK_STR(f->patch_strategy, "merge");
  CHECK_STR(f->patch_merge_key, "name");
  CHECK_STR(f->list_type, "map");
  CHECK_STR(f->list_map_keys, "name");
  CHECK(f->required);
}

TEST(container_ports_merge_on_container_port)
{
  const struct schema_field *f = schema_field_lookup(CORE "Container", "ports");
  CHECK(f != NULL);
  if (!f)
    return;
  CHECK_STR(f->patch_merge_key, "containerPort");
  CHECK_STR(f->patch_strategy, "merge");
  CHECK_STR(f->list_map_keys, "containerPort,protocol");
  CHECK(!f->required);
  const struct schema_field *volumes = schema_field_lookup(CORE "PodSpec", "volumes");
  CHECK(volumes && volumes->patch_strategy &&
        strcmp(volumes->patch_strategy, "merge,retainKeys") == 0);
  const struct schema_field *strategy =
      schema_field_lookup("io.k8s.api.apps.v1.DeploymentSpec", "strategy");
  CHECK(strategy && strategy->kind == SCHEMA_OBJECT && strategy->patch_strategy &&
        strcmp(strategy->patch_strategy, "retainKeys") == 0);
}

TEST(named_scalars_maps_and_any)
{
  const struct schema_field *limits = schema_field_lookup(CORE "ResourceRequirements", "limits");
  CHECK(limits && limits->kind == SCHEMA_MAP && limits->item_kind == SCHEMA_SCALAR);
  const struct schema_field *created =
      schema_field_lookup("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "creationTimestamp");
  CHECK(created && created->kind == SCHEMA_SCALAR && created->ref == NULL);
  const struct schema_field *target = schema_field_lookup(CORE "HTTPGetAction", "port");
  CHECK(target && target->kind == SCHEMA_SCALAR);
  const struct schema_field *fields =
      schema_field_lookup("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", "fieldsV1");
  CHECK(fields && fields->kind == SCHEMA_ANY);
  CHECK(schema_definition_is_any("io.k8s.apimachinery.pkg.runtime.RawExtension"));
  CHECK(!schema_definition_is_any(CORE "PodSpec"));
  CHECK(schema_definition_known("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"));
  CHECK(schema_definition_known("io.k8s.apimachinery.pkg.api.resource.Quantity"));
  CHECK(!schema_definition_known(CORE "NoSuchThing"));
  CHECK(schema_field_lookup(CORE "PodSpec", "noSuchField") == NULL);
  CHECK(schema_field_lookup(CORE "NoSuchThing", "containers") == NULL);
  const struct schema_field *selector =
      schema_field_lookup("io.k8s.api.apps.v1.DeploymentSpec", "selector");
  CHECK(selector && selector->map_type && strcmp(selector->map_type, "atomic") == 0);
}

static json_t *
unknown_fields(const char *text, const char *definition, const char *prefix, int *count)
{
  json_error_t jerr;
  json_t *obj = json_loads(text, 0, &jerr);
  CHECK(obj != NULL);
  json_t *paths = json_array();
  *count = schema_find_unknown_fields(obj, definition, prefix, paths);
  json_decref(obj);
  return paths;
}

TEST(unknown_fields_at_nested_paths_and_in_arrays)
{
  int n;
  cleanup_json json_t *paths = unknown_fields(
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"bogus\":1,"
      " \"metadata\":{\"name\":\"x\",\"labelz\":{}},"
      " \"spec\":{\"replicas\":1,\"foo\":true,\"template\":{\"spec\":{\"containers\":["
      "   {\"name\":\"a\",\"image\":\"i\"},"
      "   {\"name\":\"b\",\"imagee\":\"i\",\"ports\":[{\"containerPort\":80,\"hostt\":1}]}]}}}}",
      "io.k8s.api.apps.v1.Deployment", "", &n);
  CHECK_INT(n, 5);
  CHECK_JSON(paths, "[\"bogus\",\"metadata.labelz\",\"spec.foo\","
                    "\"spec.template.spec.containers[1].imagee\","
                    "\"spec.template.spec.containers[1].ports[0].hostt\"]");
}

TEST(unknown_fields_clean_object_and_prefix)
{
  int n;
  cleanup_json json_t *clean = unknown_fields(
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"a\":\"b\"},"
      "\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:spec\":{\"x\":{}}}}]},"
      "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}],"
      "\"nodeSelector\":{\"k\":\"v\"}}}",
      CORE "Pod", NULL, &n);
  CHECK_INT(n, 0);
  CHECK_INT(json_array_size(clean), 0);
  cleanup_json json_t *prefixed = unknown_fields(
      "{\"containers\":[{\"name\":\"c\",\"x\":1}],\"kind\":\"k\"}", CORE "PodSpec", "spec", &n);
  CHECK_INT(n, 2);
  CHECK_JSON(prefixed, "[\"spec.containers[0].x\",\"spec.kind\"]");
}

TEST(unknown_fields_with_empty_names_and_after_deep_siblings)
{
  int n;
  cleanup_json json_t *paths = unknown_fields(
      "{\"\":1,\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"ports\":["
      "{\"containerPort\":1},{\"\":2}]}],\"\":3,\"zz\":4},\"metadata\":{\"q\":5}}",
      CORE "Pod", "", &n);
  CHECK_INT(n, 5);
  CHECK_JSON(paths, "[\"\",\"spec.containers[1].ports[1].\",\"spec.\",\"spec.zz\","
                    "\"metadata.q\"]");
  cleanup_json json_t *deep = unknown_fields("{\"template\":{\"spec\":{\"volumes\":[{\"name\":"
                                             "\"v\",\"bad\":1}]}}}",
                                             "io.k8s.api.apps.v1.DeploymentSpec", "spec", &n);
  CHECK_INT(n, 1);
  CHECK_JSON(deep, "[\"spec.template.spec.volumes[0].bad\"]");
}

TEST(any_fields_are_not_checked)
{
  int n;
  cleanup_json json_t *paths = unknown_fields(
      "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
      "\"spec\":{\"group\":\"g\",\"versions\":[{\"name\":\"v1\",\"schema\":{\"openAPIV3Schema\":"
      "{\"type\":\"object\",\"default\":{\"anything\":{\"goes\":1}},\"properties\":{\"a\":"
      "{\"type\":\"string\",\"example\":{\"x\":1},\"nope\":1}}}}}]}}",
      "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition", "", &n);
  CHECK_INT(n, 1);
  CHECK_JSON(paths, "[\"spec.versions[0].schema.openAPIV3Schema.properties.a.nope\"]");
  cleanup_json json_t *raw = unknown_fields(
      "{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"details\":{\"causes\":[{\"zzz\":1}]}}",
      "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "", &n);
  CHECK_INT(n, 1);
  CHECK_JSON(raw, "[\"details.causes[0].zzz\"]");
}

TEST(every_table_field_is_found_by_lookup)
{
  size_t misses = 0;
  for (size_t i = 0; i < schema_fields_count; i++) {
    const struct schema_field *f = &schema_fields[i];
    char definition[256], name[128];
    /* copies, so the lookup cannot rely on the table's own pointers */
    snprintf(definition, sizeof definition, "%s", f->definition);
    snprintf(name, sizeof name, "%s", f->name);
    if (schema_field_lookup(definition, name) != f)
      misses++;
  }
  CHECK_INT((long long)misses, 0);
  CHECK(schema_fields_count > 100);
  CHECK(schema_field_lookup("io.k8s.api.core.v1.PodSpec", "containerz") == NULL);
  CHECK(schema_field_lookup("io.k8s.api.core.v1.PodSpeC", "containers") == NULL);
  CHECK(schema_field_lookup("", "") == NULL);
}

TEST_MAIN()
