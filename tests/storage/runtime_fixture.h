/* runtime_fixture.h — shared set-up for the runtime tests that run real crun/runc, conmon
 * and CNI plugins as root: a temp dir per test with a busybox-static rootfs (the image's
 * only "layer"), a runtime on a bridge and cgroup parent unique to this process, and a
 * teardown that removes everything and then checks nothing is left behind. */
#ifndef K8C_TESTS_RUNTIME_FIXTURE_H
#define K8C_TESTS_RUNTIME_FIXTURE_H

#include "kubelet/cgroups/cgroups.h"
#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/runtime.h"
#include "lib/mem.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fixture {
  char *dir; /* /tmp/k8ct-<pid>-<n> */
  char *run_dir, *data_dir, *rootfs, *log_dir;
  char bridge[16];
  char cgroup_parent[32];
  char pod_cidr[32];
  struct runtime_config config;
  struct runtime *rt;
};

static const char *const busybox_applets[] = {
    "sh",    "sleep", "cat",  "wget", "echo",  "ls",      "id",   "hostname", "ip",   "ping",
    "httpd", "nc",    "head", "tr",   "dd",    "seq",     "grep", "mkdir",    "true", "false",
    "pwd",   "env",   "kill", "ps",   "touch", "linux32", "wc",   NULL};

static inline int64_t
fixture_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void
fixture_require(void)
{
  static const char *const tools[] = {"/usr/bin/crun",
                                      "/usr/bin/runc",
                                      "/usr/bin/conmon",
                                      "/usr/lib/cni/bridge",
                                      "/usr/lib/cni/host-local",
                                      "/usr/lib/cni/portmap",
                                      "/usr/lib/cni/loopback",
                                      "/bin/busybox",
                                      NULL};
  if (geteuid() != 0) {
    fprintf(stderr, "FATAL: runtime tests need root\n");
    exit(1);
  }
  for (size_t i = 0; tools[i]; i++)
    if (access(tools[i], X_OK) != 0) {
      fprintf(stderr, "FATAL: runtime tests need %s\n", tools[i]);
      exit(1);
    }
}

static inline void fixture_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void
fixture_sh(const char *fmt, ...)
{
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  (void)rc; /* best-effort clean-up commands */
}

/* Builds the busybox rootfs (the single lowerdir). */
static inline void
fixture_make_rootfs(const char *rootfs)
{
  k8c_err err = {0};
  static const char *const dirs[] = {"bin", "etc", "tmp", "proc", "sys", "dev", "root", NULL};
  for (size_t i = 0; dirs[i]; i++) {
    char *d = xasprintf("%s/%s", rootfs, dirs[i]);
    CHECK(fs_mkdir_p(d, 0755, &err) == 0);
    free(d);
  }
  char *tmp = xasprintf("%s/tmp", rootfs);
  chmod(tmp, 01777);
  free(tmp);
  fixture_sh("cp /bin/busybox %s/bin/busybox", rootfs);
  for (size_t i = 0; busybox_applets[i]; i++) {
    char *link = xasprintf("%s/bin/%s", rootfs, busybox_applets[i]);
    CHECK(symlink("busybox", link) == 0);
    free(link);
  }
  char *passwd = xasprintf("%s/etc/passwd", rootfs);
  const char *users = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n";
  CHECK(fs_write_file(passwd, users, strlen(users), 0644, &err) == 0);
  free(passwd);
  k8c_err_clear(&err);
}

static inline void
fixture_setup(struct fixture *f, const char *oci_runtime)
{
  static int counter;
  fixture_require();
  memset(f, 0, sizeof *f);
  int n = ++counter;
  pid_t pid = getpid();
  f->dir = xasprintf("/tmp/k8ct-%d-%d", (int)pid, n);
  f->run_dir = xasprintf("%s/run", f->dir);
  f->data_dir = xasprintf("%s/data", f->dir);
  f->rootfs = xasprintf("%s/rootfs", f->dir);
  f->log_dir = xasprintf("%s/logs", f->dir);
  snprintf(f->bridge, sizeof f->bridge, "k8ct%d", (int)(pid % 100000) * 10 + n % 10);
  snprintf(f->cgroup_parent, sizeof f->cgroup_parent, "k8ct-%d-%d", (int)pid, n);
  /* Distinct for every (process, fixture) unless two pids agree modulo 3150. */
  snprintf(f->pod_cidr, sizeof f->pod_cidr, "10.%d.%d.0/24", 100 + (int)(pid / 21) % 150,
           (int)(pid % 21) * 12 + n % 12);
  fixture_make_rootfs(f->rootfs);
  f->config = (struct runtime_config){.run_dir = f->run_dir,
                                      .data_dir = f->data_dir,
                                      .oci_runtime = oci_runtime,
                                      .cgroup_parent = f->cgroup_parent,
                                      .bridge = f->bridge,
                                      .pod_cidr = f->pod_cidr};
  k8c_err err = {0};
  f->rt = runtime_open(&f->config, &err);
  if (f->rt == NULL) {
    fprintf(stderr, "FATAL: runtime_open: %s\n", err.message);
    exit(1);
  }
}

