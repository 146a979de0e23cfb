/* controller_statefulset_test.c — the StatefulSet controller against a real registry,
 * the test playing the kubelet (a thread marks pods Running and Ready while it is on):
 * OrderedReady creates web-0, web-1, web-2 one at a time, each after the previous is
 * Ready, with identity labels, hostname/subdomain, ownerReference and a claim per
 * volumeClaimTemplate; scale-down deletes from the highest ordinal; Parallel creates at
 * once; RollingUpdate recreates from the highest ordinal down, honouring the partition;
 * OnDelete waits for the user; whenScaled: Delete removes the claims; status fields.
 * Revisions: a ControllerRevision per template (its data the replace patch), re-used
 * with a new number when a template comes back, pods below the partition recreated from
 * the current revision, revisionHistoryLimit pruning; the registry keeps data immutable. */
#include "apimachinery/meta.h"
#include "controller_fixture.h"
#include "controllers/controller_util.h"

#include <pthread.h>
#include <stdatomic.h>

/* Generous: under ASan on a loaded 2-core machine one OrderedReady step can take seconds;
 * every wait returns as soon as its condition holds. */
#define WAIT_MS 15000

extern const struct controller_def statefulset_controller_def;

struct sts_fixture {
  struct controller_fixture cf;
  const struct api_resource *pods, *sets, *pvcs;
  pthread_t kubelet;
  atomic_bool stop, kubelet_on;
};

static void
mark_ready(struct sts_fixture *x, const char *name)
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
  struct sts_fixture *x = arg;
  while (!atomic_load(&x->stop)) {
    json_t *list = NULL;
    k8c_err err = {0};
    if (atomic_load(&x->kubelet_on) &&
        client_list(x->cf.f.client, x->pods, "default", NULL, &list, &err) == 0) {
      size_t i;
      json_t *p;
      json_array_foreach (json_object_get(list, "items"), i, p) {
        if (pod_is_active(p) && !pod_is_ready(p))
          mark_ready(x, meta_name(p));
      }
    }
    k8c_err_clear(&err);
    json_decref(list);
    usleep(20000);
  }
  return NULL;
}

static void
sts_open(struct sts_fixture *x, bool kubelet_on)
{
  memset(x, 0, sizeof *x);
  CHECK_INT(controller_fixture_open(&x->cf, &statefulset_controller_def), 0);
  x->pods = api_resource_find("", "v1", "pods");
  x->sets = api_resource_find("apps", "v1", "statefulsets");
  x->pvcs = api_resource_find("", "v1", "persistentvolumeclaims");
  atomic_store(&x->kubelet_on, kubelet_on);
  pthread_create(&x->kubelet, NULL, kubelet_main, x);
}

static void
sts_close(struct sts_fixture *x)
{
  atomic_store(&x->stop, true);
  pthread_join(x->kubelet, NULL);
  controller_fixture_close(&x->cf);
}

static void
create_set(struct sts_fixture *x, int replicas, const char *extra_spec)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":%d,\"serviceName\":\"web\","
           "%s\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
           "\"labels\":{\"app\":\"web\"}},\"spec\":{\"terminationGracePeriodSeconds\":0,"
           "\"containers\":[{\"name\":\"c\",\"image\":\"img:1\",\"volumeMounts\":[{\"name\":"
           "\"www\",\"mountPath\":\"/www\"}]}]}},\"volumeClaimTemplates\":[{\"metadata\":{"
           "\"name\":\"www\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{"
           "\"requests\":{\"storage\":\"1Gi\"}}}}]}}",
           replicas, extra_spec ? extra_spec : "");
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->cf.f.client, x->sets, "default", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create statefulset: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
patch_set(struct sts_fixture *x, const char *text)
{
  json_t *patch = json_of(text);
  k8c_err err = {0};
  int rc = client_patch(x->cf.f.client, x->sets, "default", "web", "application/merge-patch+json",
                        patch, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "patch statefulset: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(patch);
}

static json_t *
get_set(struct sts_fixture *x)
{
  json_t *obj = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x->cf.f.client, x->sets, "default", "web", &obj, &err), 0);
  k8c_err_clear(&err);
  return obj;
}

static bool
pod_exists(struct sts_fixture *x, const char *name)
{
  return fixture_exists(&x->cf.f, "pods", "default", name);
}

