/* kubelet_test.c — the node agent in-process against a real registry over a temporary
 * SQLite store, with real crun, conmon and CNI, pulling a busybox image built by
 * tests/lib/image_fixture.sh from a local docker-registry mirroring docker.io. The test
 * plays the scheduler (spec.nodeName) and the node IPAM controller (spec.podCIDR).
 * Checks: a pod runs with the right environment, status and volumes (configMap,
 * emptyDir); an exiting container is
 * restarted at once, then backs off (CrashLoopBackOff); a missing image ends in
 * ImagePullBackOff; a failing exec liveness probe restarts its container; an agent
 * restart re-adopts the running container; deletion stops everything and leaves no container,
 * namespace, mount, veth, cgroup, process or log behind. Needs root; fails loudly otherwise. */
#include "auth/jwt.h"
#include "auth/satoken.h"
#include "client_fixture.h"
#include "kubelet/cgroups/cgroups.h"
#include "kubelet/kubelet.h"
#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/runtime.h"
#include "lib/mem.h"
#include "registry/core/serviceaccount_token.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kfix {
  struct client_fixture api;
  char *work, *data, *run, *logs, *registries;
  char bridge[16], cgroup[32], pod_cidr[32];
  pid_t registry_pid;
  struct kubelet *kl;
  struct satoken_issuer *issuer;
  const struct api_resource *pods, *nodes;
};

static struct kfix fx;

static char *
read_line(const char *path)
{
  k8c_err err = {0};
  char *s = fs_read_file(path, NULL, &err);
  k8c_err_clear(&err);
  if (s)
    s[strcspn(s, "\n")] = '\0';
  return s;
}

static struct kubelet_config
config(void)
{
  return (struct kubelet_config){.node_name = "kt-node",
                                 .data_dir = fx.data,
                                 .run_dir = fx.run,
                                 .pod_log_dir = fx.logs,
                                 .registries_file = fx.registries,
                                 .cgroup_parent = fx.cgroup,
                                 .bridge = fx.bridge,
                                 .pids_limit = 256,
                                 .status_period_ms = 1000,
                                 .lease_period_ms = 1000};
}

/* Plays the node IPAM controller: gives kt-node its pod CIDR once registered. */
static bool
assign_pod_cidr(void)
{
  k8c_err err = {0};
  for (int i = 0; i < 200; i++) {
    json_t *node = NULL;
    if (client_get(fx.api.client, fx.nodes, "", "kt-node", &node, &err) == 0) {
      json_decref(node);
      cleanup_json json_t *patch = json_pack("{s:{s:s}}", "spec", "podCIDR", fx.pod_cidr);
      int rc = client_patch(fx.api.client, fx.nodes, "", "kt-node", "application/merge-patch+json",
                            patch, NULL, NULL, &err);
      k8c_err_clear(&err);
      return rc == 0;
    }
    k8c_err_clear(&err);
    usleep(50000);
  }
  return false;
}

static bool
start_kubelet(void)
{
  struct kubelet_config cfg = config();
  k8c_err err = {0};
  fx.kl = kubelet_start(fx.api.client, &cfg, &err);
  if (fx.kl == NULL) {
    testlib_fail(__FILE__, __LINE__, "kubelet_start: %s", err.message);
    k8c_err_clear(&err);
    return false;
  }
  return assign_pod_cidr() && kubelet_wait_ready(fx.kl, 20000);
}

