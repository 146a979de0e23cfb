/* controller_daemonset_test.c — the DaemonSet controller against a real registry with
 * node objects, the test playing scheduler and kubelet (a thread binds each pod to the
 * node its metadata.name affinity names and marks it Running and Ready): one pod per node
 * matching nodeSelector and taints, the default tolerations and node pinning, reacting to
 * label and taint changes (NoSchedule keeps an existing pod, NoExecute removes it),
 * rolling updates within maxUnavailable or with maxSurge, OnDelete, and status; a
 * ControllerRevision per template (DS-HASH, pods labelled with HASH), re-used with the
 * next number when a template comes back, and pruned to revisionHistoryLimit. */
#include "apimachinery/meta.h"
#include "controller_fixture.h"
#include "controllers/controller_util.h"

#include <pthread.h>
#include <stdatomic.h>

extern const struct controller_def daemonset_controller_def;

struct ds_fixture {
  struct controller_fixture cf;
  const struct api_resource *pods, *dss, *nodes;
  pthread_t kubelet;
  atomic_bool stop;
  /* rollout observation: the fewest ready pods and the most pods seen while on */
  atomic_bool observing;
  atomic_llong min_ready, max_pods;
};

static const char *
affinity_node(const json_t *pod)
{
  json_t *terms = json_object_get(
      json_object_get(json_object_get(json_object_get(json_object_get(pod, "spec"), "affinity"),
                                      "nodeAffinity"),
                      "requiredDuringSchedulingIgnoredDuringExecution"),
      "nodeSelectorTerms");
  json_t *req = json_array_get(json_object_get(json_array_get(terms, 0), "matchFields"), 0);
  return json_string_value(json_array_get(json_object_get(req, "values"), 0));
}

static void
mark_ready(struct ds_fixture *x, const char *name)
{
  cleanup_free char *now = meta_now_rfc3339();
  char text[512];
  snprintf(text, sizeof text,
           "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
           "\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]}}",
           now);
  json_t *patch = json_of(text);
  struct client_write_opts o = {.subresource = "status"};
  k8c_err err = {0};
  (void)!client_patch(x->cf.f.client, x->pods, "default", name, "application/merge-patch+json",
                      patch, &o, NULL, &err);
  k8c_err_clear(&err);
  json_decref(patch);
}

static void *
kubelet_main(void *arg)
{
  struct ds_fixture *x = arg;
  while (!atomic_load(&x->stop)) {
    json_t *list = NULL;
    k8c_err err = {0};
    if (client_list(x->cf.f.client, x->pods, "default", NULL, &list, &err) == 0) {
      size_t i;
      json_t *p;
      long long ready = 0, total = 0;
      json_array_foreach (json_object_get(list, "items"), i, p) {
        if (!pod_is_active(p))
          continue;
        total++;
        ready += pod_is_ready(p);
        if (cu_str(p, "spec.nodeName") == NULL && affinity_node(p)) {
          (void)!client_bind(x->cf.f.client, "default", meta_name(p), meta_uid(p), affinity_node(p),
                             &err);
          k8c_err_clear(&err);
        }
        if (!pod_is_ready(p))
          mark_ready(x, meta_name(p));
      }
      if (atomic_load(&x->observing)) {
        if (ready < atomic_load(&x->min_ready))
          atomic_store(&x->min_ready, ready);
        if (total > atomic_load(&x->max_pods))
          atomic_store(&x->max_pods, total);
      }
    }
    k8c_err_clear(&err);
    json_decref(list);
    usleep(5000);
  }
  return NULL;
}

