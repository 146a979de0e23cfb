/* client_http_test.c — the HTTPS API client against a real k8c API server started in
 * this process (certificates, token, registry on SQLite): CRUD, every patch type,
 * dry-run, delete options, status and binding subresources, paging, watches (changes in
 * order, timeouts, cancellation), errors identical to the in-process client's, the join
 * token's node-agent permissions, CA pinning through /cacerts, and concurrent use. */
#include "client_fixture.h"

#include "apiserver/agent_join.h"
#include "apiserver/pki.h"
#include "apiserver/server_internal.h"
#include "apiserver/token.h"
#include "client/client_http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <unistd.h>

struct http_fixture {
  struct client_fixture base;
  struct pki pki;
  char *token;
  struct apiserver *api;
  char url[64];
  char ca_file[128];
  char cert_file[128];
  char key_file[128];
  k8c_client *admin;
  k8c_client *agent;
};

static int
http_fixture_open(struct http_fixture *f)
{
  memset(f, 0, sizeof *f);
  if (client_fixture_open(&f->base) < 0)
    return -1;
  k8c_err err = {0};
  struct pki_config pcfg = {.data_dir = f->base.dir};
  if (pki_ensure(&pcfg, &f->pki, &err) < 0 || token_ensure(f->base.dir, &f->token, &err) < 0) {
    fprintf(stderr, "fixture: %s\n", err.message);
    return -1;
  }
  struct apiserver_config acfg = {
      .bind_address = "127.0.0.1",
      .port = 0,
      .serving_cert_pem = f->pki.serving_cert_pem,
      .serving_key_pem = f->pki.serving_key_pem,
      .client_ca_pem = f->pki.client_ca_cert_pem,
      .server_ca_pem = f->pki.server_ca_cert_pem,
      .token = f->token,
      .advertise_address = "127.0.0.1",
      .reg = &f->base.reg,
  };
  f->api = apiserver_start(&acfg, &err);
  if (f->api == NULL) {
    fprintf(stderr, "fixture: %s\n", err.message);
    return -1;
  }
  apiserver_set_ready(f->api);
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->api->daemon, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(f->url, sizeof f->url, "https://127.0.0.1:%u", di ? di->port : 0);
  snprintf(f->ca_file, sizeof f->ca_file, "%s/server/tls/server-ca.crt", f->base.dir);
  snprintf(f->cert_file, sizeof f->cert_file, "%s/server/tls/client-admin.crt", f->base.dir);
  snprintf(f->key_file, sizeof f->key_file, "%s/server/tls/client-admin.key", f->base.dir);
  struct client_http_config admin = {.server = f->url,
                                     .ca_file = f->ca_file,
                                     .cert_file = f->cert_file,
                                     .key_file = f->key_file,
                                     .field_manager = "client-test"};
  f->admin = client_http_new(&admin, &err);
  struct client_http_config agent = {
      .server = f->url, .ca_file = f->ca_file, .token = f->token, .field_manager = "agent-test"};
  f->agent = client_http_new(&agent, &err);
  return f->admin && f->agent ? 0 : -1;
}

static void
http_fixture_close(struct http_fixture *f)
{
  client_free(f->admin);
  client_free(f->agent);
  apiserver_stop(f->api);
  pki_free(&f->pki);
  free(f->token);
  client_fixture_close(&f->base);
}

static const struct api_resource *
resource(const char *group, const char *plural)
{
  return api_resource_find(group, "v1", plural);
}

static json_t *
data_of(k8c_client *c, const char *name)
{
  json_t *got = NULL;
  k8c_err err = {0};
  if (client_get(c, resource("", "configmaps"), "default", name, &got, &err) < 0) {
    k8c_err_clear(&err);
    return NULL;
  }
  json_t *data = json_incref(json_object_get(got, "data"));
  json_decref(got);
  return data;
}

/* ---------- CRUD ---------- */