static long long
status_int(struct sts_fixture *x, const char *field)
{
  json_t *set = get_set(x);
  char path[128];
  snprintf(path, sizeof path, "status.%s", field);
  long long v = cu_int(set, path, -1);
  json_decref(set);
  return v;
}

/* The revision label of pod name ("" when it does not exist; caller frees). */
static char *
pod_revision(struct sts_fixture *x, const char *name)
{
  json_t *pod = fixture_get(&x->cf.f, "pods", "default", name);
  const char *rev =
      json_string_value(json_object_get(meta_labels(pod), "controller-revision-hash"));
  char *out = xstrdup(rev && !json_object_get(meta_get(pod), "deletionTimestamp") ? rev : "");
  json_decref(pod);
  return out;
}

static bool
rollout_done(struct sts_fixture *x, long long replicas)
{
  json_t *set = get_set(x);
  const char *cur = cu_str(set, "status.currentRevision");
  const char *upd = cu_str(set, "status.updateRevision");
  bool done = cu_int(set, "status.observedGeneration", 0) == meta_generation(set) &&
              cu_int(set, "status.readyReplicas", 0) == replicas &&
              cu_int(set, "status.updatedReplicas", 0) == replicas && cur && upd &&
              strcmp(cur, upd) == 0;
  json_decref(set);
  return done;
}

/* Opens a watch on pods from now. */
static client_watch *
watch_pods(struct sts_fixture *x)
{
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->cf.f.client, x->pods, "default", NULL, &list, &err), 0);
  struct client_list_opts o = {.resource_version = meta_resource_version(list)};
  client_watch *w = client_watch_start(x->cf.f.client, x->pods, "default", &o, &err);
  CHECK(w != NULL);
  json_decref(list);
  k8c_err_clear(&err);
  return w;
}

/* The names of the next n pods deleted, space-separated, within 10 s (caller frees). */
static char *
next_deleted(client_watch *w, int n)
{
  char out[256] = "";
  struct client_event ev = {0};
  long long deadline = fixture_now_ms() + 10000;
  while (n > 0 && fixture_now_ms() < deadline) {
    if (client_watch_next(w, &ev, 200) != 1)
      continue;
    if (ev.type != CLIENT_EVENT_DELETED)
      continue;
    const char *name = meta_name(client_event_object(&ev));
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", *out ? " " : "",
             name ? name : "?");
    n--;
  }
  client_event_clear(&ev);
  return xstrdup(out);
}

