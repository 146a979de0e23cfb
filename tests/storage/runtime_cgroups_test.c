/* runtime_cgroups_test.c — pod cgroups on this host's real hierarchies: path layout,
 * creation in the pod controllers, memory usage and OOM counters of a process put in the
 * cgroup, and removal from every hierarchy (including ones the OCI runtime created). */
#include "runtime_fixture.h"

TEST(pod_paths_follow_the_cgroupfs_driver)
{
  char *p = cgroup_pod_path("k8c", POD_QOS_BURSTABLE, "u1");
  CHECK_STR(p, "/k8c/kubepods/burstable/podu1");
  free(p);
  p = cgroup_pod_path("/k8c/", POD_QOS_BESTEFFORT, "u2");
  CHECK_STR(p, "/k8c//kubepods/besteffort/podu2");
  free(p);
  p = cgroup_pod_path("", POD_QOS_GUARANTEED, "u3");
  CHECK_STR(p, "/kubepods/podu3");
  free(p);
}

TEST(create_measure_remove)
{
  fixture_require();
  k8c_err err = {0};
  enum cgroup_mode mode;
  CHECK(cgroup_detect(&mode, &err) == 0);
  char parent[64];
  snprintf(parent, sizeof parent, "k8ct-cg-%d", (int)getpid());
  char *path = cgroup_pod_path(parent, POD_QOS_BURSTABLE, "abc");
  CHECK(cgroup_create(mode, path, &err) == 0);
  CHECK(cgroup_create(mode, path, &err) == 0); /* existing is fine */
  CHECK(cgroup_exists(path));
  if (mode == CGROUP_MODE_V1) {
    static const char *const controllers[] = {"cpu", "cpuacct", "memory", "pids", NULL};
    for (size_t i = 0; controllers[i]; i++) {
      char *dir = xasprintf("%s/%s%s", CGROUP_ROOT, controllers[i], path);
      CHECK(access(dir, F_OK) == 0);
      free(dir);
    }
  }
  /* A directory some other controller got (as crun creates in every hierarchy). */
  char *extra = mode == CGROUP_MODE_V1 ? xasprintf("%s/freezer%s/ctr", CGROUP_ROOT, path)
                                       : xasprintf("%s%s/ctr", CGROUP_ROOT, path);
  CHECK(fs_mkdir_p(extra, 0755, &err) == 0);

  /* A child that allocates 20 MiB inside a 16 MiB limit: usage shows, then an OOM kill. */
  const char *limit_file = mode == CGROUP_MODE_V1 ? "memory.limit_in_bytes" : "memory.max";
  CHECK(cgroup_write(mode, "memory", path, limit_file, "16777216", &err) == 0);
  if (mode == CGROUP_MODE_V1)
    CHECK(cgroup_write(mode, "memory", path, "memory.memsw.limit_in_bytes", "16777216", &err) == 0);
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t child = fork();
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(2);
    size_t n = 20u << 20;
    volatile char *mem = malloc(n);
    for (size_t i = 0; mem && i < n; i += 4096)
      mem[i] = 1;
    _exit(0);
  }
  char *pidtext = xasprintf("%d", (int)child);
  CHECK(cgroup_write(mode, "memory", path, "cgroup.procs", pidtext, &err) == 0);
  free(pidtext);
  uint64_t before = 0;
  CHECK(cgroup_oom_kills(mode, path, &before, &err) == 0);
  CHECK_INT(before, 0);
  CHECK(write(go[1], "x", 1) == 1);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  uint64_t kills = 0;
  CHECK(cgroup_oom_kills(mode, path, &kills, &err) == 0);
  CHECK_INT(kills, 1);
  uint64_t usage = 0;
  CHECK(cgroup_memory_usage(mode, path, &usage, &err) == 0);
  CHECK(usage < (16u << 20));
  close(go[0]);
  close(go[1]);

  char *top = xasprintf("/%s", parent);
  CHECK(cgroup_remove(path, &err) == 0);
  CHECK(!cgroup_exists(path));
  CHECK(access(extra, F_OK) != 0);
  CHECK(cgroup_remove(path, &err) == 0); /* missing is fine */
  CHECK(cgroup_remove(top, &err) == 0);
  CHECK(!cgroup_exists(top));
  if (err.status)
    fprintf(stderr, "error: %s\n", err.message);
  free(top);
  free(extra);
  free(path);
  k8c_err_clear(&err);
}

TEST(remove_refuses_a_busy_cgroup)
{
  fixture_require();
  k8c_err err = {0};
  enum cgroup_mode mode;
  CHECK(cgroup_detect(&mode, &err) == 0);
  char path[64];
  snprintf(path, sizeof path, "/k8ct-busy-%d", (int)getpid());
  CHECK(cgroup_create(mode, path, &err) == 0);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  char *pidtext = xasprintf("%d", (int)child);
  CHECK(cgroup_write(mode, "pids", path, "cgroup.procs", pidtext, &err) == 0);
  free(pidtext);
  CHECK_INT(cgroup_remove(path, &err), -1);
  CHECK(strstr(err.message, "busy") != NULL || strstr(err.message, "Busy") != NULL);
  k8c_err_clear(&err);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  CHECK(cgroup_remove(path, &err) == 0);
  CHECK(!cgroup_exists(path));
  k8c_err_clear(&err);
}

TEST_MAIN()
