/* client_inprocess_test.c — the in-process API client against a real registry on SQLite:
 * CRUD with upstream's status codes (404, 409 AlreadyExists and Conflict, 422), status
 * updates that leave the spec alone, list selectors and paging, and watches: initial
 * state, changes in order, timeouts, cancellation from another thread, 410 for an expired
 * resourceVersion. */
#include "client_fixture.h"

#include <pthread.h>
#include <unistd.h>

#define DEPLOYMENT                                                                                 \
  "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},\"spec\":{"   \
  "\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"d\"}},\"template\":{\"metadata\":{"     \
  "\"labels\":{\"app\":\"d\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}" \
  "}"

TEST(crud_with_upstream_status_codes)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *cm = json_of("{\"metadata\":{\"name\":\"a\"},\"data\":{\"k\":\"v\"}}");
  json_t *created = NULL;
  CHECK_INT(client_create(f.client, f.configmaps, "default", cm, NULL, &created, &err), 0);
  CHECK_STR(json_string_value(json_object_get(created, "kind")), "ConfigMap");
  CHECK(client_object_rv(created) != NULL);
  /* The body is borrowed, not modified. */
  CHECK(json_object_get(json_object_get(cm, "metadata"), "resourceVersion") == NULL);

  CHECK_INT(client_create(f.client, f.configmaps, "default", cm, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, "AlreadyExists");
  k8c_err_clear(&err);

  json_t *got = NULL;
  CHECK_INT(client_get(f.client, f.configmaps, "default", "a", &got, &err), 0);
  CHECK_JSON(json_object_get(got, "data"), "{\"k\":\"v\"}");
  CHECK_STR(client_object_rv(got), client_object_rv(created));
  cleanup_free char *key = client_object_key(got);
  CHECK_STR(key, "default/a");

  CHECK_INT(client_get(f.client, f.configmaps, "default", "nope", &got, &err) < 0 ? 0 : 1, 0);
  CHECK_INT(err.status, 404);
  CHECK_STR(err.reason, "NotFound");
  k8c_err_clear(&err);

  /* Update with the current resourceVersion, then with the stale one. */
  json_t *changed = json_deep_copy(got);
  json_object_set_new(json_object_get(changed, "data"), "k", json_string("w"));
  json_t *updated = NULL;
  CHECK_INT(client_update(f.client, f.configmaps, "default", NULL, changed, NULL, &updated, &err),
            0);
  CHECK_JSON(json_object_get(updated, "data"), "{\"k\":\"w\"}");
  CHECK(strcmp(client_object_rv(updated), client_object_rv(got)) != 0);
  CHECK_INT(client_update(f.client, f.configmaps, "default", "a", changed, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, "Conflict");
  k8c_err_clear(&err);

  /* Invalid objects are 422 with causes. */
  json_t *bad = json_of("{\"metadata\":{\"name\":\"Not_Valid\"}}");
  CHECK_INT(client_create(f.client, f.configmaps, "default", bad, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 422);
  CHECK_STR(err.reason, "Invalid");
  k8c_err_clear(&err);

  /* Patch, dry run included. */
  json_t *p = json_of("{\"data\":{\"x\":\"y\"}}");
  struct client_write_opts dry = {.dry_run = true};
  json_t *patched = NULL;
  CHECK_INT(client_patch(f.client, f.configmaps, "default", "a", "application/merge-patch+json", p,
                         &dry, &patched, &err),
            0);
  CHECK_JSON(json_object_get(patched, "data"), "{\"k\":\"w\",\"x\":\"y\"}");
  json_decref(patched);
  json_t *after_dry = NULL;
  CHECK_INT(client_get(f.client, f.configmaps, "default", "a", &after_dry, &err), 0);
  CHECK_JSON(json_object_get(after_dry, "data"), "{\"k\":\"w\"}");
  CHECK_INT(client_patch(f.client, f.configmaps, "default", "a", "application/merge-patch+json", p,
                         NULL, &patched, &err),
            0);
  CHECK_JSON(json_object_get(patched, "data"), "{\"k\":\"w\",\"x\":\"y\"}");

  /* Delete, then it is gone. */
  json_t *deleted = NULL;
  CHECK_INT(client_delete(f.client, f.configmaps, "default", "a", NULL, NULL, &deleted, &err), 0);
  CHECK_STR(name_of(deleted), "a");
  CHECK_INT(client_get(f.client, f.configmaps, "default", "a", &got, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK_INT(client_delete(f.client, f.configmaps, "default", "a", NULL, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);

  json_decref(cm);
  json_decref(created);
  json_decref(got);
  json_decref(changed);
  json_decref(updated);
  json_decref(bad);
  json_decref(p);
  json_decref(after_dry);
  json_decref(patched);
  json_decref(deleted);
  client_fixture_close(&f);
}

TEST(update_status_touches_only_status)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  const struct api_resource *deployments = api_resource_find("apps", "v1", "deployments");
  json_t *d = json_of(DEPLOYMENT);
  json_t *created = NULL;
  CHECK_INT(client_create(f.client, deployments, "default", d, NULL, &created, &err), 0);

  json_t *st = json_deep_copy(created);
  json_object_set_new(st, "status", json_pack("{s:i}", "replicas", 2));
  json_object_set_new(json_object_get(st, "spec"), "replicas", json_integer(9));
  json_t *out = NULL;
  CHECK_INT(client_update_status(f.client, deployments, "default", "d", st, NULL, &out, &err), 0);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "status"), "replicas")), 2);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 2);
  json_decref(out);

  /* A plain update does not change status. */
  json_t *cur = NULL;
  CHECK_INT(client_get(f.client, deployments, "default", "d", &cur, &err), 0);
  json_object_set_new(cur, "status", json_pack("{s:i}", "replicas", 7));
  CHECK_INT(client_update(f.client, deployments, "default", "d", cur, NULL, &out, &err), 0);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "status"), "replicas")), 2);
  json_decref(out);

  /* Status patches go to the subresource. */
  json_t *p = json_of("{\"status\":{\"replicas\":1},\"spec\":{\"replicas\":5}}");
  struct client_write_opts status_opts = {.subresource = "status"};
  CHECK_INT(client_patch(f.client, deployments, "default", "d", "application/merge-patch+json", p,
                         &status_opts, &out, &err),
            0);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "status"), "replicas")), 1);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 2);
  /* Field managers are recorded under the client's name. */
  json_t *mf = json_object_get(json_object_get(out, "metadata"), "managedFields");
  bool ours = false;
  size_t i;
  json_t *entry;
  json_array_foreach (mf, i, entry) {
    const char *manager = json_string_value(json_object_get(entry, "manager"));
    ours = ours || (manager && strcmp(manager, "client-test") == 0);
  }
  CHECK(ours);
  json_decref(out);
  json_decref(p);
  json_decref(cur);
  json_decref(st);
  json_decref(created);
  json_decref(d);
  client_fixture_close(&f);
}

