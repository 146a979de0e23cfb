/* runtime_scenarios.h — the container scenarios every OCI runtime must pass (run by
 * runtime_crun_test.c and runtime_runc_test.c): env/cwd/uid and exit codes, CRI logs,
 * graceful stop, OOMKilled, pids limit, exec, pod-to-pod networking, re-adoption. */
#ifndef K8C_TESTS_RUNTIME_SCENARIOS_H
#define K8C_TESTS_RUNTIME_SCENARIOS_H

#include "runtime_fixture.h"

/* A sandbox named <parent>-<suffix> with a pod UID derived from it. */
static inline bool
scenario_sandbox(struct fixture *f, const char *suffix, struct sandbox_info *info)
{
  char id[96], uid[96], name[64];
  snprintf(id, sizeof id, "%s-%s", f->cgroup_parent, suffix);
  snprintf(uid, sizeof uid, "uid-%s", id);
  snprintf(name, sizeof name, "pod-%s", suffix);
  const char *const ns[] = {"10.43.0.10", NULL};
  const char *const search[] = {"default.svc.cluster.local", "svc.cluster.local", NULL};
  const char *const opts[] = {"ndots:5", NULL};
  struct sandbox_spec spec = {.id = id,
                              .pod_uid = uid,
                              .pod_name = name,
                              .pod_namespace = "default",
                              .qos = POD_QOS_BESTEFFORT,
                              .dns_nameservers = ns,
                              .dns_searches = search,
                              .dns_options = opts};
  k8c_err err = {0};
  if (runtime_sandbox_create(f->rt, &spec, info, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "sandbox: %s", err.message);
    k8c_err_clear(&err);
    return false;
  }
  return true;
}

/* A container from the busybox rootfs: creates and starts it; false on failure. */
static inline bool
scenario_run(struct fixture *f, const struct sandbox_info *sb, struct container_spec *spec,
             const char *id, const char *const *argv)
{
  static const char *lower[2];
  lower[0] = f->rootfs;
  lower[1] = NULL;
  char *log = xasprintf("%s/default_%s_uid/%s/0.log", f->log_dir, sb ? sb->id : "none", id);
  spec->id = id;
  spec->name = id;
  spec->sandbox = sb;
  spec->argv = argv;
  spec->lowerdirs = lower;
  spec->log_path = log;
  k8c_err err = {0};
  bool ok = runtime_container_create(f->rt, spec, &err) == 0 &&
            runtime_container_start(f->rt, id, &err) == 0;
  if (!ok) {
    testlib_fail(__FILE__, __LINE__, "run %s: %s", id, err.message);
    k8c_err_clear(&err);
  }
  free(log);
  spec->log_path = NULL;
  return ok;
}