TEST(crud_and_patch_types_over_https)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  const struct api_resource *cms = resource("", "configmaps");
  k8c_err err = {0};
  json_t *cm =
      json_of("{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}},\"data\":{\"k\":\"v\"}}");
  json_t *created = NULL;
  CHECK_INT(client_create(f.admin, cms, "default", cm, NULL, &created, &err), 0);
  CHECK_STR(json_string_value(json_object_get(created, "kind")), "ConfigMap");
  CHECK(client_object_rv(created) != NULL);
  json_t *mf = json_object_get(json_object_get(created, "metadata"), "managedFields");
  CHECK_STR(json_string_value(json_object_get(json_array_get(mf, 0), "manager")), "client-test");

  /* Dry run: answered, not stored. */
  json_t *b = json_of("{\"metadata\":{\"name\":\"dry\"},\"data\":{}}");
  struct client_write_opts dry = {.dry_run = true};
  CHECK_INT(client_create(f.admin, cms, "default", b, &dry, NULL, &err), 0);
  json_t *none = data_of(f.admin, "dry");
  CHECK(none == NULL);
  json_decref(b);

  /* Update with a stale resourceVersion is a 409 Conflict. */
  json_t *changed = json_deep_copy(created);
  json_object_set_new(json_object_get(changed, "data"), "k", json_string("w"));
  CHECK_INT(client_update(f.admin, cms, "default", NULL, changed, NULL, NULL, &err), 0);
  CHECK_INT(client_update(f.admin, cms, "default", "a", changed, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, "Conflict");
  k8c_err_clear(&err);

  /* The four patch types. */
  json_t *p = json_of("{\"data\":{\"m\":\"1\"}}");
  CHECK_INT(client_patch(f.admin, cms, "default", "a", "application/merge-patch+json", p, NULL,
                         NULL, &err),
            0);
  json_decref(p);
  p = json_of("[{\"op\":\"add\",\"path\":\"/data/j\",\"value\":\"2\"}]");
  CHECK_INT(client_patch(f.admin, cms, "default", "a", "application/json-patch+json", p, NULL, NULL,
                         &err),
            0);
  json_decref(p);
  p = json_of("{\"data\":{\"s\":\"3\"}}");
  CHECK_INT(client_patch(f.admin, cms, "default", "a", "application/strategic-merge-patch+json", p,
                         NULL, NULL, &err),
            0);
  json_decref(p);
  p = json_of("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"},"
              "\"data\":{\"k\":\"applied\"}}");
  struct client_write_opts apply = {.field_manager = "applier"};
  CHECK_INT(client_patch(f.admin, cms, "default", "a", "application/apply-patch+yaml", p, &apply,
                         NULL, &err),
            -1);
  CHECK_INT(err.status, 409); /* k is owned by client-test */
  CHECK_STR(err.reason, "Conflict");
  k8c_err_clear(&err);
  apply.force = true;
  CHECK_INT(client_patch(f.admin, cms, "default", "a", "application/apply-patch+yaml", p, &apply,
                         NULL, &err),
            0);
  json_decref(p);
  json_t *data = data_of(f.admin, "a");
  CHECK_JSON(data, "{\"k\":\"applied\",\"m\":\"1\",\"j\":\"2\",\"s\":\"3\"}");
  json_decref(data);

  /* Delete with a stale uid precondition: 409; then for real. */
  json_t *opts = json_of("{\"preconditions\":{\"uid\":\"not-the-uid\"}}");
  CHECK_INT(client_delete(f.admin, cms, "default", "a", opts, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  json_decref(opts);
  opts = json_pack("{s:i}", "gracePeriodSeconds", 0);
  CHECK_INT(client_delete(f.admin, cms, "default", "a", opts, NULL, NULL, &err), 0);
  json_decref(opts);
  CHECK_INT(client_get(f.admin, cms, "default", "a", &created, &err) == 0 ? 1 : 0, 0);
  CHECK_INT(err.status, 404);
  CHECK_STR(err.reason, "NotFound");
  k8c_err_clear(&err);

  json_decref(created);
  json_decref(changed);
  json_decref(cm);
  http_fixture_close(&f);
}

/* Every error reaches the caller as the in-process client reports it. */
TEST(errors_match_the_inprocess_client)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  const struct api_resource *cms = resource("", "configmaps");
  k8c_client *clients[2] = {f.base.client, f.admin};
  k8c_err errs[2][3];
  memset(errs, 0, sizeof errs);
  json_t *bad = json_of("{\"metadata\":{\"name\":\"Bad_Name\"},\"data\":{\"-\":\"x\"}}");
  json_t *dup = json_of("{\"metadata\":{\"name\":\"dup\"}}");
  json_t *got = NULL;
  CHECK_INT(client_create(f.admin, cms, "default", dup, NULL, NULL, &errs[0][0]), 0);
  for (int i = 0; i < 2; i++) {
    CHECK_INT(client_create(clients[i], cms, "default", bad, NULL, NULL, &errs[i][0]), -1);
    CHECK_INT(client_create(clients[i], cms, "default", dup, NULL, NULL, &errs[i][1]), -1);
    CHECK_INT(client_get(clients[i], cms, "default", "missing", &got, &errs[i][2]), -1);
  }
  CHECK_INT(errs[1][0].status, 422);
  CHECK_INT(errs[1][1].status, 409);
  CHECK_INT(errs[1][2].status, 404);
  for (int k = 0; k < 3; k++) {
    CHECK_INT(errs[1][k].status, errs[0][k].status);
    CHECK_STR(errs[1][k].reason, errs[0][k].reason);
    CHECK_STR(errs[1][k].message, errs[0][k].message);
    CHECK_STR(errs[1][k].subject_kind, errs[0][k].subject_kind);
    CHECK_STR(errs[1][k].subject_name, errs[0][k].subject_name);
    CHECK(json_equal(errs[1][k].causes, errs[0][k].causes) ||
          (errs[1][k].causes == NULL && errs[0][k].causes == NULL));
  }
  CHECK(json_array_size(errs[1][0].causes) >= 1);
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 3; k++)
      k8c_err_clear(&errs[i][k]);
  json_decref(bad);
  json_decref(dup);
  http_fixture_close(&f);
}

