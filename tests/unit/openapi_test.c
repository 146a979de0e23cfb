/* openapi_test.c — the compiled-in OpenAPI documents: the /openapi/v3 index, a
 * group-version document as kubectl reads it (schemas with descriptions, PATCH with the
 * fieldValidation parameter), the v2 document, and inflate's error path. */
#include <jansson.h>
#include <string.h>

#include "api/openapi.h"
#include "lib/mem.h"
#include "testlib.h"

static json_t *
load_v3(const char *gv, const char **hash)
{
  const unsigned char *gz = NULL;
  size_t gz_len = 0, len = 0;
  k8c_err err = {0};
  CHECK_INT(openapi_v3_document(gv, &gz, &gz_len, hash, &err), 0);
  if (gz == NULL)
    return NULL;
  CHECK(gz_len > 18 && gz[0] == 0x1f && gz[1] == 0x8b); /* a gzip stream */
  cleanup_free char *text = openapi_inflate(gz, gz_len, &len, &err);
  CHECK(text != NULL);
  if (text == NULL)
    return NULL;
  CHECK_INT(strlen(text), len);
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, 0, &jerr);
  CHECK(doc != NULL);
  return doc;
}

TEST(index_lists_served_group_versions_with_hashes)
{
  size_t len = 0;
  const char *text = openapi_v3_index(&len);
  CHECK_INT(strlen(text), len);
  json_error_t jerr;
  cleanup_json json_t *index = json_loadb(text, len, 0, &jerr);
  CHECK(index != NULL);
  json_t *paths = json_object_get(index, "paths");
  const char *url =
      json_string_value(json_object_get(json_object_get(paths, "api/v1"), "serverRelativeURL"));
  CHECK(url != NULL && strncmp(url, "/openapi/v3/api/v1?hash=", 24) == 0);
  CHECK(json_object_get(paths, "apis/apps/v1") != NULL);
  CHECK(json_object_get(paths, "apis/events.k8s.io/v1") != NULL);
  CHECK(json_object_get(paths, "apis/apps/v1beta1") == NULL);
  const char *hash = NULL;
  cleanup_json json_t *doc = load_v3("api/v1", &hash);
  CHECK(doc != NULL);
  CHECK(url != NULL && hash != NULL && strcmp(url + 24, hash) == 0);
  CHECK(hash != NULL && strlen(hash) == 128);
}

TEST(apps_document_has_deployment_schema_and_field_validation)
{
  cleanup_json json_t *doc = load_v3("apis/apps/v1", NULL);
  CHECK(doc != NULL);
  if (!doc)
    return;
  json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
  json_t *deployment = json_object_get(schemas, "io.k8s.api.apps.v1.Deployment");
  CHECK(deployment != NULL);
  const char *description = json_string_value(json_object_get(deployment, "description"));
  CHECK(description != NULL && strstr(description, "Deployment") != NULL);
  CHECK_INT(json_array_size(json_object_get(deployment, "x-kubernetes-group-version-kind")), 1);
  CHECK(json_object_get(schemas, "io.k8s.api.core.v1.PodSpec") != NULL);
  CHECK(json_object_get(schemas, "io.k8s.api.apps.v1.ControllerRevision") != NULL);

  json_t *paths = json_object_get(doc, "paths");
  json_t *patch = json_object_get(
      json_object_get(paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"), "patch");
  CHECK(patch != NULL);
  bool has_field_validation = false;
  size_t i;
  json_t *param;
  json_array_foreach (json_object_get(patch, "parameters"), i, param) {
    const char *name = json_string_value(json_object_get(param, "name"));
    const char *in = json_string_value(json_object_get(param, "in"));
    if (name && in && strcmp(name, "fieldValidation") == 0 && strcmp(in, "query") == 0)
      has_field_validation = true;
  }
  CHECK(has_field_validation);
  CHECK(json_object_get(paths, "/apis/apps/v1/namespaces/{namespace}/controllerrevisions") != NULL);
  json_t *gvk = json_object_get(patch, "x-kubernetes-group-version-kind");
  CHECK_JSON(gvk, "{\"group\":\"apps\",\"kind\":\"Deployment\",\"version\":\"v1\"}");
}

TEST(unknown_group_version_is_not_found)
{
  const unsigned char *gz = NULL;
  size_t gz_len = 0;
  const char *hash = NULL;
  k8c_err err = {0};
  CHECK_INT(openapi_v3_document("apis/apps/v1beta1", &gz, &gz_len, &hash, &err), -1);
  CHECK_INT(err.status, 404);
  CHECK_STR(err.reason, "NotFound");
  k8c_err_clear(&err);
}

TEST(v2_document_inflates_to_swagger)
{
  const unsigned char *gz = NULL;
  size_t gz_len = 0, len = 0;
  k8c_err err = {0};
  CHECK_INT(openapi_v2_document(&gz, &gz_len, &err), 0);
  cleanup_free char *text = openapi_inflate(gz, gz_len, &len, &err);
  CHECK(text != NULL);
  json_error_t jerr;
  cleanup_json json_t *doc = text ? json_loadb(text, len, 0, &jerr) : NULL;
  CHECK_STR(json_string_value(json_object_get(doc, "swagger")), "2.0");
  json_t *defs = json_object_get(doc, "definitions");
  CHECK(json_object_get(defs, "io.k8s.api.apps.v1.Deployment") != NULL);
  CHECK(json_object_get(defs, "io.k8s.api.certificates.v1.CertificateSigningRequest") == NULL);
  CHECK(json_object_get(json_object_get(doc, "paths"), "/api/v1/namespaces/{namespace}/pods") !=
        NULL);
}

TEST(inflate_rejects_corrupt_streams)
{
  const unsigned char *gz = NULL;
  size_t gz_len = 0, len = 0;
  const char *hash = NULL;
  k8c_err err = {0};
  CHECK_INT(openapi_v3_document("apis/apps/v1", &gz, &gz_len, &hash, &err), 0);
  char *text = openapi_inflate(gz, gz_len / 2, &len, &err); /* truncated */
  CHECK(text == NULL);
  CHECK_INT(err.status, 500);
  free(text);
  k8c_err_clear(&err);
  const unsigned char junk[] = "not gzip at all, not at all";
  text = openapi_inflate(junk, sizeof junk, &len, &err);
  CHECK(text == NULL);
  CHECK_INT(err.status, 500);
  free(text);
  k8c_err_clear(&err);
}

TEST_MAIN()
