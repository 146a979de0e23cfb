/* testing_clusterip_bench.c — `k8c testing-clusterip-bench` (hidden): the latency the
 * ClusterIP path adds over reaching a pod by its IP (issue 5: target < 50 µs). It builds a
 * node in private network namespaces — a bridge, a client pod and a server pod, with
 * br_netfilter on as on a real node — installs the service proxy's real table (the
 * Service under test among --services others), and times, interleaved, the same
 * exchanges to the pod IP and to the ClusterIP: a 1-byte request/response on an open
 * connection, and a whole new connection (connect, request, response, close), where the
 * DNAT and conntrack work happens. Prints one JSON line. Root needed; nothing on the
 * host is touched. */
#include "cmd/cmd.h"
#include "cmd/proxy_bench_services.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "proxy/proxy_sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLIENT_IP "10.42.0.2"
#define SERVER_IP "10.42.0.3"
#define GATEWAY_IP "10.42.0.1"
#define SERVICE_IP "10.43.200.100" /* outside the filler Services' IPs */
#define SERVER_PORT 8080
#define SERVICE_PORT 80

static int
run(const char *cmd)
{
  int rc = system(cmd);
  if (rc != 0)
    fprintf(stderr, "testing-clusterip-bench: `%s` failed (%d)\n", cmd, rc);
  return rc == 0 ? 0 : -1;
}

static void
write_proc(const char *path, const char *value)
{
  int fd = open(path, O_WRONLY);
  if (fd < 0)
    return; /* not per-namespace on this kernel: the host's value applies */
  if (write(fd, value, strlen(value)) < 0)
    fprintf(stderr, "testing-clusterip-bench: %s: %s\n", path, strerror(errno));
  close(fd);
}

/* ---- the server pod: one thread per connection, each byte echoed ---- */

static void *
echo_connection(void *arg)
{
  int fd = (int)(intptr_t)arg;
  char c;
  while (read(fd, &c, 1) == 1)
    if (write(fd, &c, 1) != 1)
      break;
  close(fd);
  return NULL;
}

static void
serve(int ready_fd)
{
  if (run("ip link set lo up") < 0)
    _exit(1);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SERVER_PORT)};
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 512) < 0)
    _exit(1);
  if (write(ready_fd, "l", 1) != 1)
    _exit(1);
  close(ready_fd);
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0)
      continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    if (pthread_create(&t, &attr, echo_connection, (void *)(intptr_t)fd) != 0)
      close(fd);
    pthread_attr_destroy(&attr);
  }
}

/* A child in a network namespace of its own; server: it serves once told to. Returns its
 * pid, and the pipe it reports on in *report_fd. */
static pid_t
spawn_pod(bool server, int *go_fd, int *report_fd)
{
  int go[2], report[2];
  if (pipe(go) < 0 || pipe(report) < 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    close(go[1]);
    close(report[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) < 0 || write(report[1], "n", 1) != 1)
      _exit(1);
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(0);
    if (server)
      serve(report[1]);
    pause();
    _exit(0);
  }
  close(go[0]);
  close(report[1]);
  char c;
  if (read(report[0], &c, 1) != 1)
    return -1;
  *go_fd = go[1];
  *report_fd = report[0];
  return pid;
}

/* Runs a shell command inside pid's network namespace (we are in the node's). */
static int
in_pod(pid_t pid, const char *fmt, const char *ip)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "nsenter --net=/proc/%d/ns/net sh -c '", (int)pid);
  size_t n = strlen(cmd);
  snprintf(cmd + n, sizeof cmd - n, fmt, ip, GATEWAY_IP);
  n = strlen(cmd);
  snprintf(cmd + n, sizeof cmd - n, "'");
  return run(cmd);
}

static int
wire_pod(pid_t pid, const char *veth, const char *ip)
{
  char cmd[256];
  snprintf(cmd, sizeof cmd,
           "ip link add %s type veth peer name eth0 netns %d && ip link set %s master kb0 up", veth,
           (int)pid, veth);
  if (run(cmd) < 0)
    return -1;
  return in_pod(pid,
                "ip link set lo up && ip addr add %s/24 dev eth0 && ip link set eth0 up && "
                "ip route add default via %s",
                ip);
}