TEST(status_subresource_binding_and_paging)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  k8c_err err = {0};
  const struct api_resource *nodes = resource("", "nodes");
  const struct api_resource *pods = resource("", "pods");
  json_t *node =
      json_of("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.42.0.0/24\"}}");
  json_t *created = NULL;
  CHECK_INT(client_create(f.admin, nodes, "", node, NULL, &created, &err), 0);
  /* Status update leaves the spec alone; a status patch goes to the subresource. */
  json_t *st = json_deep_copy(created);
  json_object_set_new(
      st, "status", json_pack("{s:[{s:s,s:s}]}", "conditions", "type", "Ready", "status", "True"));
  json_object_set_new(json_object_get(st, "spec"), "unschedulable", json_true());
  json_t *after = NULL;
  CHECK_INT(client_update_status(f.admin, nodes, "", NULL, st, NULL, &after, &err), 0);
  CHECK(json_object_get(json_object_get(after, "spec"), "unschedulable") == NULL);
  CHECK_STR(json_string_value(json_object_get(
                json_array_get(json_object_get(json_object_get(after, "status"), "conditions"), 0),
                "status")),
            "True");
  json_decref(after);
  json_t *p = json_of("{\"status\":{\"capacity\":{\"pods\":\"110\"}}}");
  struct client_write_opts sub = {.subresource = "status"};
  CHECK_INT(
      client_patch(f.admin, nodes, "", "n1", "application/merge-patch+json", p, &sub, &after, &err),
      0);
  CHECK_STR(json_string_value(json_object_get(
                json_object_get(json_object_get(after, "status"), "capacity"), "pods")),
            "110");
  json_decref(after);
  json_decref(p);

  /* pods/binding */
  json_t *pod = json_of("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                        "\"image\":\"busybox\"}]}}");
  json_t *pc = NULL;
  CHECK_INT(client_create(f.admin, pods, "default", pod, NULL, &pc, &err), 0);
  const char *uid = json_string_value(json_object_get(json_object_get(pc, "metadata"), "uid"));
  CHECK_INT(client_bind(f.admin, "default", "p", uid, "n1", &err), 0);
  json_t *bound = NULL;
  CHECK_INT(client_get(f.admin, pods, "default", "p", &bound, &err), 0);
  CHECK_STR(json_string_value(json_object_get(json_object_get(bound, "spec"), "nodeName")), "n1");
  CHECK_INT(client_bind(f.admin, "default", "p", uid, "n1", &err), -1);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);

  /* Paging with selectors. */
  for (int i = 0; i < 5; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i);
    CHECK_INT(
        create_configmap(&f.base, name, i % 2 ? "{\"odd\":\"yes\"}" : "{\"odd\":\"no\"}", NULL), 0);
  }
  const struct api_resource *cms = resource("", "configmaps");
  struct client_list_opts lo = {.label_selector = "odd in (yes,no)", .limit = 2};
  int total = 0, pages = 0;
  char cont[512] = "";
  do {
    lo.continue_token = cont[0] ? cont : NULL;
    json_t *list = NULL;
    CHECK_INT(client_list(f.admin, cms, "default", &lo, &list, &err), 0);
    if (list == NULL)
      break;
    CHECK_STR(json_string_value(json_object_get(list, "kind")), "ConfigMapList");
    total += (int)json_array_size(json_object_get(list, "items"));
    pages++;
    const char *next =
        json_string_value(json_object_get(json_object_get(list, "metadata"), "continue"));
    snprintf(cont, sizeof cont, "%s", next ? next : "");
    json_decref(list);
  } while (cont[0] && pages < 10);
  CHECK_INT(total, 5);
  CHECK_INT(pages, 3);
  struct client_list_opts odd = {.label_selector = "odd=yes",
                                 .field_selector = "metadata.name!=c1"};
  json_t *list = NULL;
  CHECK_INT(client_list(f.admin, cms, "", &odd, &list, &err), 0);
  CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
  json_decref(list);

  json_decref(bound);
  json_decref(pc);
  json_decref(pod);
  json_decref(st);
  json_decref(created);
  json_decref(node);
  http_fixture_close(&f);
}

