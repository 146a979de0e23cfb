/* controller_namespace_test.c — the namespace lifecycle controller against a real
 * registry: DELETE makes a namespace Terminating, the controller empties it, reports
 * what remains (and which finalizers hold it) in upstream's conditions, and the namespace
 * disappears once empty. */
#include "controller_fixture.h"
#include "controllers/namespace.h"

#include <pthread.h>

static int
create_in(struct client_fixture *f, const char *plural, const char *ns, const char *text)
{
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(f->client, api_resource_find("", "v1", plural), ns, obj, NULL, NULL, &err);
  json_decref(obj);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

static int
delete_namespace(struct client_fixture *f, const char *name, json_t **out)
{
  k8c_err err = {0};
  int rc = client_delete(f->client, api_resource_find("", "v1", "namespaces"), "", name, NULL, NULL,
                         out, &err);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

/* The condition of that type in the namespace's status, as "Status|Reason|Message". */
static char *
condition_of(struct client_fixture *f, const char *ns, const char *type)
{
  json_t *obj = fixture_get(f, "namespaces", "", ns);
  char *out = NULL;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(obj, "status"), "conditions"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      out = xasprintf("%s|%s|%s", json_string_value(json_object_get(c, "status")),
                      json_string_value(json_object_get(c, "reason")),
                      json_string_value(json_object_get(c, "message")));
  }
  json_decref(obj);
  return out ? out : xstrdup("");
}

static bool
condition_is(struct client_fixture *f, const char *ns, const char *type, const char *want)
{
  cleanup_free char *have = condition_of(f, ns, type);
  return strcmp(have, want) == 0;
}

TEST(deleting_a_namespace_empties_it_then_removes_it)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &namespace_controller), 0);
  struct client_fixture *f = &cf.f;
  CHECK_INT(create_in(f, "namespaces", "", "{\"metadata\":{\"name\":\"team\"}}"), 0);
  CHECK_INT(create_in(f, "configmaps", "team", "{\"metadata\":{\"name\":\"a\"}}"), 0);
  CHECK_INT(create_in(f, "configmaps", "team", "{\"metadata\":{\"name\":\"b\"}}"), 0);
  CHECK_INT(create_in(f, "secrets", "team", "{\"metadata\":{\"name\":\"s\"}}"), 0);
  CHECK_INT(create_in(f, "configmaps", "team",
                      "{\"metadata\":{\"name\":\"held\",\"finalizers\":[\"example.com/hold\"]}}"),
            0);
  CHECK_INT(create_in(f, "configmaps", "default", "{\"metadata\":{\"name\":\"elsewhere\"}}"), 0);

  json_t *out = NULL;
  CHECK_INT(delete_namespace(f, "team", &out), 0);
  CHECK_STR(json_string_value(json_object_get(json_object_get(out, "status"), "phase")),
            "Terminating");
  json_decref(out);
  /* No new content in a terminating namespace. */
  CHECK_INT(create_in(f, "configmaps", "team", "{\"metadata\":{\"name\":\"late\"}}"), 403);

  CHECK(WAIT_UNTIL(!fixture_exists(f, "configmaps", "team", "a") &&
                       !fixture_exists(f, "configmaps", "team", "b") &&
                       !fixture_exists(f, "secrets", "team", "s"),
                   5000));
  CHECK(WAIT_UNTIL(condition_is(f, "team", "NamespaceContentRemaining",
                                "True|SomeResourcesRemain|Some resources are remaining: "
                                "configmaps. has 1 resource instances"),
                   5000));
  CHECK(condition_is(f, "team", "NamespaceFinalizersRemaining",
                     "True|SomeFinalizersRemain|Some content in the namespace has finalizers "
                     "remaining: example.com/hold in 1 resource instances"));
  CHECK(condition_is(f, "team", "NamespaceDeletionContentFailure",
                     "False|ContentDeleted|All content successfully deleted, may be waiting on "
                     "finalization"));
  CHECK(condition_is(f, "team", "NamespaceDeletionDiscoveryFailure",
                     "False|ResourcesDiscovered|All resources successfully discovered"));
  json_t *ns = fixture_get(f, "namespaces", "", "team");
  CHECK(ns != NULL);
  CHECK_STR(json_string_value(json_object_get(json_object_get(ns, "status"), "phase")),
            "Terminating");
  CHECK_JSON(json_object_get(json_object_get(ns, "spec"), "finalizers"), "[\"kubernetes\"]");
  json_decref(ns);
  /* A second DELETE is refused as upstream does. */
  CHECK_INT(delete_namespace(f, "team", NULL), 409);

  /* Once the last object lets go, the namespace goes. */
  json_t *p = json_of("{\"metadata\":{\"finalizers\":null}}");
  k8c_err err = {0};
  CHECK_INT(client_patch(f->client, f->configmaps, "team", "held", "application/merge-patch+json",
                         p, NULL, NULL, &err),
            0);
  k8c_err_clear(&err);
  json_decref(p);
  CHECK(WAIT_UNTIL(!fixture_exists(f, "namespaces", "", "team"), 5000));
  CHECK(!fixture_exists(f, "configmaps", "team", "held"));
  /* Other namespaces are untouched. */
  CHECK(fixture_exists(f, "configmaps", "default", "elsewhere"));
  controller_fixture_close(&cf);
}

