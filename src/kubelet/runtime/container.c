/* container.c — container lifecycle over conmon and an OCI runtime. conmon runs with
 * --sync so it stays this process's child (this process reaps it; pid 1 here may not);
 * it runs `<runtime> create`, reports the pid on a sync pipe, then holds stdio, writes
 * CRI-format logs and the exit code file. Records live in the bundle (k8c.json) so state
 * survives an agent restart; exit and OOM come from conmon's files and the cgroup. */
#include "kubelet/runtime/runtime_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/spawn.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONMON_SYNC_TIMEOUT_MS 30000
#define KILL_WAIT_MS 10000

struct paths {
  char *bundle, *rootfs, *record, *pidfile, *conmon_pidfile, *exit_file, *oom_file;
  char *data, *upper, *work;
};

static void paths_init(struct runtime *rt, const char *id, struct paths *p);
static void paths_free(struct paths *p);
static int mount_rootfs(const struct container_spec *spec, const struct paths *p, k8c_err *err);
static int start_conmon(struct runtime *rt, const struct container_spec *spec,
                        const struct paths *p, pid_t *conmon_pid, k8c_err *err);
static void reap(pid_t pid, int timeout_ms);
static bool conmon_alive(pid_t pid);
static bool wait_exit_file(const char *path, int timeout_ms);
static pid_t read_pid_file(const char *path);
static void sleep_ms(int ms);

int
runtime_container_create(struct runtime *rt, const struct container_spec *spec, k8c_err *err)
{
  if (!runtime_valid_id(spec->id))
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid container id \"%s\"",
                     spec->id ? spec->id : "");
  if (spec->lowerdirs == NULL || spec->lowerdirs[0] == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "container %s has no image layers", spec->id);
  if (spec->log_path == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "container %s has no log path", spec->id);
  struct paths p;
  paths_init(rt, spec->id, &p);
  if (access(p.bundle, F_OK) == 0) {
    paths_free(&p);
    return k8c_error(err, 409, K8C_REASON_ALREADY_EXISTS, "container %s already exists", spec->id);
  }
  cleanup_free char *cgroup_path = spec->sandbox
                                       ? xasprintf("%s/%s", spec->sandbox->cgroup_path, spec->id)
                                       : xasprintf("/%s/%s", rt->cgroup_parent, spec->id);
  cleanup_free char *log_dir = xstrdup(spec->log_path);
  char *slash = strrchr(log_dir, '/');
  if (slash)
    *slash = '\0';
  cleanup_json json_t *config = NULL;
  cleanup_json json_t *record = NULL;
  cleanup_free char *exit_dir = xasprintf("%s/exit", p.bundle);
  cleanup_free char *persist_dir = xasprintf("%s/persist", p.bundle);
  cleanup_free char *config_path = xasprintf("%s/config.json", p.bundle);
  pid_t conmon_pid = -1;

  if (fs_mkdir_p(p.rootfs, 0755, err) < 0 || fs_mkdir_p(exit_dir, 0700, err) < 0 ||
      fs_mkdir_p(persist_dir, 0700, err) < 0 || fs_mkdir_p(p.upper, 0755, err) < 0 ||
      fs_mkdir_p(p.work, 0700, err) < 0 || (slash && fs_mkdir_p(log_dir, 0755, err) < 0))
    goto fail;
  record =
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id", spec->id, "name",
                spec->name ? spec->name : spec->id, "sandboxId",
                spec->sandbox ? spec->sandbox->id : "", "logPath", spec->log_path, "cgroupPath",
                cgroup_path, "createdAt", (json_int_t)runtime_now_ns(), "conmonPid", (json_int_t)0);
  if (runtime_save_json(p.record, record, err) < 0)
    goto fail;
  if (mount_rootfs(spec, &p, err) < 0)
    goto fail;
  config = oci_spec_build(rt, spec, cgroup_path, err);
  if (config == NULL)
    goto fail;
  if (runtime_save_json(config_path, config, err) < 0)
    goto fail;
  if (start_conmon(rt, spec, &p, &conmon_pid, err) < 0)
    goto fail;
  json_object_set_new(record, "conmonPid", json_integer(conmon_pid));
  if (runtime_save_json(p.record, record, err) < 0)
    goto fail;
  paths_free(&p);
  return 0;