/* Waits for the container to exit; fills st (caller frees). */
static inline bool
scenario_wait_exit(struct fixture *f, const char *id, int timeout_ms, struct container_state *st)
{
  int64_t deadline = fixture_now_ms() + timeout_ms;
  k8c_err err = {0};
  for (;;) {
    if (runtime_container_state(f->rt, id, st, &err) < 0) {
      testlib_fail(__FILE__, __LINE__, "state %s: %s", id, err.message);
      k8c_err_clear(&err);
      return false;
    }
    if (st->status == CONTAINER_EXITED)
      return true;
    if (fixture_now_ms() > deadline) {
      testlib_fail(__FILE__, __LINE__, "%s still not exited (status %d)", id, st->status);
      return false;
    }
    container_state_free(st);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static inline char *
scenario_log(const struct container_state *st)
{
  k8c_err err = {0};
  char *text = fs_read_file(st->log_path, NULL, &err);
  k8c_err_clear(&err);
  return text ? text : xstrdup("");
}

static inline void
scenario_basic(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "basic", &sb))
    return;
  const char *const argv[] = {
      "sh", "-c",
      "echo out-line; echo err-line >&2; id -u; id -G; pwd; echo FOO=$FOO; hostname; "
      "grep nameserver /etc/resolv.conf; grep pod-basic /etc/hosts; exit 7",
      NULL};
  const char *const env[] = {"FOO=bar baz", NULL};
  const uint32_t gids[] = {2000};
  struct container_spec spec = {.env = env,
                                .cwd = "/tmp",
                                .uid = 1000,
                                .gid = 1000,
                                .additional_gids = gids,
                                .n_additional_gids = 1,
                                .seccomp = SECCOMP_RUNTIME_DEFAULT};
  struct container_state st = {0};
  if (scenario_run(f, &sb, &spec, "basic", argv) && scenario_wait_exit(f, "basic", 10000, &st)) {
    CHECK_INT(st.exit_code, 7);
    CHECK(!st.oom_killed);
    CHECK(st.created_at_ns > 0 && st.started_at_ns >= st.created_at_ns &&
          st.finished_at_ns >= st.started_at_ns);
    char *log = scenario_log(&st);
    /* CRI format: RFC3339Nano timestamp, stream, P/F tag, message */
    CHECK(strstr(log, " stdout F out-line\n") != NULL);
    CHECK(strstr(log, " stderr F err-line\n") != NULL);
    CHECK(strstr(log, " stdout F 1000\n") != NULL);
    CHECK(strstr(log, " stdout F 1000 2000\n") != NULL);
    CHECK(strstr(log, " stdout F /tmp\n") != NULL);
    CHECK(strstr(log, " stdout F FOO=bar baz\n") != NULL);
    CHECK(strstr(log, " stdout F pod-basic\n") != NULL);
    CHECK(strstr(log, " stdout F nameserver 10.43.0.10\n") != NULL);
    char *hosts_line = xasprintf(" stdout F %s\tpod-basic\n", sb.ip);
    CHECK(strstr(log, hosts_line) != NULL);
    free(hosts_line);
    int y, mo, d, h, mi, s;
    CHECK(sscanf(log, "%4d-%2d-%2dT%2d:%2d:%2d.", &y, &mo, &d, &h, &mi, &s) == 6);
    if (strstr(log, "out-line") == NULL)
      fprintf(stderr, "log was:\n%s\n", log);
    free(log);
    container_state_free(&st);
  }
  sandbox_info_free(&sb);
}

static inline void
scenario_stop(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "stop", &sb))
    return;
  k8c_err err = {0};
  /* Honours SIGTERM: exits 42 well within the grace period. */
  const char *const polite[] = {
      "sh", "-c", "trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.05; done",
      NULL};
  struct container_spec spec = {0};
  if (scenario_run(f, &sb, &spec, "polite", polite)) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL); /* let the trap be installed */
    struct container_state st = {0};
    CHECK(runtime_container_state(f->rt, "polite", &st, &err) == 0);
    CHECK_INT(st.status, CONTAINER_RUNNING);
    CHECK(st.pid > 0);
    container_state_free(&st);
    int64_t t0 = fixture_now_ms();
    CHECK(runtime_container_stop(f->rt, "polite", 10, &err) == 0);
    CHECK(fixture_now_ms() - t0 < 3000);
    if (scenario_wait_exit(f, "polite", 1000, &st)) {
      CHECK_INT(st.exit_code, 42);
      char *log = scenario_log(&st);
      CHECK(strstr(log, "stdout F got-term") != NULL);
      free(log);
      container_state_free(&st);
    }
  }
  /* Ignores SIGTERM: killed after the 1 s grace period. */
  const char *const stubborn[] = {"sh", "-c", "trap '' TERM; while true; do sleep 0.05; done",
                                  NULL};
  struct container_spec spec2 = {0};
  if (scenario_run(f, &sb, &spec2, "stubborn", stubborn)) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int64_t t0 = fixture_now_ms();
    CHECK(runtime_container_stop(f->rt, "stubborn", 1, &err) == 0);
    int64_t took = fixture_now_ms() - t0;
    CHECK(took >= 1000 && took < 4000);
    struct container_state st = {0};
    if (scenario_wait_exit(f, "stubborn", 1000, &st)) {
      CHECK_INT(st.exit_code, 137);
      CHECK(!st.oom_killed);
      container_state_free(&st);
    }
  }
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
}

