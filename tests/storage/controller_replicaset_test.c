/* controller_replicaset_test.c — the ReplicaSet controller against a real registry, with
 * the test playing the kubelet (it writes pod status itself): pods created and deleted to
 * match replicas with generateName and controller ownerReferences, events, adoption and
 * release by selector, upstream's deletion preference, status counts with
 * minReadySeconds; plus the pure helpers (expectations, deletion ranking). */
#include "apimachinery/meta.h"
#include "client/informer.h"
#include "client_fixture.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"

#include <unistd.h>

extern const struct controller_def replicaset_controller_def;

struct rs_fixture {
  struct client_fixture f;
  informer_factory *inf;
  void *state;
  const struct api_resource *pods, *rss, *events;
};

static void
rs_fixture_open(struct rs_fixture *x)
{
  CHECK_INT(client_fixture_open(&x->f), 0);
  x->pods = api_resource_find("", "v1", "pods");
  x->rss = api_resource_find("apps", "v1", "replicasets");
  x->events = api_resource_find("", "v1", "events");
  x->inf = informer_factory_new(x->f.client, 0);
  struct controller_context ctx = {
      .client = x->f.client, .informers = x->inf, .cfg = {.workers = 2}};
  k8c_err err = {0};
  x->state = replicaset_controller_def.start(&ctx, &err);
  CHECK(x->state != NULL);
  CHECK_INT(informer_factory_start(x->inf, &err), 0);
  CHECK(informer_factory_wait_synced(x->inf, 5000));
}

static void
rs_fixture_close(struct rs_fixture *x)
{
  replicaset_controller_def.stop(x->state);
  informer_factory_free(x->inf);
  client_fixture_close(&x->f);
}

static const char *template_json =
    "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"terminationGracePeriodSeconds\":0,"
    "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";

static json_t *
create_rs(struct rs_fixture *x, const char *name, int replicas, int min_ready)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"replicas\":%d,\"minReadySeconds\":%d,"
           "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":%s}}",
           name, replicas, min_ready, template_json);
  json_t *obj = json_of(text);
  json_t *out = NULL;
  k8c_err err = {0};
  CHECK_INT(client_create(x->f.client, x->rss, "default", obj, NULL, &out, &err), 0);
  json_decref(obj);
  return out;
}

static void
patch(struct rs_fixture *x, const struct api_resource *res, const char *name, const char *text,
      const char *subresource)
{
  json_t *p = json_of(text);
  k8c_err err = {0};
  struct client_write_opts o = {.subresource = subresource};
  int rc = client_patch(x->f.client, res, "default", name, "application/merge-patch+json", p, &o,
                        NULL, &err);
  if (rc < 0)
    fprintf(stderr, "patch %s: %s\n", name, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(p);
}

/* Active pods of "default" whose labels match selector (new array, sorted by name). */
static json_t *
list_pods(struct rs_fixture *x, const char *selector)
{
  struct client_list_opts o = {.label_selector = selector};
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->pods, "default", &o, &list, &err), 0);
  json_t *out = json_array();
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(list, "items"), i, p)
    if (pod_is_active(p))
      json_array_append(out, p);
  json_decref(list);
  return out;
}

static size_t
count_pods(struct rs_fixture *x, const char *selector)
{
  json_t *pods = list_pods(x, selector);
  size_t n = json_array_size(pods);
  json_decref(pods);
  return n;
}

/* Waits up to 10 s until count_pods == n and stays so for 300 ms. */
static size_t
wait_pods(struct rs_fixture *x, const char *selector, size_t n)
{
  long long deadline = fixture_now_ms() + 10000, stable_since = 0;
  size_t got = 0;
  while (fixture_now_ms() < deadline) {
    got = count_pods(x, selector);
    if (got == n) {
      if (stable_since == 0)
        stable_since = fixture_now_ms();
      if (fixture_now_ms() - stable_since >= 300)
        return got;
    } else {
      stable_since = 0;
    }
    usleep(10000);
  }
  return got;
}

static json_t *
get_rs(struct rs_fixture *x, const char *name)
{
  json_t *rs = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x->f.client, x->rss, "default", name, &rs, &err), 0);
  return rs;
}