TEST(an_empty_namespace_goes_quickly_and_can_be_recreated)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &namespace_controller), 0);
  struct client_fixture *f = &cf.f;
  CHECK_INT(create_in(f, "namespaces", "", "{\"metadata\":{\"name\":\"empty\"}}"), 0);
  long long t0 = fixture_now_ms();
  CHECK_INT(delete_namespace(f, "empty", NULL), 0);
  CHECK(WAIT_UNTIL(!fixture_exists(f, "namespaces", "", "empty"), 5000));
  CHECK(fixture_now_ms() - t0 < 2000);
  CHECK_INT(create_in(f, "namespaces", "", "{\"metadata\":{\"name\":\"empty\"}}"), 0);
  json_t *ns = fixture_get(f, "namespaces", "", "empty");
  CHECK_STR(json_string_value(json_object_get(json_object_get(ns, "status"), "phase")), "Active");
  json_decref(ns);
  controller_fixture_close(&cf);
}

/* Creates the ConfigMaps cm-NNNN of namespace "big" with NNNN = first, first +
 * CREATORS, ... below BIG_COUNT (in parallel threads: the store commits their writes in
 * groups); cm-0549 and cm-1099 hold a finalizer. */
#define CREATORS 8
#define BIG_COUNT 1100
struct creator {
  struct client_fixture *f;
  int first;
  int failed;
};

static void *
create_some(void *arg)
{
  struct creator *c = arg;
  for (int i = c->first; i < BIG_COUNT; i += CREATORS) {
    char text[160];
    snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"cm-%04d\"%s}}", i,
             i % 550 == 549 ? ",\"finalizers\":[\"example.com/hold\"]" : "");
    if (create_in(c->f, "configmaps", "big", text) != 0)
      c->failed++;
  }
  return NULL;
}

/* The controller lists a page (500) at a time: content over several pages all goes, and
 * what remains is counted over every page. */
TEST(content_over_several_list_pages_is_deleted_and_counted)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &namespace_controller), 0);
  struct client_fixture *f = &cf.f;
  CHECK_INT(create_in(f, "namespaces", "", "{\"metadata\":{\"name\":\"big\"}}"), 0);
  pthread_t creators[CREATORS];
  struct creator cr[CREATORS];
  for (int t = 0; t < CREATORS; t++) {
    cr[t] = (struct creator){.f = f, .first = t};
    CHECK_INT(pthread_create(&creators[t], NULL, create_some, &cr[t]), 0);
  }
  for (int t = 0; t < CREATORS; t++) {
    pthread_join(creators[t], NULL);
    CHECK_INT(cr[t].failed, 0);
  }
  CHECK_INT(delete_namespace(f, "big", NULL), 0);
  CHECK(WAIT_UNTIL(condition_is(f, "big", "NamespaceContentRemaining",
                                "True|SomeResourcesRemain|Some resources are remaining: "
                                "configmaps. has 2 resource instances"),
                   10000));
  CHECK(!fixture_exists(f, "configmaps", "big", "cm-0000"));
  CHECK(!fixture_exists(f, "configmaps", "big", "cm-0700"));
  CHECK(!fixture_exists(f, "configmaps", "big", "cm-1098"));
  CHECK(fixture_exists(f, "configmaps", "big", "cm-0549"));
  CHECK(fixture_exists(f, "configmaps", "big", "cm-1099"));
  controller_fixture_close(&cf);
}

TEST_MAIN()