static inline void
scenario_oom(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "oom", &sb))
    return;
  /* Command substitution keeps the whole output in the shell's memory. */
  const char *const argv[] = {
      "sh", "-c", "echo start; x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived", NULL};
  struct container_spec spec = {.resources = {.memory_limit = 32 << 20}};
  struct container_state st = {0};
  if (scenario_run(f, &sb, &spec, "oom", argv) && scenario_wait_exit(f, "oom", 20000, &st)) {
    CHECK_INT(st.exit_code, 137);
    CHECK(st.oom_killed);
    uint64_t usage = 0, kills = 0;
    k8c_err err = {0};
    CHECK(runtime_container_memory(f->rt, "oom", &usage, &kills, &err) == 0);
    CHECK(kills >= 1);
    k8c_err_clear(&err);
    char *log = scenario_log(&st);
    CHECK(strstr(log, "survived") == NULL);
    free(log);
    container_state_free(&st);
  }
  sandbox_info_free(&sb);
}

static inline void
scenario_pids(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "pids", &sb))
    return;
  const char *const argv[] = {
      "sh", "-c", "i=0; while [ $i -lt 60 ]; do sleep 3 & i=$((i+1)); done; echo all-forked", NULL};
  struct container_spec spec = {.resources = {.pids_limit = 20}};
  struct container_state st = {0};
  if (scenario_run(f, &sb, &spec, "pids", argv) && scenario_wait_exit(f, "pids", 15000, &st)) {
    char *log = scenario_log(&st);
    CHECK(strstr(log, "can't fork") != NULL);
    CHECK(strstr(log, "all-forked") == NULL);
    if (strstr(log, "can't fork") == NULL)
      fprintf(stderr, "pids log:\n%s\n", log);
    free(log);
    container_state_free(&st);
  }
  sandbox_info_free(&sb);
}

/* Read-only rootfs, tmpfs with a size, read-only bind, capability add/drop, the
 * RuntimeDefault seccomp profile against an unconfined container. */
static inline void
scenario_security(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "sec", &sb))
    return;
  k8c_err err = {0};
  char *host_dir = xasprintf("%s/hostdata", f->dir);
  char *host_file = xasprintf("%s/file", host_dir);
  CHECK(fs_mkdir_p(host_dir, 0755, &err) == 0);
  CHECK(fs_write_file(host_file, "from-host\n", 10, 0644, &err) == 0);
  struct mount_spec mounts[] = {
      {.kind = MOUNT_TMPFS, .destination = "/scratch", .tmpfs_size = 1 << 20},
      {.kind = MOUNT_BIND, .source = host_dir, .destination = "/data", .readonly = true},
  };
  const char *const argv[] = {
      "sh", "-c",
      "touch /x 2>/dev/null || echo rootfs-ro; echo hi > /scratch/a && cat /scratch/a; "
      "dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null || echo tmpfs-full; "
      "cat /data/file; touch /data/y 2>/dev/null || echo bind-ro; "
      "grep CapEff /proc/self/status; linux32 true 2>/dev/null || echo seccomp-blocked",
      NULL};
  const char *const drop[] = {"ALL", NULL};
  const char *const add[] = {"NET_BIND_SERVICE", NULL};
  struct container_spec spec = {.readonly_rootfs = true,
                                .mounts = mounts,
                                .n_mounts = 2,
                                .cap_drop = drop,
                                .cap_add = add,
                                .no_new_privileges = true,
                                .seccomp = SECCOMP_RUNTIME_DEFAULT};
  struct container_state st = {0};
  if (scenario_run(f, &sb, &spec, "confined", argv) &&
      scenario_wait_exit(f, "confined", 10000, &st)) {
    char *log = scenario_log(&st);
    CHECK(strstr(log, "stdout F rootfs-ro\n") != NULL);
    CHECK(strstr(log, "stdout F hi\n") != NULL);
    CHECK(strstr(log, "stdout F tmpfs-full\n") != NULL);
    CHECK(strstr(log, "stdout F from-host\n") != NULL);
    CHECK(strstr(log, "stdout F bind-ro\n") != NULL);
    CHECK(strstr(log, "CapEff:\t0000000000000400\n") != NULL); /* only NET_BIND_SERVICE */
    CHECK(strstr(log, "stdout F seccomp-blocked\n") != NULL);
    if (strstr(log, "seccomp-blocked") == NULL || strstr(log, "rootfs-ro") == NULL)
      fprintf(stderr, "confined log:\n%s\n", log);
    free(log);
    container_state_free(&st);
  }
  const char *const open_argv[] = {
      "sh", "-c", "touch /x && echo rootfs-rw; linux32 true && echo personality-ok", NULL};
  struct container_spec open_spec = {0};
  if (scenario_run(f, &sb, &open_spec, "unconfined", open_argv) &&
      scenario_wait_exit(f, "unconfined", 10000, &st)) {
    char *log = scenario_log(&st);
    CHECK(strstr(log, "stdout F rootfs-rw\n") != NULL);
    CHECK(strstr(log, "stdout F personality-ok\n") != NULL);
    free(log);
    container_state_free(&st);
  }
  free(host_file);
  free(host_dir);
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
}

