/* controller_deployment_test.c — the Deployment and ReplicaSet controllers together
 * against a real registry, the test playing the kubelet (a thread marks new pods Running
 * and Ready) and watching pods: a rolling update with maxSurge 1 / maxUnavailable 0 never
 * drops below 4 ready nor exceeds 5 pods; Recreate never mixes old and new pods; a
 * rollback reuses the old ReplicaSet with a new revision; paused deployments do not roll
 * but scale; revisionHistoryLimit deletes old ReplicaSets; status and conditions. */
#include "apimachinery/meta.h"
#include "client/informer.h"
#include "client_fixture.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

extern const struct controller_def replicaset_controller_def, deployment_controller_def;

struct dep_fixture {
  struct client_fixture f;
  informer_factory *inf;
  void *rs_state, *dep_state;
  const struct api_resource *pods, *rss, *deps, *events;
  /* the simulated kubelet */
  pthread_t kubelet;
  atomic_bool stop;
  /* the pod watcher */
  pthread_t watcher;
  client_watch *watch;
  pthread_mutex_t mu;
  json_t *seen; /* pod name → {"ready": bool, "hash": string} */
  bool observing;
  long long min_ready, max_total;
  bool mixed_hashes; /* a pod added while a pod of another template existed */
};

static void *
kubelet_main(void *arg)
{
  struct dep_fixture *x = arg;
  while (!atomic_load(&x->stop)) {
    json_t *list = NULL;
    k8c_err err = {0};
    if (client_list(x->f.client, x->pods, "default", NULL, &list, &err) == 0) {
      size_t i;
      json_t *p;
      json_array_foreach (json_object_get(list, "items"), i, p) {
        const char *phase = cu_str(p, "status.phase");
        if (!pod_is_active(p) || (phase && strcmp(phase, "Running") == 0))
          continue;
        cleanup_free char *now = meta_now_rfc3339();
        char text[512];
        snprintf(text, sizeof text,
                 "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                 "\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]}}",
                 now);
        json_t *patch = json_of(text);
        struct client_write_opts o = {.subresource = "status"};
        (void)!client_patch(x->f.client, x->pods, "default", meta_name(p),
                            "application/merge-patch+json", patch, &o, NULL, &err);
        k8c_err_clear(&err);
        json_decref(patch);
      }
    }
    k8c_err_clear(&err);
    json_decref(list);
    usleep(30000);
  }
  return NULL;
}

static void
watch_apply(struct dep_fixture *x, struct client_event *ev)
{
  json_t *pod = client_event_object(ev);
  const char *name = meta_name(pod);
  if (name == NULL)
    return;
  const char *hash = json_string_value(json_object_get(meta_labels(pod), DEP_LABEL_HASH));
  pthread_mutex_lock(&x->mu);
  bool is_new = json_object_get(x->seen, name) == NULL;
  if (ev->type == CLIENT_EVENT_DELETED || !pod_is_active(pod)) {
    json_object_del(x->seen, name);
  } else {
    if (is_new && hash) {
      const char *k;
      json_t *v;
      json_object_foreach (x->seen, k, v) {
        const char *h = json_string_value(json_object_get(v, "hash"));
        if (h && strcmp(h, hash) != 0)
          x->mixed_hashes = true;
      }
    }
    json_object_set_new(
        x->seen, name,
        json_pack("{s:b, s:s}", "ready", pod_is_ready(pod), "hash", hash ? hash : ""));
  }
  long long ready = 0, total = (long long)json_object_size(x->seen);
  const char *k;
  json_t *v;
  json_object_foreach (x->seen, k, v)
    ready += json_is_true(json_object_get(v, "ready"));
  if (x->observing) {
    if (ready < x->min_ready)
      x->min_ready = ready;
    if (total > x->max_total)
      x->max_total = total;
  }
  pthread_mutex_unlock(&x->mu);
}

static void *
watcher_main(void *arg)
{
  struct dep_fixture *x = arg;
  struct client_event ev = {0};
  while (client_watch_next(x->watch, &ev, -1) == 1)
    watch_apply(x, &ev);
  client_event_clear(&ev);
  return NULL;
}