/* Waits up to 10 s until the RS's status field equals want. */
static long long
wait_rs_status(struct rs_fixture *x, const char *name, const char *field, long long want)
{
  long long deadline = fixture_now_ms() + 10000, got = -1;
  while (fixture_now_ms() < deadline) {
    json_t *rs = get_rs(x, name);
    got = cu_int(json_object_get(rs, "status"), field, 0);
    json_decref(rs);
    if (got == want)
      break;
    usleep(10000);
  }
  return got;
}

/* The kubelet's part: phase Running, Ready condition as given. */
static void
set_pod_state(struct rs_fixture *x, const char *name, const char *phase, bool ready)
{
  cleanup_free char *now = meta_now_rfc3339();
  char text[512];
  snprintf(text, sizeof text,
           "{\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
           "\"lastTransitionTime\":\"%s\"}]}}",
           phase, ready ? "True" : "False", now);
  patch(x, x->pods, name, text, "status");
}

static bool
has_event(struct rs_fixture *x, const char *reason, const char *message)
{
  long long deadline = fixture_now_ms() + 5000;
  while (fixture_now_ms() < deadline) {
    json_t *list = NULL;
    k8c_err err = {0};
    CHECK_INT(client_list(x->f.client, x->events, "default", NULL, &list, &err), 0);
    size_t i;
    json_t *e;
    bool found = false;
    json_array_foreach (json_object_get(list, "items"), i, e) {
      const char *r = json_string_value(json_object_get(e, "reason"));
      const char *m = json_string_value(json_object_get(e, "message"));
      if (r && m && strcmp(r, reason) == 0 && strcmp(m, message) == 0)
        found = true;
    }
    json_decref(list);
    if (found)
      return true;
    usleep(20000);
  }
  return false;
}

/* ---------- tests ---------- */

TEST(creates_and_deletes_pods_to_match_replicas)
{
  struct rs_fixture x;
  rs_fixture_open(&x);
  json_t *rs = create_rs(&x, "web", 3, 0);
  CHECK_INT(wait_pods(&x, "app=web", 3), 3);
  json_t *pods = list_pods(&x, "app=web");
  size_t i;
  json_t *p;
  json_array_foreach (pods, i, p) {
    const char *name = meta_name(p);
    CHECK(strncmp(name, "web-", 4) == 0 && strlen(name) == 9);
    CHECK_STR(meta_string(p, "generateName"), "web-");
    json_t *ref = cu_controller_ref(p);
    CHECK_STR(json_string_value(json_object_get(ref, "apiVersion")), "apps/v1");
    CHECK_STR(json_string_value(json_object_get(ref, "kind")), "ReplicaSet");
    CHECK_STR(json_string_value(json_object_get(ref, "name")), "web");
    CHECK_STR(json_string_value(json_object_get(ref, "uid")), meta_uid(rs));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    CHECK_JSON(meta_labels(p), "{\"app\":\"web\"}");
  }
  char msg[128];
  snprintf(msg, sizeof msg, "Created pod: %s", meta_name(json_array_get(pods, 0)));
  CHECK(has_event(&x, "SuccessfulCreate", msg));
  json_decref(pods);

  CHECK_INT(wait_rs_status(&x, "web", "replicas", 3), 3);
  patch(&x, x.rss, "web", "{\"spec\":{\"replicas\":1}}", NULL);
  CHECK_INT(wait_pods(&x, "app=web", 1), 1);
  CHECK_INT(wait_rs_status(&x, "web", "replicas", 1), 1);
  CHECK_INT(wait_rs_status(&x, "web", "observedGeneration", 2), 2);
  json_t *rs2 = get_rs(&x, "web");
  CHECK_INT(cu_int(rs2, "status.fullyLabeledReplicas", -1), 1);
  json_decref(rs2);

  /* A pod deleted under the controller's feet is replaced. */
  pods = list_pods(&x, "app=web");
  k8c_err err = {0};
  const char *victim = meta_name(json_array_get(pods, 0));
  CHECK_INT(client_delete(x.f.client, x.pods, "default", victim, NULL, NULL, NULL, &err), 0);
  snprintf(msg, sizeof msg, "Deleted pod: %s", victim);
  CHECK_INT(wait_pods(&x, "app=web", 1), 1);
  json_t *now_pods = list_pods(&x, "app=web");
  CHECK(strcmp(meta_name(json_array_get(now_pods, 0)), victim) != 0);
  json_decref(now_pods);
  json_decref(pods);
  json_decref(rs);
  rs_fixture_close(&x);
}