static void
teardown(void)
{
  kubelet_stop(fx.kl);
  fx.kl = NULL;
  if (fx.registry_pid > 0)
    kill(fx.registry_pid, SIGTERM);
  if (fx.run) {
    /* whatever a failed test left: the agent's own runtime removes it */
    struct runtime_config rc = {.run_dir = fx.run,
                                .data_dir = fx.data,
                                .cgroup_parent = fx.cgroup,
                                .bridge = fx.bridge,
                                .pod_cidr = fx.pod_cidr};
    k8c_err err = {0};
    struct runtime *rt = runtime_open(&rc, &err);
    if (rt) {
      char **ids = runtime_container_list(rt);
      for (size_t i = 0; ids[i]; i++)
        if (runtime_container_remove(rt, ids[i], &err) < 0)
          k8c_err_clear(&err);
      fs_strv_free(ids);
      char **sbs = runtime_sandbox_list(rt);
      for (size_t i = 0; sbs[i]; i++)
        if (runtime_sandbox_remove(rt, sbs[i], &err) < 0)
          k8c_err_clear(&err);
      fs_strv_free(sbs);
      runtime_close(rt);
    }
    k8c_err_clear(&err);
    if (runtime_unmount_run_dirs(&rc, &err) < 0)
      k8c_err_clear(&err);
    cleanup_free char *parent = xasprintf("/%s", fx.cgroup);
    if (cgroup_remove(parent, &err) < 0)
      k8c_err_clear(&err);
    cleanup_free char *cmd = xasprintf("ip link del %s 2>/dev/null", fx.bridge);
    if (system(cmd) != 0) {
      /* already gone */
    }
  }
  if (fx.work) {
    k8c_err err = {0};
    if (fs_remove_tree(fx.work, &err) < 0)
      k8c_err_clear(&err);
  }
  client_fixture_close(&fx.api);
  satoken_issuer_free(fx.issuer);
  free(fx.work);
  free(fx.data);
  free(fx.run);
  free(fx.logs);
  free(fx.registries);
}

static void
at_exit(void)
{
  teardown();
}

static bool
setup(void)
{
  atexit(at_exit);
  if (geteuid() != 0) {
    testlib_fail(__FILE__, __LINE__, "kubelet_test needs root (containers, netns, cgroups)");
    return false;
  }
  if (client_fixture_open(&fx.api) < 0) {
    testlib_fail(__FILE__, __LINE__, "client fixture");
    return false;
  }
  fx.pods = api_resource_find("", "v1", "pods");
  {
    cleanup_json json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "kube-node-lease");
    k8c_err err = {0};
    if (client_create(fx.api.client, api_resource_find("", "v1", "namespaces"), "", ns, NULL, NULL,
                      &err) < 0)
      return false;
  }
  /* What the server's token issuer and controllers provide: the default ServiceAccount
   * and the kube-root-ca.crt ConfigMap every pod's kube-api-access volume reads. */
  {
    char *key = NULL;
    k8c_err err = {0};
    if (jwt_generate_key(&key, &err) < 0)
      return false;
    fx.issuer = satoken_issuer_new(key, NULL, &err);
    free(key);
    if (fx.issuer == NULL)
      return false;
    fx.api.reg.token_issuer = fx.issuer;
    cleanup_json json_t *sa = json_pack("{s:{s:s}}", "metadata", "name", "default");
    if (client_create(fx.api.client, api_resource_find("", "v1", "serviceaccounts"), "default", sa,
                      NULL, NULL, &err) < 0 ||
        create_configmap(&fx.api, "kube-root-ca.crt", NULL, "{\"ca.crt\":\"TEST CA\"}") != 0)
      return false;
  }
  fx.nodes = api_resource_find("", "v1", "nodes");
  pid_t pid = getpid();
  fx.work = xstrdup("/tmp/k8c-kubelet-test.XXXXXX");
  if (mkdtemp(fx.work) == NULL)
    return false;
  fx.data = xasprintf("%s/data", fx.work);
  fx.run = xasprintf("%s/run", fx.work);
  fx.logs = xasprintf("%s/logs", fx.work);
  fx.registries = xasprintf("%s/registries.yaml", fx.work);
  snprintf(fx.bridge, sizeof fx.bridge, "k8kt%d", (int)(pid % 100000));
  snprintf(fx.cgroup, sizeof fx.cgroup, "k8ckt-%d", (int)pid);
  snprintf(fx.pod_cidr, sizeof fx.pod_cidr, "10.%d.%d.0/24", 100 + (int)(pid / 250) % 150,
           (int)(pid % 250));
  const char *src = getenv("K8C_SOURCE_DIR");
  cleanup_free char *script =
      xasprintf("set -e; source '%s/tests/lib/image_fixture.sh'; W='%s';"
                "fixture_build_busybox $W/layout base; fixture_start_registry $W;"
                "echo $FIXTURE_REGISTRY_PID >$W/registry.pid;"
                "fixture_push $W/layout base library/busybox:1.36;"
                "fixture_mirror_config $W/registries.yaml",
                src ? src : ".", fx.work);
  cleanup_free char *path = xasprintf("%s/setup.sh", fx.work);
  k8c_err err = {0};
  if (fs_write_file(path, script, strlen(script), 0700, &err) < 0)
    return false;
  cleanup_free char *cmd = xasprintf("bash %s >%s/setup.log 2>&1", path, fx.work);
  int rc = system(cmd);
  cleanup_free char *pid_path = xasprintf("%s/registry.pid", fx.work);
  cleanup_free char *pid_text = read_line(pid_path);
  if (pid_text)
    fx.registry_pid = atoi(pid_text);
  if (rc != 0) {
    cleanup_free char *show = xasprintf("cat %s/setup.log >&2", fx.work);
    if (system(show) != 0)
      fprintf(stderr, "(no setup log)\n");
    testlib_fail(__FILE__, __LINE__, "building the image / starting the registry failed");
    return false;
  }
  return start_kubelet();
}