static void
create_node(struct ds_fixture *x, const char *name, const char *labels, const char *taints)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{\"taints\":%s}}", name, labels,
           taints ? taints : "[]");
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->cf.f.client, x->nodes, "", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create node: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
patch_obj(struct ds_fixture *x, const struct api_resource *res, const char *ns, const char *name,
          const char *text)
{
  json_t *patch = json_of(text);
  k8c_err err = {0};
  int rc = client_patch(x->cf.f.client, res, ns, name, "application/merge-patch+json", patch, NULL,
                        NULL, &err);
  if (rc < 0)
    fprintf(stderr, "patch %s: %s\n", name, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(patch);
}

static void
ds_open(struct ds_fixture *x)
{
  memset(x, 0, sizeof *x);
  CHECK_INT(controller_fixture_open(&x->cf, &daemonset_controller_def), 0);
  x->pods = api_resource_find("", "v1", "pods");
  x->dss = api_resource_find("apps", "v1", "daemonsets");
  x->nodes = api_resource_find("", "v1", "nodes");
  pthread_create(&x->kubelet, NULL, kubelet_main, x);
}

static void
ds_close(struct ds_fixture *x)
{
  atomic_store(&x->stop, true);
  pthread_join(x->kubelet, NULL);
  controller_fixture_close(&x->cf);
}

static void
create_ds(struct ds_fixture *x, const char *extra_spec, const char *extra_pod_spec)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"agent\"},\"spec\":{%s\"selector\":{\"matchLabels\":{"
           "\"app\":\"agent\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
           "\"spec\":{%s\"terminationGracePeriodSeconds\":0,\"containers\":[{\"name\":\"c\","
           "\"image\":\"img:1\"}]}}}}",
           extra_spec ? extra_spec : "", extra_pod_spec ? extra_pod_spec : "");
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->cf.f.client, x->dss, "default", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create daemonset: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

/* "node:hash-suffix ..." of the active pods, sorted by node (caller frees): which nodes
 * have how many pods. */
static char *
pods_by_node(struct ds_fixture *x)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->cf.f.client, x->pods, "default", NULL, &list, &err), 0);
  json_t *counts = json_object();
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(list, "items"), i, p) {
    if (!pod_is_active(p))
      continue;
    const char *node = affinity_node(p);
    node = node ? node : "?";
    json_object_set_new(counts, node,
                        json_integer(json_integer_value(json_object_get(counts, node)) + 1));
  }
  char *out = json_dumps(counts, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(counts);
  json_decref(list);
  k8c_err_clear(&err);
  return out;
}

static bool
pods_are(struct ds_fixture *x, const char *expected)
{
  cleanup_free char *got = pods_by_node(x);
  return strcmp(got, expected) == 0;
}

static long long
status_int(struct ds_fixture *x, const char *field)
{
  json_t *ds = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x->cf.f.client, x->dss, "default", "agent", &ds, &err), 0);
  char path[128];
  snprintf(path, sizeof path, "status.%s", field);
  long long v = cu_int(ds, path, -1);
  json_decref(ds);
  return v;
}

/* kubectl rollout status's test. */
static bool
rollout_done(struct ds_fixture *x, long long desired)
{
  json_t *ds = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x->cf.f.client, x->dss, "default", "agent", &ds, &err), 0);
  bool done = cu_int(ds, "status.observedGeneration", 0) >= meta_generation(ds) &&
              cu_int(ds, "status.desiredNumberScheduled", -1) == desired &&
              cu_int(ds, "status.updatedNumberScheduled", 0) == desired &&
              cu_int(ds, "status.numberAvailable", 0) == desired;
  json_decref(ds);
  return done;
}

static json_t *
first_pod(struct ds_fixture *x)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->cf.f.client, x->pods, "default", NULL, &list, &err), 0);
  json_t *pod = json_incref(json_array_get(json_object_get(list, "items"), 0));
  json_decref(list);
  return pod;
}

static bool
has_toleration(const json_t *pod, const char *key, const char *effect)
{
  size_t i;
  json_t *t;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "tolerations"), i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    const char *e = json_string_value(json_object_get(t, "effect"));
    if (k && e && strcmp(k, key) == 0 && strcmp(e, effect) == 0)
      return true;
  }
  return false;
}