TEST(list_filters_and_pages)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  for (int i = 0; i < 5; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i);
    CHECK_INT(create_configmap(&f, name, i % 2 ? "{\"odd\":\"yes\"}" : "{}", NULL), 0);
  }
  json_t *list = NULL;
  CHECK_INT(client_list(f.client, f.configmaps, "default", NULL, &list, &err), 0);
  CHECK_STR(json_string_value(json_object_get(list, "kind")), "ConfigMapList");
  CHECK_STR(json_string_value(json_object_get(list, "apiVersion")), "v1");
  CHECK_INT(json_array_size(json_object_get(list, "items")), 5);
  CHECK(client_object_rv(list) != NULL);
  json_decref(list);

  struct client_list_opts sel = {.label_selector = "odd=yes"};
  CHECK_INT(client_list(f.client, f.configmaps, "default", &sel, &list, &err), 0);
  CHECK_INT(json_array_size(json_object_get(list, "items")), 2);
  CHECK_STR(name_of(json_array_get(json_object_get(list, "items"), 0)), "c1");
  json_decref(list);

  struct client_list_opts bad = {.label_selector = "a b"};
  CHECK_INT(client_list(f.client, f.configmaps, "default", &bad, &list, &err), -1);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);

  /* Pages of two, following continue tokens. */
  struct client_list_opts page = {.limit = 2};
  size_t seen = 0;
  char *token = NULL;
  for (int pages = 0; pages < 5; pages++) {
    page.continue_token = token;
    CHECK_INT(client_list(f.client, f.configmaps, "default", &page, &list, &err), 0);
    seen += json_array_size(json_object_get(list, "items"));
    free(token);
    const char *next =
        json_string_value(json_object_get(json_object_get(list, "metadata"), "continue"));
    token = next ? strdup(next) : NULL;
    json_decref(list);
    if (token == NULL)
      break;
  }
  CHECK_INT(seen, 5);
  CHECK(token == NULL);

  /* All namespaces: ns "". */
  CHECK_INT(client_list(f.client, f.configmaps, "", NULL, &list, &err), 0);
  CHECK(json_array_size(json_object_get(list, "items")) >= 5);
  json_decref(list);
  client_fixture_close(&f);
}

/* Reads one event within a second and checks its type and object name. */
static void
expect_event(client_watch *w, struct client_event *ev, enum client_event_type type,
             const char *name)
{
  int rc = client_watch_next(w, ev, 1000);
  CHECK_INT(rc, 1);
  if (rc != 1)
    return;
  CHECK_STR(client_event_type_name(ev->type), client_event_type_name(type));
  CHECK_STR(name_of(client_event_object(ev)), name);
  /* The raw text and the parsed object agree. */
  json_error_t jerr;
  json_t *again = json_loadb(ev->raw, ev->raw_len, 0, &jerr);
  CHECK(json_equal(again, client_event_object(ev)));
  json_decref(again);
}

