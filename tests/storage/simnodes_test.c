/* simnodes_test.c — simulated nodes against a real registry through the in-process
 * client: nodes register Ready with their Leases, a pod bound to one runs, becomes Ready
 * (at once or after the configured delay) with an IP from the node's block, is finished
 * off when deleted and gives its IP back; stopped heartbeats (API or label) stop the
 * lease renewals; job-like pods exit; pod CIDR planning. */
#include "agent/simnodes.h"
#include "client_fixture.h"

#include <arpa/inet.h>
#include <unistd.h>

struct sim_fixture {
  struct client_fixture f;
  simnodes *sim;
  const struct api_resource *nodes, *leases, *pods;
};

static void
sim_open(struct sim_fixture *t, int count, int ready_delay_ms, int lease_renew_ms)
{
  memset(t, 0, sizeof *t);
  CHECK_INT(client_fixture_open(&t->f), 0);
  t->nodes = api_resource_find("", "v1", "nodes");
  t->leases = api_resource_find("coordination.k8s.io", "v1", "leases");
  t->pods = api_resource_find("", "v1", "pods");
  k8c_err err = {0};
  json_t *ns = json_of("{\"metadata\":{\"name\":\"kube-node-lease\"}}");
  CHECK_INT(client_create(t->f.client, api_resource_find("", "v1", "namespaces"), "", ns, NULL,
                          NULL, &err),
            0);
  json_decref(ns);
  struct simnodes_config cfg = {
      .count = count, .ready_delay_ms = ready_delay_ms, .lease_renew_ms = lease_renew_ms};
  t->sim = simnodes_start(t->f.client, &cfg, &err);
  CHECK(t->sim != NULL);
  CHECK(simnodes_wait_registered(t->sim, 10000));
  k8c_err_clear(&err);
}

static void
sim_close(struct sim_fixture *t)
{
  simnodes_stop(t->sim);
  client_fixture_close(&t->f);
}

static json_t *
get_obj(struct sim_fixture *t, const struct api_resource *res, const char *ns, const char *name)
{
  json_t *out = NULL;
  k8c_err err = {0};
  if (client_get(t->f.client, res, ns, name, &out, &err) < 0)
    out = NULL;
  k8c_err_clear(&err);
  return out;
}

static const char *
path_str(const json_t *obj, const char *a, const char *b)
{
  return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static const char *
condition_status(const json_t *obj, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(obj, "status"), "conditions"), i, c)
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      return json_string_value(json_object_get(c, "status"));
  return NULL;
}

static char *
lease_renew_time(struct sim_fixture *t, const char *node)
{
  json_t *lease = get_obj(t, t->leases, "kube-node-lease", node);
  char *rt = lease ? xstrdup(path_str(lease, "spec", "renewTime")) : NULL;
  json_decref(lease);
  return rt;
}

/* Creates pod name in default (restartPolicy, annotations optional) and binds it. */
static void
create_bound_pod(struct sim_fixture *t, const char *name, const char *node, const char *extra_meta,
                 const char *policy)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"%s},\"spec\":{\"restartPolicy\":\"%s\","
           "\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\"}],"
           "\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.25\"},"
           "{\"name\":\"side\",\"image\":\"busybox\"}]}}",
           name, extra_meta ? extra_meta : "", policy ? policy : "Always");
  json_t *pod = json_of(text);
  k8c_err err = {0};
  CHECK_INT(client_create(t->f.client, t->pods, "default", pod, NULL, NULL, &err), 0);
  json_decref(pod);
  CHECK_INT(client_bind(t->f.client, "default", name, NULL, node, &err), 0);
  k8c_err_clear(&err);
}

/* Polls pod name until its phase is phase and Ready is ready (NULL: any); the pod or
 * NULL after timeout_ms. */