TEST(ordered_ready_creates_one_at_a_time_with_identity_and_claims)
{
  struct sts_fixture x;
  sts_open(&x, false);
  create_set(&x, 3, NULL);
  CHECK(WAIT_UNTIL(pod_exists(&x, "web-0"), WAIT_MS));
  usleep(300000);
  CHECK(!pod_exists(&x, "web-1"));

  json_t *pod = fixture_get(&x.cf.f, "pods", "default", "web-0");
  json_t *labels = meta_labels(pod);
  CHECK_STR(json_string_value(json_object_get(labels, "app")), "web");
  CHECK_STR(json_string_value(json_object_get(labels, "statefulset.kubernetes.io/pod-name")),
            "web-0");
  CHECK_STR(json_string_value(json_object_get(labels, "apps.kubernetes.io/pod-index")), "0");
  const char *label_rev = json_string_value(json_object_get(labels, "controller-revision-hash"));
  CHECK(label_rev && strncmp(label_rev, "web-", 4) == 0);
  cleanup_free char *rev = xstrdup(label_rev ? label_rev : "");
  CHECK_STR(cu_str(pod, "spec.hostname"), "web-0");
  CHECK_STR(cu_str(pod, "spec.subdomain"), "web");
  json_t *ref = json_array_get(json_object_get(meta_get(pod), "ownerReferences"), 0);
  CHECK_STR(json_string_value(json_object_get(ref, "kind")), "StatefulSet");
  CHECK_STR(json_string_value(json_object_get(ref, "name")), "web");
  CHECK(json_is_true(json_object_get(ref, "controller")));
  CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
  json_t *vol = json_array_get(json_object_get(json_object_get(pod, "spec"), "volumes"), 0);
  CHECK_STR(json_string_value(json_object_get(vol, "name")), "www");
  CHECK_STR(cu_str(vol, "persistentVolumeClaim.claimName"), "www-web-0");
  json_decref(pod);

  json_t *pvc = fixture_get(&x.cf.f, "persistentvolumeclaims", "default", "www-web-0");
  CHECK(pvc != NULL);
  CHECK_STR(json_string_value(json_object_get(meta_labels(pvc), "app")), "web");
  CHECK_STR(cu_str(pvc, "spec.resources.requests.storage"), "1Gi");
  json_decref(pvc);

  /* Not Ready: web-1 waits. Ready: web-1 comes, then web-2 after web-1. */
  mark_ready(&x, "web-0");
  CHECK(WAIT_UNTIL(pod_exists(&x, "web-1"), WAIT_MS));
  usleep(300000);
  CHECK(!pod_exists(&x, "web-2"));
  CHECK(fixture_exists(&x.cf.f, "persistentvolumeclaims", "default", "www-web-1"));
  mark_ready(&x, "web-1");
  CHECK(WAIT_UNTIL(pod_exists(&x, "web-2"), WAIT_MS));
  atomic_store(&x.kubelet_on, true);
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), WAIT_MS));
  json_t *set = get_set(&x);
  CHECK_INT(cu_int(set, "status.replicas", 0), 3);
  CHECK_INT(cu_int(set, "status.currentReplicas", 0), 3);
  CHECK_INT(cu_int(set, "status.availableReplicas", 0), 3);
  CHECK_INT(cu_int(set, "status.collisionCount", -1), 0);
  CHECK_STR(cu_str(set, "status.currentRevision"), rev);
  json_decref(set);
  sts_close(&x);
}

TEST(scale_down_removes_highest_ordinal_first_and_keeps_claims)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 3, NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 10000));
  client_watch *w = watch_pods(&x);
  patch_set(&x, "{\"spec\":{\"replicas\":1}}");
  cleanup_free char *deleted = next_deleted(w, 2);
  CHECK_STR(deleted, "web-2 web-1");
  client_watch_close(w);
  CHECK(WAIT_UNTIL(status_int(&x, "replicas") == 1, WAIT_MS));
  CHECK(pod_exists(&x, "web-0"));
  for (int i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "www-web-%d", i);
    CHECK(fixture_exists(&x.cf.f, "persistentvolumeclaims", "default", name));
  }
  /* Scaling up again reuses the claims and the names. */
  patch_set(&x, "{\"spec\":{\"replicas\":2}}");
  CHECK(WAIT_UNTIL(pod_exists(&x, "web-1") && status_int(&x, "readyReplicas") == 2, WAIT_MS));
  sts_close(&x);
}

TEST(parallel_creates_all_at_once)
{
  struct sts_fixture x;
  sts_open(&x, false);
  create_set(&x, 3, "\"podManagementPolicy\":\"Parallel\",");
  CHECK(WAIT_UNTIL(pod_exists(&x, "web-0") && pod_exists(&x, "web-1") && pod_exists(&x, "web-2"),
                   WAIT_MS));
  CHECK(WAIT_UNTIL(status_int(&x, "replicas") == 3, WAIT_MS));
  CHECK_INT(status_int(&x, "readyReplicas"), 0);
  /* Parallel scale-down does not wait either. */
  patch_set(&x, "{\"spec\":{\"replicas\":0}}");
  CHECK(WAIT_UNTIL(!pod_exists(&x, "web-0") && !pod_exists(&x, "web-1") && !pod_exists(&x, "web-2"),
                   WAIT_MS));
  sts_close(&x);
}

TEST(rolling_update_from_highest_ordinal)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 3, NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 10000));
  json_t *set = get_set(&x);
  cleanup_free char *old_rev = xstrdup(cu_str(set, "status.currentRevision"));
  json_decref(set);
  client_watch *w = watch_pods(&x);
  patch_set(&x, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"img:2\"}]}}}}");
  cleanup_free char *deleted = next_deleted(w, 3);
  CHECK_STR(deleted, "web-2 web-1 web-0");
  client_watch_close(w);
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 10000));
  set = get_set(&x);
  const char *new_rev = cu_str(set, "status.updateRevision");
  CHECK(new_rev && strcmp(new_rev, old_rev) != 0);
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "web-%d", i);
    cleanup_free char *rev = pod_revision(&x, name);
    CHECK_STR(rev, new_rev ? new_rev : "");
  }
  json_t *pod = fixture_get(&x.cf.f, "pods", "default", "web-0");
  json_t *c0 = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
  CHECK_STR(json_string_value(json_object_get(c0, "image")), "img:2");
  json_decref(pod);
  json_decref(set);
  sts_close(&x);
}

