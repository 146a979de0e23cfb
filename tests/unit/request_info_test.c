/* request_info_test.c — request paths to request_info, as upstream's RequestInfoFactory
 * resolves them: namespaced and cluster-scoped forms, groups, the legacy /watch/ prefix,
 * subresources, and the 404/405 answers for paths that name nothing served. */
#include "apiserver/request.h"
#include "testlib.h"

#include <string.h>

static int
parse(const char *method, const char *path, struct request_info *info)
{
  k8c_err err = {0};
  int rc = request_info_parse(method, path, false, info, &err);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

TEST(namespaced_get)
{
  struct request_info ri;
  CHECK_INT(parse("GET", "/api/v1/namespaces/default/pods/web-1", &ri), 0);
  CHECK_STR(ri.group, "");
  CHECK_STR(ri.version, "v1");
  CHECK_STR(ri.namespace_, "default");
  CHECK_STR(ri.resource, "pods");
  CHECK_STR(ri.name, "web-1");
  CHECK_STR(ri.subresource, "");
  CHECK_INT(ri.verb, VERB_GET);
  CHECK(ri.is_resource);
  CHECK(ri.res != NULL);
}

TEST(group_list_and_collection_delete)
{
  struct request_info ri;
  CHECK_INT(parse("GET", "/apis/apps/v1/namespaces/ns1/deployments", &ri), 0);
  CHECK_STR(ri.group, "apps");
  CHECK_STR(ri.version, "v1");
  CHECK_STR(ri.namespace_, "ns1");
  CHECK_STR(ri.resource, "deployments");
  CHECK_INT(ri.verb, VERB_LIST);
  CHECK_INT(parse("DELETE", "/apis/apps/v1/namespaces/ns1/deployments", &ri), 0);
  CHECK_INT(ri.verb, VERB_DELETECOLLECTION);
  CHECK_INT(parse("GET", "/apis/apps/v1/deployments", &ri), 0);
  CHECK_STR(ri.namespace_, "");
  CHECK_INT(ri.verb, VERB_LIST);
}

TEST(cluster_scoped_and_namespace_subresources)
{
  struct request_info ri;
  CHECK_INT(parse("GET", "/api/v1/namespaces/kube-system", &ri), 0);
  CHECK_STR(ri.resource, "namespaces");
  CHECK_STR(ri.name, "kube-system");
  CHECK_STR(ri.namespace_, "");
  CHECK_INT(parse("PUT", "/api/v1/namespaces/ns1/finalize", &ri), 0);
  CHECK_STR(ri.resource, "namespaces");
  CHECK_STR(ri.name, "ns1");
  CHECK_STR(ri.subresource, "finalize");
  CHECK_INT(parse("GET", "/api/v1/namespaces/ns1/status", &ri), 0);
  CHECK_STR(ri.subresource, "status");
  CHECK_INT(parse("GET", "/api/v1/nodes/n1/status", &ri), 0);
  CHECK_STR(ri.resource, "nodes");
  CHECK_STR(ri.name, "n1");
  CHECK_STR(ri.subresource, "status");
  /* a cluster-scoped kind inside a namespace names nothing */
  CHECK_INT(parse("GET", "/api/v1/namespaces/ns1/nodes/n1", &ri), 404);
}

TEST(watch_forms)
{
  struct request_info ri;
  CHECK_INT(parse("GET", "/api/v1/watch/namespaces/ns1/pods", &ri), 0);
  CHECK_INT(ri.verb, VERB_WATCH);
  CHECK_STR(ri.namespace_, "ns1");
  CHECK_STR(ri.resource, "pods");
  k8c_err err = {0};
  CHECK_INT(request_info_parse("GET", "/api/v1/pods", true, &ri, &err), 0);
  CHECK_INT(ri.verb, VERB_WATCH);
}

TEST(repeated_slashes_and_limits)
{
  struct request_info ri;
  CHECK_INT(parse("GET", "//api//v1/namespaces/a//pods/b", &ri), 0);
  CHECK_STR(ri.namespace_, "a");
  CHECK_STR(ri.name, "b");
  char long_name[300];
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  char path[400];
  snprintf(path, sizeof path, "/api/v1/namespaces/a/pods/%s", long_name);
  CHECK_INT(parse("GET", path, &ri), 404); /* a segment of 256 bytes or more */
  long_name[255] = 0;
  snprintf(path, sizeof path, "/api/v1/namespaces/a/pods/%s", long_name);
  CHECK_INT(parse("GET", path, &ri), 0); /* 255 bytes still fit */
  CHECK_INT((int)strlen(ri.name), 255);
  CHECK_INT(parse("GET", "/api/v1/namespaces/a/pods/b/status/x", &ri), 404);
  CHECK_INT(parse("GET", "/a/b/c/d/e/f/g/h/i/j/k", &ri), 404);
}

TEST(unknown_paths_and_methods)
{
  struct request_info ri;
  CHECK_INT(parse("GET", "/", &ri), 404);
  CHECK_INT(parse("GET", "/api", &ri), 404);
  CHECK_INT(parse("GET", "/api/v1", &ri), 404);
  CHECK_INT(parse("GET", "/apis/apps", &ri), 404);
  CHECK_INT(parse("GET", "/api/v1/widgets", &ri), 404);
  CHECK_INT(parse("GET", "/apisx/apps/v1/deployments", &ri), 404);
  CHECK_INT(parse("GET", "/ap/v1/pods", &ri), 404);
  CHECK_INT(parse("GET", "/api/v1/namespaces/a/pods/b/bogus", &ri), 404);
  CHECK_INT(parse("TRACE", "/api/v1/pods", &ri), 405);
  CHECK_INT(parse("PUT", "/api/v1/namespaces/a/pods", &ri), 405);
  CHECK_INT(parse("POST", "/api/v1/namespaces/a/pods/b", &ri), 405);
  CHECK_INT(parse("GET", "/api/v1/namespaces/a/pods/b/binding", &ri), 405);
  CHECK_INT(parse("POST", "/api/v1/namespaces/a/pods/b/binding", &ri), 0);
  CHECK_INT(parse("GET", "/api/v1/namespaces/a/pods/b/log", &ri), 0);
}

static const char *
manager_of(const char *agent)
{
  static char out[REQUEST_FIELD_MANAGER_MAX + 1];
  request_manager_from_user_agent(agent, out);
  return out;
}

TEST(field_manager_from_the_user_agent)
{
  CHECK_STR(manager_of("kubectl/v1.33.0 (linux/amd64) kubernetes/abc"), "kubectl");
  CHECK_STR(manager_of("curl/8.5.0"), "curl");
  CHECK_STR(manager_of("python-requests"), "python-requests"); /* no '/': all of it */
  CHECK_STR(manager_of("my tool\t\x01x/1"), "my toolx");       /* control characters dropped */
  CHECK_STR(manager_of("caf\xc3\xa9/1"), "caf\xc3\xa9");       /* UTF-8 kept */
  CHECK_STR(manager_of("a\xff\xc3"
                       "b/1"),
            "ab"); /* invalid bytes dropped */
  CHECK_STR(manager_of(""), "");
  CHECK_STR(manager_of(NULL), "");
  CHECK_STR(manager_of("/x"), "");
  char longer[300];
  memset(longer, 'm', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  CHECK_INT((int)strlen(manager_of(longer)), REQUEST_FIELD_MANAGER_MAX);
  /* a two-byte character that would end past the limit is left out whole */
  memset(longer, 'm', 127);
  memcpy(longer + 127, "\xc3\xa9/", 4);
  CHECK_INT((int)strlen(manager_of(longer)), 127);
}

TEST_MAIN()
