/* exec.c — running a command in a running container: the container's own process
 * section (user, capabilities, seccomp-relevant flags, env) with new args, written as a
 * process.json for `<runtime> exec --process`, so an exec gets exactly the container's
 * privileges. stdio are pipes handed to the caller, who proxies them (kubectl exec). */
#include "kubelet/runtime/runtime_internal.h"

#include "kubelet/runtime/spawn.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
close_pair(int p[2])
{
  if (p[0] >= 0)
    close(p[0]);
  if (p[1] >= 0)
    close(p[1]);
}

char *
runtime_exec_process_file(struct runtime *rt, const char *id, const char *const *argv,
                          const char *const *env, bool terminal, unsigned width, unsigned height,
                          k8c_err *err)
{
  if (!runtime_valid_id(id)) {
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "container \"%s\" not found", id);
    return NULL;
  }
  if (argv == NULL || argv[0] == NULL) {
    k8c_error(err, 422, K8C_REASON_INVALID, "exec needs a command");
    return NULL;
  }
  cleanup_free char *config_path = xasprintf("%s/containers/%s/config.json", rt->run_dir, id);
  cleanup_json json_t *config = runtime_load_json(config_path, err);
  if (config == NULL)
    return NULL;
  json_t *process = json_deep_copy(json_object_get(config, "process"));
  json_t *args = json_array();
  for (size_t i = 0; argv[i]; i++)
    json_array_append_new(args, json_string(argv[i]));
  json_object_set_new(process, "args", args);
  json_object_set_new(process, "terminal", json_boolean(terminal));
  if (terminal && width > 0 && height > 0)
    json_object_set_new(
        process, "consoleSize",
        json_pack("{s:I, s:I}", "height", (json_int_t)height, "width", (json_int_t)width));
  json_t *penv = json_object_get(process, "env");
  for (size_t i = 0; env && env[i]; i++)
    json_array_append_new(penv, json_string(env[i]));
  /* Unique per call without shared state: thread id plus the wall clock in ns. */
  char *process_file = xasprintf("%s/containers/%s/exec-%d-%lld.json", rt->run_dir, id,
                                 (int)gettid(), (long long)runtime_now_ns());
  int rc = runtime_save_json(process_file, process, err);
  json_decref(process);
  if (rc < 0) {
    free(process_file);
    return NULL;
  }
  return process_file;
}

int
runtime_container_exec(struct runtime *rt, const char *id, const char *const *argv,
                       const char *const *env, bool with_stdin, struct exec_process *proc,
                       k8c_err *err)
{
  char *process_file = runtime_exec_process_file(rt, id, argv, env, false, 0, 0, err);
  if (process_file == NULL)
    return -1;

  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
  if ((with_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
      pipe2(errp, O_CLOEXEC) < 0) {
    int saved = errno;
    close_pair(in);
    close_pair(out);
    close_pair(errp);
    unlink(process_file);
    free(process_file);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(saved));
  }
  const char *cmd[] = {
      rt->oci_runtime, "--root", rt->oci_state_dir, "exec", "--process", process_file, id, NULL};
  struct spawn_opts opts = {.argv = cmd,
                            .stdin_fd = in[0],
                            .stdout_fd = out[1],
                            .stderr_fd = errp[1],
                            .cgroup_view = rt->hybrid_cgroups,
                            .new_session = true};
  pid_t pid = spawn_start(&opts, err);
  if (in[0] >= 0)
    close(in[0]);
  close(out[1]);
  close(errp[1]);
  if (pid < 0) {
    if (in[1] >= 0)
      close(in[1]);
    close(out[0]);
    close(errp[0]);
    unlink(process_file);
    free(process_file);
    return -1;
  }
  *proc = (struct exec_process){.pid = pid,
                                .stdin_fd = in[1],
                                .stdout_fd = out[0],
                                .stderr_fd = errp[0],
                                .process_file = process_file};
  return 0;
}

int
runtime_exec_wait(struct exec_process *proc, int timeout_ms, int *exit_code, k8c_err *err)
{
  int status = 0;
  int rc = spawn_wait(proc->pid, timeout_ms, &status, err);
  if (rc < 0) {
    kill(proc->pid, SIGKILL);
    k8c_err ignored = {0};
    if (spawn_wait(proc->pid, -1, &status, &ignored) < 0)
      k8c_err_clear(&ignored);
  }
  int *fds[] = {&proc->stdin_fd, &proc->stdout_fd, &proc->stderr_fd};
  for (size_t i = 0; i < 3; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
  if (proc->process_file) {
    unlink(proc->process_file);
    free(proc->process_file);
    proc->process_file = NULL;
  }
  if (rc < 0)
    return -1;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}
