/* registry_test.c — the generic store's semantics, in-process on a real SQLite store:
 * generation bumps only on spec changes, unchanged updates do not write, optimistic
 * concurrency, finalizers hold a deleted object until the last one is removed, namespace
 * checks and Terminating namespaces held until finalized, ClusterIP allocation, list paging. */
#include "registry/registry.h"
#include "testlib.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
  char dir[64];
  storage *s;
  struct registry reg;
};

static int
fixture_open(struct fixture *f)
{
  snprintf(f->dir, sizeof f->dir, "/tmp/k8c-registry-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  k8c_err err = {0};
  f->s = storage_open("", f->dir, &err);
  if (f->s == NULL)
    return -1;
  struct registry_config cfg = {
      .service_cidr = "10.43.0.0/16", .node_port_min = 30000, .node_port_max = 32767};
  if (registry_init(&f->reg, f->s, &cfg, &err) < 0)
    return -1;
  const struct api_resource *nsres = api_resource_find("", "v1", "namespaces");
  struct registry_target t = {nsres, "", "", ""};
  struct write_opts o = {0};
  json_t *body = json_pack("{s:{s:s}}", "metadata", "name", "default");
  json_t *out = NULL;
  int status = 0;
  int rc = registry_create(&f->reg, &t, body, &o, &out, &status, &err);
  json_decref(body);
  json_decref(out);
  return rc;
}

static void
fixture_close(struct fixture *f)
{
  registry_destroy(&f->reg);
  f->s->ops->destroy(f->s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  CHECK_INT(system(cmd), 0);
}

static json_t *
create(struct fixture *f, const char *plural, const char *group, const char *version,
       const char *ns, const char *json, int want_status, k8c_err *err)
{
  const struct api_resource *res = api_resource_find(group, version, plural);
  struct registry_target t = {res, ns, "", ""};
  struct write_opts o = {.field_validation = FIELD_VALIDATION_STRICT, .field_manager = "test"};
  json_error_t jerr;
  json_t *body = json_loads(json, 0, &jerr);
  json_t *out = NULL;
  int status = 0;
  int rc = registry_create(&f->reg, &t, body, &o, &out, &status, err);
  json_decref(body);
  if (want_status == 201)
    CHECK_INT(rc, 0);
  else
    CHECK_INT(err->status, want_status);
  return out;
}

static json_t *
patch(struct fixture *f, const char *plural, const char *group, const char *ns, const char *name,
      const char *type, const char *json, k8c_err *err)
{
  const struct api_resource *res = api_resource_find(group, group[0] ? "v1" : "v1", plural);
  struct registry_target t = {res, ns, name, ""};
  struct write_opts o = {.field_validation = FIELD_VALIDATION_STRICT, .field_manager = "test"};
  json_error_t jerr;
  json_t *body = json_loads(json, 0, &jerr);
  json_t *out = NULL;
  int status = 0;
  int rc = registry_patch(&f->reg, &t, type, body, &o, &out, &status, err);
  json_decref(body);
  return rc == 0 ? out : NULL;
}

static const char *
rv_of(const json_t *obj)
{
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

#define DEPLOYMENT                                                                                 \
  "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},\"spec\":{"   \
  "\"selector\":{\"matchLabels\":{\"app\":\"d\"}},\"template\":{\"metadata\":{\"labels\":{"        \
  "\"app\":\"d\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}"

TEST(generation_and_unchanged_updates)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *d = create(&f, "deployments", "apps", "v1", "default", DEPLOYMENT, 201, &err);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(d, "metadata"), "generation")), 1);
  json_t *same = patch(&f, "deployments", "apps", "default", "d", "application/merge-patch+json",
                       "{\"metadata\":{\"labels\":null}}", &err);
  CHECK_STR(rv_of(same), rv_of(d));
  json_t *labelled =
      patch(&f, "deployments", "apps", "default", "d", "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", &err);
  CHECK(strcmp(rv_of(labelled), rv_of(d)) != 0);
  CHECK_INT(
      json_integer_value(json_object_get(json_object_get(labelled, "metadata"), "generation")), 1);
  json_t *scaled = patch(&f, "deployments", "apps", "default", "d", "application/merge-patch+json",
                         "{\"spec\":{\"replicas\":4}}", &err);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(scaled, "metadata"), "generation")),
            2);
  json_t *stale =
      patch(&f, "deployments", "apps", "default", "d", "application/merge-patch+json",
            "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"replicas\":5}}", &err);
  CHECK(stale == NULL);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  json_decref(d);
  json_decref(same);
  json_decref(labelled);
  json_decref(scaled);
  fixture_close(&f);
}