/* A hostNetwork pod: the node's network and hostname. */
static inline void
scenario_hostnet(struct fixture *f)
{
  char id[96];
  snprintf(id, sizeof id, "%s-hostnet", f->cgroup_parent);
  struct sandbox_spec sspec = {.id = id, .pod_uid = id, .pod_name = "hn", .host_network = true};
  struct sandbox_info sb = {0};
  k8c_err err = {0};
  if (runtime_sandbox_create(f->rt, &sspec, &sb, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "sandbox: %s", err.message);
    k8c_err_clear(&err);
    return;
  }
  char *script =
      xasprintf("hostname; ip -o link show %s >/dev/null && echo sees-bridge", f->bridge);
  const char *const argv[] = {"sh", "-c", script, NULL};
  struct container_spec spec = {0};
  struct container_state st = {0};
  /* The fixture's bridge exists once any CNI pod ran; make one so the host has it. */
  struct sandbox_info pod = {0};
  if (scenario_sandbox(f, "hnpeer", &pod) && scenario_run(f, &sb, &spec, "hostnet", argv) &&
      scenario_wait_exit(f, "hostnet", 10000, &st)) {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char *want = xasprintf(" stdout F %s\n", host);
    char *log = scenario_log(&st);
    CHECK(strstr(log, want) != NULL);
    CHECK(strstr(log, "stdout F sees-bridge\n") != NULL);
    free(log);
    free(want);
    container_state_free(&st);
  }
  free(script);
  sandbox_info_free(&pod);
  sandbox_info_free(&sb);
}

/* A command the image does not have: create or start fails with a message naming it,
 * and (after removal by the fixture) nothing is left. */
static inline void
scenario_bad_command(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "bad", &sb))
    return;
  static const char *lower[2];
  lower[0] = f->rootfs;
  const char *const argv[] = {"/no/such/binary", NULL};
  char *log = xasprintf("%s/bad/0.log", f->log_dir);
  struct container_spec spec = {.id = "bad",
                                .name = "bad",
                                .sandbox = &sb,
                                .argv = argv,
                                .lowerdirs = lower,
                                .log_path = log};
  k8c_err err = {0};
  int rc = runtime_container_create(f->rt, &spec, &err);
  if (rc == 0)
    rc = runtime_container_start(f->rt, "bad", &err);
  CHECK_INT(rc, -1);
  CHECK(strstr(err.message, "/no/such/binary") != NULL);
  if (strstr(err.message, "/no/such/binary") == NULL)
    fprintf(stderr, "bad command error: %s\n", err.message);
  k8c_err_clear(&err);
  free(log);
  sandbox_info_free(&sb);
}

static inline char *
read_all_fd(int fd)
{
  char *out = xmalloc(65537);
  size_t len = 0;
  ssize_t n;
  while (len < 65536 && (n = read(fd, out + len, 65536 - len)) > 0)
    len += (size_t)n;
  out[len] = '\0';
  return out;
}