static int
install_proxy(int services)
{
  const char *node_ips[] = {"192.168.77.1", NULL};
  struct proxy_render_config cfg = {.table = "k8c",
                                    .cluster_cidr = "10.42.0.0/16",
                                    .service_cidr = "10.43.0.0/16",
                                    .masquerade_mark = 0x4000,
                                    .node_ips = node_ips};
  proxy_syncer *s = proxy_syncer_new(&cfg, true);
  struct proxy_service *svcs = xcalloc((size_t)services, sizeof *svcs);
  const char *endpoint[] = {SERVER_IP, NULL};
  proxy_bench_service("under-test", SERVICE_IP, SERVICE_PORT, endpoint, SERVER_PORT, "node-0",
                      &svcs[0]);
  for (int i = 1; i < services; i++)
    proxy_bench_filler_service(i, 10, 0, &svcs[i]);
  k8c_err err = {0};
  int rc = proxy_syncer_full(s, svcs, (size_t)services, &err);
  if (rc < 0)
    fprintf(stderr, "testing-clusterip-bench: proxy sync: %s\n", err.message);
  for (int i = 0; i < services; i++)
    proxy_service_clear(&svcs[i]);
  free(svcs);
  proxy_syncer_free(s);
  k8c_err_clear(&err);
  return rc;
}

/* ---- the client ---- */