TEST(finalizers_hold_deletion)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *cm =
      create(&f, "configmaps", "", "v1", "default",
             "{\"metadata\":{\"name\":\"c\",\"finalizers\":[\"example.com/hold\"]}}", 201, &err);
  const struct api_resource *res = api_resource_find("", "v1", "configmaps");
  struct registry_target t = {res, "default", "c", ""};
  struct write_opts o = {.field_validation = FIELD_VALIDATION_STRICT};
  json_t *out = NULL;
  int status = 0;
  CHECK_INT(registry_delete(&f.reg, &t, NULL, &o, &out, &status, &err), 0);
  CHECK_INT(status, 202);
  CHECK(json_object_get(json_object_get(out, "metadata"), "deletionTimestamp") != NULL);
  json_decref(out);
  cache_obj *co = NULL;
  CHECK_INT(registry_get(&f.reg, &t, &co, &err), 0);
  cache_obj_unref(co);
  json_t *gone = patch(&f, "configmaps", "", "default", "c", "application/merge-patch+json",
                       "{\"metadata\":{\"finalizers\":null}}", &err);
  json_decref(gone);
  CHECK_INT(registry_get(&f.reg, &t, &co, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  json_decref(cm);
  fixture_close(&f);
}

TEST(namespaces_gate_creates_and_terminate_until_finalized)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *none =
      create(&f, "configmaps", "", "v1", "team", "{\"metadata\":{\"name\":\"c\"}}", 404, &err);
  CHECK(none == NULL);
  k8c_err_clear(&err);
  json_t *ns =
      create(&f, "namespaces", "", "v1", "", "{\"metadata\":{\"name\":\"team\"}}", 201, &err);
  CHECK_STR(json_string_value(json_object_get(json_object_get(ns, "status"), "phase")), "Active");
  json_t *cm =
      create(&f, "configmaps", "", "v1", "team", "{\"metadata\":{\"name\":\"c\"}}", 201, &err);
  const struct api_resource *nsres = api_resource_find("", "v1", "namespaces");
  struct registry_target t = {nsres, "", "team", ""};
  struct write_opts o = {0};
  json_t *out = NULL;
  int status = 0;
  /* DELETE only marks it: Terminating, held by spec.finalizers ["kubernetes"] until the
   * namespace controller has emptied it; new content is refused meanwhile. */
  CHECK_INT(registry_delete(&f.reg, &t, NULL, &o, &out, &status, &err), 0);
  CHECK_STR(json_string_value(json_object_get(json_object_get(out, "status"), "phase")),
            "Terminating");
  CHECK_JSON(json_object_get(json_object_get(out, "spec"), "finalizers"), "[\"kubernetes\"]");
  json_decref(out);
  const struct api_resource *cmres = api_resource_find("", "v1", "configmaps");
  struct registry_target ct = {cmres, "team", "c", ""};
  cache_obj *co = NULL;
  CHECK_INT(registry_get(&f.reg, &ct, &co, &err), 0);
  cache_obj_unref(co);
  json_t *refused =
      create(&f, "configmaps", "", "v1", "team", "{\"metadata\":{\"name\":\"d\"}}", 403, &err);
  CHECK(refused == NULL);
  k8c_err_clear(&err);
  out = NULL;
  CHECK_INT(registry_delete(&f.reg, &t, NULL, &o, &out, &status, &err), -1);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  /* Lifting the last finalizer through namespaces/finalize removes it. */
  struct registry_target ft = {nsres, "", "team", "finalize"};
  json_t *body =
      json_loads("{\"metadata\":{\"name\":\"team\"},\"spec\":{\"finalizers\":[]}}", 0, NULL);
  CHECK_INT(registry_update(&f.reg, &ft, body, &o, &out, &status, &err), 0);
  json_decref(out);
  json_decref(body);
  CHECK_INT(registry_get(&f.reg, &t, &co, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  json_decref(ns);
  json_decref(cm);
  fixture_close(&f);
}

TEST(services_get_distinct_cluster_ips_and_node_ports)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  const char *svc =
      "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"type\":\"NodePort\",\"selector\":{\"a\":\"b\"},"
      "\"ports\":[{\"port\":80}]}}";
  char body[256];
  snprintf(body, sizeof body, svc, "s1");
  json_t *s1 = create(&f, "services", "", "v1", "default", body, 201, &err);
  snprintf(body, sizeof body, svc, "s2");
  json_t *s2 = create(&f, "services", "", "v1", "default", body, 201, &err);
  const char *ip1 = json_string_value(json_object_get(json_object_get(s1, "spec"), "clusterIP"));
  const char *ip2 = json_string_value(json_object_get(json_object_get(s2, "spec"), "clusterIP"));
  CHECK(ip1 && ip2 && strncmp(ip1, "10.43.", 6) == 0 && strcmp(ip1, ip2) != 0);
  json_int_t np1 = json_integer_value(json_object_get(
      json_array_get(json_object_get(json_object_get(s1, "spec"), "ports"), 0), "nodePort"));
  json_int_t np2 = json_integer_value(json_object_get(
      json_array_get(json_object_get(json_object_get(s2, "spec"), "ports"), 0), "nodePort"));
  CHECK(np1 >= 30000 && np1 <= 32767 && np2 >= 30000 && np2 <= 32767 && np1 != np2);
  char taken[256];
  snprintf(
      taken, sizeof taken,
      "{\"metadata\":{\"name\":\"s3\"},\"spec\":{\"clusterIP\":\"%s\",\"ports\":[{\"port\":80}]}}",
      ip1);
  json_t *s3 = create(&f, "services", "", "v1", "default", taken, 422, &err);
  CHECK(s3 == NULL);
  k8c_err_clear(&err);
  json_decref(s1);
  json_decref(s2);
  /* dynamic IPs stay out of the static band (10.43.0.0-255 in a /16), where fixed IPs
   * such as the cluster DNS's 10.43.0.10 are asked for */
  for (int i = 0; i < 40; i++) {
    char name[16];
    snprintf(name, sizeof name, "d%d", i);
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"ports\":[{\"port\":80}]}}", name);
    json_t *d = create(&f, "services", "", "v1", "default", body, 201, &err);
    const char *ip = json_string_value(json_object_get(json_object_get(d, "spec"), "clusterIP"));
    CHECK(ip && strncmp(ip, "10.43.", 6) == 0 && strncmp(ip, "10.43.0.", 8) != 0);
    json_decref(d);
  }
  json_t *dns = create(&f, "services", "", "v1", "default",
                       "{\"metadata\":{\"name\":\"dns\"},\"spec\":{\"clusterIP\":\"10.43.0.10\","
                       "\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}}",
                       201, &err);
  CHECK(dns != NULL);
  json_decref(dns);
  fixture_close(&f);
}