TEST(adopts_orphans_and_releases_pods_that_stop_matching)
{
  struct rs_fixture x;
  rs_fixture_open(&x);
  json_t *orphan = json_of("{\"metadata\":{\"name\":\"orphan\",\"labels\":{\"app\":\"web\"}},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
  k8c_err err = {0};
  CHECK_INT(client_create(x.f.client, x.pods, "default", orphan, NULL, NULL, &err), 0);
  json_decref(orphan);
  json_t *rs = create_rs(&x, "web", 2, 0);
  CHECK_INT(wait_pods(&x, "app=web", 2), 2);
  json_t *adopted = NULL;
  CHECK_INT(client_get(x.f.client, x.pods, "default", "orphan", &adopted, &err), 0);
  CHECK_STR(json_string_value(json_object_get(cu_controller_ref(adopted), "uid")), meta_uid(rs));
  json_decref(adopted);

  /* Relabel the adopted pod: it is released and replaced. */
  patch(&x, x.pods, "orphan", "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}", NULL);
  CHECK_INT(wait_pods(&x, "app=web", 2), 2);
  long long deadline = fixture_now_ms() + 5000;
  json_t *released = NULL;
  while (fixture_now_ms() < deadline) {
    json_decref(released);
    released = NULL;
    CHECK_INT(client_get(x.f.client, x.pods, "default", "orphan", &released, &err), 0);
    if (cu_controller_ref(released) == NULL)
      break;
    usleep(10000);
  }
  CHECK(cu_controller_ref(released) == NULL);
  json_decref(released);
  CHECK_INT(count_pods(&x, "app=other"), 1);
  json_decref(rs);
  rs_fixture_close(&x);
}

TEST(scale_down_deletes_unassigned_pending_not_ready_first)
{
  struct rs_fixture x;
  rs_fixture_open(&x);
  json_t *rs = create_rs(&x, "web", 4, 0);
  CHECK_INT(wait_pods(&x, "app=web", 4), 4);
  json_t *pods = list_pods(&x, "app=web");
  char names[4][64];
  for (int i = 0; i < 4; i++)
    snprintf(names[i], sizeof names[i], "%s", meta_name(json_array_get(pods, (size_t)i)));
  json_decref(pods);
  k8c_err err = {0};
  /* names[0]: assigned, running, ready; [1]: running, ready; [2]: running, not ready;
   * [3]: pending. Deleted in the order 3, 2, 1. */
  CHECK_INT(client_bind(x.f.client, "default", names[0], NULL, "node-a", &err), 0);
  set_pod_state(&x, names[0], "Running", true);
  set_pod_state(&x, names[1], "Running", true);
  set_pod_state(&x, names[2], "Running", false);
  CHECK_INT(wait_rs_status(&x, "web", "readyReplicas", 2), 2);
  for (int keep = 3; keep >= 1; keep--) {
    char text[64];
    snprintf(text, sizeof text, "{\"spec\":{\"replicas\":%d}}", keep);
    patch(&x, x.rss, "web", text, NULL);
    CHECK_INT(wait_pods(&x, "app=web", (size_t)keep), keep);
    json_t *left = list_pods(&x, "app=web");
    for (int i = 0; i < 4; i++) {
      bool present = false;
      size_t j;
      json_t *p;
      json_array_foreach (left, j, p)
        present |= strcmp(meta_name(p), names[i]) == 0;
      if (present != (i < keep))
        testlib_fail(__FILE__, __LINE__, "keep %d: pod %d present=%d", keep, i, present);
    }
    json_decref(left);
  }
  json_decref(rs);
  rs_fixture_close(&x);
}

TEST(status_counts_ready_and_available_after_min_ready_seconds)
{
  struct rs_fixture x;
  rs_fixture_open(&x);
  json_t *rs = create_rs(&x, "web", 2, 3);
  CHECK_INT(wait_pods(&x, "app=web", 2), 2);
  json_t *pods = list_pods(&x, "app=web");
  size_t i;
  json_t *p;
  json_array_foreach (pods, i, p)
    set_pod_state(&x, meta_name(p), "Running", true);
  json_decref(pods);
  CHECK_INT(wait_rs_status(&x, "web", "readyReplicas", 2), 2);
  json_t *now = get_rs(&x, "web");
  long long early = cu_int(now, "status.availableReplicas", 0);
  json_decref(now);
  CHECK(early < 2); /* ready for less than minReadySeconds (3 s, ample on a loaded machine) */
  CHECK_INT(wait_rs_status(&x, "web", "availableReplicas", 2), 2);
  json_t *done = get_rs(&x, "web");
  CHECK_INT(cu_int(done, "status.replicas", 0), 2);
  CHECK_INT(cu_int(done, "status.fullyLabeledReplicas", 0), 2);
  CHECK_INT(cu_int(done, "status.observedGeneration", 0), 1);
  json_decref(done);
  json_decref(rs);
  rs_fixture_close(&x);
}

/* ---------- pure helpers ---------- */

TEST(expectations_hold_until_observed)
{
  expectations *e = expectations_new();
  CHECK(expectations_satisfied(e, "ns/a"));
  expectations_expect_creations(e, "ns/a", 2);
  CHECK(!expectations_satisfied(e, "ns/a"));
  expectations_creation_observed(e, "ns/a");
  CHECK(!expectations_satisfied(e, "ns/a"));
  expectations_creation_observed(e, "ns/a");
  CHECK(expectations_satisfied(e, "ns/a"));
  char *keys[] = {"ns/p1", "ns/p2"};
  expectations_expect_deletions(e, "ns/a", keys, 2);
  expectations_deletion_observed(e, "ns/a", "ns/p1");
  expectations_deletion_observed(e, "ns/a", "ns/p1"); /* twice: counted once */
  CHECK(!expectations_satisfied(e, "ns/a"));
  expectations_deletion_observed(e, "ns/a", "ns/p2");
  CHECK(expectations_satisfied(e, "ns/a"));
  expectations_expect_creations(e, "ns/b", 1);
  expectations_delete(e, "ns/b");
  CHECK(expectations_satisfied(e, "ns/b"));
  expectations_free(e);
}

TEST(deletion_ranking_restarts_and_age)
{
  time_t now = 1700000000;
  /* Both ready since long ago (same bucket): more restarts go first; then newer first. */
  json_t *a = json_of("{\"metadata\":{\"name\":\"a\",\"uid\":\"1\",\"creationTimestamp\":"
                      "\"2023-01-01T00:00:00Z\"},\"spec\":{\"nodeName\":\"n1\"},\"status\":{"
                      "\"phase\":\"Running\",\"containerStatuses\":[{\"restartCount\":0}]}}");
  json_t *b = json_of("{\"metadata\":{\"name\":\"b\",\"uid\":\"2\",\"creationTimestamp\":"
                      "\"2023-01-01T00:00:00Z\"},\"spec\":{\"nodeName\":\"n2\"},\"status\":{"
                      "\"phase\":\"Running\",\"containerStatuses\":[{\"restartCount\":5}]}}");
  json_t *c = json_of("{\"metadata\":{\"name\":\"c\",\"uid\":\"3\",\"creationTimestamp\":"
                      "\"2023-11-14T22:13:00Z\"},\"spec\":{\"nodeName\":\"n3\"},\"status\":{"
                      "\"phase\":\"Running\"}}");
  json_t *d = json_of("{\"metadata\":{\"name\":\"d\",\"uid\":\"4\",\"annotations\":{"
                      "\"controller.kubernetes.io/pod-deletion-cost\":\"-10\"}},\"spec\":{"
                      "\"nodeName\":\"n4\"},\"status\":{\"phase\":\"Running\"}}");
  json_t *pods[] = {a, b, c, d};
  cu_sort_pods_for_deletion(pods, 4, now);
  CHECK_STR(meta_name(pods[0]), "d"); /* lowest deletion cost */
  CHECK_STR(meta_name(pods[1]), "b"); /* most restarts */
  CHECK_STR(meta_name(pods[2]), "c"); /* newer */
  CHECK_STR(meta_name(pods[3]), "a");
  for (int i = 0; i < 4; i++)
    json_decref(pods[i]);
}

TEST_MAIN()