/* ---------- watches ---------- */

static int
next_event(client_watch *w, struct client_event *ev, const char *want_type, const char *want_name)
{
  int rc = client_watch_next(w, ev, 5000);
  if (rc != 1)
    return rc;
  if (strcmp(client_event_type_name(ev->type), want_type) != 0)
    return -2;
  json_t *obj = client_event_object(ev);
  return name_of(obj) && strcmp(name_of(obj), want_name) == 0 ? 1 : -3;
}

TEST(watch_delivers_changes_in_order)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  const struct api_resource *cms = resource("", "configmaps");
  CHECK_INT(create_configmap(&f.base, "before", NULL, NULL), 0);
  k8c_err err = {0};
  json_t *list = NULL;
  CHECK_INT(client_list(f.admin, cms, "default", NULL, &list, &err), 0);
  const char *rv = client_object_rv(list);
  CHECK(rv != NULL);
  struct client_list_opts lo = {.resource_version = rv, .allow_bookmarks = true};
  client_watch *w = client_watch_start(f.admin, cms, "default", &lo, &err);
  CHECK(w != NULL);
  if (w == NULL)
    return;
  struct client_event ev = {0};
  CHECK_INT(client_watch_next(w, &ev, 0), 0); /* nothing since the list */
  CHECK_INT(create_configmap(&f.base, "w1", NULL, NULL), 0);
  CHECK_INT(patch_configmap(&f.base, "w1", "{\"data\":{\"a\":\"b\"}}"), 0);
  CHECK_INT(delete_configmap(&f.base, "w1"), 0);
  CHECK_INT(next_event(w, &ev, "ADDED", "w1"), 1);
  CHECK_INT(next_event(w, &ev, "MODIFIED", "w1"), 1);
  CHECK_JSON(json_object_get(client_event_object(&ev), "data"), "{\"a\":\"b\"}");
  CHECK(ev.raw[ev.raw_len] == '\0');
  CHECK_INT(next_event(w, &ev, "DELETED", "w1"), 1);
  long long t0 = fixture_now_ms();
  CHECK_INT(client_watch_next(w, &ev, 200), 0);
  CHECK(fixture_now_ms() - t0 >= 150);
  client_event_clear(&ev);
  client_watch_close(w);

  /* From "0": the current state as ADDED events. */
  struct client_list_opts all = {.resource_version = "0"};
  w = client_watch_start(f.admin, cms, "default", &all, &err);
  CHECK(w != NULL);
  CHECK_INT(next_event(w, &ev, "ADDED", "before"), 1);
  client_event_clear(&ev);
  client_watch_close(w);
  json_decref(list);
  http_fixture_close(&f);
}