TEST(one_pod_per_eligible_node)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{\"disk\":\"ssd\"}", NULL);
  create_node(&x, "n2", "{\"disk\":\"ssd\"}", NULL);
  create_node(&x, "n3", "{\"disk\":\"hdd\"}", NULL);
  create_node(&x, "n4", "{\"disk\":\"ssd\"}",
              "[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]");
  create_ds(&x, NULL, "\"nodeSelector\":{\"disk\":\"ssd\"},");
  CHECK(WAIT_UNTIL(rollout_done(&x, 2), 5000));
  usleep(200000);
  cleanup_free char *got = pods_by_node(&x);
  CHECK_STR(got, "{\"n1\":1,\"n2\":1}");
  CHECK_INT(status_int(&x, "currentNumberScheduled"), 2);
  CHECK_INT(status_int(&x, "numberReady"), 2);
  CHECK_INT(status_int(&x, "numberMisscheduled"), 0);
  CHECK_INT(status_int(&x, "observedGeneration"), 1);

  json_t *pod = first_pod(&x);
  json_t *labels = meta_labels(pod);
  CHECK_STR(json_string_value(json_object_get(labels, "app")), "agent");
  CHECK_STR(json_string_value(json_object_get(labels, "pod-template-generation")), "1");
  CHECK(json_string_value(json_object_get(labels, "controller-revision-hash")) != NULL);
  json_t *ref = json_array_get(json_object_get(meta_get(pod), "ownerReferences"), 0);
  CHECK_STR(json_string_value(json_object_get(ref, "kind")), "DaemonSet");
  CHECK(json_is_true(json_object_get(ref, "controller")));
  CHECK(has_toleration(pod, "node.kubernetes.io/not-ready", "NoExecute"));
  CHECK(has_toleration(pod, "node.kubernetes.io/unreachable", "NoExecute"));
  CHECK(has_toleration(pod, "node.kubernetes.io/disk-pressure", "NoSchedule"));
  CHECK(has_toleration(pod, "node.kubernetes.io/memory-pressure", "NoSchedule"));
  CHECK(has_toleration(pod, "node.kubernetes.io/pid-pressure", "NoSchedule"));
  CHECK(has_toleration(pod, "node.kubernetes.io/unschedulable", "NoSchedule"));
  CHECK(!has_toleration(pod, "node.kubernetes.io/network-unavailable", "NoSchedule"));
  const char *node = affinity_node(pod);
  CHECK(node && (strcmp(node, "n1") == 0 || strcmp(node, "n2") == 0));
  json_decref(pod);
  ds_close(&x);
}

TEST(follows_node_labels_and_taints)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{\"disk\":\"ssd\"}", NULL);
  create_node(&x, "n2", "{\"disk\":\"ssd\"}", NULL);
  create_node(&x, "n3", "{\"disk\":\"hdd\"}", NULL);
  create_ds(&x, NULL, "\"nodeSelector\":{\"disk\":\"ssd\"},");
  CHECK(WAIT_UNTIL(pods_are(&x, "{\"n1\":1,\"n2\":1}"), 5000));
  /* n3 becomes eligible. */
  patch_obj(&x, x.nodes, "", "n3", "{\"metadata\":{\"labels\":{\"disk\":\"ssd\"}}}");
  CHECK(WAIT_UNTIL(pods_are(&x, "{\"n1\":1,\"n2\":1,\"n3\":1}"), 5000));
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 5000));
  /* NoSchedule: the pod already there stays, but is no longer desired there. */
  patch_obj(&x, x.nodes, "", "n1",
            "{\"spec\":{\"taints\":[{\"key\":\"maint\",\"effect\":\"NoSchedule\"}]}}");
  CHECK(WAIT_UNTIL(status_int(&x, "desiredNumberScheduled") == 2, 5000));
  CHECK_INT(status_int(&x, "numberMisscheduled"), 1);
  usleep(300000);
  CHECK(pods_are(&x, "{\"n1\":1,\"n2\":1,\"n3\":1}"));
  /* ... and once gone is not recreated. */
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x.cf.f.client, x.pods, "default", NULL, &list, &err), 0);
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(list, "items"), i, p) {
    if (strcmp(affinity_node(p), "n1") == 0)
      CHECK_INT(
          client_delete(x.cf.f.client, x.pods, "default", meta_name(p), NULL, NULL, NULL, &err), 0);
  }
  json_decref(list);
  CHECK(WAIT_UNTIL(pods_are(&x, "{\"n2\":1,\"n3\":1}"), 5000));
  usleep(300000);
  CHECK(pods_are(&x, "{\"n2\":1,\"n3\":1}"));
  /* NoExecute evicts. */
  patch_obj(&x, x.nodes, "", "n2",
            "{\"spec\":{\"taints\":[{\"key\":\"gone\",\"effect\":\"NoExecute\"}]}}");
  CHECK(WAIT_UNTIL(pods_are(&x, "{\"n3\":1}"), 5000));
  /* Losing the label removes the pod; the status follows. */
  patch_obj(&x, x.nodes, "", "n3", "{\"metadata\":{\"labels\":{\"disk\":\"hdd\"}}}");
  CHECK(WAIT_UNTIL(pods_are(&x, "{}"), 5000));
  CHECK(WAIT_UNTIL(status_int(&x, "desiredNumberScheduled") == 0, 5000));
  ds_close(&x);
}