static inline void
scenario_exec(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "exec", &sb))
    return;
  const char *const argv[] = {"sleep", "30", NULL};
  const char *const env[] = {"FOO=from-container", NULL};
  struct container_spec spec = {.env = env, .uid = 1000, .gid = 1000};
  k8c_err err = {0};
  if (scenario_run(f, &sb, &spec, "exec", argv)) {
    struct exec_process proc;
    const char *const cmd[] = {"sh", "-c", "echo $FOO $EXTRA; id -u; echo oops >&2; exit 3", NULL};
    const char *const extra[] = {"EXTRA=added", NULL};
    if (runtime_container_exec(f->rt, "exec", cmd, extra, false, &proc, &err) == 0) {
      char *out = read_all_fd(proc.stdout_fd);
      char *errs = read_all_fd(proc.stderr_fd);
      int code = -1;
      CHECK(runtime_exec_wait(&proc, 10000, &code, &err) == 0);
      CHECK_INT(code, 3);
      CHECK_STR(out, "from-container added\n1000\n");
      CHECK_STR(errs, "oops\n");
      free(out);
      free(errs);
    } else {
      testlib_fail(__FILE__, __LINE__, "exec: %s", err.message);
    }
    const char *const cat[] = {"cat", NULL};
    if (runtime_container_exec(f->rt, "exec", cat, NULL, true, &proc, &err) == 0) {
      CHECK(write(proc.stdin_fd, "hello\n", 6) == 6);
      close(proc.stdin_fd);
      proc.stdin_fd = -1;
      char *out = read_all_fd(proc.stdout_fd);
      int code = -1;
      CHECK(runtime_exec_wait(&proc, 10000, &code, &err) == 0);
      CHECK_INT(code, 0);
      CHECK_STR(out, "hello\n");
      free(out);
    } else {
      testlib_fail(__FILE__, __LINE__, "exec cat: %s", err.message);
    }
    uint64_t usage = 0, kills = 1;
    CHECK(runtime_container_memory(f->rt, "exec", &usage, &kills, &err) == 0);
    CHECK(usage > 0 && usage < (64u << 20));
    CHECK_INT(kills, 0);
    CHECK(runtime_container_stop(f->rt, "exec", 0, &err) == 0);
  }
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
}

static inline void
scenario_network(struct fixture *f)
{
  struct sandbox_info a = {0}, b = {0};
  if (!scenario_sandbox(f, "neta", &a) || !scenario_sandbox(f, "netb", &b)) {
    sandbox_info_free(&a);
    return;
  }
  CHECK(strcmp(a.ip, b.ip) != 0);
  CHECK_INT(fixture_lease_count(f), 2);
  CHECK_INT(fixture_veth_count(f), 2);
  const char *const server[] = {"sh", "-c",
                                "mkdir -p /tmp/www && echo hello-from-a > /tmp/www/index.html && "
                                "exec httpd -f -p 8080 -h /tmp/www",
                                NULL};
  struct container_spec s1 = {0};
  char *script = xasprintf("ping -c 1 -W 2 %s >/dev/null && echo ping-ok; "
                           "for i in 1 2 3 4 5 6 7 8 9 10; do "
                           "wget -q -O- http://%s:8080/ && exit 0; sleep 0.2; done; exit 1",
                           a.ip, a.ip);
  const char *const client[] = {"sh", "-c", script, NULL};
  struct container_spec s2 = {0};
  struct container_state st = {0};
  if (scenario_run(f, &a, &s1, "server", server) && scenario_run(f, &b, &s2, "client", client) &&
      scenario_wait_exit(f, "client", 15000, &st)) {
    CHECK_INT(st.exit_code, 0);
    char *log = scenario_log(&st);
    CHECK(strstr(log, "stdout F hello-from-a") != NULL);
    CHECK(strstr(log, "stdout F ping-ok") != NULL);
    if (st.exit_code != 0)
      fprintf(stderr, "client log:\n%s\n", log);
    free(log);
    container_state_free(&st);
  }
  free(script);
  sandbox_info_free(&a);
  sandbox_info_free(&b);
}

/* A new runtime instance (as after an agent restart) finds and drives what runs. */
static inline void
scenario_readopt(struct fixture *f)
{
  struct sandbox_info sb = {0};
  if (!scenario_sandbox(f, "adopt", &sb))
    return;
  const char *const argv[] = {"sleep", "30", NULL};
  struct container_spec spec = {0};
  k8c_err err = {0};
  if (scenario_run(f, &sb, &spec, "adopted", argv)) {
    runtime_close(f->rt);
    f->rt = runtime_open(&f->config, &err);
    if (f->rt == NULL) {
      fprintf(stderr, "FATAL: reopen: %s\n", err.message);
      exit(1);
    }
    CHECK(fixture_process_count(f) >= 1); /* conmon, found by its run dir */
    char **ids = runtime_container_list(f->rt);
    CHECK_INT(fs_strv_len((const char *const *)ids), 1);
    if (ids[0])
      CHECK_STR(ids[0], "adopted");
    fs_strv_free(ids);
    char **sbs = runtime_sandbox_list(f->rt);
    CHECK_INT(fs_strv_len((const char *const *)sbs), 1);
    fs_strv_free(sbs);
    struct container_state st = {0};
    CHECK(runtime_container_state(f->rt, "adopted", &st, &err) == 0);
    CHECK_INT(st.status, CONTAINER_RUNNING);
    CHECK_STR(st.sandbox_id, sb.id);
    container_state_free(&st);
    struct sandbox_info again = {0};
    CHECK(runtime_sandbox_get(f->rt, sb.id, &again, &err) == 0);
    CHECK_STR(again.ip, sb.ip);
    sandbox_info_free(&again);
    CHECK(runtime_container_stop(f->rt, "adopted", 1, &err) == 0);
    if (scenario_wait_exit(f, "adopted", 2000, &st)) {
      /* sleep is the pid namespace's init, which has no default action for SIGTERM:
       * the grace period passes and SIGKILL ends it. */
      CHECK_INT(st.exit_code, 137);
      container_state_free(&st);
    }
  }
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
}