TEST(partition_keeps_lower_ordinals)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 3,
             "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
             "\"partition\":2}},");
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 10000));
  cleanup_free char *old_rev = pod_revision(&x, "web-0");
  patch_set(&x, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"img:2\"}]}}}}");
  CHECK(WAIT_UNTIL(status_int(&x, "updatedReplicas") == 1 && status_int(&x, "readyReplicas") == 3,
                   10000));
  usleep(300000);
  json_t *set = get_set(&x);
  const char *upd = cu_str(set, "status.updateRevision");
  cleanup_free char *r0 = pod_revision(&x, "web-0");
  cleanup_free char *r1 = pod_revision(&x, "web-1");
  cleanup_free char *r2 = pod_revision(&x, "web-2");
  CHECK_STR(r0, old_rev);
  CHECK_STR(r1, old_rev);
  CHECK_STR(r2, upd ? upd : "");
  CHECK_STR(cu_str(set, "status.currentRevision"), old_rev);
  CHECK_INT(cu_int(set, "status.currentReplicas", 0), 2);
  json_decref(set);
  /* Lowering the partition finishes the rollout. */
  patch_set(&x, "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"partition\":0}}}}");
  CHECK(WAIT_UNTIL(rollout_done(&x, 3), 10000));
  sts_close(&x);
}

TEST(on_delete_waits_for_the_user)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 2, "\"updateStrategy\":{\"type\":\"OnDelete\"},");
  CHECK(WAIT_UNTIL(status_int(&x, "readyReplicas") == 2, 10000));
  cleanup_free char *old_rev = pod_revision(&x, "web-1");
  patch_set(&x, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"img:2\"}]}}}}");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 2, WAIT_MS));
  usleep(300000);
  cleanup_free char *still = pod_revision(&x, "web-1");
  CHECK_STR(still, old_rev);
  k8c_err err = {0};
  CHECK_INT(client_delete(x.cf.f.client, x.pods, "default", "web-1", NULL, NULL, NULL, &err), 0);
  json_t *set = get_set(&x);
  cleanup_free char *upd = xstrdup(cu_str(set, "status.updateRevision"));
  json_decref(set);
  CHECK(strcmp(upd, old_rev) != 0);
  CHECK(WAIT_UNTIL(({
                     char *r = pod_revision(&x, "web-1");
                     bool same = strcmp(r, upd) == 0;
                     free(r);
                     same;
                   }),
                   WAIT_MS));
  CHECK(WAIT_UNTIL(status_int(&x, "updatedReplicas") == 1, WAIT_MS));
  sts_close(&x);
}

TEST(when_scaled_delete_removes_claims)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 2,
             "\"persistentVolumeClaimRetentionPolicy\":{\"whenScaled\":\"Delete\","
             "\"whenDeleted\":\"Delete\"},");
  CHECK(WAIT_UNTIL(status_int(&x, "readyReplicas") == 2, 10000));
  json_t *pvc = fixture_get(&x.cf.f, "persistentvolumeclaims", "default", "www-web-0");
  json_t *ref = json_array_get(json_object_get(meta_get(pvc), "ownerReferences"), 0);
  CHECK_STR(json_string_value(json_object_get(ref, "kind")), "StatefulSet");
  json_decref(pvc);
  patch_set(&x, "{\"spec\":{\"replicas\":1}}");
  CHECK(WAIT_UNTIL(!fixture_exists(&x.cf.f, "persistentvolumeclaims", "default", "www-web-1"),
                   WAIT_MS));
  CHECK(fixture_exists(&x.cf.f, "persistentvolumeclaims", "default", "www-web-0"));
  sts_close(&x);
}