TEST(tolerations_and_required_affinity)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{\"zone\":\"a\"}", NULL);
  create_node(&x, "n2", "{\"zone\":\"b\"}",
              "[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]");
  create_node(&x, "n3", "{\"zone\":\"c\"}", NULL);
  create_ds(&x, NULL,
            "\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"x\","
            "\"effect\":\"NoSchedule\"}],\"hostNetwork\":true,\"affinity\":{\"nodeAffinity\":{"
            "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{"
            "\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\","
            "\"b\"]}]}]}}},");
  CHECK(WAIT_UNTIL(pods_are(&x, "{\"n1\":1,\"n2\":1}"), 5000));
  json_t *pod = first_pod(&x);
  CHECK(has_toleration(pod, "node.kubernetes.io/network-unavailable", "NoSchedule"));
  CHECK(has_toleration(pod, "dedicated", "NoSchedule"));
  /* The template's required terms are replaced by the node pin alone. */
  json_t *terms = json_object_get(
      json_object_get(json_object_get(json_object_get(json_object_get(pod, "spec"), "affinity"),
                                      "nodeAffinity"),
                      "requiredDuringSchedulingIgnoredDuringExecution"),
      "nodeSelectorTerms");
  CHECK_INT(json_array_size(terms), 1);
  CHECK(json_object_get(json_array_get(terms, 0), "matchExpressions") == NULL);
  json_decref(pod);
  ds_close(&x);
}

static void
start_observing(struct ds_fixture *x)
{
  atomic_store(&x->min_ready, 1000);
  atomic_store(&x->max_pods, 0);
  atomic_store(&x->observing, true);
}

TEST(rolling_update_within_max_unavailable)
{
  struct ds_fixture x;
  ds_open(&x);
  for (int i = 0; i < 4; i++) {
    char name[8];
    snprintf(name, sizeof name, "n%d", i);
    create_node(&x, name, "{}", NULL);
  }
  create_ds(&x, "\"minReadySeconds\":0,", NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 4), 5000));
  long long old_hash_count = status_int(&x, "updatedNumberScheduled");
  CHECK_INT(old_hash_count, 4);
  start_observing(&x);
  patch_obj(&x, x.dss, "default", "agent",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
            "\"image\":\"img:2\"}]}}}}");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 2, 5000));
  CHECK(WAIT_UNTIL(rollout_done(&x, 4), 10000));
  atomic_store(&x.observing, false);
  CHECK(atomic_load(&x.min_ready) >= 3);
  CHECK(atomic_load(&x.max_pods) <= 4);
  CHECK(pods_are(&x, "{\"n0\":1,\"n1\":1,\"n2\":1,\"n3\":1}"));
  json_t *pod = first_pod(&x);
  json_t *c0 = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
  CHECK_STR(json_string_value(json_object_get(c0, "image")), "img:2");
  CHECK_STR(json_string_value(json_object_get(meta_labels(pod), "pod-template-generation")), "2");
  json_decref(pod);
  ds_close(&x);
}

TEST(rolling_update_with_surge_keeps_every_node_served)
{
  struct ds_fixture x;
  ds_open(&x);
  for (int i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof name, "n%d", i);
    create_node(&x, name, "{}", NULL);
  }
  create_ds(&x,
            "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
            "\"maxUnavailable\":0,\"maxSurge\":1}},",
            NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 5000));
  start_observing(&x);
  patch_obj(&x, x.dss, "default", "agent",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
            "\"image\":\"img:2\"}]}}}}");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 2, 5000));
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 10000));
  CHECK(WAIT_UNTIL(pods_are(&x, "{\"n0\":1,\"n1\":1,\"n2\":1}"), 5000));
  atomic_store(&x.observing, false);
  CHECK(atomic_load(&x.min_ready) >= 3);
  CHECK(atomic_load(&x.max_pods) <= 4);
  ds_close(&x);
}