/* More than the watch's 1 MiB backlog waits unread: the transfer pauses and resumes, and
 * every event arrives whole and in order. */
TEST(watch_backlog_pauses_and_resumes)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  const struct api_resource *cms = resource("", "configmaps");
  enum { COUNT = 24, VALUE_BYTES = 200 * 1024 };
  char *value = xmalloc(VALUE_BYTES + 1);
  memset(value, 'x', VALUE_BYTES);
  value[VALUE_BYTES] = '\0';
  k8c_err err = {0};
  for (int i = 0; i < COUNT; i++) {
    char name[16];
    snprintf(name, sizeof name, "big%02d", i);
    json_t *obj = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", name, "data", "v", value);
    CHECK_INT(client_create(f.base.client, cms, "default", obj, NULL, NULL, &err), 0);
    json_decref(obj);
  }
  struct client_list_opts all = {.resource_version = "0"};
  client_watch *w = client_watch_start(f.admin, cms, "default", &all, &err);
  CHECK(w != NULL);
  if (w == NULL)
    return;
  usleep(300 * 1000);
  struct client_event ev = {0};
  int seen = 0;
  for (int i = 0; i < COUNT; i++) {
    char name[16];
    snprintf(name, sizeof name, "big%02d", i);
    if (next_event(w, &ev, "ADDED", name) != 1)
      break;
    json_t *data = json_object_get(client_event_object(&ev), "data");
    if (strlen(json_string_value(json_object_get(data, "v")) ?: "") == VALUE_BYTES)
      seen++;
    usleep(10 * 1000);
  }
  CHECK_INT(seen, COUNT);
  client_event_clear(&ev);
  client_watch_close(w);
  free(value);
  http_fixture_close(&f);
}

struct cancel_arg {
  client_watch *w;
};

static void *
cancel_later(void *p)
{
  struct cancel_arg *a = p;
  usleep(200 * 1000);
  client_watch_cancel(a->w);
  return NULL;
}

TEST(watch_cancel_from_another_thread_and_errors_at_start)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  const struct api_resource *cms = resource("", "configmaps");
  k8c_err err = {0};
  client_watch *w = client_watch_start(f.admin, cms, "default", NULL, &err);
  CHECK(w != NULL);
  if (w == NULL)
    return;
  struct cancel_arg a = {w};
  pthread_t t;
  pthread_create(&t, NULL, cancel_later, &a);
  struct client_event ev = {0};
  long long t0 = fixture_now_ms();
  CHECK_INT(client_watch_next(w, &ev, -1), -1);
  CHECK(fixture_now_ms() - t0 < 3000);
  pthread_join(t, NULL);
  CHECK_INT(client_watch_next(w, &ev, 0), -1);
  client_watch_close(w);

  /* A watch the caller may not make fails at start with the server's Status. */
  w = client_watch_start(f.agent, resource("apps", "deployments"), "", NULL, &err);
  CHECK(w == NULL);
  CHECK_INT(err.status, 403);
  CHECK_STR(err.reason, "Forbidden");
  k8c_err_clear(&err);
  http_fixture_close(&f);
}

/* ---------- the join token ---------- */

static int
status_of(int rc, k8c_err *err)
{
  int s = rc < 0 ? err->status : 0;
  k8c_err_clear(err);
  return s;
}

