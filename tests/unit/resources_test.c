/* resources_test.c — the generated resource table and its lookups: scope, verbs, short
 * names, categories, shared storage and that every served kind has a schema. */
#include <string.h>

#include "api/resource.h"
#include "api/schema.h"
#include "testlib.h"

static bool
list_has(const char *const *list, const char *want)
{
  for (; *list; list++)
    if (strcmp(*list, want) == 0)
      return true;
  return false;
}

static size_t
list_len(const char *const *list)
{
  size_t n = 0;
  while (list[n])
    n++;
  return n;
}

TEST(deployments_are_namespaced_apps_v1_with_short_name_and_category)
{
  const struct api_resource *r = api_resource_find("apps", "v1", "deployments");
  CHECK(r != NULL);
  if (!r)
    return;
  CHECK_STR(r->kind, "Deployment");
  CHECK_STR(r->list_kind, "DeploymentList");
  CHECK_STR(r->singular, "deployment");
  CHECK(r->namespaced);
  CHECK(r->has_status);
  CHECK(r->has_scale);
  CHECK(r->preferred);
  CHECK(list_has(r->short_names, "deploy"));
  CHECK(list_has(r->categories, "all"));
  CHECK_STR(r->definition, "io.k8s.api.apps.v1.Deployment");
  CHECK_STR(r->storage_resource, "apps/deployments");
  CHECK(api_resource_find_kind("apps", "v1", "Deployment") == r);
}

TEST(verbs_follow_upstream_discovery)
{
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  CHECK(pods != NULL);
  if (!pods)
    return;
  const char *const want[] = {"create", "delete", "deletecollection", "get",
                              "list",   "patch",  "update",           "watch"};
  CHECK_INT(list_len(pods->verbs), 8);
  for (size_t i = 0; i < 8 && pods->verbs[i]; i++)
    CHECK_STR(pods->verbs[i], want[i]);
  const struct api_resource *ns = api_resource_find(NULL, "v1", "namespaces");
  CHECK(ns != NULL && !ns->namespaced);
  CHECK(ns != NULL && !list_has(ns->verbs, "deletecollection"));
  CHECK(ns != NULL && list_has(ns->short_names, "ns") && ns->has_status);
  CHECK_STR(pods->storage_resource, "pods");
}

TEST(events_in_both_groups_share_storage)
{
  const struct api_resource *core = api_resource_find("", "v1", "events");
  const struct api_resource *events = api_resource_find("events.k8s.io", "v1", "events");
  CHECK(core != NULL && events != NULL);
  if (!core || !events)
    return;
  CHECK(core != events);
  CHECK_STR(core->storage_resource, "events");
  CHECK_STR(events->storage_resource, "events");
  CHECK_STR(events->definition, "io.k8s.api.events.v1.Event");
}

TEST(unknown_resources_are_not_found)
{
  CHECK(api_resource_find("", "v1", "podtemplates") == NULL);
  CHECK(api_resource_find("apps", "v1", "controllerrevisions") != NULL);
  CHECK(api_resource_find("apps", "v2", "deployments") == NULL);
  CHECK(api_resource_find("", "v1", "deployments") == NULL);
  CHECK(api_resource_find_kind("", "v1", "ReplicationController") == NULL);
  CHECK(api_resource_find("apps", NULL, "deployments") == NULL);
}

TEST(served_set_and_details)
{
  CHECK(api_resources_count >= 34);
  const struct api_resource *crd =
      api_resource_find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  CHECK(crd && !crd->namespaced && list_has(crd->short_names, "crds"));
  CHECK(crd &&
        strcmp(crd->storage_resource, "apiextensions.k8s.io/customresourcedefinitions") == 0);
  const struct api_resource *hpa2 =
      api_resource_find("autoscaling", "v2", "horizontalpodautoscalers");
  const struct api_resource *hpa1 =
      api_resource_find("autoscaling", "v1", "horizontalpodautoscalers");
  CHECK(hpa2 && hpa2->preferred && list_has(hpa2->short_names, "hpa"));
  CHECK(hpa1 == NULL || !hpa1->preferred);
  const struct api_resource *ep = api_resource_find("", "v1", "endpoints");
  CHECK(ep && strcmp(ep->singular, "endpoints") == 0 && !list_has(ep->categories, "all"));
  const struct api_resource *cj = api_resource_find_kind("batch", "v1", "CronJob");
  CHECK(cj && list_has(cj->short_names, "cj") && list_has(cj->categories, "all"));
  CHECK(api_resource_find_kind("coordination.k8s.io", "v1", "Lease") != NULL);
  CHECK(api_resource_find_kind("discovery.k8s.io", "v1", "EndpointSlice") != NULL);
}

TEST(every_served_kind_has_a_schema_definition)
{
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *r = &api_resources[i];
    if (!schema_definition_known(r->definition))
      testlib_fail(__FILE__, __LINE__, "%s has no schema", r->definition);
    CHECK(schema_field_lookup(r->definition, "metadata") != NULL);
    CHECK(api_resource_find(r->group, r->version, r->plural) == r);
    CHECK(api_resource_find_kind(r->group, r->version, r->kind) == r);
    CHECK(r->verbs[0] != NULL);
  }
}

TEST_MAIN()
