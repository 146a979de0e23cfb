/* rbac_match_test.c — RBAC subject and rule matching: users, groups (with the implied
 * system:authenticated), ServiceAccounts, wildcards, subresources, resourceNames and
 * nonResourceURLs, as upstream's RBAC evaluates them. */
#include "apiserver/rbac_match.h"
#include "lib/mem.h"
#include "testlib.h"

static struct rbac_attrs
attrs(const char *verb, const char *group, const char *resource, const char *sub, const char *name)
{
  static const char *const groups[] = {"dev"};
  return (struct rbac_attrs){.user = "alice",
                             .groups = groups,
                             .ngroups = 1,
                             .is_resource = true,
                             .verb = verb,
                             .api_group = group,
                             .resource = resource,
                             .subresource = sub,
                             .name = name,
                             .ns = "default"};
}

static bool
allows(const char *rule_json, struct rbac_attrs a)
{
  cleanup_json json_t *rule = json_loads(rule_json, 0, NULL);
  return rbac_rule_allows(rule, &a);
}

TEST(rules)
{
  const char *pods_read =
      "{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\",\"list\"]}";
  CHECK(allows(pods_read, attrs("get", "", "pods", "", "p1")));
  CHECK(allows(pods_read, attrs("list", "", "pods", "", "")));
  CHECK(!allows(pods_read, attrs("delete", "", "pods", "", "p1")));
  CHECK(!allows(pods_read, attrs("get", "apps", "pods", "", "p1")));
  CHECK(!allows(pods_read, attrs("get", "", "pods", "log", "p1"))); /* subresources are separate */
  CHECK(allows("{\"apiGroups\":[\"\"],\"resources\":[\"pods/*\"],\"verbs\":[\"get\"]}",
               attrs("get", "", "pods", "log", "p1")));
  CHECK(allows("{\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"],\"verbs\":[\"update\"]}",
               attrs("update", "apps", "deployments", "scale", "web")));
  CHECK(!allows("{\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"],\"verbs\":[\"update\"]}",
                attrs("update", "apps", "deployments", "", "web")));
  const char *named =
      "{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"resourceNames\":[\"cfg\"],"
      "\"verbs\":[\"get\",\"list\"]}";
  CHECK(allows(named, attrs("get", "", "configmaps", "", "cfg")));
  CHECK(!allows(named, attrs("get", "", "configmaps", "", "other")));
  CHECK(!allows(named, attrs("list", "", "configmaps", "", ""))); /* a list names nothing */
  CHECK(allows("{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]}",
               attrs("deletecollection", "batch", "jobs", "", "")));
  struct rbac_attrs path = {
      .user = "alice", .is_resource = false, .verb = "get", .path = "/apis/apps/v1"};
  CHECK(allows("{\"nonResourceURLs\":[\"/apis/*\"],\"verbs\":[\"get\"]}", path));
  CHECK(!allows("{\"nonResourceURLs\":[\"/api\"],\"verbs\":[\"get\"]}", path));
  CHECK(!allows(pods_read, path));
}

static bool
applies(const char *binding_json)
{
  cleanup_json json_t *b = json_loads(binding_json, 0, NULL);
  struct rbac_attrs a = attrs("get", "", "pods", "", "");
  return rbac_binding_applies(b, &a);
}

TEST(subjects)
{
  CHECK(applies("{\"subjects\":[{\"kind\":\"User\",\"name\":\"alice\"}]}"));
  CHECK(!applies("{\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}"));
  CHECK(applies("{\"subjects\":[{\"kind\":\"Group\",\"name\":\"dev\"}]}"));
  CHECK(applies("{\"subjects\":[{\"kind\":\"Group\",\"name\":\"system:authenticated\"}]}"));
  CHECK(!applies("{\"subjects\":[{\"kind\":\"Group\",\"name\":\"ops\"}]}"));
  CHECK(!applies("{\"subjects\":[]}"));
  cleanup_json json_t *sa =
      json_loads("{\"metadata\":{\"namespace\":\"shop\"},\"subjects\":[{\"kind\":"
                 "\"ServiceAccount\",\"name\":\"builder\"}]}",
                 0, NULL);
  struct rbac_attrs a = attrs("get", "", "pods", "", "");
  a.user = "system:serviceaccount:shop:builder";
  CHECK(rbac_binding_applies(sa, &a));
  a.user = "system:serviceaccount:other:builder";
  CHECK(!rbac_binding_applies(sa, &a));
}

TEST_MAIN()