static json_t *
get_pod(const char *name)
{
  json_t *pod = NULL;
  k8c_err err = {0};
  if (client_get(fx.api.client, fx.pods, "default", name, &pod, &err) < 0)
    k8c_err_clear(&err);
  return pod;
}

static const char *
str_at(const json_t *obj, const char *a, const char *b)
{
  return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static const json_t *
cstatus(const json_t *pod)
{
  return json_array_get(json_object_get(json_object_get(pod, "status"), "containerStatuses"), 0);
}

/* Polls pod name until pred holds (or timeout_ms); returns the last pod seen. */
static json_t *
wait_pod(const char *name, bool (*pred)(const json_t *), int timeout_ms)
{
  long long deadline = fixture_now_ms() + timeout_ms;
  json_t *pod = NULL;
  do {
    json_decref(pod);
    pod = get_pod(name);
    if (pred(pod))
      return pod;
    usleep(50000);
  } while (fixture_now_ms() < deadline);
  return pod;
}

static bool
running_ready(const json_t *pod)
{
  const json_t *cs = cstatus(pod);
  return pod && json_object_get(json_object_get(cs, "state"), "running") &&
         json_is_true(json_object_get(cs, "ready"));
}

static bool
restarted_once(const json_t *pod)
{
  return json_integer_value(json_object_get(cstatus(pod), "restartCount")) >= 1;
}

static bool
in_backoff(const json_t *pod)
{
  const json_t *w = json_object_get(json_object_get(cstatus(pod), "state"), "waiting");
  const char *reason = json_string_value(json_object_get(w, "reason"));
  return reason && strcmp(reason, "CrashLoopBackOff") == 0;
}

static bool
pull_backoff(const json_t *pod)
{
  const json_t *w = json_object_get(json_object_get(cstatus(pod), "state"), "waiting");
  const char *reason = json_string_value(json_object_get(w, "reason"));
  const char *msg = json_string_value(json_object_get(w, "message"));
  return reason && strcmp(reason, "ImagePullBackOff") == 0 && msg &&
         strcmp(msg, "Back-off pulling image \"busybox:nope\"") == 0;
}

static bool
gone(const json_t *pod)
{
  return pod == NULL;
}

static int
create_pod(const char *name, const char *containers_json, const char *extra_spec)
{
  cleanup_free char *text =
      xasprintf("{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"nodeName\":\"kt-node\","
                "\"terminationGracePeriodSeconds\":2%s%s,\"containers\":%s}}",
                name, extra_spec ? "," : "", extra_spec ? extra_spec : "", containers_json);
  cleanup_json json_t *pod = json_of(text);
  k8c_err err = {0};
  int rc = client_create(fx.api.client, fx.pods, "default", pod, NULL, NULL, &err);
  if (rc < 0) {
    testlib_fail(__FILE__, __LINE__, "create %s: %s", name, err.message);
    k8c_err_clear(&err);
  }
  return rc;
}

static int
count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

static int
shell_count(const char *fmt, const char *arg)
{
  cleanup_free char *cmd = xasprintf(fmt, arg);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1)
      n = -1;
    pclose(p);
  }
  return n;
}

