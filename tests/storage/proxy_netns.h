/* proxy_netns.h — a throw-away network for the proxy's traffic test, all inside the test
 * process's own network namespace (so the host's interfaces and rules are never seen):
 * a bridge br0 (10.42.0.1/24) with "pods" — forked children in namespaces of their own,
 * joined by veth (ports in hairpin mode, as the CNI bridge plugin's hairpinMode sets
 * them: br_netfilter sends bridged frames through the IP hooks) — each answering TCP connections on
 * :8080 with its name, and able to act as a client on request (to test a pod reaching itself
 * through its Service). Pods die with their process (SIGKILL on close), and their namespaces with
 * them. */
#ifndef K8C_TESTS_PROXY_NETNS_H
#define K8C_TESTS_PROXY_NETNS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_MAX_PODS 8
#define POD_PORT 8080

struct test_pod {
  pid_t pid;
  int cmd_fd;    /* parent → pod: "IP PORT N\n" = connect N times */
  int result_fd; /* pod → parent: one line per connection: the name read, or "ERR <errno>" */
  char ip[16];
  char name[16];
};

/* Runs a shell command; returns its exit status (0 = success). */
static inline int netns_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int
netns_sh(const char *fmt, ...)
{
  char cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  if (rc != 0)
    fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
  return rc;
}

/* One TCP connection to ip:port; the reply (up to len-1 bytes, newline cut) in out.
 * Returns 0, or -errno (e.g. -ECONNREFUSED). timeout_ms bounds connect and read. */
static inline int
netns_connect(const char *ip, int port, int timeout_ms, char *out, size_t len)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, ip, &sa.sin_addr);
  int rc = 0;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    rc = -errno;
  else {
    ssize_t n = read(fd, out, len - 1);
    if (n <= 0)
      rc = n == 0 ? -EPIPE : -errno;
    else {
      out[n] = '\0';
      out[strcspn(out, "\n")] = '\0';
    }
  }
  close(fd);
  return rc;
}

/* The pod's server: answers every connection with its name (a grandchild process). */
static inline void
pod_serve(const char *name)
{
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(POD_PORT)};
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 128) < 0)
    _exit(3);
  char line[32];
  int len = snprintf(line, sizeof line, "%s\n", name);
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0)
      continue;
    if (write(c, line, (size_t)len) < 0) {
      /* the client went away: nothing to do */
    }
    close(c);
  }
}

/* The pod's client loop: reads "IP PORT N" lines, connects N times, writes results. */
static inline void
pod_client(int cmd_fd, int result_fd)
{
  char cmd[128];
  for (;;) {
    ssize_t n = read(cmd_fd, cmd, sizeof cmd - 1);
    if (n <= 0)
      _exit(0);
    cmd[n] = '\0';
    char ip[32];
    int port, count;
    if (sscanf(cmd, "%31s %d %d", ip, &port, &count) != 3)
      _exit(4);
    for (int i = 0; i < count; i++) {
      char reply[64], line[96];
      int rc = netns_connect(ip, port, 2000, reply, sizeof reply);
      int len = rc == 0 ? snprintf(line, sizeof line, "%s\n", reply)
                        : snprintf(line, sizeof line, "ERR %d\n", -rc);
      if (write(result_fd, line, (size_t)len) < 0)
        _exit(5);
    }
  }
}

/* Sets up the node side once: loopback, br0 with 10.42.0.1/24 and node_ip/24, the default
 * route through br0 from node_ip (so the node's own connections come from outside the
 * cluster CIDR), forwarding on. 0 on success. */
static inline int
netns_node_setup(const char *node_ip)
{
  if (netns_sh("ip link set lo up && ip link add br0 type bridge && "
               "ip addr add 10.42.0.1/24 dev br0 && ip link set br0 up && "
               "ip addr add %s/24 dev br0 && ip route add default dev br0 src %s && "
               "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 "
               "net.ipv4.conf.br0.send_redirects=0",
               node_ip, node_ip) != 0)
    return -1;
  return 0;
}

/* Starts pod number i (10.42.0.(11+i)) named "pod-<i>". Call before the test starts any
 * thread (pods are forked). 0 on success. */
static inline int
netns_pod_start(struct test_pod *pod, int i)
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
    pid_t server = fork();
    if (server == 0)
      pod_serve(pod->name);
    pod_client(cmd[0], res[1]);
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
                    "ip link set h%d type bridge_slave hairpin on && "
                    "nsenter -t %d -n sh -c 'ip link set lo up && ip link set eth0 up && "
                    "ip addr add %s/24 dev eth0 && ip route add default via 10.42.0.1'",
                    i, (int)pod->pid, i, i, (int)pod->pid, pod->ip);
  if (write(go[1], "g", 1) != 1)
    rc = -1;
  close(go[1]);
  pod->cmd_fd = cmd[1];
  pod->result_fd = res[0];
  return rc;
}

/* Pod connects n times to ip:port; counts[k] += replies naming pod k, *errors the rest. */
static inline int
netns_pod_connect(struct test_pod *pod, const char *ip, int port, int n, int *counts, int *errors)
{
  char cmd[96];
  int len = snprintf(cmd, sizeof cmd, "%s %d %d\n", ip, port, n);
  if (write(pod->cmd_fd, cmd, (size_t)len) != len)
    return -1;
  FILE *in = fdopen(dup(pod->result_fd), "r");
  char line[96];
  for (int i = 0; i < n && fgets(line, sizeof line, in); i++) {
    int k;
    if (sscanf(line, "pod-%d", &k) == 1 && k >= 0 && k < NETNS_MAX_PODS)
      counts[k]++;
    else {
      fprintf(stderr, "pod %s: %s", pod->name, line);
      (*errors)++;
    }
  }
  fclose(in);
  return 0;
}

static inline void
netns_pod_stop(struct test_pod *pod)
{
  if (pod->pid <= 0)
    return;
  close(pod->cmd_fd);
  close(pod->result_fd);
  /* The pod's server is its child: killing the group ends both. */
  kill(-pod->pid, SIGKILL);
  waitpid(pod->pid, NULL, 0);
  pod->pid = 0;
}

#endif