TEST(on_delete_replaces_only_deleted_pods)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{}", NULL);
  create_node(&x, "n2", "{}", NULL);
  create_ds(&x, "\"updateStrategy\":{\"type\":\"OnDelete\"},", NULL);
  CHECK(WAIT_UNTIL(status_int(&x, "numberAvailable") == 2, 5000));
  patch_obj(&x, x.dss, "default", "agent",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
            "\"image\":\"img:2\"}]}}}}");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 2, 5000));
  usleep(300000);
  CHECK_INT(status_int(&x, "updatedNumberScheduled"), 0);
  json_t *pod = first_pod(&x);
  k8c_err err = {0};
  CHECK_INT(client_delete(x.cf.f.client, x.pods, "default", meta_name(pod), NULL, NULL, NULL, &err),
            0);
  json_decref(pod);
  CHECK(WAIT_UNTIL(status_int(&x, "updatedNumberScheduled") == 1 &&
                       status_int(&x, "numberAvailable") == 2,
                   5000));
  CHECK(pods_are(&x, "{\"n1\":1,\"n2\":1}"));
  ds_close(&x);
}

/* The DaemonSet's revisions (labelled app=agent) as "NUMBER:HASH ..." by number (caller
 * frees). */
static char *
revisions_of(struct ds_fixture *x)
{
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->cf.f.client, res, "default", NULL, &list, &err), 0);
  k8c_err_clear(&err);
  char out[1024] = "";
  for (long long want = 1; want < 100; want++) {
    size_t i;
    json_t *rev;
    json_array_foreach (json_object_get(list, "items"), i, rev) {
      const char *app = json_string_value(json_object_get(meta_labels(rev), "app"));
      if (cu_int(rev, "revision", -1) != want || !app || strcmp(app, "agent") != 0)
        continue;
      const char *hash =
          json_string_value(json_object_get(meta_labels(rev), "controller-revision-hash"));
      cleanup_free char *name = xasprintf("agent-%s", hash ? hash : "?");
      snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld:%s%s", *out ? " " : "", want,
               hash ? hash : "?", strcmp(name, meta_name(rev)) == 0 ? "" : "(misnamed)");
    }
  }
  json_decref(list);
  return xstrdup(out);
}

static void
set_ds_image(struct ds_fixture *x, const char *image)
{
  char text[256];
  snprintf(text, sizeof text,
           "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}"
           "]}}}}",
           image);
  patch_obj(x, x->dss, "default", "agent", text);
}

static bool
fixture_exists_in(struct client_fixture *f, const struct api_resource *res, const char *name)
{
  json_t *obj = NULL;
  k8c_err err = {0};
  bool found = client_get(f->client, res, "default", name, &obj, &err) == 0;
  k8c_err_clear(&err);
  json_decref(obj);
  return found;
}

/* The hash label of the first pod (caller frees; "" when none). */
static char *
first_pod_hash(struct ds_fixture *x)
{
  json_t *pod = first_pod(x);
  const char *hash =
      json_string_value(json_object_get(meta_labels(pod), "controller-revision-hash"));
  char *out = xstrdup(hash ? hash : "");
  json_decref(pod);
  return out;
}