/* Lines of the ipam dir that are leases (files named like an IP). */
static inline int
fixture_lease_count(const struct fixture *f)
{
  char *dir = xasprintf("%s/cni/ipam/k8c", f->data_dir);
  int n = 0;
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
      if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
        n++;
    closedir(d);
  }
  free(dir);
  return n;
}

/* Processes whose command line mentions the fixture's dir (conmon, containers' runtimes). */
static inline int
fixture_process_count(const struct fixture *f)
{
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    char buf[4096];
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
      continue;
    for (ssize_t i = 0; i < len; i++)
      if (buf[i] == '\0')
        buf[i] = ' ';
    buf[len] = '\0';
    if (strstr(buf, f->dir))
      n++;
  }
  if (d)
    closedir(d);
  return n;
}

static inline int
fixture_dir_entries(const char *dir)
{
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      n++;
  if (d)
    closedir(d);
  return n;
}

static inline int
fixture_veth_count(const struct fixture *f)
{
  char *cmd = xasprintf("ip -o link show master %s 2>/dev/null | wc -l", f->bridge);
  FILE *p = popen(cmd, "r");
  free(cmd);
  int n = 0;
  if (p) {
    if (fscanf(p, "%d", &n) != 1)
      n = 0;
    pclose(p);
  }
  return n;
}

/* Removes everything left, then asserts nothing is: mounts, netns, cgroups, veths, leases,
 * processes. */
static inline void
fixture_teardown(struct fixture *f, bool check_clean)
{
  k8c_err err = {0};
  char **containers = runtime_container_list(f->rt);
  for (char **c = containers; *c; c++) {
    if (runtime_container_remove(f->rt, *c, &err) < 0) {
      testlib_fail(__FILE__, __LINE__, "remove %s: %s", *c, err.message);
      k8c_err_clear(&err);
    }
  }
  fs_strv_free(containers);
  char **sandboxes = runtime_sandbox_list(f->rt);
  for (char **s = sandboxes; *s; s++) {
    if (runtime_sandbox_remove(f->rt, *s, &err) < 0) {
      testlib_fail(__FILE__, __LINE__, "remove sandbox %s: %s", *s, err.message);
      k8c_err_clear(&err);
    }
  }
  fs_strv_free(sandboxes);
  if (check_clean) {
    char *netns_dir = xasprintf("%s/netns", f->run_dir);
    CHECK_INT(fixture_dir_entries(netns_dir), 0);
    free(netns_dir);
    char *containers_dir = xasprintf("%s/containers", f->run_dir);
    CHECK_INT(fixture_dir_entries(containers_dir), 0);
    free(containers_dir);
    char **mounts = fs_mounts_under(f->dir);
    /* Only the three shared bind mounts of the run dir's subdirectories remain. */
    CHECK_INT(fs_strv_len((const char *const *)mounts), 3);
    fs_strv_free(mounts);
    CHECK_INT(fixture_veth_count(f), 0);
    CHECK_INT(fixture_lease_count(f), 0);
    CHECK_INT(fixture_process_count(f), 0);
    /* No pod (or container) cgroup directory in any hierarchy. */
    char *probe_dirs = xasprintf("find %s/*/%s -mindepth 1 -type d 2>/dev/null | grep -c /pod",
                                 CGROUP_ROOT, f->cgroup_parent);
    FILE *p = popen(probe_dirs, "r");
    int pod_dirs = -1;
    if (p) {
      if (fscanf(p, "%d", &pod_dirs) != 1)
        pod_dirs = -1;
      pclose(p);
    }
    free(probe_dirs);
    CHECK_INT(pod_dirs, 0);
    char *rules = xasprintf("iptables-save 2>/dev/null | grep -c '%s'", f->cgroup_parent);
    p = popen(rules, "r");
    int n_rules = -1;
    if (p) {
      if (fscanf(p, "%d", &n_rules) != 1)
        n_rules = -1;
      pclose(p);
    }
    free(rules);
    CHECK_INT(n_rules, 0);
  }
  char *parent = xasprintf("/%s", f->cgroup_parent);
  if (cgroup_remove(parent, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "remove cgroup parent: %s", err.message);
    k8c_err_clear(&err);
  }
  if (check_clean)
    CHECK(!cgroup_exists(parent));
  free(parent);
  if (runtime_unmount_run_dirs(&f->config, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "unmount run dirs: %s", err.message);
    k8c_err_clear(&err);
  }
  char **mounts = fs_mounts_under(f->dir);
  CHECK_INT(fs_strv_len((const char *const *)mounts), 0);
  fs_strv_free(mounts);
  fixture_sh("ip link del %s 2>/dev/null", f->bridge);
  runtime_close(f->rt);
  if (fs_remove_tree(f->dir, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "remove %s: %s", f->dir, err.message);
    k8c_err_clear(&err);
  }
  free(f->dir);
  free(f->run_dir);
  free(f->data_dir);
  free(f->rootfs);
  free(f->log_dir);
}

#endif