TEST(failed_pod_is_replaced)
{
  struct sts_fixture x;
  sts_open(&x, false);
  create_set(&x, 1, NULL);
  CHECK(WAIT_UNTIL(pod_exists(&x, "web-0"), WAIT_MS));
  json_t *pod = fixture_get(&x.cf.f, "pods", "default", "web-0");
  cleanup_free char *old_uid = xstrdup(meta_uid(pod));
  json_decref(pod);
  json_t *patch = json_of("{\"status\":{\"phase\":\"Failed\"}}");
  struct client_write_opts o = {.subresource = "status"};
  k8c_err err = {0};
  CHECK_INT(client_patch(x.cf.f.client, x.pods, "default", "web-0", "application/merge-patch+json",
                         patch, &o, NULL, &err),
            0);
  json_decref(patch);
  CHECK(WAIT_UNTIL(({
                     json_t *p = fixture_get(&x.cf.f, "pods", "default", "web-0");
                     bool replaced = p && strcmp(meta_uid(p), old_uid) != 0;
                     json_decref(p);
                     replaced;
                   }),
                   WAIT_MS));
  sts_close(&x);
}

TEST(orphan_named_pod_is_adopted)
{
  struct sts_fixture x;
  sts_open(&x, true);
  json_t *orphan = json_of("{\"metadata\":{\"name\":\"web-0\",\"labels\":{\"app\":\"web\"}},"
                           "\"spec\":{\"terminationGracePeriodSeconds\":0,\"containers\":[{"
                           "\"name\":\"c\",\"image\":\"img:1\"}]}}");
  k8c_err err = {0};
  CHECK_INT(client_create(x.cf.f.client, x.pods, "default", orphan, NULL, NULL, &err), 0);
  json_decref(orphan);
  create_set(&x, 1, NULL);
  CHECK(WAIT_UNTIL(({
                     json_t *p = fixture_get(&x.cf.f, "pods", "default", "web-0");
                     bool owned = cu_controller_ref(p) != NULL;
                     json_decref(p);
                     owned;
                   }),
                   WAIT_MS));
  sts_close(&x);
}

/* The set's revisions as "NUMBER:NAME ..." by number, or with names_only "NAME ..."
 * (caller frees). */
static char *
revisions_of(struct sts_fixture *x, bool names_only)
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
      if (cu_int(rev, "revision", -1) != want)
        continue;
      if (names_only)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", *out ? " " : "",
                 meta_name(rev));
      else
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld:%s", *out ? " " : "", want,
                 meta_name(rev));
    }
  }
  json_decref(list);
  return xstrdup(out);
}

static bool
revisions_are(struct sts_fixture *x, const char *expected)
{
  cleanup_free char *got = revisions_of(x, false);
  return strcmp(got, expected) == 0;
}

static void
set_image(struct sts_fixture *x, const char *image)
{
  char text[256];
  snprintf(text, sizeof text,
           "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
           "\"volumeMounts\":[{\"name\":\"www\",\"mountPath\":\"/www\"}]}]}}}}",
           image);
  patch_set(x, text);
}

static char *
status_str(struct sts_fixture *x, const char *path)
{
  json_t *set = get_set(x);
  char *out = xstrdup(cu_str(set, path) ? cu_str(set, path) : "");
  json_decref(set);
  return out;
}