TEST(paged_lists_are_one_snapshot)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  for (int i = 0; i < 5; i++) {
    char body[96];
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"c%d\"}}", i);
    json_decref(create(&f, "configmaps", "", "v1", "default", body, 201, &err));
  }
  const struct api_resource *res = api_resource_find("", "v1", "configmaps");
  struct registry_target t = {res, "default", "", ""};
  struct list_opts lo = {.limit = 2};
  struct list_result page = {0};
  CHECK_INT(registry_list(&f.reg, &t, &lo, &page, &err), 0);
  CHECK_INT(page.count, 2);
  CHECK(page.continue_token != NULL);
  /* A write between pages is not seen by the rest of the paged list. */
  json_decref(
      create(&f, "configmaps", "", "v1", "default", "{\"metadata\":{\"name\":\"c9\"}}", 201, &err));
  size_t total = page.count;
  while (page.continue_token) {
    struct list_opts next = {.limit = 2, .continue_token = page.continue_token};
    struct list_result more = {0};
    CHECK_INT(registry_list(&f.reg, &t, &next, &more, &err), 0);
    total += more.count;
    list_result_free(&page);
    page = more;
  }
  list_result_free(&page);
  CHECK_INT(total, 5);
  fixture_close(&f);
}

struct patcher {
  struct fixture *f;
  int id;
  int failures;
};