fail:;
  k8c_err ignored = {0};
  if (runtime_container_remove(rt, spec->id, &ignored) < 0) {
    log_warn("cleaning up container %s after a failed create: %s", spec->id, ignored.message);
    k8c_err_clear(&ignored);
  }
  paths_free(&p);
  return k8c_err_prefix(err, "creating container %s: ", spec->id);
}

int
runtime_container_start(struct runtime *rt, const char *id, k8c_err *err)
{
  struct paths p;
  paths_init(rt, id, &p);
  cleanup_json json_t *record = runtime_load_json(p.record, err);
  if (record == NULL) {
    paths_free(&p);
    return k8c_err_prefix(err, "starting container %s: ", id);
  }
  const char *args[] = {"start", id, NULL};
  cleanup_free char *output = NULL;
  int64_t started = runtime_now_ns();
  int code = runtime_oci_run(rt, args, &output, err);
  if (code != 0) {
    paths_free(&p);
    if (code > 0)
      k8c_error(err, 500, K8C_REASON_INTERNAL, "%s", output);
    return k8c_err_prefix(err, "starting container %s: ", id);
  }
  json_object_set_new(record, "startedAt", json_integer(started));
  int rc = runtime_save_json(p.record, record, err);
  paths_free(&p);
  return rc;
}

int
runtime_container_state(struct runtime *rt, const char *id, struct container_state *state,
                        k8c_err *err)
{
  if (!runtime_valid_id(id))
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "container \"%s\" not found", id);
  struct paths p;
  paths_init(rt, id, &p);
  cleanup_json json_t *record = runtime_load_json(p.record, err);
  if (record == NULL) {
    paths_free(&p);
    return -1;
  }
  *state = (struct container_state){
      .id = xstrdup(id),
      .name = xstrdup(json_string_value(json_object_get(record, "name"))),
      .sandbox_id = xstrdup(json_string_value(json_object_get(record, "sandboxId"))),
      .log_path = xstrdup(json_string_value(json_object_get(record, "logPath"))),
      .created_at_ns = json_integer_value(json_object_get(record, "createdAt")),
      .started_at_ns = json_integer_value(json_object_get(record, "startedAt")),
      .pid = read_pid_file(p.pidfile),
      .exit_code = -1,
  };
  pid_t conmon_pid = (pid_t)json_integer_value(json_object_get(record, "conmonPid"));
  struct stat st;
  k8c_err read_err = {0};
  cleanup_free char *exit_text = fs_read_file(p.exit_file, NULL, &read_err);
  k8c_err_clear(&read_err);
  if (exit_text && stat(p.exit_file, &st) == 0) {
    state->status = CONTAINER_EXITED;
    state->exit_code = atoi(exit_text);
    state->finished_at_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (conmon_pid > 0)
      reap(conmon_pid, 0);
    /* OOMKilled: conmon saw the cgroup's OOM event, or the cgroup counted a kill and the
     * process died of SIGKILL. */
    uint64_t kills = 0;
    k8c_err oom_err = {0};
    const char *cgroup_path = json_string_value(json_object_get(record, "cgroupPath"));
    if (cgroup_path && cgroup_oom_kills(rt->cgroup_mode, cgroup_path, &kills, &oom_err) < 0)
      kills = 0;
    k8c_err_clear(&oom_err);
    state->oom_killed =
        access(p.oom_file, F_OK) == 0 || (kills > 0 && state->exit_code == 128 + SIGKILL);
  } else if (state->started_at_ns == 0) {
    state->status = CONTAINER_CREATED;
  } else if (state->pid > 0 && kill(state->pid, 0) == 0) {
    state->status = CONTAINER_RUNNING;
  } else if (conmon_alive(conmon_pid)) {
    state->status = CONTAINER_RUNNING; /* exited this instant; conmon writes the file next */
  } else {
    state->status = CONTAINER_UNKNOWN; /* conmon is gone without an exit file */
  }
  paths_free(&p);
  return 0;
}

