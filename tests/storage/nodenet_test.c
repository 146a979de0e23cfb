/* nodenet_test.c — the node networking pieces that touch the kernel, each test inside a
 * network namespace of its own (unshare at its start; the namespace dies with the test
 * process, so nothing can leak onto the host): host-gw routes follow Node objects
 * (added, replaced, removed, foreign routes untouched, ours removed on stop), and the
 * cluster DNS address lives on a dummy interface that is created and removed again. */
#include "../unit/dns_testutil.h"
#include "client_fixture.h"
#include "nodenet/hostgw.h"
#include "nodenet/nl.h"
#include "nodenet/node_dns.h"
#include "nodenet/nodenet.h"
#include "nodenet/podnet.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const struct api_resource *
nodes_res(void)
{
  return api_resource_find("", "v1", "nodes");
}

/* Creates Node name with pod CIDR cidr (NULL: none) and InternalIP ip (NULL: none). */
static void
put_node(struct client_fixture *f, const char *name, const char *cidr, const char *ip)
{
  char text[512];
  snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"%s\"},\"spec\":%s%s%s}", name,
           cidr ? "{\"podCIDR\":\"" : "{", cidr ? cidr : "", cidr ? "\"}" : "}");
  json_t *obj = json_of(text);
  k8c_err err = {0};
  CHECK(client_create(f->client, nodes_res(), "", obj, NULL, NULL, &err) == 0);
  json_decref(obj);
  k8c_err_clear(&err);
  if (ip == NULL)
    return;
  snprintf(text, sizeof text,
           "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"%s\"},"
           "{\"type\":\"Hostname\",\"address\":\"%s\"}]}}",
           ip, name);
  json_t *patch = json_of(text);
  struct client_write_opts o = {.subresource = "status"};
  CHECK(client_patch(f->client, nodes_res(), "", name, "application/merge-patch+json", patch, &o,
                     NULL, &err) == 0);
  json_decref(patch);
  k8c_err_clear(&err);
}

static void
patch_node(struct client_fixture *f, const char *name, const char *subresource, const char *text)
{
  json_t *patch = json_of(text);
  k8c_err err = {0};
  struct client_write_opts o = {.subresource = subresource};
  CHECK(client_patch(f->client, nodes_res(), "", name, "application/merge-patch+json", patch, &o,
                     NULL, &err) == 0);
  json_decref(patch);
  k8c_err_clear(&err);
}

