/* netpol_test.c — NetworkPolicy enforcement against a real registry and the real kernel:
 * the test runs in a network namespace of its own (the host's interfaces and tables are
 * never seen) with "pods" forked into namespaces of their own on a bridge (as the proxy
 * test does), each answering TCP on ports 80, 8080 and 9005 with its name. It checks real
 * connections: the seed's allow-web policy (role=frontend namespace reaches app=web on 80,
 * another namespace times out: dropped, not rejected), default deny, egress with named
 * ports, ipBlock except and endPort, ingress named ports, label changes taking effect
 * (API write → rules applied, p99 over 20 flips), unselected pods unaffected, node traffic
 * allowed, another owner's table untouched, and cleanup. Needs root. */
#include "client_fixture.h"
#include "netpol/netpol.h"
#include "proxy_netns.h"

#include <sched.h>
#include <sys/time.h>

#define TABLE "k8c-netpol-test"
#define NODE_IP "192.168.78.1"
#define N_PODS 5
#define PROBE_TIMEOUT_MS 600

/* The pods: index → (namespace, name, labels, container ports). IPs are 10.42.0.(11+i). */
enum { WEB, FRONT, OTHER, DB, FREE };
static const char *const pod_ns[N_PODS] = {"default", "front", "other", "default", "default"};
static const char *const pod_labels[N_PODS] = {"{\"app\":\"web\"}", "{\"app\":\"ui\"}",
                                               "{\"app\":\"ui\"}", "{\"app\":\"db\"}",
                                               "{\"app\":\"free\"}"};
static const int pod_ports[] = {80, 8080, 9005};

struct np_pod {
  pid_t pid;
  int cmd_fd, result_fd;
  char ip[16];
  char name[16];
};
static struct np_pod pods[N_PODS];

/* ---------- pods: a server on every port of pod_ports, and a probing client ---------- */

static void
np_pod_serve(const char *name)
{
  struct pollfd fds[3];
  for (int i = 0; i < 3; i++) {
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pod_ports[i])};
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 64) < 0)
      _exit(3);
    fds[i] = (struct pollfd){.fd = ls, .events = POLLIN};
  }
  char line[32];
  int len = snprintf(line, sizeof line, "%s\n", name);
  for (;;) {
    if (poll(fds, 3, -1) <= 0)
      continue;
    for (int i = 0; i < 3; i++) {
      if (!(fds[i].revents & POLLIN))
        continue;
      int c = accept(fds[i].fd, NULL, NULL);
      if (c < 0)
        continue;
      if (write(c, line, (size_t)len) < 0) {
        /* the client went away */
      }
      close(c);
    }
  }
}

/* Reads "IP PORT" lines; answers "OK <name>" or "ERR <errno> <ms>" for one connection. */
static void
np_pod_client(int cmd_fd, int result_fd)
{
  char cmd[64];
  for (;;) {
    ssize_t n = read(cmd_fd, cmd, sizeof cmd - 1);
    if (n <= 0)
      _exit(0);
    cmd[n] = '\0';
    char ip[32], reply[64], line[96];
    int port;
    if (sscanf(cmd, "%31s %d", ip, &port) != 2)
      _exit(4);
    long long t0 = fixture_now_ms();
    int rc = netns_connect(ip, port, PROBE_TIMEOUT_MS, reply, sizeof reply);
    int len = rc == 0 ? snprintf(line, sizeof line, "OK %s\n", reply)
                      : snprintf(line, sizeof line, "ERR %d %lld\n", -rc, fixture_now_ms() - t0);
    if (write(result_fd, line, (size_t)len) < 0)
      _exit(5);
  }
}