static void
dep_fixture_open(struct dep_fixture *x)
{
  memset(x, 0, sizeof *x);
  CHECK_INT(client_fixture_open(&x->f), 0);
  x->pods = api_resource_find("", "v1", "pods");
  x->rss = api_resource_find("apps", "v1", "replicasets");
  x->deps = api_resource_find("apps", "v1", "deployments");
  x->events = api_resource_find("", "v1", "events");
  x->inf = informer_factory_new(x->f.client, 0);
  struct controller_context ctx = {
      .client = x->f.client, .informers = x->inf, .cfg = {.workers = 2}};
  k8c_err err = {0};
  x->rs_state = replicaset_controller_def.start(&ctx, &err);
  x->dep_state = deployment_controller_def.start(&ctx, &err);
  CHECK(x->rs_state && x->dep_state);
  CHECK_INT(informer_factory_start(x->inf, &err), 0);
  CHECK(informer_factory_wait_synced(x->inf, 5000));
  pthread_mutex_init(&x->mu, NULL);
  x->seen = json_object();
  struct client_list_opts o = {0};
  x->watch = client_watch_start(x->f.client, x->pods, "default", &o, &err);
  CHECK(x->watch != NULL);
  pthread_create(&x->watcher, NULL, watcher_main, x);
  pthread_create(&x->kubelet, NULL, kubelet_main, x);
}

static void
dep_fixture_close(struct dep_fixture *x)
{
  atomic_store(&x->stop, true);
  pthread_join(x->kubelet, NULL);
  client_watch_cancel(x->watch);
  pthread_join(x->watcher, NULL);
  client_watch_close(x->watch);
  deployment_controller_def.stop(x->dep_state);
  replicaset_controller_def.stop(x->rs_state);
  informer_factory_free(x->inf);
  json_decref(x->seen);
  pthread_mutex_destroy(&x->mu);
  client_fixture_close(&x->f);
}

static void
start_observing(struct dep_fixture *x)
{
  pthread_mutex_lock(&x->mu);
  x->observing = true;
  x->min_ready = 1000;
  x->max_total = 0;
  x->mixed_hashes = false;
  pthread_mutex_unlock(&x->mu);
}

static void
create_deployment(struct dep_fixture *x, const char *name, int replicas, const char *strategy,
                  const char *extra_spec)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"replicas\":%d,\"strategy\":%s,%s"
           "\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},\"template\":{\"metadata\":{"
           "\"labels\":{\"app\":\"%s\"}},\"spec\":{\"terminationGracePeriodSeconds\":0,"
           "\"containers\":[{\"name\":\"c\",\"image\":\"img:1\"}]}}}}",
           name, replicas, strategy, extra_spec ? extra_spec : "", name, name);
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->f.client, x->deps, "default", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create deployment: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
patch_deployment(struct dep_fixture *x, const char *name, const char *text)
{
  json_t *p = json_of(text);
  k8c_err err = {0};
  int rc = client_patch(x->f.client, x->deps, "default", name, "application/merge-patch+json", p,
                        NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "patch %s: %s\n", name, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(p);
}

static void
set_image(struct dep_fixture *x, const char *name, const char *image)
{
  char text[256];
  snprintf(
      text, sizeof text,
      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}}}",
      image);
  patch_deployment(x, name, text);
}

static json_t *
get_deployment(struct dep_fixture *x, const char *name)
{
  json_t *d = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x->f.client, x->deps, "default", name, &d, &err), 0);
  return d;
}