TEST(join_token_gets_the_kubelet_permissions_only)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *ns = json_of("{\"metadata\":{\"name\":\"kube-node-lease\"}}");
  CHECK_INT(client_create(f.admin, resource("", "namespaces"), "", ns, NULL, NULL, &err), 0);
  json_decref(ns);

  json_t *node = json_of("{\"metadata\":{\"name\":\"agent-node\"}}");
  CHECK_INT(
      status_of(client_create(f.agent, resource("", "nodes"), "", node, NULL, NULL, &err), &err),
      0);
  json_t *p = json_of("{\"status\":{\"capacity\":{\"pods\":\"10\"}}}");
  struct client_write_opts sub = {.subresource = "status"};
  CHECK_INT(status_of(client_patch(f.agent, resource("", "nodes"), "", "agent-node",
                                   "application/merge-patch+json", p, &sub, NULL, &err),
                      &err),
            0);
  json_t *lease = json_of("{\"metadata\":{\"name\":\"agent-node\"},\"spec\":{\"holderIdentity\":"
                          "\"agent-node\",\"leaseDurationSeconds\":40}}");
  const struct api_resource *leases = api_resource_find("coordination.k8s.io", "v1", "leases");
  CHECK_INT(
      status_of(client_create(f.agent, leases, "kube-node-lease", lease, NULL, NULL, &err), &err),
      0);
  CHECK_INT(status_of(client_create(f.agent, leases, "default", lease, NULL, NULL, &err), &err),
            403);
  json_t *list = NULL;
  CHECK_INT(status_of(client_list(f.agent, resource("", "pods"), "", NULL, &list, &err), &err), 0);
  json_decref(list);
  list = NULL;
  CHECK_INT(
      status_of(client_list(f.agent, resource("", "secrets"), "default", NULL, &list, &err), &err),
      0);
  json_decref(list);
  json_t *cm = json_of("{\"metadata\":{\"name\":\"nope\"}}");
  CHECK_INT(
      status_of(client_create(f.agent, resource("", "configmaps"), "default", cm, NULL, NULL, &err),
                &err),
      403);
  CHECK_INT(status_of(client_delete(f.agent, resource("", "nodes"), "", "agent-node", NULL, NULL,
                                    NULL, &err),
                      &err),
            403);
  list = NULL;
  CHECK_INT(status_of(client_list(f.agent, api_resource_find("apps", "v1", "deployments"), "", NULL,
                                  &list, &err),
                      &err),
            403);
  json_t *event = json_of("{\"metadata\":{\"name\":\"e1\"},\"involvedObject\":{\"kind\":\"Node\","
                          "\"name\":\"agent-node\"},\"reason\":\"Starting\",\"type\":\"Normal\"}");
  CHECK_INT(
      status_of(client_create(f.agent, resource("", "events"), "default", event, NULL, NULL, &err),
                &err),
      0);

  /* A wrong token is 401; the bare secret works like the full token. */
  struct token_parts parts;
  CHECK_INT(token_parse(f.token, &parts, &err), 0);
  struct client_http_config bare = {.server = f.url, .ca_file = f.ca_file, .token = parts.secret};
  k8c_client *c = client_http_new(&bare, &err);
  json_t *got = NULL;
  CHECK_INT(status_of(client_get(c, resource("", "nodes"), "", "agent-node", &got, &err), &err), 0);
  json_decref(got);
  client_free(c);
  struct client_http_config wrong = {.server = f.url, .ca_file = f.ca_file, .token = "K10abc"};
  c = client_http_new(&wrong, &err);
  CHECK_INT(status_of(client_get(c, resource("", "nodes"), "", "agent-node", &got, &err), &err),
            401);
  client_free(c);
  CHECK(agent_join_token_matches(f.token, parts.secret));
  CHECK(!agent_join_token_matches(f.token, "other"));
  CHECK(!agent_join_token_matches(NULL, parts.secret));

  json_decref(event);
  json_decref(cm);
  json_decref(lease);
  json_decref(p);
  json_decref(node);
  http_fixture_close(&f);
}

