/* controller_nodelifecycle_test.c — the node lifecycle controller against a real
 * registry with a 2 s grace: a Node whose Lease stops being renewed turns Unknown, gets
 * the unreachable taints, its pods NotReady and evicted by their tolerations; renewing
 * clears the taints. The test plays the kubelet: it renews Leases from a thread. */
#include "agent/simnodes.h"
#include "apimachinery/meta.h"
#include "controller_fixture.h"

#include <pthread.h>
#include <string.h>

extern const struct controller_def nodelifecycle_controller_def;

struct renewer {
  k8c_client *client;
  pthread_mutex_t lock;
  bool renew[2]; /* n1, n2 */
  bool stop;
  pthread_t thread;
};

static void
micro_now(char out[40])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

static void
renew_lease(k8c_client *client, const char *node)
{
  const struct api_resource *leases = api_resource_find("coordination.k8s.io", "v1", "leases");
  char now[40];
  micro_now(now);
  json_t *patch = json_pack("{s:{s:s}}", "spec", "renewTime", now);
  k8c_err err = {0};
  if (client_patch(client, leases, "kube-node-lease", node, "application/merge-patch+json", patch,
                   NULL, NULL, &err) < 0)
    fprintf(stderr, "renewing %s: %s\n", node, err.message);
  k8c_err_clear(&err);
  json_decref(patch);
}

static void *
renewer_main(void *arg)
{
  struct renewer *r = arg;
  for (;;) {
    pthread_mutex_lock(&r->lock);
    bool stop = r->stop, r1 = r->renew[0], r2 = r->renew[1];
    pthread_mutex_unlock(&r->lock);
    if (stop)
      return NULL;
    if (r1)
      renew_lease(r->client, "n1");
    if (r2)
      renew_lease(r->client, "n2");
    usleep(200000);
  }
}

static void
set_renew(struct renewer *r, int i, bool on)
{
  pthread_mutex_lock(&r->lock);
  r->renew[i] = on;
  pthread_mutex_unlock(&r->lock);
}

static void
create(struct client_fixture *f, const char *group, const char *plural, const char *ns,
       const char *text)
{
  const struct api_resource *res = api_resource_find(group, "v1", plural);
  json_t *obj = json_of(text);
  k8c_err err = {0};
  if (client_create(f->client, res, ns, obj, NULL, NULL, &err) < 0)
    fprintf(stderr, "creating %s: %s\n", plural, err.message);
  CHECK_INT(err.status, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void post_status(struct client_fixture *f, const char *name, const char *ready);

static void
post_ready(struct client_fixture *f, const char *name)
{
  post_status(f, name, "True");
}

static void
create_node(struct client_fixture *f, const char *name, const char *taints)
{
  char now[40], text[1024];
  micro_now(now);
  snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"taints\":%s}}", name,
           taints);
  create(f, "", "nodes", "", text);
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"kube-node-lease\"},"
           "\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":40,"
           "\"renewTime\":\"%s\"}}",
           name, name, now);
  create(f, "coordination.k8s.io", "leases", "kube-node-lease", text);
  post_ready(f, name);
}

/* The kubelet's status post: Ready ready and MemoryPressure False. */
static void
post_status(struct client_fixture *f, const char *name, const char *ready)
{
  char now[40], text[1024];
  micro_now(now);
  now[19] = 'Z';
  now[20] = '\0';
  snprintf(text, sizeof text,
           "{\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\","
           "\"reason\":\"KubeletHasSufficientMemory\",\"lastHeartbeatTime\":\"%s\","
           "\"lastTransitionTime\":\"%s\"},{\"type\":\"Ready\",\"status\":\"%s\","
           "\"reason\":\"%s\",\"lastHeartbeatTime\":\"%s\","
           "\"lastTransitionTime\":\"%s\"}]}}",
           now, now, ready, strcmp(ready, "True") == 0 ? "KubeletReady" : "KubeletNotReady", now,
           now);
  json_t *patch = json_of(text);
  struct client_write_opts o = {.subresource = "status"};
  k8c_err err = {0};
  CHECK_INT(client_patch(f->client, api_resource_find("", "v1", "nodes"), "", name,
                         "application/merge-patch+json", patch, &o, NULL, &err),
            0);
  k8c_err_clear(&err);
  json_decref(patch);
}

/* A pod bound to node with these tolerations, its Ready condition True. */
static void
create_pod(struct client_fixture *f, const char *name, const char *node, const char *tolerations)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"nodeName\":\"%s\",\"tolerations\":%s,"
           "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
           name, node, tolerations);
  create(f, "", "pods", "default", text);
  json_t *patch = json_of("{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
                          "\"Ready\",\"status\":\"True\"}]}}");
  struct client_write_opts o = {.subresource = "status"};
  k8c_err err = {0};
  CHECK_INT(client_patch(f->client, api_resource_find("", "v1", "pods"), "default", name,
                         "application/merge-patch+json", patch, &o, NULL, &err),
            0);
  k8c_err_clear(&err);
  json_decref(patch);
}