static int
connect_to(const char *ip, int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval limit = {.tv_sec = 2}; /* a dropped path must fail, not hang */
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int
exchange(int fd)
{
  char c = 'x';
  return write(fd, &c, 1) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
}

/* One sample in µs: a request on open connection fd, or (fd < 0) a whole new connection. */
static double
sample(int fd, const char *ip, int port)
{
  double t0 = clock_monotonic_ms_frac();
  if (fd >= 0) {
    if (exchange(fd) < 0)
      return -1;
  } else {
    int c = connect_to(ip, port);
    if (c < 0)
      return -1;
    int rc = exchange(c);
    close(c);
    if (rc < 0)
      return -1;
  }
  return (clock_monotonic_ms_frac() - t0) * 1000.0;
}

static int
double_cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct series {
  double *v;
  int n;
};

static double
pct(struct series *s, int p)
{
  qsort(s->v, (size_t)s->n, sizeof *s->v, double_cmp);
  return s->v[(s->n - 1) * p / 100];
}

static int
measure(int samples)
{
  int direct = -1, service = -1;
  for (int i = 0; i < 20 && (direct < 0 || service < 0); i++) {
    if (direct < 0)
      direct = connect_to(SERVER_IP, SERVER_PORT);
    if (service < 0)
      service = connect_to(SERVICE_IP, SERVICE_PORT);
    if (direct < 0 || service < 0)
      usleep(20000);
  }
  if (direct < 0 || service < 0) {
    fprintf(stderr, "testing-clusterip-bench: cannot reach the server (direct %d, ClusterIP %d)\n",
            direct, service);
    return 1;
  }
  struct series rr[2] = {{xcalloc((size_t)samples, sizeof(double)), 0},
                         {xcalloc((size_t)samples, sizeof(double)), 0}};
  struct series conn[2] = {{xcalloc((size_t)samples, sizeof(double)), 0},
                           {xcalloc((size_t)samples, sizeof(double)), 0}};
  /* Paired differences (ClusterIP minus pod IP, taken back to back): their median is the
   * added latency, robust to the machine's load drifting during the run. */
  struct series diff_rr = {xcalloc((size_t)samples, sizeof(double)), 0};
  struct series diff_conn = {xcalloc((size_t)samples, sizeof(double)), 0};
  int failures = 0;
  for (int i = 0; i < samples + samples / 10; i++) {
    bool warm = i >= samples / 10; /* the first tenth warms caches and is not kept */
    double d_rr = sample(direct, NULL, 0), s_rr = sample(service, NULL, 0);
    double d_c = sample(-1, SERVER_IP, SERVER_PORT), s_c = sample(-1, SERVICE_IP, SERVICE_PORT);
    if (d_rr < 0 || s_rr < 0 || d_c < 0 || s_c < 0) {
      failures++;
      continue;
    }
    if (!warm)
      continue;
    rr[0].v[rr[0].n++] = d_rr;
    rr[1].v[rr[1].n++] = s_rr;
    conn[0].v[conn[0].n++] = d_c;
    conn[1].v[conn[1].n++] = s_c;
    diff_rr.v[diff_rr.n++] = s_rr - d_rr;
    diff_conn.v[diff_conn.n++] = s_c - d_c;
  }
  close(direct);
  close(service);
  int rc = 0;
  if (rr[0].n < samples / 2) {
    fprintf(stderr, "testing-clusterip-bench: %d exchanges failed\n", failures);
    rc = 1;
  } else {
    double drr50 = pct(&rr[0], 50), srr50 = pct(&rr[1], 50);
    double drr99 = pct(&rr[0], 99), srr99 = pct(&rr[1], 99);
    double dc50 = pct(&conn[0], 50), sc50 = pct(&conn[1], 50);
    double dc99 = pct(&conn[0], 99), sc99 = pct(&conn[1], 99);
    printf("{\"figure\":\"clusterip_latency\",\"samples\":%d,\"failures\":%d,"
           "\"direct_rr_p50_us\":%.1f,\"clusterip_rr_p50_us\":%.1f,\"added_rr_p50_us\":%.1f,"
           "\"direct_rr_p99_us\":%.1f,\"clusterip_rr_p99_us\":%.1f,"
           "\"direct_conn_p50_us\":%.1f,\"clusterip_conn_p50_us\":%.1f,\"added_conn_p50_us\":%.1f,"
           "\"direct_conn_p99_us\":%.1f,\"clusterip_conn_p99_us\":%.1f}\n",
           rr[0].n, failures, drr50, srr50, pct(&diff_rr, 50), drr99, srr99, dc50, sc50,
           pct(&diff_conn, 50), dc99, sc99);
  }
  for (int i = 0; i < 2; i++) {
    free(rr[i].v);
    free(conn[i].v);
  }
  free(diff_rr.v);
  free(diff_conn.v);
  return rc;
}

int
cmd_testing_clusterip_bench(int argc, char **argv)
{
  int samples = 5000, services = 1000;
  static const struct option opts[] = {{"samples", required_argument, NULL, 'n'},
                                       {"services", required_argument, NULL, 's'},
                                       {NULL, 0, NULL, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (o == 'n')
      samples = atoi(optarg);
    else if (o == 's')
      services = atoi(optarg);
    else
      return 2;
  }
  if (samples < 100 || services < 1 || services > 60000) {
    fprintf(stderr, "testing-clusterip-bench: --samples >= 100, --services 1..60000\n");
    return 2;
  }
  /* The node: a private network namespace with the pods' bridge. */
  if (unshare(CLONE_NEWNET) < 0) {
    fprintf(stderr, "testing-clusterip-bench: unshare(CLONE_NEWNET): %s (needs root)\n",
            strerror(errno));
    return 1;
  }
  if (run("ip link set lo up && ip link add kb0 type bridge && "
          "ip addr add " GATEWAY_IP "/24 dev kb0 && ip link set kb0 up") < 0)
    return 1;
  write_proc("/proc/sys/net/ipv4/ip_forward", "1");
  write_proc("/proc/sys/net/bridge/bridge-nf-call-iptables", "1");
  int server_go = -1, server_report = -1, client_go = -1, client_report = -1;
  pid_t server = spawn_pod(true, &server_go, &server_report);
  pid_t client = spawn_pod(false, &client_go, &client_report);
  int rc = 1, node_ns = -1;
  char c;
  if (server < 0 || client < 0 || wire_pod(server, "vserver", SERVER_IP) < 0 ||
      wire_pod(client, "vclient", CLIENT_IP) < 0 || install_proxy(services) < 0 ||
      write(server_go, "g", 1) != 1 || read(server_report, &c, 1) != 1)
    goto out;
  /* The client runs in its pod: this process joins the client pod's namespace, holding
   * the node's open (a namespace no process or descriptor holds is destroyed, and with it
   * the bridge and the pods' veths). */
  node_ns = open("/proc/self/ns/net", O_RDONLY);
  char ns_path[64];
  snprintf(ns_path, sizeof ns_path, "/proc/%d/ns/net", (int)client);
  int ns = open(ns_path, O_RDONLY);
  if (node_ns < 0 || ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    fprintf(stderr, "testing-clusterip-bench: joining the client pod: %s\n", strerror(errno));
    goto out;
  }
  close(ns);
  rc = measure(samples);
out:
  if (node_ns >= 0)
    close(node_ns);
  if (server > 0)
    kill(server, SIGKILL);
  if (client > 0)
    kill(client, SIGKILL);
  if (server > 0)
    waitpid(server, NULL, 0);
  if (client > 0)
    waitpid(client, NULL, 0);
  fflush(stdout);
  return rc;
}