static void *
patch_many(void *arg)
{
  struct patcher *p = arg;
  for (int i = 0; i < 25; i++) {
    char body[96];
    snprintf(body, sizeof body, "{\"metadata\":{\"labels\":{\"t%d-%d\":\"x\"}}}", p->id, i);
    k8c_err err = {0};
    json_t *out = patch(p->f, "configmaps", "", "default", "shared", "application/merge-patch+json",
                        body, &err);
    if (out == NULL) {
      p->failures++;
      fprintf(stderr, "patch failed: %d %s %s\n", err.status, err.reason, err.message);
    }

    json_decref(out);
    k8c_err_clear(&err);
  }
  return NULL;
}

TEST(concurrent_patches_lose_nothing)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  json_decref(create(&f, "configmaps", "", "v1", "default", "{\"metadata\":{\"name\":\"shared\"}}",
                     201, &err));
  pthread_t threads[6];
  struct patcher ps[6];
  for (int i = 0; i < 6; i++) {
    ps[i] = (struct patcher){&f, i, 0};
    CHECK_INT(pthread_create(&threads[i], NULL, patch_many, &ps[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(threads[i], NULL);
    CHECK_INT(ps[i].failures, 0);
  }
  const struct api_resource *res = api_resource_find("", "v1", "configmaps");
  struct registry_target t = {res, "default", "shared", ""};
  cache_obj *co = NULL;
  CHECK_INT(registry_get(&f.reg, &t, &co, &err), 0);
  CHECK_INT(string_map_size(cache_obj_labels(co)), 150);
  json_error_t jerr;
  json_t *stored = json_loads(cache_obj_text(co, NULL), 0, &jerr);
  CHECK_INT(json_object_size(json_object_get(json_object_get(stored, "metadata"), "labels")), 150);
  json_decref(stored);
  cache_obj_unref(co);
  fixture_close(&f);
}

/* A status update takes only the body's status: spec changes in it are ignored, unknown
 * status fields fail strict validation or are dropped, a null status clears it, and the
 * stored object (the result of a bind included) is untouched elsewhere. */
static json_t *
update_status(struct fixture *f, const char *name, const char *json, enum field_validation fv,
              k8c_err *err)
{
  const struct api_resource *res = api_resource_find("", "v1", "pods");
  struct registry_target t = {res, "default", name, "status"};
  struct write_opts o = {.field_validation = fv, .field_manager = "kubelet"};
  json_t *body = json_loads(json, 0, NULL);
  json_t *out = NULL;
  int status = 0;
  int rc = registry_update(&f->reg, &t, body, &o, &out, &status, err);
  json_decref(body);
  return rc == 0 ? out : NULL;
}

TEST(status_updates_take_only_the_status)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *pod = create(&f, "pods", "", "v1", "default",
                       "{\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},\"spec\":{"
                       "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}",
                       201, &err);
  json_t *binding = json_pack("{s:{s:s},s:{s:s,s:s}}", "metadata", "name", "p", "target", "kind",
                              "Node", "name", "n1");
  CHECK_INT(registry_bind_pod(&f.reg, "default", "p", binding, "sched", &err), 0);
  json_decref(binding);
  json_t *strict =
      update_status(&f, "p",
                    "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"other\"},\"status\":{"
                    "\"phase\":\"Running\",\"bogus\":1}}",
                    FIELD_VALIDATION_STRICT, &err);
  CHECK(strict == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  json_t *running = update_status(
      &f, "p",
      "{\"metadata\":{\"name\":\"p\",\"labels\":null},\"spec\":{\"nodeName\":\"other\"},"
      "\"status\":{\"phase\":\"Running\",\"bogus\":1,\"podIP\":null,\"hostIP\":\"10.0.0.1\"}}",
      FIELD_VALIDATION_IGNORE, &err);
  CHECK(running != NULL);
  CHECK_JSON(json_object_get(running, "status"), "{\"phase\":\"Running\",\"hostIP\":\"10.0.0.1\"}");
  CHECK_STR(json_string_value(json_object_get(json_object_get(running, "spec"), "nodeName")), "n1");
  CHECK_JSON(json_object_get(json_object_get(running, "metadata"), "labels"), "{\"a\":\"b\"}");
  json_t *managed = json_object_get(json_object_get(running, "metadata"), "managedFields");
  CHECK_INT((int)json_array_size(managed), 2); /* test (create) and kubelet: as upstream's,
                                                * the binding records no entry */
  for (size_t i = 0; i < json_array_size(managed); i++)
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(managed, i), "manager")),
                 "sched") != 0);
  json_t *cleared = update_status(&f, "p", "{\"metadata\":{\"name\":\"p\"},\"status\":null}",
                                  FIELD_VALIDATION_STRICT, &err);
  CHECK(cleared != NULL);
  CHECK(json_object_get(cleared, "status") == NULL);
  CHECK_STR(json_string_value(json_object_get(json_object_get(cleared, "spec"), "nodeName")), "n1");
  json_decref(pod);
  json_decref(running);
  json_decref(cleared);
  fixture_close(&f);
}