int
runtime_container_signal(struct runtime *rt, const char *id, int signo, k8c_err *err)
{
  cleanup_free char *sig = xasprintf("%d", signo);
  const char *args[] = {"kill", id, sig, NULL};
  cleanup_free char *output = NULL;
  int code = runtime_oci_run(rt, args, &output, err);
  if (code < 0)
    return -1;
  if (code != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "signal %d to %s: %s", signo, id, output);
  return 0;
}

int
runtime_container_stop(struct runtime *rt, const char *id, int grace_seconds, k8c_err *err)
{
  struct container_state st;
  if (runtime_container_state(rt, id, &st, err) < 0)
    return -1;
  enum container_status status = st.status;
  container_state_free(&st);
  if (status == CONTAINER_EXITED || status == CONTAINER_UNKNOWN)
    return 0;
  struct paths p;
  paths_init(rt, id, &p);
  k8c_err ignored = {0};
  /* A signal to a container that exits meanwhile fails; the exit file decides. */
  if (grace_seconds > 0) {
    if (runtime_container_signal(rt, id, SIGTERM, &ignored) < 0)
      k8c_err_clear(&ignored);
    if (wait_exit_file(p.exit_file, grace_seconds * 1000)) {
      paths_free(&p);
      return 0;
    }
  }
  if (runtime_container_signal(rt, id, SIGKILL, &ignored) < 0)
    k8c_err_clear(&ignored);
  bool exited = wait_exit_file(p.exit_file, KILL_WAIT_MS);
  paths_free(&p);
  if (!exited)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "container %s did not exit after SIGKILL", id);
  return 0;
}

/* Whether anything of container id exists: its bundle, its data dir, the OCI runtime's
 * state or conmon's attach link. A create makes the bundle before anything else. */
static bool
leaves_a_trace(struct runtime *rt, const char *id, const struct paths *p, const char *attach_link)
{
  cleanup_free char *oci_state = xasprintf("%s/%s", rt->oci_state_dir, id);
  struct stat st;
  return lstat(p->bundle, &st) == 0 || lstat(p->data, &st) == 0 || lstat(oci_state, &st) == 0 ||
         lstat(attach_link, &st) == 0;
}

int
runtime_container_remove(struct runtime *rt, const char *id, k8c_err *err)
{
  if (!runtime_valid_id(id))
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid container id \"%s\"", id ? id : "");
  struct paths p;
  paths_init(rt, id, &p);
  /* conmon's link to the attach socket */
  cleanup_free char *attach_link = xasprintf("%s/attach/%s", rt->run_dir, id);
  k8c_err load_err = {0};
  cleanup_json json_t *record = runtime_load_json(p.record, &load_err);
  k8c_err_clear(&load_err);
  pid_t conmon_pid = (pid_t)json_integer_value(json_object_get(record, "conmonPid"));
  int rc = -1;
  if (record == NULL && !leaves_a_trace(rt, id, &p, attach_link)) {
    paths_free(&p); /* never created: no OCI runtime call (an exec) to delete nothing */
    return 0;
  }

  /* `delete --force` kills whatever still runs and removes the runtime's state. */
  const char *args[] = {"delete", "--force", id, NULL};
  cleanup_free char *output = NULL;
  int code = runtime_oci_run(rt, args, &output, err);
  if (code < 0)
    goto out;
  if (code != 0 && output && !strstr(output, "does not exist") && !strstr(output, "not exist")) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "%s delete: %s", rt->oci_runtime, output);
    goto out;
  }
  if (conmon_pid > 0) {
    reap(conmon_pid, 2000);
    if (kill(conmon_pid, 0) == 0 && waitpid(conmon_pid, NULL, WNOHANG) == 0) {
      kill(conmon_pid, SIGKILL); /* our own child, still up after its container is gone */
      reap(conmon_pid, 2000);
    }
  }
  const char *cgroup_path = json_string_value(json_object_get(record, "cgroupPath"));
  if (cgroup_path && cgroup_remove(cgroup_path, err) < 0)
    goto out;
  char **mounts = fs_mounts_under(p.bundle);
  for (char **m = mounts; *m; m++)
    if (umount2(*m, 0) < 0 && umount2(*m, MNT_DETACH) < 0 && errno != EINVAL) {
      k8c_error(err, 500, K8C_REASON_INTERNAL, "unmount %s: %s", *m, strerror(errno));
      fs_strv_free(mounts);
      goto out;
    }
  fs_strv_free(mounts);
  if (fs_remove_tree(p.bundle, err) < 0 || fs_remove_tree(p.data, err) < 0)
    goto out;
  if (unlink(attach_link) < 0 && errno != ENOENT) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "unlink %s: %s", attach_link, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  paths_free(&p);
  return rc < 0 ? k8c_err_prefix(err, "removing container %s: ", id) : 0;
}