static int
np_pod_start(struct np_pod *pod, int i)
{
  snprintf(pod->ip, sizeof pod->ip, "10.42.0.%d", 11 + i);
  snprintf(pod->name, sizeof pod->name, "pod-%d", i);
  int ready[2], go[2], cmd[2], res[2];
  if (pipe(ready) < 0 || pipe(go) < 0 || pipe(cmd) < 0 || pipe(res) < 0)
    return -1;
  pod->pid = fork();
  if (pod->pid < 0)
    return -1;
  if (pod->pid == 0) {
    char c = 0;
    setpgid(0, 0);
    if (unshare(CLONE_NEWNET) < 0 || write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
      _exit(2);
    if (fork() == 0)
      np_pod_serve(pod->name);
    np_pod_client(cmd[0], res[1]);
    _exit(0);
  }
  setpgid(pod->pid, pod->pid);
  close(ready[1]);
  close(go[0]);
  close(cmd[0]);
  close(res[1]);
  char c;
  if (read(ready[0], &c, 1) != 1)
    return -1;
  close(ready[0]);
  int rc = netns_sh("ip link add h%d type veth peer name eth0 netns %d && "
                    "ip link set h%d master br0 up && "
                    "nsenter -t %d -n sh -c 'ip link set lo up && ip link set eth0 up && "
                    "ip addr add %s/24 dev eth0 && ip route add default via 10.42.0.1'",
                    i, (int)pod->pid, i, (int)pod->pid, pod->ip);
  if (write(go[1], "g", 1) != 1)
    rc = -1;
  close(go[1]);
  pod->cmd_fd = cmd[1];
  pod->result_fd = res[0];
  return rc;
}

static void
np_pod_stop(struct np_pod *pod)
{
  if (pod->pid <= 0)
    return;
  close(pod->cmd_fd);
  close(pod->result_fd);
  kill(-pod->pid, SIGKILL); /* the pod's server is in its process group */
  waitpid(pod->pid, NULL, 0);
  pod->pid = 0;
}

/* Results of a probe. */
enum probe { REACHED, DROPPED, REFUSED, OTHER_ERROR };

/* One connection from pod `from` to pod `to` on port; REACHED only if `to` answered. A
 * drop is a connect that timed out after (almost) the whole timeout. */
static enum probe
probe(int from, int to, int port)
{
  char cmd[64], line[96] = "";
  int len = snprintf(cmd, sizeof cmd, "%s %d\n", pods[to].ip, port);
  if (write(pods[from].cmd_fd, cmd, (size_t)len) != len)
    return OTHER_ERROR;
  ssize_t n = read(pods[from].result_fd, line, sizeof line - 1);
  if (n <= 0)
    return OTHER_ERROR;
  line[n] = '\0';
  char name[32];
  int err;
  long long ms;
  if (sscanf(line, "OK %31s", name) == 1)
    return strcmp(name, pods[to].name) == 0 ? REACHED : OTHER_ERROR;
  if (sscanf(line, "ERR %d %lld", &err, &ms) == 2) {
    if (err == ECONNREFUSED)
      return REFUSED;
    if (ms >= PROBE_TIMEOUT_MS * 8 / 10)
      return DROPPED;
  }
  fprintf(stderr, "probe %d → %d:%d: %s", from, to, port, line);
  return OTHER_ERROR;
}

/* ---------- API objects ---------- */

static const struct api_resource *
res_of(const char *group, const char *plural)
{
  return api_resource_find(group, "v1", plural);
}

static json_t *
create_obj(struct client_fixture *f, const char *group, const char *plural, const char *ns,
           const char *text)
{
  json_t *obj = json_of(text), *out = NULL;
  k8c_err err = {0};
  if (client_create(f->client, res_of(group, plural), ns, obj, NULL, &out, &err) < 0)
    fprintf(stderr, "create %s: %s\n", plural, err.message);
  k8c_err_clear(&err);
  json_decref(obj);
  return out;
}

static json_t *
merge_patch(struct client_fixture *f, const char *group, const char *plural, const char *ns,
            const char *name, const char *patch_text)
{
  json_t *patch = json_of(patch_text), *out = NULL;
  k8c_err err = {0};
  if (client_patch(f->client, res_of(group, plural), ns, name, "application/merge-patch+json",
                   patch, NULL, &out, &err) < 0)
    fprintf(stderr, "patch %s/%s: %s\n", plural, name, err.message);
  k8c_err_clear(&err);
  json_decref(patch);
  return out;
}

static const char *
rv(const json_t *obj)
{
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

/* Waits until the enforcer applied the write that returned obj (consumed; NULL = failed). */
static bool
applied(struct netpol_enforcer *e, json_t *obj)
{
  bool ok = obj && netpol_wait_applied(e, rv(obj), 5000);
  json_decref(obj);
  return ok;
}

static bool
create_policy(struct client_fixture *f, struct netpol_enforcer *e, const char *ns, const char *text)
{
  return applied(e, create_obj(f, "networking.k8s.io", "networkpolicies", ns, text));
}

/* Deletes a policy and waits (up to 5 s) until dispatch chain `chain` has no jump left
 * (the test deletes the last policy of that direction). */
static bool
delete_policy(struct client_fixture *f, const char *ns, const char *name, const char *chain)
{
  k8c_err err = {0};
  int rc = client_delete(f->client, res_of("networking.k8s.io", "networkpolicies"), ns, name, NULL,
                         NULL, NULL, &err);
  k8c_err_clear(&err);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "nft list chain ip %s %s | grep -q jump", TABLE, chain);
  for (int i = 0; rc == 0 && i < 250; i++) {
    if (system(cmd) != 0)
      return true;
    usleep(20 * 1000);
  }
  return false;
}

/* ---------- scenarios ---------- */

static void
setup_objects(struct client_fixture *f, struct netpol_enforcer *e)
{
  json_decref(create_obj(f, "", "namespaces", "",
                         "{\"metadata\":{\"name\":\"front\",\"labels\":{\"role\":\"frontend\"}}}"));
  json_decref(create_obj(f, "", "namespaces", "",
                         "{\"metadata\":{\"name\":\"other\",\"labels\":{\"role\":\"other\"}}}"));
  json_t *last = NULL;
  for (int i = 0; i < N_PODS; i++) {
    char text[768];
    snprintf(text, sizeof text,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{\"nodeName\":\"node-a\","
             "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"name\":\"http\","
             "\"containerPort\":80},{\"name\":\"alt\",\"containerPort\":8080}]}]}}",
             pods[i].name, pod_labels[i]);
    json_decref(create_obj(f, "", "pods", pod_ns[i], text));
    snprintf(text, sizeof text, "{\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\"}}",
             pods[i].ip);
    json_t *patch = json_of(text), *out = NULL;
    k8c_err err = {0};
    struct client_write_opts o = {.subresource = "status"};
    if (client_patch(f->client, res_of("", "pods"), pod_ns[i], pods[i].name,
                     "application/merge-patch+json", patch, &o, &out, &err) < 0)
      fprintf(stderr, "status: %s\n", err.message);
    k8c_err_clear(&err);
    json_decref(patch);
    json_decref(last);
    last = out;
  }
  CHECK(applied(e, last));
}

static void
run_scenarios(struct client_fixture *f, struct netpol_enforcer *e)
{
  CHECK(netpol_wait_synced(e, 10000));
  setup_objects(f, e);

  /* No policy: everything is open. */
  CHECK_INT(probe(FRONT, WEB, 80), REACHED);
  CHECK_INT(probe(OTHER, WEB, 80), REACHED);

  /* ---------- the seed's allow-web ---------- */
  CHECK(create_policy(
      f, e, "default",
      "{\"metadata\":{\"name\":\"allow-web\"},\"spec\":{\"podSelector\":{"
      "\"matchLabels\":{\"app\":\"web\"}},\"policyTypes\":[\"Ingress\"],"
      "\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{"
      "\"role\":\"frontend\"}}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":80}]}]}}"));
  CHECK_INT(probe(FRONT, WEB, 80), REACHED);
  CHECK_INT(probe(OTHER, WEB, 80), DROPPED);    /* times out, not refused */
  CHECK_INT(probe(FRONT, WEB, 8080), DROPPED);  /* port not allowed */
  CHECK_INT(probe(OTHER, FREE, 8080), REACHED); /* unselected pods unaffected */
  CHECK_INT(probe(WEB, OTHER, 8080), REACHED);  /* no egress isolation: web may go out */
  char reply[64];
  CHECK_INT(netns_connect(pods[WEB].ip, 8080, 2000, reply, sizeof reply), 0); /* the node */

  /* ---------- label changes: namespace relabelled → allowed; p99 of 20 flips ---------- */
  long long took[20];
  for (int i = 0; i < 20; i++) {
    long long t0 = fixture_now_ms();
    json_t *ns = merge_patch(f, "", "namespaces", "", "other",
                             i % 2 == 0 ? "{\"metadata\":{\"labels\":{\"role\":\"frontend\"}}}"
                                        : "{\"metadata\":{\"labels\":{\"role\":\"other\"}}}");
    CHECK(applied(e, ns));
    took[i] = fixture_now_ms() - t0;
    if (i < 2)
      CHECK_INT(probe(OTHER, WEB, 80), i % 2 == 0 ? REACHED : DROPPED);
  }
  long long worst = 0;
  for (int i = 0; i < 20; i++)
    worst = took[i] > worst ? took[i] : worst;
  fprintf(stderr, "label change, API write to rules applied: p99 (worst of 20) = %lld ms\n", worst);
  CHECK(worst < 500);

  /* The web pod loses app=web: no longer selected, so open again. */
  CHECK(applied(e, merge_patch(f, "", "pods", "default", pods[WEB].name,
                               "{\"metadata\":{\"labels\":{\"app\":\"old\"}}}")));
  CHECK_INT(probe(OTHER, WEB, 8080), REACHED);
  CHECK(applied(e, merge_patch(f, "", "pods", "default", pods[WEB].name,
                               "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}")));
  CHECK_INT(probe(OTHER, WEB, 8080), DROPPED);

  /* ---------- ingress named port and endPort ---------- */
  CHECK(create_policy(f, e, "default",
                      "{\"metadata\":{\"name\":\"web-ports\"},\"spec\":{\"podSelector\":{"
                      "\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"ports\":["
                      "{\"port\":\"alt\"},{\"port\":9000,\"endPort\":9010}]}]}}"));
  CHECK_INT(probe(OTHER, WEB, 8080), REACHED); /* "alt" resolves to 8080 on the web pod */
  CHECK_INT(probe(OTHER, WEB, 9005), REACHED); /* inside 9000-9010 */
  CHECK_INT(probe(OTHER, WEB, 80), DROPPED);   /* allow-web still says frontend only */

  /* ---------- default deny for every pod of the namespace ---------- */
  CHECK(create_policy(f, e, "default",
                      "{\"metadata\":{\"name\":\"deny-all\"},\"spec\":{\"podSelector\":{}}}"));
  CHECK_INT(probe(OTHER, FREE, 8080), DROPPED);
  CHECK_INT(probe(OTHER, DB, 8080), DROPPED);
  CHECK_INT(probe(FRONT, WEB, 80), REACHED); /* the union: allow-web still allows this */
  CHECK_INT(netns_connect(pods[FREE].ip, 8080, 2000, reply, sizeof reply), 0); /* the node */

  /* ---------- egress: named port to pods, ipBlock except with endPort ---------- */
  CHECK(create_policy(
      f, e, "default",
      "{\"metadata\":{\"name\":\"db-egress\"},\"spec\":{\"podSelector\":{\"matchLabels\":{"
      "\"app\":\"db\"}},\"policyTypes\":[\"Egress\"],\"egress\":["
      "{\"to\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"app\":\"ui\"}}}],"
      "\"ports\":[{\"port\":\"http\"}]},"
      "{\"to\":[{\"ipBlock\":{\"cidr\":\"10.42.0.0/24\",\"except\":[\"10.42.0.13/32\"]}}],"
      "\"ports\":[{\"protocol\":\"TCP\",\"port\":9000,\"endPort\":9010}]}]}}"));
  CHECK_INT(probe(DB, FRONT, 80), REACHED);     /* named port "http" on the peer */
  CHECK_INT(probe(DB, FRONT, 8080), DROPPED);   /* not a listed port */
  CHECK_INT(probe(DB, FRONT, 9005), REACHED);   /* the ipBlock with endPort */
  CHECK_INT(probe(DB, OTHER, 9005), DROPPED);   /* 10.42.0.13 is the except */
  CHECK_INT(probe(FREE, OTHER, 9005), REACHED); /* free is not egress-isolated */

  /* Deleting the egress policy opens db's egress again. */
  CHECK(delete_policy(f, "default", "db-egress", "egress-policies"));
  CHECK_INT(probe(DB, FRONT, 8080), REACHED);

  /* ---------- idle: the nft context is let go, and the next change opens one ---------- */
  struct netpol_sync_stats st = {.nft_open = true};
  for (int i = 0; i < 100 && st.nft_open; i++) {
    usleep(50 * 1000);
    netpol_stats(e, &st);
  }
  CHECK(!st.nft_open);
  CHECK(applied(e, merge_patch(f, "", "namespaces", "", "other",
                               "{\"metadata\":{\"labels\":{\"role\":\"frontend\"}}}")));
  CHECK_INT(probe(OTHER, WEB, 80), REACHED);
}

