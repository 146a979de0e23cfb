/* controller_serviceaccount_test.c — the ServiceAccount controller against a real
 * registry: "default" appears in existing and new namespaces, comes back when deleted,
 * and is not recreated in a terminating namespace. */
#include "controller_fixture.h"
#include "controllers/serviceaccount.h"

static bool
has_default(struct client_fixture *f, const char *ns)
{
  return fixture_exists(f, "serviceaccounts", ns, "default");
}

static int
delete_default(struct client_fixture *f, const char *ns)
{
  k8c_err err = {0};
  int rc = client_delete(f->client, api_resource_find("", "v1", "serviceaccounts"), ns, "default",
                         NULL, NULL, NULL, &err);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

TEST(every_active_namespace_gets_a_default_serviceaccount)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &serviceaccount_controller), 0);
  struct client_fixture *f = &cf.f;
  /* "default" existed before the controller started. */
  CHECK(WAIT_UNTIL(has_default(f, "default"), 5000));
  json_t *ns = json_of("{\"metadata\":{\"name\":\"team\"}}");
  k8c_err err = {0};
  CHECK_INT(
      client_create(f->client, api_resource_find("", "v1", "namespaces"), "", ns, NULL, NULL, &err),
      0);
  json_decref(ns);
  CHECK(WAIT_UNTIL(has_default(f, "team"), 5000));
  /* Deleted, it comes back. */
  CHECK_INT(delete_default(f, "team"), 0);
  CHECK(WAIT_UNTIL(has_default(f, "team"), 5000));
  /* Not in a terminating namespace (no namespace controller here: it stays Terminating). */
  CHECK_INT(client_delete(f->client, api_resource_find("", "v1", "namespaces"), "", "team", NULL,
                          NULL, NULL, &err),
            0);
  CHECK_INT(delete_default(f, "team"), 0);
  usleep(300000);
  CHECK(!has_default(f, "team"));
  k8c_err_clear(&err);
  controller_fixture_close(&cf);
}

TEST_MAIN()