int
runtime_container_memory(struct runtime *rt, const char *id, uint64_t *usage_bytes,
                         uint64_t *oom_kills, k8c_err *err)
{
  if (!runtime_valid_id(id))
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "container \"%s\" not found", id);
  cleanup_free char *record_path = xasprintf("%s/containers/%s/k8c.json", rt->run_dir, id);
  cleanup_json json_t *record = runtime_load_json(record_path, err);
  if (record == NULL)
    return -1;
  const char *cgroup_path = json_string_value(json_object_get(record, "cgroupPath"));
  if (cgroup_path == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s has no cgroupPath", record_path);
  if (cgroup_memory_usage(rt->cgroup_mode, cgroup_path, usage_bytes, err) < 0 ||
      cgroup_oom_kills(rt->cgroup_mode, cgroup_path, oom_kills, err) < 0)
    return -1;
  return 0;
}

char **
runtime_container_list(struct runtime *rt)
{
  cleanup_free char *root = xasprintf("%s/containers", rt->run_dir);
  char **ids = xcalloc(1, sizeof *ids);
  size_t n = 0;
  DIR *d = opendir(root);
  if (d == NULL)
    return ids;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!runtime_valid_id(de->d_name))
      continue;
    cleanup_free char *record = xasprintf("%s/%s/k8c.json", root, de->d_name);
    if (access(record, F_OK) != 0)
      continue;
    ids = xrealloc(ids, (n + 2) * sizeof *ids);
    ids[n++] = xstrdup(de->d_name);
    ids[n] = NULL;
  }
  closedir(d);
  return ids;
}

void
container_state_free(struct container_state *state)
{
  if (state == NULL)
    return;
  free(state->id);
  free(state->name);
  free(state->sandbox_id);
  free(state->log_path);
  *state = (struct container_state){0};
}

/* ---- helpers ---- */

static void
paths_init(struct runtime *rt, const char *id, struct paths *p)
{
  p->bundle = xasprintf("%s/containers/%s", rt->run_dir, id);
  p->rootfs = xasprintf("%s/rootfs", p->bundle);
  p->record = xasprintf("%s/k8c.json", p->bundle);
  p->pidfile = xasprintf("%s/pidfile", p->bundle);
  p->conmon_pidfile = xasprintf("%s/conmon.pid", p->bundle);
  p->exit_file = xasprintf("%s/exit/%s", p->bundle, id);
  p->oom_file = xasprintf("%s/persist/oom", p->bundle);
  p->data = xasprintf("%s/containers/%s", rt->data_dir, id);
  p->upper = xasprintf("%s/upper", p->data);
  p->work = xasprintf("%s/work", p->data);
}