static int
compare_ms(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static inline double
elapsed_ms(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static inline long
rss_kb(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *fp = fopen(path, "re");
  long kb = -1;
  char line[256];
  while (fp && fgets(line, sizeof line, fp))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
      break;
  if (fp)
    fclose(fp);
  return kb;
}

/* Reports the median time from the create+start call to the container's process running
 * its command (its first log line), over 20 containers in one sandbox, and conmon's RSS. */
static inline void
scenario_measure(struct fixture *f, const char *label)
{
  enum { N = 20 };
  double sandbox_ms[5], call_ms[N], running_ms[N];
  long rss[N];
  struct sandbox_info sb = {0};
  for (int i = 0; i < 5; i++) {
    char suffix[16];
    snprintf(suffix, sizeof suffix, "m%d", i);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct sandbox_info other = {0};
    if (!scenario_sandbox(f, suffix, i == 0 ? &sb : &other)) {
      sandbox_info_free(&sb);
      return;
    }
    sandbox_ms[i] = elapsed_ms(&t0);
    sandbox_info_free(&other);
  }
  int ok = 0;
  for (int i = 0; i < N; i++) {
    char id[32];
    snprintf(id, sizeof id, "m%d", i);
    const char *const argv[] = {"sh", "-c", "echo up; exec sleep 60", NULL};
    struct container_spec spec = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!scenario_run(f, &sb, &spec, id, argv))
      break;
    call_ms[i] = elapsed_ms(&t0);
    char *log = xasprintf("%s/default_%s_uid/%s/0.log", f->log_dir, sb.id, id);
    for (;;) {
      k8c_err err = {0};
      char *text = fs_read_file(log, NULL, &err);
      k8c_err_clear(&err);
      bool up = text && strstr(text, "stdout F up");
      free(text);
      if (up || elapsed_ms(&t0) > 5000)
        break;
      struct timespec ts = {0, 200 * 1000};
      nanosleep(&ts, NULL);
    }
    running_ms[i] = elapsed_ms(&t0);
    free(log);
    char *record = xasprintf("%s/containers/%s/k8c.json", f->run_dir, id);
    json_t *j = json_load_file(record, 0, NULL);
    rss[i] = j ? rss_kb((pid_t)json_integer_value(json_object_get(j, "conmonPid"))) : -1;
    json_decref(j);
    free(record);
    ok++;
  }
  CHECK_INT(ok, N);
  if (ok == N) {
    qsort(sandbox_ms, 5, sizeof(double), compare_ms);
    qsort(call_ms, N, sizeof(double), compare_ms);
    qsort(running_ms, N, sizeof(double), compare_ms);
    long rss_sum = 0;
    for (int i = 0; i < N; i++)
      rss_sum += rss[i];
    fprintf(stderr,
            "MEASURE %s: sandbox create (netns+CNI+files) median %.1f ms; container "
            "create+start call median %.1f ms (max %.1f); to process running median %.1f ms "
            "(max %.1f); conmon RSS mean %ld kB\n",
            label, (sandbox_ms[2]), call_ms[N / 2], call_ms[N - 1], running_ms[N / 2],
            running_ms[N - 1], rss_sum / N);
    CHECK(running_ms[N / 2] < 1000);
  }
  sandbox_info_free(&sb);
}

#endif