/* The managedFields entry of an Update write describes the decoded, defaulted object:
 * what admission and the strategy add afterwards (the service account's token volume
 * and mount, priority, default tolerations, status) is owned by nobody, as upstream. */
TEST(managed_fields_are_computed_before_admission)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  json_t *pod = create(&f, "pods", "", "v1", "default",
                       "{\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},\"spec\":{"
                       "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}",
                       201, &err);
  CHECK(pod != NULL);
  json_t *spec = json_object_get(pod, "spec");
  CHECK(json_array_size(json_object_get(spec, "volumes")) == 1); /* admission did run */
  CHECK(json_object_get(spec, "priority") != NULL);
  CHECK(json_array_size(json_object_get(spec, "tolerations")) == 2);
  json_t *managed = json_object_get(json_object_get(pod, "metadata"), "managedFields");
  CHECK_INT((int)json_array_size(managed), 1);
  json_t *entry = json_array_get(managed, 0);
  CHECK_STR(json_string_value(json_object_get(entry, "manager")), "test");
  CHECK_STR(json_string_value(json_object_get(entry, "operation")), "Update");
  json_t *fields = json_object_get(entry, "fieldsV1");
  CHECK(json_object_get(fields, "f:status") == NULL);
  json_t *fspec = json_object_get(fields, "f:spec");
  CHECK(json_object_get(fspec, "f:dnsPolicy") != NULL); /* a default is the writer's */
  CHECK(json_object_get(fspec, "f:restartPolicy") != NULL);
  static const char *const unowned[] = {"f:volumes",
                                        "f:priority",
                                        "f:tolerations",
                                        "f:serviceAccount",
                                        "f:serviceAccountName",
                                        "f:preemptionPolicy",
                                        NULL};
  for (int i = 0; unowned[i]; i++)
    CHECK(json_object_get(fspec, unowned[i]) == NULL);
  json_t *fc = json_object_get(json_object_get(fspec, "f:containers"), "k:{\"name\":\"c\"}");
  CHECK(json_object_get(fc, "f:imagePullPolicy") != NULL);
  CHECK(json_object_get(fc, "f:volumeMounts") == NULL);
  json_decref(pod);
  fixture_close(&f);
}

/* A server-side apply's entry is its own (operation Apply, only the applied fields), on
 * create and on update; the write records no Update entry for the applier besides. */
TEST(server_side_apply_keeps_its_apply_entry)
{
  struct fixture f;
  CHECK_INT(fixture_open(&f), 0);
  k8c_err err = {0};
  const char *cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                   "\"c\"},\"data\":{\"k\":\"v\"}}";
  const char *cm2 = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                    "\"c\"},\"data\":{\"k\":\"w\"}}";
  for (int round = 0; round < 2; round++) {
    json_t *out = patch(&f, "configmaps", "", "default", "c", "application/apply-patch+yaml",
                        round == 0 ? cm : cm2, &err);
    CHECK(out != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(out, "data"), "k")),
              round == 0 ? "v" : "w");
    json_t *managed = json_object_get(json_object_get(out, "metadata"), "managedFields");
    CHECK_INT((int)json_array_size(managed), 1);
    json_t *entry = json_array_get(managed, 0);
    CHECK_STR(json_string_value(json_object_get(entry, "operation")), "Apply");
    CHECK_JSON(json_object_get(entry, "fieldsV1"), "{\"f:data\":{\"f:k\":{}}}");
    json_decref(out);
  }
  fixture_close(&f);
}

TEST_MAIN()