static void
paths_free(struct paths *p)
{
  free(p->bundle);
  free(p->rootfs);
  free(p->record);
  free(p->pidfile);
  free(p->conmon_pidfile);
  free(p->exit_file);
  free(p->oom_file);
  free(p->data);
  free(p->upper);
  free(p->work);
}

static int
mount_rootfs(const struct container_spec *spec, const struct paths *p, k8c_err *err)
{
  size_t len = 0;
  for (size_t i = 0; spec->lowerdirs[i]; i++)
    len += strlen(spec->lowerdirs[i]) + 1;
  char *lower = xmalloc(len + 1);
  lower[0] = '\0';
  for (size_t i = 0; spec->lowerdirs[i]; i++) {
    if (i)
      strcat(lower, ":");
    strcat(lower, spec->lowerdirs[i]);
  }
  cleanup_free char *options =
      xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, p->upper, p->work);
  free(lower);
  if (strlen(options) >= 4000)
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "%zu image layers make overlay options too long (%zu bytes)",
                     fs_strv_len(spec->lowerdirs), strlen(options));
  if (mount("overlay", p->rootfs, "overlay", 0, options) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "mount overlay on %s: %s", p->rootfs,
                     strerror(errno));
  return 0;
}

/* The OCI runtime's refusal to create the process, status 502, in the words runc (and so
 * containerd and k3s) uses for a missing executable; crun says "executable file `X` not
 * found in $PATH: No such file or directory". */
static int
oci_create_error(const char *message, k8c_err *err)
{
  static const char crun_missing[] = "executable file `";
  while (*message == ':' || *message == ' ')
    message++;
  int len = (int)strcspn(message, "\n");
  const char *name = strstr(message, crun_missing);
  const char *end = name ? strchr(name + strlen(crun_missing), '`') : NULL;
  if (end && strstr(end, "not found in $PATH")) {
    name += strlen(crun_missing);
    return k8c_error(err, 502, K8C_REASON_INTERNAL,
                     "OCI runtime create failed: exec: \"%.*s\": executable file not found in "
                     "$PATH",
                     (int)(end - name), name);
  }
  return k8c_error(err, 502, K8C_REASON_INTERNAL, "OCI runtime create failed: %.*s", len, message);
}

/* Reads conmon's sync message: {"data": pid} on success, {"data": -1, "message": ...}. */
static int
read_sync(int fd, const char *id, pid_t *pid, k8c_err *err)
{
  char msg[4096];
  size_t len = 0;
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  while (len < sizeof msg - 1) {
    int pr = poll(&pfd, 1, CONMON_SYNC_TIMEOUT_MS);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr == 0)
      return k8c_error(err, 504, K8C_REASON_TIMEOUT, "conmon did not report container %s", id);
    ssize_t n = read(fd, msg + len, sizeof msg - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
    msg[len] = '\0';
    json_error_t jerr;
    cleanup_json json_t *j = json_loadb(msg, len, JSON_DISABLE_EOF_CHECK, &jerr);
    if (j == NULL)
      continue; /* partial message */
    json_t *data = json_object_get(j, "data");
    if (data == NULL)
      data = json_object_get(j, "pid");
    json_int_t value = json_integer_value(data);
    if (value <= 0) {
      const char *m = json_string_value(json_object_get(j, "message"));
      return oci_create_error(m ? m : msg, err);
    }
    *pid = (pid_t)value;
    return 0;
  }
  msg[len] = '\0';
  return k8c_error(err, 500, K8C_REASON_INTERNAL, "conmon exited without reporting: %s", msg);
}