TEST(netpol_enforces_policies_on_real_traffic)
{
  if (geteuid() != 0) {
    testlib_fail(__FILE__, __LINE__, "the netpol test needs root (network namespaces, nftables)");
    return;
  }
  CHECK_INT(unshare(CLONE_NEWNET), 0);
  CHECK_INT(netns_node_setup(NODE_IP), 0);
  /* Another owner's table that must survive untouched. */
  CHECK_INT(netns_sh("nft add table ip someone-else && nft add chain ip someone-else c"), 0);
  int started = 0;
  for (; started < N_PODS; started++)
    if (np_pod_start(&pods[started], started) != 0)
      break;
  CHECK_INT(started, N_PODS);

  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  struct netpol_config cfg = {.node_name = "node-a", .table = TABLE};
  k8c_err err = {0};
  struct netpol_enforcer *e = started == N_PODS ? netpol_start(f.client, NULL, &cfg, &err) : NULL;
  CHECK(e != NULL);
  if (e) {
    run_scenarios(&f, e);
    struct netpol_sync_stats st;
    netpol_stats(e, &st);
    fprintf(stderr, "syncs: %lu full, %lu updates, %lu failures; last update %.2f ms\n",
            st.full_syncs, st.updates, st.failures, st.last_update_ms);
    CHECK_INT((int)st.failures, 0);
    CHECK_INT((int)st.full_syncs, 1);
  }
  netpol_stop(e);
  CHECK_INT(netpol_delete_table(TABLE, &err), 0);
  k8c_err_clear(&err);
  CHECK(system("nft list table ip " TABLE " >/dev/null 2>&1") != 0);
  CHECK_INT(system("nft list chain ip someone-else c >/dev/null"), 0);
  client_fixture_close(&f);
  for (int i = 0; i < started; i++)
    np_pod_stop(&pods[i]);
}

TEST_MAIN()