TEST(revisions_follow_the_template_and_come_back_on_rollback)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{}", NULL);
  create_ds(&x, "\"revisionHistoryLimit\":1,", NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 5000));
  cleanup_free char *h1 = first_pod_hash(&x);
  cleanup_free char *want1 = xasprintf("1:%s", h1);
  cleanup_free char *got1 = revisions_of(&x);
  CHECK_STR(got1, want1);
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  json_t *rev = NULL;
  k8c_err err = {0};
  cleanup_free char *name1 = xasprintf("agent-%s", h1);
  CHECK_INT(client_get(x.cf.f.client, res, "default", name1, &rev, &err), 0);
  json_t *tpl = json_object_get(json_object_get(json_object_get(rev, "data"), "spec"), "template");
  CHECK_STR(json_string_value(json_object_get(tpl, "$patch")), "replace");
  CHECK_STR(cu_str(tpl, "metadata.labels.app"), "agent");
  json_t *ref = json_array_get(json_object_get(meta_get(rev), "ownerReferences"), 0);
  CHECK_STR(json_string_value(json_object_get(ref, "kind")), "DaemonSet");
  json_decref(rev);

  set_ds_image(&x, "img:2");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 2 && rollout_done(&x, 1), 10000));
  cleanup_free char *h2 = first_pod_hash(&x);
  CHECK(strcmp(h1, h2) != 0);
  cleanup_free char *want2 = xasprintf("1:%s 2:%s", h1, h2);
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *got = revisions_of(&x);
                     strcmp(got, want2) == 0;
                   }),
                   5000));

  /* Back to the first template: revision 1 becomes 3, the pods get its hash again. */
  set_ds_image(&x, "img:1");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 3 && rollout_done(&x, 1), 10000));
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *h = first_pod_hash(&x);
                     strcmp(h, h1) == 0;
                   }),
                   5000));
  cleanup_free char *want3 = xasprintf("2:%s 3:%s", h2, h1);
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *got = revisions_of(&x);
                     strcmp(got, want3) == 0;
                   }),
                   5000));

  /* A third template: with a limit of 1 only the newest unused revision stays. */
  set_ds_image(&x, "img:3");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 4 && rollout_done(&x, 1), 10000));
  cleanup_free char *h4 = first_pod_hash(&x);
  cleanup_free char *want4 = xasprintf("3:%s 4:%s", h1, h4);
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *got = revisions_of(&x);
                     strcmp(got, want4) == 0;
                   }),
                   5000));
  ds_close(&x);
}

TEST(hash_collision_bumps_collision_count)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{}", NULL);
  create_ds(&x, NULL, NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 5000));
  cleanup_free char *h1 = first_pod_hash(&x);
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  cleanup_free char *taken = xasprintf("agent-%s", h1);
  char text[256];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"other\"}},\"data\":{\"x\":1},"
           "\"revision\":1}",
           taken);
  json_t *rev = json_of(text);
  /* The running controller may put its own revision back between the delete and the
   * create (409): then delete it again. */
  int created = -1;
  for (int i = 0; i < 50 && created != 0; i++) {
    k8c_err err = {0};
    if (client_delete(x.cf.f.client, res, "default", taken, NULL, NULL, NULL, &err) < 0)
      CHECK_INT(err.status, 404);
    k8c_err_clear(&err);
    created = client_create(x.cf.f.client, res, "default", rev, NULL, NULL, &err);
    if (created != 0)
      CHECK_INT(err.status, 409);
    k8c_err_clear(&err);
  }
  CHECK_INT(created, 0);
  json_decref(rev);
  patch_obj(&x, x.dss, "default", "agent", "{\"metadata\":{\"labels\":{\"touched\":\"yes\"}}}");
  CHECK(WAIT_UNTIL(status_int(&x, "collisionCount") == 1, 5000));
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *h = first_pod_hash(&x);
                     *h &&strcmp(h, h1) != 0 && rollout_done(&x, 1);
                   }),
                   10000));
  cleanup_free char *h2 = first_pod_hash(&x);
  cleanup_free char *want = xasprintf("1:%s", h2);
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *got = revisions_of(&x);
                     strcmp(got, want) == 0;
                   }),
                   5000));
  ds_close(&x);
}

TEST(deleted_revision_is_made_again)
{
  struct ds_fixture x;
  ds_open(&x);
  create_node(&x, "n1", "{}", NULL);
  create_ds(&x, NULL, NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 5000));
  cleanup_free char *h1 = first_pod_hash(&x);
  cleanup_free char *want = xasprintf("1:%s", h1);
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *got = revisions_of(&x);
                     strcmp(got, want) == 0;
                   }),
                   5000));
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  cleanup_free char *name = xasprintf("agent-%s", h1);
  k8c_err err = {0};
  CHECK_INT(client_delete(x.cf.f.client, res, "default", name, NULL, NULL, NULL, &err), 0);
  k8c_err_clear(&err);
  /* The revision's deletion wakes the DaemonSet, which records its template again. */
  CHECK(WAIT_UNTIL(fixture_exists_in(&x.cf.f, res, name), 5000));
  ds_close(&x);
}

TEST_MAIN()