static int
start_conmon(struct runtime *rt, const struct container_spec *spec, const struct paths *p,
             pid_t *conmon_pid, k8c_err *err)
{
  cleanup_free char *log = xasprintf("k8s-file:%s", spec->log_path);
  cleanup_free char *exit_dir = xasprintf("%s/exit", p->bundle);
  cleanup_free char *socket_dir = xasprintf("%s/attach", rt->run_dir);
  cleanup_free char *persist_dir = xasprintf("%s/persist", p->bundle);
  if (fs_mkdir_p(socket_dir, 0700, err) < 0)
    return -1;
  const char *argv[40];
  size_t n = 0;
  argv[n++] = rt->conmon;
  argv[n++] = "--api-version";
  argv[n++] = "1";
  argv[n++] = "--sync";
  argv[n++] = "-c";
  argv[n++] = spec->id;
  argv[n++] = "-u";
  argv[n++] = spec->id;
  argv[n++] = "-n";
  argv[n++] = spec->name ? spec->name : spec->id;
  argv[n++] = "-r";
  argv[n++] = rt->oci_runtime;
  argv[n++] = "--runtime-arg";
  argv[n++] = "--root";
  argv[n++] = "--runtime-arg";
  argv[n++] = rt->oci_state_dir;
  argv[n++] = "-b";
  argv[n++] = p->bundle;
  argv[n++] = "-p";
  argv[n++] = p->pidfile;
  argv[n++] = "-P";
  argv[n++] = p->conmon_pidfile;
  argv[n++] = "-l";
  argv[n++] = log;
  argv[n++] = "--exit-dir";
  argv[n++] = exit_dir;
  argv[n++] = "--socket-dir-path";
  argv[n++] = socket_dir;
  argv[n++] = "-0";
  argv[n++] = persist_dir;
  argv[n++] = "--log-level";
  argv[n++] = "error";
  if (spec->tty)
    argv[n++] = "-t";
  if (spec->stdin_open)
    argv[n++] = "-i";
  if (spec->stdin_open && !spec->stdin_once)
    argv[n++] = "--leave-stdin-open";
  argv[n] = NULL;
  int sync_pipe[2];
  if (pipe2(sync_pipe, O_CLOEXEC) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  const char *env[] = {"_OCI_SYNCPIPE=3", NULL};
  struct spawn_opts opts = {.argv = argv,
                            .extra_env = env,
                            .stdin_fd = -1,
                            .stdout_fd = -1,
                            .stderr_fd = -1,
                            .pass_fds = &sync_pipe[1],
                            .n_pass_fds = 1,
                            .cgroup_view = rt->hybrid_cgroups,
                            .new_session = true};
  pid_t pid = spawn_start(&opts, err);
  close(sync_pipe[1]);
  if (pid < 0) {
    close(sync_pipe[0]);
    return -1;
  }
  pid_t container_pid = 0;
  int rc = read_sync(sync_pipe[0], spec->id, &container_pid, err);
  close(sync_pipe[0]);
  if (rc < 0) {
    kill(pid, SIGKILL);
    reap(pid, 2000);
    return -1;
  }
  *conmon_pid = pid;
  return 0;
}

/* Reaps our child pid if it has exited, waiting up to timeout_ms. Not our child (after an
 * agent restart): nothing to reap. */
static void
reap(pid_t pid, int timeout_ms)
{
  for (int waited = 0;; waited += 10) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD))
      return;
    if (waited >= timeout_ms)
      return;
    sleep_ms(10);
  }
}

/* Our child (waitpid tells) or, after an agent restart, anyone's (kill 0 tells). */
static bool
conmon_alive(pid_t pid)
{
  if (pid <= 0)
    return false;
  pid_t r = waitpid(pid, NULL, WNOHANG);
  if (r == 0)
    return true;
  if (r == pid)
    return false;
  return kill(pid, 0) == 0;
}

static bool
wait_exit_file(const char *path, int timeout_ms)
{
  for (int waited = 0;; waited += 10) {
    if (access(path, F_OK) == 0)
      return true;
    if (waited >= timeout_ms)
      return false;
    sleep_ms(10);
  }
}

static pid_t
read_pid_file(const char *path)
{
  k8c_err ignored = {0};
  cleanup_free char *text = fs_read_file(path, NULL, &ignored);
  k8c_err_clear(&ignored);
  return text ? (pid_t)atoi(text) : 0;
}

static void
sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}