/* Deleted or being deleted (a bound pod waits for its kubelet's final delete). */
static bool
pod_evicted(struct client_fixture *f, const char *name)
{
  json_t *pod = fixture_get(f, "pods", "default", name);
  bool gone = pod == NULL || json_object_get(meta_get(pod), "deletionTimestamp") != NULL;
  json_decref(pod);
  return gone;
}

static bool
pod_ready_is(struct client_fixture *f, const char *name, const char *want)
{
  json_t *pod = fixture_get(f, "pods", "default", name);
  bool ok = false;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "type")), "Ready") == 0)
      ok = strcmp(json_string_value(json_object_get(c, "status")), want) == 0;
  }
  json_decref(pod);
  return ok;
}

static bool
node_condition_is(struct client_fixture *f, const char *node, const char *type, const char *want,
                  const char *reason)
{
  json_t *obj = fixture_get(f, "nodes", "", node);
  bool ok = false;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(obj, "status"), "conditions"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "type")), type) != 0)
      continue;
    const char *r = json_string_value(json_object_get(c, "reason"));
    ok = strcmp(json_string_value(json_object_get(c, "status")), want) == 0 &&
         (reason == NULL || (r && strcmp(r, reason) == 0));
  }
  json_decref(obj);
  return ok;
}

/* The node's taints as "key:effect" joined by ",", with "+t" when timeAdded is set. */
static bool
node_taints_are(struct client_fixture *f, const char *node, const char *want)
{
  json_t *obj = fixture_get(f, "nodes", "", node);
  char got[512] = "";
  size_t i;
  json_t *t;
  json_array_foreach (json_object_get(json_object_get(obj, "spec"), "taints"), i, t) {
    size_t len = strlen(got);
    snprintf(got + len, sizeof got - len, "%s%s:%s%s", i ? "," : "",
             json_string_value(json_object_get(t, "key")),
             json_string_value(json_object_get(t, "effect")),
             json_object_get(t, "timeAdded") ? "+t" : "");
  }
  json_decref(obj);
  return strcmp(got, want) == 0;
}

static bool
event_with_reason(struct client_fixture *f, const char *reason, const char *message)
{
  const struct api_resource *events = api_resource_find("", "v1", "events");
  json_t *list = NULL;
  k8c_err err = {0};
  if (client_list(f->client, events, "", NULL, &list, &err) < 0) {
    k8c_err_clear(&err);
    return false;
  }
  bool found = false;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(list, "items"), i, e) {
    const char *r = json_string_value(json_object_get(e, "reason"));
    const char *m = json_string_value(json_object_get(e, "message"));
    if (r && strcmp(r, reason) == 0 && (message == NULL || (m && strcmp(m, message) == 0)))
      found = true;
  }
  json_decref(list);
  return found;
}

/* Starts the controller as the manager would, with a 2 s grace. */
static void
start_controller(struct controller_fixture *cf)
{
  cf->def = &nodelifecycle_controller_def;
  cf->ctx.client = client_inprocess_new(&cf->f.reg, "kube-controller-manager");
  cf->ctx.informers = informer_factory_new(cf->ctx.client, 0);
  cf->ctx.cfg.workers = 2;
  cf->ctx.cfg.node_monitor_grace_seconds = 2;
  k8c_err err = {0};
  cf->state = cf->def->start(&cf->ctx, &err);
  CHECK(cf->state != NULL);
  CHECK_INT(informer_factory_start(cf->ctx.informers, &err), 0);
  CHECK(informer_factory_wait_synced(cf->ctx.informers, 10000));
  k8c_err_clear(&err);
}