/* Waits up to 20 s for a finished rollout of want replicas at the current generation. */
static bool
wait_complete(struct dep_fixture *x, const char *name, long long want)
{
  long long deadline = fixture_now_ms() + 20000;
  while (fixture_now_ms() < deadline) {
    json_t *d = get_deployment(x, name);
    json_t *st = json_object_get(d, "status");
    json_t *prog = dep_condition(st, "Progressing");
    const char *reason = json_string_value(json_object_get(prog, "reason"));
    bool done = cu_int(st, "observedGeneration", 0) == meta_generation(d) &&
                cu_int(st, "updatedReplicas", 0) == want && cu_int(st, "replicas", 0) == want &&
                cu_int(st, "availableReplicas", 0) == want && reason &&
                strcmp(reason, "NewReplicaSetAvailable") == 0;
    json_decref(d);
    if (done)
      return true;
    usleep(20000);
  }
  return false;
}

/* ReplicaSets of the deployment's app label, sorted by name (new array). */
static json_t *
list_rs(struct dep_fixture *x, const char *app)
{
  char sel[128];
  snprintf(sel, sizeof sel, "app=%s", app);
  struct client_list_opts o = {.label_selector = sel};
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->rss, "default", &o, &list, &err), 0);
  json_t *items = json_incref(json_object_get(list, "items"));
  json_decref(list);
  return items;
}

static json_t *
rs_with_revision(json_t *rss, const char *revision)
{
  size_t i;
  json_t *rs;
  json_array_foreach (rss, i, rs) {
    const char *r = json_string_value(json_object_get(meta_annotations(rs), DEP_ANN_REVISION));
    if (r && strcmp(r, revision) == 0)
      return rs;
  }
  return NULL;
}

static bool
has_event(struct dep_fixture *x, const char *reason, const char *prefix)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->events, "default", NULL, &list, &err), 0);
  bool found = false;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(list, "items"), i, e) {
    const char *r = json_string_value(json_object_get(e, "reason"));
    const char *m = json_string_value(json_object_get(e, "message"));
    if (r && m && strcmp(r, reason) == 0 && strncmp(m, prefix, strlen(prefix)) == 0)
      found = true;
  }
  json_decref(list);
  return found;
}

/* ---------- tests ---------- */

TEST(rolling_update_keeps_four_ready_and_at_most_five_pods)
{
  struct dep_fixture x;
  dep_fixture_open(&x);
  create_deployment(&x, "web", 4,
                    "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,"
                    "\"maxUnavailable\":0}}",
                    NULL);
  CHECK(wait_complete(&x, "web", 4));
  json_t *rss = list_rs(&x, "web");
  CHECK_INT(json_array_size(rss), 1);
  json_t *first = json_array_get(rss, 0);
  const char *hash1 = json_string_value(json_object_get(meta_labels(first), DEP_LABEL_HASH));
  CHECK(hash1 != NULL);
  cleanup_free char *want_name = xasprintf("web-%s", hash1 ? hash1 : "");
  CHECK_STR(meta_name(first), want_name);
  CHECK_STR(json_string_value(json_object_get(meta_annotations(first), DEP_ANN_REVISION)), "1");
  CHECK_STR(json_string_value(json_object_get(meta_annotations(first), DEP_ANN_DESIRED_REPLICAS)),
            "4");
  CHECK_STR(json_string_value(json_object_get(meta_annotations(first), DEP_ANN_MAX_REPLICAS)), "5");
  cleanup_free char *ev = xasprintf("Scaled up replica set %s from 0 to 4", meta_name(first));
  CHECK(has_event(&x, "ScalingReplicaSet", ev));
  json_decref(rss);

  start_observing(&x);
  set_image(&x, "web", "img:2");
  CHECK(wait_complete(&x, "web", 4));
  usleep(200000);
  pthread_mutex_lock(&x.mu);
  long long min_ready = x.min_ready, max_total = x.max_total;
  pthread_mutex_unlock(&x.mu);
  CHECK(min_ready >= 4);
  CHECK(max_total <= 5);
  CHECK_INT(max_total, 5); /* it did surge */

  rss = list_rs(&x, "web");
  CHECK_INT(json_array_size(rss), 2);
  json_t *old_rs = rs_with_revision(rss, "1"), *new_rs = rs_with_revision(rss, "2");
  CHECK(old_rs && new_rs);
  CHECK_INT(cu_int(old_rs, "spec.replicas", -1), 0);
  CHECK_INT(cu_int(new_rs, "spec.replicas", -1), 4);
  json_decref(rss);

  json_t *d = get_deployment(&x, "web");
  CHECK_STR(json_string_value(json_object_get(meta_annotations(d), DEP_ANN_REVISION)), "2");
  json_t *st = json_object_get(d, "status");
  CHECK_INT(cu_int(st, "replicas", -1), 4);
  CHECK_INT(cu_int(st, "updatedReplicas", -1), 4);
  CHECK_INT(cu_int(st, "readyReplicas", -1), 4);
  CHECK_INT(cu_int(st, "availableReplicas", -1), 4);
  CHECK_INT(cu_int(st, "unavailableReplicas", 0), 0);
  CHECK_INT(cu_int(st, "observedGeneration", -1), meta_generation(d));
  json_t *avail = dep_condition(st, "Available");
  CHECK_STR(json_string_value(json_object_get(avail, "status")), "True");
  CHECK_STR(json_string_value(json_object_get(avail, "reason")), "MinimumReplicasAvailable");
  json_decref(d);
  CHECK(has_event(&x, "ScalingReplicaSet", "Scaled down replica set web-"));
  dep_fixture_close(&x);
}