static json_t *
wait_pod(struct sim_fixture *t, const char *name, const char *phase, const char *ready,
         int timeout_ms)
{
  long long deadline = fixture_now_ms() + timeout_ms;
  while (fixture_now_ms() < deadline) {
    json_t *pod = get_obj(t, t->pods, "default", name);
    const char *p = path_str(pod, "status", "phase");
    const char *r = condition_status(pod, "Ready");
    if (p && strcmp(p, phase) == 0 && (ready == NULL || (r && strcmp(r, ready) == 0)))
      return pod;
    json_decref(pod);
    usleep(10000);
  }
  return NULL;
}

static bool
wait_pod_gone(struct sim_fixture *t, const char *name, int timeout_ms)
{
  long long deadline = fixture_now_ms() + timeout_ms;
  while (fixture_now_ms() < deadline) {
    json_t *pod = get_obj(t, t->pods, "default", name);
    if (pod == NULL)
      return true;
    json_decref(pod);
    usleep(10000);
  }
  return false;
}

TEST(nodes_register_ready_with_leases)
{
  struct sim_fixture t;
  sim_open(&t, 5, 0, 0);
  CHECK_INT(simnodes_count(t.sim), 5);
  CHECK_STR(simnodes_node_name(t.sim, 4), "sim-node-0004");
  CHECK(simnodes_node_name(t.sim, 5) == NULL);
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(t.f.client, t.nodes, "", NULL, &list, &err), 0);
  CHECK_INT(json_array_size(json_object_get(list, "items")), 5);
  json_decref(list);
  for (int i = 0; i < 5; i++) {
    char name[32], cidr[32];
    snprintf(name, sizeof name, "sim-node-%04d", i);
    snprintf(cidr, sizeof cidr, "10.42.%d.0/24", i);
    json_t *node = get_obj(&t, t.nodes, "", name);
    CHECK(node != NULL);
    CHECK_STR(condition_status(node, "Ready"), "True");
    CHECK_STR(condition_status(node, "MemoryPressure"), "False");
    CHECK_STR(condition_status(node, "DiskPressure"), "False");
    CHECK_STR(condition_status(node, "PIDPressure"), "False");
    CHECK_STR(path_str(node, "spec", "podCIDR"), cidr);
    json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
    CHECK_STR(json_string_value(json_object_get(labels, "kubernetes.io/hostname")), name);
    CHECK_STR(json_string_value(json_object_get(labels, "type")), "k8c-simulated");
    static const char *const zones[] = {"zone-a", "zone-b", "zone-c"};
    CHECK_STR(json_string_value(json_object_get(labels, "topology.kubernetes.io/zone")),
              zones[i % 3]);
    json_t *status = json_object_get(node, "status");
    CHECK_JSON(json_object_get(status, "capacity"),
               "{\"cpu\":\"8\",\"memory\":\"32Gi\",\"ephemeral-storage\":\"100Gi\","
               "\"pods\":\"110\"}");
    CHECK_JSON(json_object_get(status, "allocatable"),
               "{\"cpu\":\"8\",\"memory\":\"32Gi\",\"ephemeral-storage\":\"100Gi\","
               "\"pods\":\"110\"}");
    json_t *addr = json_array_get(json_object_get(status, "addresses"), 0);
    char ip[16];
    snprintf(ip, sizeof ip, "198.18.0.%d", i + 2);
    CHECK_STR(json_string_value(json_object_get(addr, "address")), ip);
    CHECK_STR(path_str(status, "nodeInfo", "kubeletVersion"), "v1.31.0+k8c.0.1.0");
    json_decref(node);

    json_t *lease = get_obj(&t, t.leases, "kube-node-lease", name);
    CHECK(lease != NULL);
    CHECK_STR(path_str(lease, "spec", "holderIdentity"), name);
    CHECK_INT(
        json_integer_value(json_object_get(json_object_get(lease, "spec"), "leaseDurationSeconds")),
        40);
    json_t *owner =
        json_array_get(json_object_get(json_object_get(lease, "metadata"), "ownerReferences"), 0);
    CHECK_STR(json_string_value(json_object_get(owner, "kind")), "Node");
    json_decref(lease);
  }
  k8c_err_clear(&err);
  sim_close(&t);
}