TEST(unreachable_node_is_tainted_and_its_pods_evicted)
{
  struct controller_fixture cf;
  memset(&cf, 0, sizeof cf);
  CHECK_INT(client_fixture_open(&cf.f), 0);
  struct client_fixture *f = &cf.f;
  create(f, "", "namespaces", "", "{\"metadata\":{\"name\":\"kube-node-lease\"}}");
  create_node(f, "n1", "[]");
  create_node(f, "n2", "[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoExecute\"}]");
  create_pod(f, "p-one", "n1",
             "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
             "\"effect\":\"NoExecute\",\"tolerationSeconds\":1}]");
  create_pod(f, "p-forever", "n1",
             "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
             "\"effect\":\"NoExecute\"}]");
  create_pod(f, "p-default", "n1", "[]"); /* admission: 300 s */
  create_pod(f, "p-none", "n2", "[]");
  create_pod(f, "p-tol", "n2",
             "[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"x\","
             "\"effect\":\"NoExecute\"}]");

  struct renewer r = {.client = f->client, .renew = {true, true}};
  pthread_mutex_init(&r.lock, NULL);
  CHECK_INT(pthread_create(&r.thread, NULL, renewer_main, &r), 0);

  start_controller(&cf);

  /* A pod not tolerating a NoExecute taint goes at once; the one tolerating it stays. */
  CHECK(WAIT_UNTIL(pod_evicted(f, "p-none"), 3000));
  CHECK(event_with_reason(f, "TaintManagerEviction", "Marking for deletion Pod default/p-none"));
  CHECK(!pod_evicted(f, "p-tol"));

  /* Healthy for longer than the grace: nothing happens to n1. */
  usleep(2500000);
  CHECK(node_condition_is(f, "n1", "Ready", "True", "KubeletReady"));
  CHECK(node_taints_are(f, "n1", ""));
  CHECK(node_taints_are(f, "n2", "dedicated:NoExecute"));

  /* n1's kubelet goes silent. */
  set_renew(&r, 0, false);
  long long stopped = fixture_now_ms();
  CHECK(WAIT_UNTIL(node_condition_is(f, "n1", "Ready", "Unknown", "NodeStatusUnknown"), 6000));
  CHECK(fixture_now_ms() - stopped >= 1900);
  CHECK(node_condition_is(f, "n1", "MemoryPressure", "Unknown", "NodeStatusUnknown"));
  CHECK(WAIT_UNTIL(node_taints_are(f, "n1",
                                   "node.kubernetes.io/unreachable:NoSchedule,"
                                   "node.kubernetes.io/unreachable:NoExecute+t"),
                   3000));
  CHECK(event_with_reason(f, "NodeNotReady", NULL));
  CHECK(WAIT_UNTIL(pod_ready_is(f, "p-default", "False"), 3000));
  /* p-one tolerates it for 1 s only. */
  CHECK(WAIT_UNTIL(pod_evicted(f, "p-one"), 4000));
  CHECK(event_with_reason(f, "TaintManagerEviction", "Marking for deletion Pod default/p-one"));
  usleep(1500000);
  CHECK(!pod_evicted(f, "p-forever"));
  CHECK(!pod_evicted(f, "p-default"));
  CHECK(!pod_evicted(f, "p-tol"));
  /* n2 renewed all along. */
  CHECK(node_condition_is(f, "n2", "Ready", "True", "KubeletReady"));
  /* Its kubelet reports it not ready: the not-ready taints, user taints kept; p-tol has
   * the default 300 s toleration of them. */
  post_status(f, "n2", "False");
  CHECK(WAIT_UNTIL(node_taints_are(f, "n2",
                                   "dedicated:NoExecute,node.kubernetes.io/not-ready:NoSchedule,"
                                   "node.kubernetes.io/not-ready:NoExecute+t"),
                   3000));
  post_ready(f, "n2");
  CHECK(WAIT_UNTIL(node_taints_are(f, "n2", "dedicated:NoExecute"), 3000));
  CHECK(!pod_evicted(f, "p-tol"));

  /* The kubelet comes back: the taints go, and its status post makes the node Ready. */
  set_renew(&r, 0, true);
  CHECK(WAIT_UNTIL(node_taints_are(f, "n1", ""), 3000));
  post_ready(f, "n1");
  usleep(500000);
  CHECK(node_condition_is(f, "n1", "Ready", "True", "KubeletReady"));
  CHECK(node_taints_are(f, "n1", ""));
  CHECK(!pod_evicted(f, "p-forever"));

  pthread_mutex_lock(&r.lock);
  r.stop = true;
  pthread_mutex_unlock(&r.lock);
  pthread_join(r.thread, NULL);
  pthread_mutex_destroy(&r.lock);
  controller_fixture_close(&cf);
}

/* With simulated nodes: stopping one's heartbeats makes it unreachable, resuming them
 * brings it back Ready without taints. */
TEST(simulated_node_heartbeats)
{
  struct controller_fixture cf;
  memset(&cf, 0, sizeof cf);
  CHECK_INT(client_fixture_open(&cf.f), 0);
  struct client_fixture *f = &cf.f;
  create(f, "", "namespaces", "", "{\"metadata\":{\"name\":\"kube-node-lease\"}}");
  struct simnodes_config scfg = {.count = 2, .lease_renew_ms = 200, .status_update_ms = 500};
  k8c_err err = {0};
  simnodes *sim = simnodes_start(f->client, &scfg, &err);
  CHECK(sim != NULL);
  CHECK(simnodes_wait_registered(sim, 10000));
  start_controller(&cf);
  const char *dead = simnodes_node_name(sim, 0), *alive = simnodes_node_name(sim, 1);
  CHECK(WAIT_UNTIL(node_condition_is(f, dead, "Ready", "True", NULL), 3000));
  CHECK_INT(simnodes_set_heartbeat(sim, dead, false, &err), 0);
  CHECK(WAIT_UNTIL(node_condition_is(f, dead, "Ready", "Unknown", "NodeStatusUnknown"), 6000));
  CHECK(WAIT_UNTIL(node_taints_are(f, dead,
                                   "node.kubernetes.io/unreachable:NoSchedule,"
                                   "node.kubernetes.io/unreachable:NoExecute+t"),
                   3000));
  CHECK(node_condition_is(f, alive, "Ready", "True", NULL));
  CHECK(node_taints_are(f, alive, ""));
  CHECK_INT(simnodes_set_heartbeat(sim, dead, true, &err), 0);
  CHECK(WAIT_UNTIL(
      node_condition_is(f, dead, "Ready", "True", NULL) && node_taints_are(f, dead, ""), 3000));
  k8c_err_clear(&err);
  simnodes_stop(sim); /* before the client it uses goes away */
  controller_fixture_close(&cf);
}

TEST_MAIN()