TEST(recreate_removes_old_pods_before_creating_new_ones)
{
  struct dep_fixture x;
  dep_fixture_open(&x);
  create_deployment(&x, "batch", 2, "{\"type\":\"Recreate\"}", NULL);
  CHECK(wait_complete(&x, "batch", 2));
  start_observing(&x);
  set_image(&x, "batch", "img:2");
  CHECK(wait_complete(&x, "batch", 2));
  pthread_mutex_lock(&x.mu);
  bool mixed = x.mixed_hashes;
  long long max_total = x.max_total;
  pthread_mutex_unlock(&x.mu);
  CHECK(!mixed);
  CHECK(max_total <= 2);
  json_t *rss = list_rs(&x, "batch");
  CHECK_INT(json_array_size(rss), 2);
  json_decref(rss);
  dep_fixture_close(&x);
}

TEST(rollback_reuses_the_old_replicaset_with_a_new_revision)
{
  struct dep_fixture x;
  dep_fixture_open(&x);
  create_deployment(&x, "app", 2, "{\"type\":\"RollingUpdate\"}", NULL);
  CHECK(wait_complete(&x, "app", 2));
  set_image(&x, "app", "img:2");
  CHECK(wait_complete(&x, "app", 2));

  /* What `kubectl rollout undo` does: copy revision 1's template (without its hash). */
  json_t *rss = list_rs(&x, "app");
  json_t *rev1 = rs_with_revision(rss, "1");
  CHECK(rev1 != NULL);
  cleanup_free char *rev1_name = xstrdup(meta_name(rev1));
  json_t *tpl = json_deep_copy(json_object_get(json_object_get(rev1, "spec"), "template"));
  json_object_del(json_object_get(json_object_get(tpl, "metadata"), "labels"), DEP_LABEL_HASH);
  json_decref(rss);
  json_t *d = get_deployment(&x, "app");
  json_object_set_new(json_object_get(d, "spec"), "template", tpl);
  k8c_err err = {0};
  CHECK_INT(client_update(x.f.client, x.deps, "default", "app", d, NULL, NULL, &err), 0);
  json_decref(d);
  CHECK(wait_complete(&x, "app", 2));

  rss = list_rs(&x, "app");
  CHECK_INT(json_array_size(rss), 2);
  json_t *rev3 = rs_with_revision(rss, "3");
  CHECK(rev3 != NULL);
  if (rev3) {
    CHECK_STR(meta_name(rev3), rev1_name);
    CHECK_STR(json_string_value(json_object_get(meta_annotations(rev3), DEP_ANN_REVISION_HISTORY)),
              "1");
    CHECK_INT(cu_int(rev3, "spec.replicas", -1), 2);
  }
  json_t *rev2 = rs_with_revision(rss, "2");
  CHECK(rev2 && cu_int(rev2, "spec.replicas", -1) == 0);
  json_decref(rss);
  d = get_deployment(&x, "app");
  CHECK_STR(json_string_value(json_object_get(meta_annotations(d), DEP_ANN_REVISION)), "3");
  json_decref(d);
  dep_fixture_close(&x);
}