TEST(bound_pod_runs_ready_with_an_ip_and_is_finished_on_delete)
{
  struct sim_fixture t;
  sim_open(&t, 3, 0, 0);
  create_bound_pod(&t, "web", "sim-node-0001", NULL, NULL);
  json_t *pod = wait_pod(&t, "web", "Running", "True", 5000);
  CHECK(pod != NULL);
  json_t *status = json_object_get(pod, "status");
  const char *ip = json_string_value(json_object_get(status, "podIP"));
  struct in_addr in;
  CHECK(ip && inet_pton(AF_INET, ip, &in) == 1);
  CHECK_INT(ntohl(in.s_addr) & 0xFFFFFF00u, 0x0A2A0100u); /* in 10.42.1.0/24 */
  CHECK_STR(ip, "10.42.1.2");
  CHECK_STR(json_string_value(
                json_object_get(json_array_get(json_object_get(status, "podIPs"), 0), "ip")),
            ip);
  CHECK_STR(json_string_value(json_object_get(status, "hostIP")), "198.18.0.3");
  CHECK(json_object_get(status, "startTime") != NULL);
  CHECK_STR(json_string_value(json_object_get(status, "qosClass")), "BestEffort");
  CHECK_STR(condition_status(pod, "ContainersReady"), "True");
  CHECK_STR(condition_status(pod, "Initialized"), "True");
  CHECK_STR(condition_status(pod, "PodScheduled"), "True");
  json_t *cs = json_array_get(json_object_get(status, "containerStatuses"), 0);
  CHECK_INT(json_array_size(json_object_get(status, "containerStatuses")), 2);
  CHECK(json_is_true(json_object_get(cs, "ready")));
  CHECK(json_is_true(json_object_get(cs, "started")));
  CHECK_INT(json_integer_value(json_object_get(cs, "restartCount")), 0);
  CHECK_STR(json_string_value(json_object_get(cs, "image")), "nginx:1.25");
  CHECK(strncmp(json_string_value(json_object_get(cs, "containerID")), "sim://", 6) == 0);
  CHECK(path_str(json_object_get(cs, "state"), "running", "startedAt") != NULL);
  json_t *ics = json_array_get(json_object_get(status, "initContainerStatuses"), 0);
  CHECK_INT(json_integer_value(json_object_get(
                json_object_get(json_object_get(ics, "state"), "terminated"), "exitCode")),
            0);
  json_decref(pod);

  /* A second pod on the same node gets the next address. */
  create_bound_pod(&t, "web2", "sim-node-0001", NULL, NULL);
  pod = wait_pod(&t, "web2", "Running", "True", 5000);
  CHECK_STR(path_str(pod, "status", "podIP"), "10.42.1.3");
  json_decref(pod);

  /* A graceful delete leaves the pod Terminating until the "kubelet" finishes it. */
  k8c_err err = {0};
  CHECK_INT(client_delete(t.f.client, t.pods, "default", "web", NULL, NULL, NULL, &err), 0);
  CHECK(wait_pod_gone(&t, "web", 5000));
  /* Its IP is free again: the next pod on the node takes it. */
  create_bound_pod(&t, "web3", "sim-node-0001", NULL, NULL);
  pod = wait_pod(&t, "web3", "Running", "True", 5000);
  CHECK_STR(path_str(pod, "status", "podIP"), "10.42.1.2");
  json_decref(pod);
  /* Pods on nodes that are not simulated here are left alone. */
  json_t *other = json_of("{\"metadata\":{\"name\":\"elsewhere\"},\"spec\":{\"containers\":"
                          "[{\"name\":\"c\",\"image\":\"x\"}]}}");
  CHECK_INT(client_create(t.f.client, t.pods, "default", other, NULL, NULL, &err), 0);
  json_decref(other);
  CHECK_INT(client_bind(t.f.client, "default", "elsewhere", NULL, "real-node", &err), 0);
  usleep(200000);
  pod = get_obj(&t, t.pods, "default", "elsewhere");
  CHECK_STR(path_str(pod, "status", "phase"), "Pending");
  json_decref(pod);
  k8c_err_clear(&err);
  sim_close(&t);
}