TEST(revision_per_template_reused_on_rollback)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 1, NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 10000));
  cleanup_free char *rev1 = status_str(&x, "status.updateRevision");
  cleanup_free char *want1 = xasprintf("1:%s", rev1);
  CHECK(revisions_are(&x, want1));
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  json_t *rev = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x.cf.f.client, res, "default", rev1, &rev, &err), 0);
  CHECK_STR(json_string_value(json_object_get(meta_labels(rev), "app")), "web");
  const char *hash =
      json_string_value(json_object_get(meta_labels(rev), "controller-revision-hash"));
  cleanup_free char *name = xasprintf("web-%s", hash ? hash : "?");
  CHECK_STR(rev1, name);
  json_t *ref = json_array_get(json_object_get(meta_get(rev), "ownerReferences"), 0);
  CHECK_STR(json_string_value(json_object_get(ref, "kind")), "StatefulSet");
  CHECK(json_is_true(json_object_get(ref, "controller")));
  json_t *tpl = json_object_get(json_object_get(json_object_get(rev, "data"), "spec"), "template");
  CHECK_STR(json_string_value(json_object_get(tpl, "$patch")), "replace");
  CHECK(json_is_null(json_object_get(json_object_get(tpl, "metadata"), "creationTimestamp")));
  json_t *c0 = json_array_get(json_object_get(json_object_get(tpl, "spec"), "containers"), 0);
  CHECK_STR(json_string_value(json_object_get(c0, "image")), "img:1");
  CHECK_INT(json_object_size(json_object_get(rev, "data")), 1);
  json_decref(rev);

  set_image(&x, "img:2");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 2 && rollout_done(&x, 1), 10000));
  cleanup_free char *rev2 = status_str(&x, "status.updateRevision");
  CHECK(strcmp(rev1, rev2) != 0);
  cleanup_free char *want2 = xasprintf("1:%s 2:%s", rev1, rev2);
  CHECK(revisions_are(&x, want2));
  cleanup_free char *label = pod_revision(&x, "web-0");
  CHECK_STR(label, rev2);

  /* The first template again: its revision comes back as number 3, nothing new. */
  set_image(&x, "img:1");
  CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == 3 && rollout_done(&x, 1), 10000));
  cleanup_free char *rev3 = status_str(&x, "status.updateRevision");
  CHECK_STR(rev3, rev1);
  cleanup_free char *want3 = xasprintf("2:%s 3:%s", rev2, rev1);
  CHECK(WAIT_UNTIL(revisions_are(&x, want3), WAIT_MS));
  sts_close(&x);
}

TEST(pod_below_partition_recreated_from_current_revision)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 2,
             "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
             "\"partition\":1}},");
  CHECK(WAIT_UNTIL(rollout_done(&x, 2), 10000));
  cleanup_free char *current = status_str(&x, "status.currentRevision");
  set_image(&x, "img:2");
  CHECK(WAIT_UNTIL(status_int(&x, "updatedReplicas") == 1 && status_int(&x, "readyReplicas") == 2,
                   10000));
  cleanup_free char *update = status_str(&x, "status.updateRevision");
  CHECK(strcmp(current, update) != 0);
  json_t *old = fixture_get(&x.cf.f, "pods", "default", "web-0");
  cleanup_free char *old_uid = xstrdup(meta_uid(old) ? meta_uid(old) : "");
  json_decref(old);
  k8c_err err = {0};
  CHECK_INT(client_delete(x.cf.f.client, x.pods, "default", "web-0", NULL, NULL, NULL, &err), 0);
  json_t *pod = NULL;
  CHECK(WAIT_UNTIL((json_decref(pod), pod = fixture_get(&x.cf.f, "pods", "default", "web-0"),
                    pod && strcmp(meta_uid(pod), old_uid) != 0),
                   WAIT_MS));
  json_t *c0 = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
  CHECK_STR(json_string_value(json_object_get(c0, "image")), "img:1");
  CHECK_STR(json_string_value(json_object_get(meta_labels(pod), "controller-revision-hash")),
            current);
  json_decref(pod);
  cleanup_free char *upper = pod_revision(&x, "web-1");
  CHECK_STR(upper, update);
  sts_close(&x);
}

TEST(history_limit_prunes_revisions_not_in_use)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 1, "\"revisionHistoryLimit\":2,");
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 10000));
  char image[16];
  for (int i = 2; i <= 5; i++) {
    snprintf(image, sizeof image, "img:%d", i);
    set_image(&x, image);
    CHECK(WAIT_UNTIL(status_int(&x, "observedGeneration") == i && rollout_done(&x, 1), 10000));
  }
  /* Five templates: the one in use and the two before it remain (numbers 3, 4, 5). */
  cleanup_free char *in_use = status_str(&x, "status.updateRevision");
  CHECK(WAIT_UNTIL(({
                     cleanup_free char *got = revisions_of(&x, false);
                     strncmp(got, "3:", 2) == 0 && strstr(got, " 4:") && strstr(got, " 5:") &&
                         !strstr(got, " 6:");
                   }),
                   WAIT_MS));
  cleanup_free char *names = revisions_of(&x, true);
  CHECK(strstr(names, in_use) != NULL);
  CHECK_INT(status_int(&x, "collisionCount"), 0);
  sts_close(&x);
}