TEST(paused_deployment_scales_but_does_not_roll)
{
  struct dep_fixture x;
  dep_fixture_open(&x);
  create_deployment(&x, "p", 2, "{\"type\":\"RollingUpdate\"}", NULL);
  CHECK(wait_complete(&x, "p", 2));
  patch_deployment(&x, "p", "{\"spec\":{\"paused\":true}}");
  set_image(&x, "p", "img:2");
  patch_deployment(&x, "p", "{\"spec\":{\"replicas\":3}}");
  usleep(1500000);
  json_t *rss = list_rs(&x, "p");
  CHECK_INT(json_array_size(rss), 1);
  CHECK_INT(cu_int(json_array_get(rss, 0), "spec.replicas", -1), 3);
  json_decref(rss);
  json_t *d = get_deployment(&x, "p");
  json_t *prog = dep_condition(json_object_get(d, "status"), "Progressing");
  CHECK_STR(json_string_value(json_object_get(prog, "reason")), "DeploymentPaused");
  CHECK_STR(json_string_value(json_object_get(prog, "status")), "Unknown");
  json_decref(d);

  patch_deployment(&x, "p", "{\"spec\":{\"paused\":false}}");
  CHECK(wait_complete(&x, "p", 3));
  rss = list_rs(&x, "p");
  CHECK_INT(json_array_size(rss), 2);
  json_decref(rss);
  dep_fixture_close(&x);
}

TEST(revision_history_limit_deletes_old_replicasets)
{
  struct dep_fixture x;
  dep_fixture_open(&x);
  create_deployment(&x, "h", 1, "{\"type\":\"RollingUpdate\"}", "\"revisionHistoryLimit\":1,");
  CHECK(wait_complete(&x, "h", 1));
  const char *images[] = {"img:2", "img:3", "img:4"};
  for (int i = 0; i < 3; i++) {
    set_image(&x, "h", images[i]);
    CHECK(wait_complete(&x, "h", 1));
  }
  long long deadline = fixture_now_ms() + 5000;
  size_t n = 0;
  while (fixture_now_ms() < deadline) {
    json_t *rss = list_rs(&x, "h");
    n = json_array_size(rss);
    bool right = n == 2 && rs_with_revision(rss, "4") && rs_with_revision(rss, "3");
    json_decref(rss);
    if (right)
      break;
    usleep(20000);
  }
  CHECK_INT(n, 2);
  dep_fixture_close(&x);
}

TEST(proportional_scaling_mid_rollout)
{
  struct dep_fixture x;
  dep_fixture_open(&x);
  /* No kubelet progress for the new pods: stop marking pods ready after the first rollout. */
  create_deployment(&x, "s", 10,
                    "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":3,"
                    "\"maxUnavailable\":2}}",
                    NULL);
  CHECK(wait_complete(&x, "s", 10));
  atomic_store(&x.stop, true);
  pthread_join(x.kubelet, NULL);
  set_image(&x, "s", "img:2");
  /* old 10 → 8 (2 unavailable allowed), new 0 → 5 (13 total); then scale to 20. */
  long long deadline = fixture_now_ms() + 10000;
  long long old_n = -1, new_n = -1;
  while (fixture_now_ms() < deadline) {
    json_t *rss = list_rs(&x, "s");
    json_t *o = rs_with_revision(rss, "1"), *nw = rs_with_revision(rss, "2");
    old_n = o ? cu_int(o, "spec.replicas", -1) : -1;
    new_n = nw ? cu_int(nw, "spec.replicas", -1) : -1;
    json_decref(rss);
    if (old_n == 8 && new_n == 5)
      break;
    usleep(20000);
  }
  CHECK_INT(old_n, 8);
  CHECK_INT(new_n, 5);
  patch_deployment(&x, "s", "{\"spec\":{\"replicas\":20}}");
  /* allowed 20 + 3 = 23, 10 to add over 13 (max-replicas annotations say 13): the larger
   * old RS first, round(8*23/13) = 14; the new one gets the other 4 → 9. */
  deadline = fixture_now_ms() + 10000;
  while (fixture_now_ms() < deadline) {
    json_t *rss = list_rs(&x, "s");
    json_t *o = rs_with_revision(rss, "1"), *nw = rs_with_revision(rss, "2");
    old_n = o ? cu_int(o, "spec.replicas", -1) : -1;
    new_n = nw ? cu_int(nw, "spec.replicas", -1) : -1;
    json_decref(rss);
    if (old_n + new_n == 23)
      break;
    usleep(20000);
  }
  CHECK_INT(old_n, 14);
  CHECK_INT(new_n, 9);
  atomic_store(&x.stop, false);
  pthread_create(&x.kubelet, NULL, kubelet_main, &x);
  CHECK(wait_complete(&x, "s", 20));
  dep_fixture_close(&x);
}