/* Our routes as "dst via gw" lines, sorted by destination, into out. */
static void
our_routes(char *out, size_t cap)
{
  struct nl_route4 *r = NULL;
  size_t n = 0;
  k8c_err err = {0};
  out[0] = '\0';
  if (nl_route4_list(NODENET_RTPROT, &r, &n, &err) < 0) {
    snprintf(out, cap, "error: %s", err.message);
    k8c_err_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (strcmp(r[j].dst, r[i].dst) < 0) {
        struct nl_route4 t = r[i];
        r[i] = r[j];
        r[j] = t;
      }
  size_t len = 0;
  for (size_t i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s via %s;", r[i].dst, r[i].via);
  free(r);
}

/* Waits until our routes read expected (after at least one fresh reconcile). */
static bool
routes_become(struct hostgw *g, const char *expected, char *got, size_t cap)
{
  for (int i = 0; i < 50; i++) {
    if (!hostgw_wait_reconciled(g, 2000))
      continue;
    our_routes(got, cap);
    if (strcmp(got, expected) == 0)
      return true;
  }
  return false;
}

static int
private_network(void)
{
  if (unshare(CLONE_NEWNET) < 0)
    return -1;
  return system("ip link set lo up && ip link add uplink type veth peer name uplink-peer && ip "
                "link set uplink-peer up && "
                "ip addr add 192.168.77.1/24 dev uplink && ip link set uplink up");
}

TEST(hostgw_routes_follow_nodes)
{
  CHECK_INT(private_network(), 0);
  /* a stale route of ours (a node that left while the agent was down) and someone else's */
  CHECK_INT(system("ip route add 10.42.9.0/24 via 192.168.77.9 proto 107 && "
                   "ip route add 10.42.8.0/24 via 192.168.77.8 proto static"),
            0);
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  put_node(&f, "node-a", "10.42.0.0/24", "192.168.77.1"); /* this node */
  put_node(&f, "node-b", "10.42.1.0/24", "192.168.77.2");
  put_node(&f, "node-c", "10.42.2.0/24", "192.168.77.3");
  put_node(&f, "node-d", NULL, "192.168.77.4");         /* no pod CIDR yet */
  put_node(&f, "node-e", "10.42.4.0/24", NULL);         /* no address yet */
  put_node(&f, "node-ipv6", "10.42.5.0/24", "fd00::5"); /* no IPv4 InternalIP */
  /* a simulated node (k8c agent --simulate) has no network behind its address */
  json_t *sim =
      json_of("{\"metadata\":{\"name\":\"sim-node-0000\",\"annotations\":"
              "{\"k8c.io/simulated\":\"true\"}},\"spec\":{\"podCIDR\":\"10.42.6.0/24\"}}");
  CHECK(client_create(f.client, nodes_res(), "", sim, NULL, NULL, NULL) == 0);
  json_decref(sim);
  patch_node(&f, "sim-node-0000", "status",
             "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
             "\"192.168.77.6\"}]}}");

  informer *nodes = informer_new(f.client, nodes_res(), "", NULL);
  k8c_err err = {0};
  CHECK(informer_start(nodes, &err) == 0);
  struct hostgw_config cfg = {.node_name = "node-a", .resync_ms = 60000};
  struct hostgw *g = hostgw_start(nodes, &cfg, &err);
  CHECK(g != NULL);
  char got[1024] = "";
  if (g) {
    CHECK(routes_become(g, "10.42.1.0/24 via 192.168.77.2;10.42.2.0/24 via 192.168.77.3;", got,
                        sizeof got));
    CHECK_STR(got, "10.42.1.0/24 via 192.168.77.2;10.42.2.0/24 via 192.168.77.3;");

    /* node-b moves to another address: replaced; node-d gets its CIDR: added */
    patch_node(&f, "node-b", "status",
               "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.77.12\"}"
               "]}}");
    patch_node(&f, "node-d", NULL, "{\"spec\":{\"podCIDR\":\"10.42.3.0/24\"}}");
    CHECK(routes_become(g,
                        "10.42.1.0/24 via 192.168.77.12;10.42.2.0/24 via 192.168.77.3;"
                        "10.42.3.0/24 via 192.168.77.4;",
                        got, sizeof got));
    CHECK_STR(got, "10.42.1.0/24 via 192.168.77.12;10.42.2.0/24 via 192.168.77.3;"
                   "10.42.3.0/24 via 192.168.77.4;");

    /* node-c leaves: its route goes */
    CHECK(client_delete(f.client, nodes_res(), "", "node-c", NULL, NULL, NULL, &err) == 0);
    CHECK(routes_become(g, "10.42.1.0/24 via 192.168.77.12;10.42.3.0/24 via 192.168.77.4;", got,
                        sizeof got));

    /* someone deletes one of ours behind our back: the next reconcile restores it */
    CHECK_INT(system("ip route del 10.42.3.0/24"), 0);
    CHECK(routes_become(g, "10.42.1.0/24 via 192.168.77.12;10.42.3.0/24 via 192.168.77.4;", got,
                        sizeof got));

    /* stop: ours are gone, the foreign route stays */
    hostgw_stop(g, true);
    our_routes(got, sizeof got);
    CHECK_STR(got, "");
    CHECK_INT(system("ip route show 10.42.8.0/24 | grep -q 'via 192.168.77.8'"), 0);
  }
  k8c_err_clear(&err);
  informer_free(nodes);
  client_fixture_close(&f);
}

TEST(route_netlink_replace_and_delete_are_idempotent)
{
  CHECK_INT(private_network(), 0);
  k8c_err err = {0};
  CHECK(nl_route4_replace("10.42.7.0/24", "192.168.77.7", NODENET_RTPROT, &err) == 0);
  CHECK(nl_route4_replace("10.42.7.0/24", "192.168.77.7", NODENET_RTPROT, &err) == 0);
  CHECK(nl_route4_replace("10.42.7.0/24", "192.168.77.17", NODENET_RTPROT, &err) == 0);
  char got[256];
  our_routes(got, sizeof got);
  CHECK_STR(got, "10.42.7.0/24 via 192.168.77.17;");
  /* an unreachable gateway is an error, not a crash */
  CHECK(nl_route4_replace("10.42.6.0/24", "10.99.0.1", NODENET_RTPROT, &err) < 0);
  k8c_err_clear(&err);
  CHECK(nl_route4_replace("bad", "192.168.77.7", NODENET_RTPROT, &err) < 0);
  k8c_err_clear(&err);
  /* a route of another protocol is not ours to delete */
  CHECK_INT(system("ip route add 10.42.6.0/24 via 192.168.77.6 proto static"), 0);
  CHECK(nl_route4_delete("10.42.6.0/24", NODENET_RTPROT, &err) == 0);
  CHECK_INT(system("ip route show 10.42.6.0/24 | grep -q 'via 192.168.77.6'"), 0);
  CHECK(nl_route4_delete("10.42.7.0/24", NODENET_RTPROT, &err) == 0);
  CHECK(nl_route4_delete("10.42.7.0/24", NODENET_RTPROT, &err) == 0); /* already gone */
  our_routes(got, sizeof got);
  CHECK_STR(got, "");
  k8c_err_clear(&err);
}

TEST(dns_interface_setup_and_teardown)
{
  CHECK_INT(private_network(), 0);
  k8c_err err = {0};
  CHECK(node_dns_iface_setup("k8c-dns", "10.43.0.10", &err) == 0);
  CHECK(if_nametoindex("k8c-dns") != 0);
  CHECK_INT(system("ip -4 addr show dev k8c-dns | grep -q 'inet 10.43.0.10/32'"), 0);
  CHECK_INT(system("ip link show dev k8c-dns | grep -q 'state UNKNOWN\\|,UP'"), 0);
  /* the address is local: a socket can bind it */
  CHECK_INT(system("ip route show table local | grep -q 'local 10.43.0.10 dev k8c-dns'"), 0);
  /* a second setup (a restarted agent) reuses what is there */
  CHECK(node_dns_iface_setup("k8c-dns", "10.43.0.10", &err) == 0);
  CHECK_INT(system("ip -4 addr show dev k8c-dns | grep -c inet | grep -qx 1"), 0);
  CHECK(node_dns_iface_teardown("k8c-dns", &err) == 0);
  CHECK(if_nametoindex("k8c-dns") == 0);
  CHECK(node_dns_iface_teardown("k8c-dns", &err) == 0); /* already gone */
  CHECK(node_dns_iface_setup("this-name-is-too-long", "10.43.0.10", &err) < 0);
  k8c_err_clear(&err);
  CHECK(node_dns_iface_setup("k8c-dns", "not-an-ip", &err) < 0);
  k8c_err_clear(&err);
  CHECK(node_dns_iface_teardown("k8c-dns", &err) == 0);
  k8c_err_clear(&err);
}

TEST(dns_upstreams_skip_cluster_dns_and_dead_stubs)
{
  CHECK_INT(private_network(), 0);
  char path[] = "/tmp/k8c-resolv-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const char *text = "search example.com\n"
                     "nameserver 10.43.0.10\n"
                     "nameserver 127.0.0.53\n"
                     "nameserver 192.168.77.53\n"
                     "nameserver fd00::53\n"
                     "options ndots:2\n";
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  /* nothing listens on 127.0.0.53 in this namespace: skipped */
  char **v = node_dns_upstreams(path, "10.43.0.10");
  CHECK(v[0] && strcmp(v[0], "192.168.77.53") == 0);
  CHECK(v[1] && strcmp(v[1], "fd00::53") == 0);
  CHECK(v[2] == NULL);
  node_dns_strv_free(v);
  /* a live stub on 127.0.0.53:53 is kept */
  int stub = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
  inet_pton(AF_INET, "127.0.0.53", &sa.sin_addr);
  CHECK_INT(bind(stub, (struct sockaddr *)&sa, sizeof sa), 0);
  v = node_dns_upstreams(path, "10.43.0.10");
  CHECK(v[0] && strcmp(v[0], "127.0.0.53") == 0);
  CHECK(v[1] && strcmp(v[1], "192.168.77.53") == 0);
  node_dns_strv_free(v);
  close(stub);
  /* a missing file: an empty list */
  v = node_dns_upstreams("/nonexistent/resolv.conf", "10.43.0.10");
  CHECK(v[0] == NULL);
  node_dns_strv_free(v);
  unlink(path);
}

TEST(podnet_masquerade_table_and_forwarding)
{
  CHECK_INT(private_network(), 0);
  k8c_err err = {0};
  CHECK(podnet_enable_forwarding(&err) == 0);
  CHECK_INT(system("grep -qx 1 /proc/sys/net/ipv4/ip_forward"), 0);
  CHECK(podnet_masquerade_sync("k8c-podnet-test", "10.42.0.0/16", &err) == 0);
  CHECK(podnet_masquerade_sync("k8c-podnet-test", "10.42.0.0/16", &err) == 0); /* replaces */
  CHECK_INT(
      system("nft list table ip k8c-podnet-test | grep -c 'masquerade fully-random' | grep -qx 1"),
      0);
  CHECK_INT(system("nft list table ip k8c-podnet-test | "
                   "grep -q 'ip saddr 10.42.0.0/16 ip daddr != { 10.42.0.0/16, 224.0.0.0/4 }'"),
            0);
  CHECK(podnet_masquerade_sync("k8c-podnet-test", "10.42.0.0/16; flush ruleset", &err) < 0);
  k8c_err_clear(&err);
  CHECK(podnet_masquerade_delete("k8c-podnet-test", &err) == 0);
  CHECK(system("nft list table ip k8c-podnet-test >/dev/null 2>&1") != 0);
  k8c_err_clear(&err);
}

/* One A query to ip:53 over UDP; the answer section as text into v. -1 on no answer. */
static int
ask_a(const char *ip, const char *name, struct dns_view *v)
{
  uint8_t q[512], out[1500];
  size_t qn = dns_make_query(q, sizeof q, 77, name, DNS_TYPE_A, 0);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  int n = -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && send(fd, q, qn, 0) == (ssize_t)qn) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 2000) == 1)
      n = (int)recv(fd, out, sizeof out, 0);
  }
  close(fd);
  return n < 0 ? -1 : dns_view_parse(out, (size_t)n, v);
}