TEST(ca_is_pinned_by_the_token_hash)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  k8c_err err = {0};
  struct token_parts parts;
  CHECK_INT(token_parse(f.token, &parts, &err), 0);
  char *pem = NULL;
  size_t len = 0;
  CHECK_INT(client_http_fetch_ca(f.url, parts.ca_hash, &pem, &len, &err), 0);
  CHECK(pem != NULL && len == strlen(f.pki.server_ca_cert_pem));
  CHECK_STR(pem, f.pki.server_ca_cert_pem);
  free(pem);
  char other[65];
  memset(other, 'a', 64);
  other[64] = '\0';
  CHECK_INT(client_http_fetch_ca(f.url, other, &pem, &len, &err), -1);
  CHECK_INT(err.status, 401);
  CHECK(pem == NULL);
  k8c_err_clear(&err);

  /* A client trusting another CA refuses the server. */
  char wrong_ca[160];
  snprintf(wrong_ca, sizeof wrong_ca, "%s/server/tls/client-ca.crt", f.base.dir);
  struct client_http_config cfg = {.server = f.url, .ca_file = wrong_ca, .token = f.token};
  k8c_client *c = client_http_new(&cfg, &err);
  json_t *got = NULL;
  CHECK_INT(client_get(c, resource("", "nodes"), "", "x", &got, &err), -1);
  CHECK_INT(err.status, 503);
  k8c_err_clear(&err);
  client_free(c);

  /* Incomplete configurations are refused up front. */
  struct client_http_config no_creds = {.server = f.url, .ca_file = f.ca_file};
  CHECK(client_http_new(&no_creds, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  struct client_http_config plain = {
      .server = "http://127.0.0.1:1", .ca_file = f.ca_file, .token = "t"};
  CHECK(client_http_new(&plain, &err) == NULL);
  k8c_err_clear(&err);
  http_fixture_close(&f);
}

/* ---------- concurrency ---------- */

struct writer_arg {
  k8c_client *c;
  int id;
  int ok;
};

static void *
writer(void *p)
{
  struct writer_arg *a = p;
  const struct api_resource *cms = resource("", "configmaps");
  for (int i = 0; i < 25; i++) {
    char text[128];
    snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"t%d-%d\"}}", a->id, i);
    json_t *obj = json_of(text);
    json_t *back = NULL;
    k8c_err err = {0};
    if (client_create(a->c, cms, "default", obj, NULL, NULL, &err) == 0 &&
        client_get(a->c, cms, "default", name_of(obj), &back, &err) == 0)
      a->ok++;
    k8c_err_clear(&err);
    json_decref(back);
    json_decref(obj);
  }
  return NULL;
}

/* A JSON list is streamed from the cached items in 64 KiB blocks: a list of several
 * blocks arrives whole and in order, and an empty one is still a list. */
TEST(large_list_streams_every_item)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  enum { COUNT = 250 };
  char value[700];
  memset(value, 'v', sizeof value - 1);
  value[sizeof value - 1] = 0;
  char data[800];
  snprintf(data, sizeof data, "{\"k\":\"%s\"}", value);
  for (int i = 0; i < COUNT; i++) {
    char name[16];
    snprintf(name, sizeof name, "big%03d", i);
    CHECK_INT(create_configmap(&f.base, name, NULL, data), 0);
  }
  k8c_err err = {0};
  const struct api_resource *cms = resource("", "configmaps");
  struct client_list_opts all = {0};
  json_t *list = NULL;
  CHECK_INT(client_list(f.admin, cms, "default", &all, &list, &err), 0);
  json_t *items = json_object_get(list, "items");
  CHECK_INT(json_array_size(items), COUNT);
  size_t bytes = 0;
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *item = json_array_get(items, i);
    char want[16];
    snprintf(want, sizeof want, "big%03zu", i);
    CHECK_STR(json_string_value(json_object_get(json_object_get(item, "metadata"), "name")), want);
    CHECK_STR(json_string_value(json_object_get(json_object_get(item, "data"), "k")), value);
    bytes += strlen(value);
  }
  CHECK(bytes > 2 * 64 * 1024);
  CHECK(json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion")));
  json_decref(list);
  list = NULL;
  CHECK_INT(client_list(f.admin, cms, "empty", &all, &list, &err), 0);
  CHECK_STR(json_string_value(json_object_get(list, "kind")), "ConfigMapList");
  CHECK(json_is_array(json_object_get(list, "items")));
  CHECK_INT(json_array_size(json_object_get(list, "items")), 0);
  json_decref(list);
  http_fixture_close(&f);
}

TEST(one_client_many_threads)
{
  struct http_fixture f;
  CHECK_INT(http_fixture_open(&f), 0);
  enum { THREADS = 8 };
  pthread_t t[THREADS];
  struct writer_arg a[THREADS];
  for (int i = 0; i < THREADS; i++) {
    a[i] = (struct writer_arg){f.admin, i, 0};
    pthread_create(&t[i], NULL, writer, &a[i]);
  }
  int ok = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    ok += a[i].ok;
  }
  CHECK_INT(ok, THREADS * 25);
  http_fixture_close(&f);
}

TEST_MAIN()