TEST(watch_sends_initial_state_then_changes_in_order)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  CHECK_INT(create_configmap(&f, "first", NULL, NULL), 0);
  client_watch *w = client_watch_start(f.client, f.configmaps, "default", NULL, &err);
  CHECK(w != NULL);
  struct client_event ev = {0};
  expect_event(w, &ev, CLIENT_EVENT_ADDED, "first");
  char *rv_first = strdup(client_object_rv(client_event_object(&ev)));
  CHECK_INT(client_watch_next(w, &ev, 50), 0); /* nothing more: a timeout */

  CHECK_INT(create_configmap(&f, "second", NULL, NULL), 0);
  CHECK_INT(patch_configmap(&f, "first", "{\"data\":{\"a\":\"b\"}}"), 0);
  CHECK_INT(delete_configmap(&f, "second"), 0);
  expect_event(w, &ev, CLIENT_EVENT_ADDED, "second");
  expect_event(w, &ev, CLIENT_EVENT_MODIFIED, "first");
  CHECK_JSON(json_object_get(client_event_object(&ev), "data"), "{\"a\":\"b\"}");
  expect_event(w, &ev, CLIENT_EVENT_DELETED, "second");
  client_watch_close(w);

  /* From a resourceVersion: only what came after it. */
  struct client_list_opts from = {.resource_version = rv_first};
  w = client_watch_start(f.client, f.configmaps, "default", &from, &err);
  CHECK(w != NULL);
  expect_event(w, &ev, CLIENT_EVENT_ADDED, "second");
  expect_event(w, &ev, CLIENT_EVENT_MODIFIED, "first");
  expect_event(w, &ev, CLIENT_EVENT_DELETED, "second");
  CHECK_INT(client_watch_next(w, &ev, 0), 0);
  client_watch_close(w);

  /* Selectors apply to watches: leaving the selection is a DELETED event. */
  struct client_list_opts sel = {.label_selector = "team=a"};
  w = client_watch_start(f.client, f.configmaps, "default", &sel, &err);
  CHECK(w != NULL);
  CHECK_INT(create_configmap(&f, "other", "{\"team\":\"b\"}", NULL), 0);
  CHECK_INT(create_configmap(&f, "mine", "{\"team\":\"a\"}", NULL), 0);
  expect_event(w, &ev, CLIENT_EVENT_ADDED, "mine");
  CHECK_INT(patch_configmap(&f, "mine", "{\"metadata\":{\"labels\":{\"team\":\"c\"}}}"), 0);
  expect_event(w, &ev, CLIENT_EVENT_DELETED, "mine");
  client_watch_close(w);

  client_event_clear(&ev);
  free(rv_first);
  client_fixture_close(&f);
}

struct canceller {
  client_watch *w;
};

static void *
cancel_later(void *arg)
{
  struct canceller *c = arg;
  usleep(100 * 1000);
  client_watch_cancel(c->w);
  return NULL;
}

TEST(watch_cancel_wakes_a_blocked_reader)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  struct client_list_opts now = {.resource_version = "1"};
  client_watch *w = client_watch_start(f.client, f.configmaps, "default", &now, &err);
  CHECK(w != NULL);
  struct canceller c = {w};
  pthread_t t;
  CHECK_INT(pthread_create(&t, NULL, cancel_later, &c), 0);
  struct client_event ev = {0};
  long long start = fixture_now_ms();
  CHECK_INT(client_watch_next(w, &ev, -1), -1);
  CHECK(fixture_now_ms() - start < 2000);
  pthread_join(t, NULL);
  CHECK_INT(client_watch_next(w, &ev, 0), -1); /* stays ended */
  client_watch_close(w);
  client_fixture_close(&f);
}

TEST(watch_from_an_expired_version_is_410)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  watchcache_set_limits(f.reg.cache, 3, 100);
  k8c_err err = {0};
  for (int i = 0; i < 8; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i);
    CHECK_INT(create_configmap(&f, name, NULL, NULL), 0);
  }
  struct client_list_opts old = {.resource_version = "2"};
  client_watch *w = client_watch_start(f.client, f.configmaps, "default", &old, &err);
  CHECK(w == NULL);
  CHECK_INT(err.status, 410);
  CHECK_STR(err.reason, "Expired");
  k8c_err_clear(&err);
  client_fixture_close(&f);
}

TEST(bind_assigns_a_pod_once)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  k8c_err err = {0};
  json_t *pod = json_pack("{s:s,s:s,s:{s:s},s:{s:[{s:s,s:s}]}}", "apiVersion", "v1", "kind", "Pod",
                          "metadata", "name", "p", "spec", "containers", "name", "c", "image", "x");
  json_t *out = NULL;
  CHECK_INT(client_create(f.client, pods, "default", pod, NULL, &out, &err), 0);
  const char *uid = json_string_value(json_object_get(json_object_get(out, "metadata"), "uid"));
  CHECK_INT(client_bind(f.client, "default", "p", uid, "node-a", &err), 0);
  CHECK_INT(client_bind(f.client, "default", "p", NULL, "node-b", &err), -1);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  json_t *got = NULL;
  CHECK_INT(client_get(f.client, pods, "default", "p", &got, &err), 0);
  CHECK_STR(json_string_value(json_object_get(json_object_get(got, "spec"), "nodeName")), "node-a");
  CHECK_INT(client_bind(f.client, "default", "missing", NULL, "node-a", &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  json_decref(got);
  json_decref(out);
  json_decref(pod);
  client_fixture_close(&f);
}

TEST_MAIN()