TEST(controllerrevision_data_is_immutable_and_revision_nonnegative)
{
  struct sts_fixture x;
  sts_open(&x, false);
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  json_t *rev = json_of("{\"metadata\":{\"name\":\"r\"},\"data\":{\"a\":1},\"revision\":-1}");
  k8c_err err = {0};
  CHECK_INT(client_create(x.cf.f.client, res, "default", rev, NULL, NULL, &err), -1);
  CHECK_INT(err.status, 422);
  CHECK(strstr(err.message, "revision"));
  k8c_err_clear(&err);
  json_decref(rev);
  rev = json_of("{\"metadata\":{\"name\":\"r\"},\"revision\":1}");
  CHECK_INT(client_create(x.cf.f.client, res, "default", rev, NULL, NULL, &err), -1);
  CHECK(strstr(err.message, "data"));
  k8c_err_clear(&err);
  json_decref(rev);
  rev = json_of("{\"metadata\":{\"name\":\"r\"},\"data\":{\"a\":1},\"revision\":1}");
  CHECK_INT(client_create(x.cf.f.client, res, "default", rev, NULL, NULL, &err), 0);
  json_decref(rev);
  json_t *patch = json_of("{\"data\":{\"a\":2}}");
  CHECK_INT(client_patch(x.cf.f.client, res, "default", "r", "application/merge-patch+json", patch,
                         NULL, NULL, &err),
            -1);
  CHECK_INT(err.status, 422);
  CHECK(strstr(err.message, "field is immutable"));
  k8c_err_clear(&err);
  json_decref(patch);
  patch = json_of("{\"revision\":7}");
  json_t *out = NULL;
  CHECK_INT(client_patch(x.cf.f.client, res, "default", "r", "application/merge-patch+json", patch,
                         NULL, &out, &err),
            0);
  CHECK_INT(cu_int(out, "revision", 0), 7);
  json_decref(out);
  json_decref(patch);
  sts_close(&x);
}

/* Replaces revision name by one with other data that the set cannot adopt (no owner, other
 * labels), then touches the set so that it syncs. */
static void
plant_impostor(struct client_fixture *f, const struct api_resource *set_res, const char *set,
               const char *name)
{
  const struct api_resource *res = api_resource_find("apps", "v1", "controllerrevisions");
  k8c_err err = {0};
  char text[256];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"other\"}},\"data\":{\"x\":1},"
           "\"revision\":1}",
           name);
  json_t *rev = json_of(text);
  /* The running controller may put its own revision back between the delete and the
   * create (409): then delete it again. */
  int created = -1;
  for (int i = 0; i < 50 && created != 0; i++) {
    if (client_delete(f->client, res, "default", name, NULL, NULL, NULL, &err) < 0)
      CHECK_INT(err.status, 404);
    k8c_err_clear(&err);
    created = client_create(f->client, res, "default", rev, NULL, NULL, &err);
    if (created != 0)
      CHECK_INT(err.status, 409);
    k8c_err_clear(&err);
  }
  CHECK_INT(created, 0);
  json_decref(rev);
  json_t *touch = json_of("{\"metadata\":{\"labels\":{\"touched\":\"yes\"}}}");
  CHECK_INT(client_patch(f->client, set_res, "default", set, "application/merge-patch+json", touch,
                         NULL, NULL, &err),
            0);
  json_decref(touch);
  k8c_err_clear(&err);
}

TEST(hash_collision_bumps_collision_count)
{
  struct sts_fixture x;
  sts_open(&x, true);
  create_set(&x, 1, NULL);
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 10000));
  cleanup_free char *taken = status_str(&x, "status.updateRevision");
  plant_impostor(&x.cf.f, x.sets, "web", taken);
  CHECK(WAIT_UNTIL(status_int(&x, "collisionCount") == 1, WAIT_MS));
  CHECK(WAIT_UNTIL(rollout_done(&x, 1), 10000));
  cleanup_free char *now = status_str(&x, "status.updateRevision");
  CHECK(strcmp(now, taken) != 0);
  cleanup_free char *label = pod_revision(&x, "web-0");
  CHECK_STR(label, now);
  sts_close(&x);
}

TEST_MAIN()