TEST(nodenet_starts_everything_and_cleans_up)
{
  CHECK_INT(private_network(), 0);
  CHECK_INT(system("echo 0 > /proc/sys/net/ipv4/ip_forward"), 0);
  char resolv[] = "/tmp/k8c-resolv-XXXXXX";
  int fd = mkstemp(resolv);
  CHECK(fd >= 0);
  CHECK(write(fd, "nameserver 192.168.77.53\n", 25) == 25);
  close(fd);
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  put_node(&f, "peer", "10.42.1.0/24", "192.168.77.2");
  k8c_err err = {0};
  json_t *svc = json_of("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"clusterIP\":"
                        "\"10.43.0.20\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}]}}");
  CHECK(client_create(f.client, api_resource_find("", "v1", "services"), "default", svc, NULL, NULL,
                      &err) == 0);
  json_decref(svc);
  struct nodenet_config cfg = {.node_name = "self", .resolv_conf = resolv};
  struct nodenet *n = nodenet_start(f.client, &cfg, &err);
  CHECK(n != NULL);
  /* nothing happens before this node has its pod CIDR and address */
  CHECK(!nodenet_wait_ready(n, 300));
  CHECK(if_nametoindex("k8c-dns") == 0);
  put_node(&f, "self", "10.42.0.0/24", "192.168.77.1");
  CHECK(nodenet_wait_ready(n, 10000));
  CHECK_INT(system("grep -qx 1 /proc/sys/net/ipv4/ip_forward"), 0);
  CHECK_INT(system("ip -4 addr show dev k8c-dns | grep -q 'inet 10.43.0.10/32'"), 0);
  CHECK_INT(system("nft list tables | grep -q 'table ip k8c$' && "
                   "nft list tables | grep -q 'table ip k8c-netpol$' && "
                   "nft list tables | grep -q 'table ip k8c-podnet$'"),
            0);
  /* the proxy must not drop what the node itself serves on the cluster DNS IP */
  CHECK_INT(
      system("nft list chain ip k8c cluster-ips-check | grep -q 'ip daddr 10.43.0.10 return'"), 0);
  char got[256] = "";
  for (int i = 0; i < 100 && strcmp(got, "10.42.1.0/24 via 192.168.77.2;") != 0; i++) {
    usleep(50000);
    our_routes(got, sizeof got);
  }
  CHECK_STR(got, "10.42.1.0/24 via 192.168.77.2;");
  struct dns_view v = {0};
  bool answered = false;
  for (int i = 0; i < 50 && !answered; i++) {
    answered = ask_a("10.43.0.10", "web.default.svc.cluster.local", &v) == 0 &&
               strstr(v.answer, "A 10.43.0.20") != NULL;
    if (!answered)
      usleep(100000);
  }
  CHECK(answered);
  if (!answered)
    fprintf(stderr, "answer: rcode %d [%s]\n", v.rcode, v.answer);
  nodenet_stop(n);
  CHECK(if_nametoindex("k8c-dns") == 0);
  our_routes(got, sizeof got);
  CHECK_STR(got, "");
  /* the tables stay for a restarted agent to replace */
  CHECK_INT(system("nft list tables | grep -q 'table ip k8c$'"), 0);
  k8c_err_clear(&err);
  client_fixture_close(&f);
  unlink(resolv);
}

TEST(nodenet_components_can_be_disabled)
{
  CHECK_INT(private_network(), 0);
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  put_node(&f, "self", "10.42.0.0/24", "192.168.77.1");
  struct nodenet_config cfg = {.node_name = "self",
                               .disable_kube_proxy = true,
                               .disable_network_policy = true,
                               .disable_cluster_dns = true};
  k8c_err err = {0};
  struct nodenet *n = nodenet_start(f.client, &cfg, &err);
  CHECK(n != NULL);
  CHECK(nodenet_wait_ready(n, 10000));
  CHECK(if_nametoindex("k8c-dns") == 0);
  CHECK(system("nft list table ip k8c >/dev/null 2>&1") != 0);
  CHECK(system("nft list table ip k8c-netpol >/dev/null 2>&1") != 0);
  CHECK_INT(system("nft list table ip k8c-podnet >/dev/null 2>&1"), 0);
  nodenet_stop(n);
  struct nodenet_config nameless = {0};
  CHECK(nodenet_start(f.client, &nameless, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  client_fixture_close(&f);
}

TEST_MAIN()