/* ---------- pure helpers ---------- */

TEST(template_hash_is_stable_and_follows_the_template)
{
  json_t *a = json_of("{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{"
                      "\"name\":\"c\",\"image\":\"i:1\"}]}}");
  json_t *b = json_of("{\"spec\":{\"containers\":[{\"image\":\"i:1\",\"name\":\"c\"}]},"
                      "\"metadata\":{\"labels\":{\"app\":\"x\"}}}");
  json_t *restarted = json_deep_copy(a);
  json_object_set_new(
      json_object_get(restarted, "metadata"), "annotations",
      json_pack("{s:s}", "kubectl.kubernetes.io/restartedAt", "2024-01-01T00:00:00Z"));
  cleanup_free char *ha = dep_template_hash(a, NULL);
  cleanup_free char *hb = dep_template_hash(b, NULL);
  cleanup_free char *hr = dep_template_hash(restarted, NULL);
  json_t *one = json_integer(1);
  cleanup_free char *hc = dep_template_hash(a, one);
  json_decref(one);
  CHECK_STR(ha, hb);
  CHECK(strcmp(ha, hr) != 0);
  CHECK(strcmp(ha, hc) != 0);
  for (const char *p = ha; *p; p++)
    CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *p) != NULL);
  /* Equal ignoring the hash label. */
  json_t *labelled = json_deep_copy(a);
  json_object_set_new(json_object_get(json_object_get(labelled, "metadata"), "labels"),
                      DEP_LABEL_HASH, json_string(ha));
  CHECK(dep_templates_equal(a, labelled));
  CHECK(!dep_templates_equal(a, restarted));
  json_decref(a);
  json_decref(b);
  json_decref(restarted);
  json_decref(labelled);
}

TEST(fenceposts_round_as_upstream)
{
  json_t *d = json_of("{\"spec\":{\"replicas\":10,\"strategy\":{\"type\":\"RollingUpdate\","
                      "\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}}}}");
  long long surge, unavailable;
  dep_fenceposts(d, &surge, &unavailable);
  CHECK_INT(surge, 3);       /* 2.5 rounds up */
  CHECK_INT(unavailable, 2); /* 2.5 rounds down */
  json_decref(d);
  d = json_of("{\"spec\":{\"replicas\":1,\"strategy\":{\"type\":\"RollingUpdate\","
              "\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":\"10%\"}}}}");
  dep_fenceposts(d, &surge, &unavailable);
  CHECK_INT(surge, 0);
  CHECK_INT(unavailable, 1); /* both zero: one may be unavailable */
  json_decref(d);
  d = json_of("{\"spec\":{\"replicas\":3,\"strategy\":{\"type\":\"Recreate\"}}}");
  CHECK_INT(dep_max_surge(d), 0);
  CHECK_INT(dep_max_unavailable(d), 0);
  json_decref(d);
}

TEST_MAIN()