TEST(ready_after_the_configured_delay)
{
  struct sim_fixture t;
  sim_open(&t, 1, 400, 0);
  long long start = fixture_now_ms();
  create_bound_pod(&t, "slow", "sim-node-0000", NULL, NULL);
  json_t *pod = wait_pod(&t, "slow", "Running", "False", 2000);
  CHECK(pod != NULL);
  json_t *cs =
      json_array_get(json_object_get(json_object_get(pod, "status"), "containerStatuses"), 0);
  CHECK(json_is_false(json_object_get(cs, "ready")));
  json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
  size_t i;
  json_t *c;
  bool saw_reason = false;
  json_array_foreach (conds, i, c)
    if (strcmp(json_string_value(json_object_get(c, "type")), "Ready") == 0)
      saw_reason =
          strcmp(json_string_value(json_object_get(c, "reason")), "ContainersNotReady") == 0;
  CHECK(saw_reason);
  json_decref(pod);
  pod = wait_pod(&t, "slow", "Running", "True", 3000);
  CHECK(pod != NULL);
  CHECK(fixture_now_ms() - start >= 400);
  json_decref(pod);
  sim_close(&t);
}

TEST(stopped_heartbeats_stop_lease_renewals)
{
  struct sim_fixture t;
  sim_open(&t, 3, 0, 100);
  usleep(250000);
  k8c_err err = {0};
  CHECK_INT(simnodes_set_heartbeat(t.sim, "sim-node-0000", false, &err), 0);
  CHECK_INT(simnodes_set_heartbeat(t.sim, "no-such-node", false, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  usleep(250000); /* a renewal in flight when we stopped has landed */
  char *stopped = lease_renew_time(&t, "sim-node-0000");
  char *alive = lease_renew_time(&t, "sim-node-0001");
  usleep(500000);
  char *stopped2 = lease_renew_time(&t, "sim-node-0000");
  char *alive2 = lease_renew_time(&t, "sim-node-0001");
  CHECK_STR(stopped2, stopped);
  CHECK(alive && alive2 && strcmp(alive, alive2) != 0);
  /* A dead kubelet does not run pods either. */
  create_bound_pod(&t, "orphan", "sim-node-0000", NULL, NULL);
  usleep(200000);
  json_t *pod = get_obj(&t, t.pods, "default", "orphan");
  CHECK_STR(path_str(pod, "status", "phase"), "Pending");
  json_decref(pod);
  /* Resumed: renewals again, and the pod runs. */
  CHECK_INT(simnodes_set_heartbeat(t.sim, "sim-node-0000", true, &err), 0);
  pod = wait_pod(&t, "orphan", "Running", "True", 3000);
  CHECK(pod != NULL);
  json_decref(pod);
  usleep(300000);
  char *resumed = lease_renew_time(&t, "sim-node-0000");
  CHECK(resumed && stopped && strcmp(resumed, stopped) != 0);

  /* The label does the same, from kubectl. */
  json_t *patch =
      json_of("{\"metadata\":{\"labels\":{\"k8c.io/simulate-heartbeat\":\"stopped\"}}}");
  CHECK_INT(client_patch(t.f.client, t.nodes, "", "sim-node-0002", "application/merge-patch+json",
                         patch, NULL, NULL, &err),
            0);
  json_decref(patch);
  usleep(300000);
  char *labelled = lease_renew_time(&t, "sim-node-0002");
  usleep(400000);
  char *labelled2 = lease_renew_time(&t, "sim-node-0002");
  CHECK_STR(labelled2, labelled);
  patch = json_of("{\"metadata\":{\"labels\":{\"k8c.io/simulate-heartbeat\":null}}}");
  CHECK_INT(client_patch(t.f.client, t.nodes, "", "sim-node-0002", "application/merge-patch+json",
                         patch, NULL, NULL, &err),
            0);
  json_decref(patch);
  usleep(400000);
  char *unlabelled = lease_renew_time(&t, "sim-node-0002");
  CHECK(unlabelled && labelled && strcmp(unlabelled, labelled) != 0);
  free(stopped);
  free(stopped2);
  free(alive);
  free(alive2);
  free(resumed);
  free(labelled);
  free(labelled2);
  free(unlabelled);
  k8c_err_clear(&err);
  sim_close(&t);
}

TEST(job_like_pods_exit_as_annotated)
{
  struct sim_fixture t;
  sim_open(&t, 1, 0, 0);
  create_bound_pod(&t, "ok", "sim-node-0000",
                   ",\"annotations\":{\"k8c.io/simulate-exit-after-ms\":\"150\"}", "Never");
  create_bound_pod(&t, "bad", "sim-node-0000",
                   ",\"annotations\":{\"k8c.io/simulate-exit-after-ms\":\"50\","
                   "\"k8c.io/simulate-exit-code\":\"3\"}",
                   "OnFailure");
  create_bound_pod(&t, "forever", "sim-node-0000",
                   ",\"annotations\":{\"k8c.io/simulate-exit-after-ms\":\"10\"}", "Always");
  json_t *pod = wait_pod(&t, "ok", "Succeeded", "False", 3000);
  CHECK(pod != NULL);
  json_t *cs =
      json_array_get(json_object_get(json_object_get(pod, "status"), "containerStatuses"), 0);
  json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
  CHECK_STR(json_string_value(json_object_get(term, "reason")), "Completed");
  json_decref(pod);
  pod = wait_pod(&t, "bad", "Failed", NULL, 3000);
  CHECK(pod != NULL);
  cs = json_array_get(json_object_get(json_object_get(pod, "status"), "containerStatuses"), 0);
  term = json_object_get(json_object_get(cs, "state"), "terminated");
  CHECK_INT(json_integer_value(json_object_get(term, "exitCode")), 3);
  json_decref(pod);
  usleep(100000);
  pod = get_obj(&t, t.pods, "default", "forever");
  CHECK_STR(path_str(pod, "status", "phase"), "Running");
  json_decref(pod);
  sim_close(&t);
}

TEST(pod_cidr_plan)
{
  unsigned base;
  int prefix;
  k8c_err err = {0};
  CHECK_INT(simnodes_pod_cidr_plan("10.42.0.0/16", 256, &base, &prefix, &err), 0);
  CHECK_INT(base, 0x0A2A0000u);
  CHECK_INT(prefix, 24);
  CHECK_INT(simnodes_pod_cidr_plan("10.42.0.0/16", 257, &base, &prefix, &err), 0);
  CHECK_INT(prefix, 25);
  CHECK_INT(simnodes_pod_cidr_plan("10.42.0.0/16", 1000, &base, &prefix, &err), 0);
  CHECK_INT(prefix, 26);
  CHECK_INT(simnodes_pod_cidr_plan("10.0.0.0/8", 5000, &base, &prefix, &err), 0);
  CHECK_INT(prefix, 24);
  CHECK_INT(simnodes_pod_cidr_plan("10.42.7.9/24", 1, &base, &prefix, &err), 0);
  CHECK_INT(base, 0x0A2A0700u);
  CHECK_INT(prefix, 24);
  CHECK_INT(simnodes_pod_cidr_plan("10.42.0.0/16", 1025, &base, &prefix, &err), -1);
  CHECK_INT(err.status, 400);
  CHECK(strstr(err.message, "larger --cluster-cidr") != NULL);
  k8c_err_clear(&err);
  CHECK_INT(simnodes_pod_cidr_plan("10.42.0.0", 1, &base, &prefix, &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(simnodes_pod_cidr_plan("fd00::/64", 1, &base, &prefix, &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(simnodes_pod_cidr_plan("10.42.0.0/x", 1, &base, &prefix, &err), -1);
  k8c_err_clear(&err);
}

TEST(bad_configuration_is_refused)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  struct simnodes_config cfg = {.count = 0};
  CHECK(simnodes_start(f.client, &cfg, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  cfg.count = 2000;
  CHECK(simnodes_start(f.client, &cfg, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  client_fixture_close(&f);
}

TEST_MAIN()