static bool
nothing_left(void)
{
  cleanup_free char *c = xasprintf("%s/containers", fx.run);
  cleanup_free char *s = xasprintf("%s/sandboxes", fx.run);
  cleanup_free char *n = xasprintf("%s/netns", fx.run);
  return count_entries(c) == 0 && count_entries(s) == 0 && count_entries(n) == 0;
}

TEST(pod_runs_restarts_readopts_and_leaves_nothing)
{
  if (!setup())
    return;
  /* 1. a pod runs with its environment */
  CHECK_INT(create_configmap(&fx.api, "cfg", NULL, "{\"greeting\":\"from-cm\"}"), 0);
  CHECK_INT(create_pod("envpod",
                       "[{\"name\":\"main\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
                       "\"echo msg=$(GREETING) pod=$POD_NAME ip=$POD_IP cm=$(cat /cfg/greeting);"
                       " echo tok=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token);"
                       " echo ca=$(cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt);"
                       " echo x >/scratch/f && exec sleep 600\"],"
                       "\"volumeMounts\":[{\"name\":\"cfg\",\"mountPath\":\"/cfg\"},"
                       "{\"name\":\"scratch\",\"mountPath\":\"/scratch\"}],"
                       "\"env\":[{\"name\":\"GREETING\",\"value\":\"hello\"},"
                       "{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
                       "\"metadata.name\"}}},{\"name\":\"POD_IP\",\"valueFrom\":{\"fieldRef\":"
                       "{\"fieldPath\":\"status.podIP\"}}}]}]",
                       "\"volumes\":[{\"name\":\"cfg\",\"configMap\":{\"name\":\"cfg\"}},"
                       "{\"name\":\"scratch\",\"emptyDir\":{}}]"),
            0);
  long long t0 = fixture_now_ms();
  json_t *pod = wait_pod("envpod", running_ready, 20000);
  CHECK(running_ready(pod));
  fprintf(stderr, "envpod ready in %lld ms\n", fixture_now_ms() - t0);
  CHECK_STR(str_at(pod, "status", "phase"), "Running");
  const char *ip = str_at(pod, "status", "podIP");
  CHECK(ip != NULL && strncmp(ip, fx.pod_cidr, strlen(fx.pod_cidr) - 4) == 0);
  cleanup_free char *cid =
      xstrdup(json_string_value(json_object_get(cstatus(pod), "containerID")) ?: "");
  CHECK(strstr(cid, "crun://") == cid);
  cleanup_free char *log_path =
      xasprintf("%s/default_envpod_%s/main/0.log", fx.logs, str_at(pod, "metadata", "uid"));
  json_decref(pod);
  char *log = NULL;
  /* the three lines are written one after another: wait for the last one */
  for (int i = 0; i < 100 && (log == NULL || strstr(log, " stdout F ca=") == NULL); i++) {
    free(log);
    k8c_err err = {0};
    log = fs_read_file(log_path, NULL, &err);
    k8c_err_clear(&err);
    usleep(50000);
  }
  CHECK(log && strstr(log, " stdout F msg=hello pod=envpod ip=") != NULL);
  CHECK(log && strstr(log, " cm=from-cm\n") != NULL);
  /* the pod's own token, from its kube-api-access volume, authenticates as the pod */
  CHECK(log && strstr(log, " stdout F ca=TEST CA\n") != NULL);
  const char *tok = log ? strstr(log, " stdout F tok=") : NULL;
  cleanup_free char *token = tok ? xstrndup(tok + 14, strcspn(tok + 14, "\n")) : NULL;
  struct satoken_subject who;
  k8c_err terr = {0};
  CHECK(token && registry_token_authenticate(&fx.api.reg, token, &who, &terr) == 0);
  CHECK_STR(who.sa_name, "default");
  CHECK_STR(who.bound_name, "envpod");
  k8c_err_clear(&terr);
  free(log);

  /* 2. an exiting container: restarted at once, then CrashLoopBackOff */
  CHECK_INT(create_pod("crasher",
                       "[{\"name\":\"main\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
                       "\"exit 7\"]}]",
                       NULL),
            0);
  pod = wait_pod("crasher", restarted_once, 20000);
  CHECK(restarted_once(pod));
  json_decref(pod);
  pod = wait_pod("crasher", in_backoff, 20000);
  CHECK(in_backoff(pod));
  const json_t *cs = cstatus(pod);
  const char *msg = json_string_value(
      json_object_get(json_object_get(json_object_get(cs, "state"), "waiting"), "message"));
  cleanup_free char *want =
      xasprintf("back-off 10s restarting failed container=main pod=crasher_default(%s)",
                str_at(pod, "metadata", "uid"));
  CHECK_STR(msg, want);
  CHECK_INT(json_integer_value(json_object_get(
                json_object_get(json_object_get(cs, "lastState"), "terminated"), "exitCode")),
            7);
  CHECK_INT(json_integer_value(json_object_get(cs, "restartCount")), 1);
  json_decref(pod);

  /* 2b. an image that does not exist: ErrImagePull, then ImagePullBackOff */
  CHECK_INT(create_pod("badimage", "[{\"name\":\"main\",\"image\":\"busybox:nope\"}]", NULL), 0);
  pod = wait_pod("badimage", pull_backoff, 20000);
  CHECK(pull_backoff(pod));
  json_decref(pod);

  /* 2c. a failing exec liveness probe restarts the container */
  CHECK_INT(create_pod("liveness",
                       "[{\"name\":\"main\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
                       "\"touch /tmp/ok; sleep 1; rm /tmp/ok; exec sleep 600\"],"
                       "\"livenessProbe\":{\"exec\":{\"command\":[\"cat\",\"/tmp/ok\"]},"
                       "\"periodSeconds\":1,\"failureThreshold\":1}}]",
                       NULL),
            0);
  pod = wait_pod("liveness", restarted_once, 20000);
  CHECK(restarted_once(pod));
  json_decref(pod);

  /* 3. an agent restart re-adopts the running container */
  kubelet_stop(fx.kl);
  fx.kl = NULL;
  CHECK(start_kubelet());
  usleep(1500000);
  pod = wait_pod("envpod", running_ready, 5000);
  CHECK(running_ready(pod));
  CHECK_STR(json_string_value(json_object_get(cstatus(pod), "containerID")), cid);
  CHECK_INT(json_integer_value(json_object_get(cstatus(pod), "restartCount")), 0);
  json_decref(pod);

  /* 4. deletion: graceful stop, then the pod is gone and nothing is left */
  k8c_err err = {0};
  CHECK_INT(client_delete(fx.api.client, fx.pods, "default", "envpod", NULL, NULL, NULL, &err), 0);
  CHECK_INT(client_delete(fx.api.client, fx.pods, "default", "crasher", NULL, NULL, NULL, &err), 0);
  CHECK_INT(client_delete(fx.api.client, fx.pods, "default", "badimage", NULL, NULL, NULL, &err),
            0);
  CHECK_INT(client_delete(fx.api.client, fx.pods, "default", "liveness", NULL, NULL, NULL, &err),
            0);
  k8c_err_clear(&err);
  pod = wait_pod("envpod", gone, 20000);
  CHECK(pod == NULL);
  json_decref(pod);
  static const char *const others[] = {"crasher", "badimage", "liveness"};
  for (size_t i = 0; i < 3; i++) {
    pod = wait_pod(others[i], gone, 20000);
    CHECK(pod == NULL);
    json_decref(pod);
  }
  CHECK(nothing_left());
  CHECK_INT(shell_count("ip -o link show master %s 2>/dev/null | wc -l", fx.bridge), 0);
  CHECK_INT(shell_count("find /sys/fs/cgroup/*/%s -mindepth 1 -type d 2>/dev/null | grep -c /pod",
                        fx.cgroup),
            0);
  CHECK_INT(shell_count("grep -c '%s/run/containers/.*/rootfs' /proc/self/mountinfo", fx.work), 0);
  /* no process mentions the run dir ("[/]tmp..." keeps the pgrep's own shell out) */
  cleanup_free char *pattern = xasprintf("[%c]%s/run", fx.work[0], fx.work + 1);
  CHECK_INT(shell_count("pgrep -f '%s' | wc -l", pattern), 0);
  CHECK_INT(count_entries(fx.logs), 0);
  cleanup_free char *pods_dir = xasprintf("%s/pods", fx.data);
  CHECK_INT(count_entries(pods_dir), 0);
}

TEST_MAIN()
