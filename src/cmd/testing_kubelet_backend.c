/* testing_kubelet_backend.c — a stream_backend over the host, for end-to-end tests of
 * the streaming path without containers: logs are CRI files in a directory
 * (<container>.log, <container>.previous.log; <container>.stopped ends `logs -f`),
 * exec runs host processes (a pty with tty), port-forward connects to 127.0.0.1. */
#include "cmd/testing_kubelet.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int
host_log_path(void *ctx, const struct stream_target *t, bool previous, char **path, k8c_err *err)
{
  struct host_backend *hb = ctx;
  char *p = xasprintf("%s/%s%s.log", hb->log_dir, t->container, previous ? ".previous" : "");
  if (access(p, R_OK) != 0) {
    free(p);
    if (previous)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "previous terminated container \"%s\" in pod \"%s\" not found", t->container,
                       t->pod);
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating",
                     t->container, t->pod);
  }
  *path = p;
  return 0;
}

static int
host_container_running(void *ctx, const struct stream_target *t)
{
  struct host_backend *hb = ctx;
  cleanup_free char *p = xasprintf("%s/%s.stopped", hb->log_dir, t->container);
  return access(p, F_OK) != 0;
}

static void
exec_child(const char *const *argv)
{
  execvp(argv[0], (char *const *)argv);
  dprintf(2, "exec: \"%s\": executable file not found in $PATH\n", argv[0]);
  _exit(127);
}

static int
host_exec(void *ctx, const struct stream_target *t, const char *const *argv, bool tty,
          bool with_stdin, struct stream_process *proc, k8c_err *err)
{
  pid_t *pid = xmalloc(sizeof *pid);
  if (tty) {
    int master = -1;
    *pid = forkpty(&master, NULL, NULL, NULL);
    if (*pid == 0)
      exec_child(argv);
    if (*pid < 0) {
      free(pid);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "forkpty: %s", strerror(errno));
    }
    proc->stdout_fd = master;
    proc->stdin_fd = with_stdin ? dup(master) : -1;
    proc->stderr_fd = -1;
    proc->handle = pid;
    return 0;
  }
  int in[2] = {-1, -1}, out[2], errp[2];
  if ((with_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
      pipe2(errp, O_CLOEXEC) < 0) {
    free(pid);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  }
  *pid = fork();
  if (*pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(with_stdin ? in[0] : devnull, 0);
    dup2(out[1], 1);
    dup2(errp[1], 2);
    signal(SIGPIPE, SIG_DFL);
    exec_child(argv);
  }
  if (with_stdin)
    close(in[0]);
  close(out[1]);
  close(errp[1]);
  if (*pid < 0) {
    free(pid);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "fork: %s", strerror(errno));
  }
  proc->stdin_fd = with_stdin ? in[1] : -1;
  proc->stdout_fd = out[0];
  proc->stderr_fd = errp[0];
  proc->handle = pid;
  return 0;
}

static int
host_finish(void *ctx, struct stream_process *proc, bool kill_it, int *exit_code, k8c_err *err)
{
  pid_t *pid = proc->handle;
  int *fds[] = {&proc->stdin_fd, &proc->stdout_fd, &proc->stderr_fd};
  for (size_t i = 0; i < 3; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
  if (kill_it)
    kill(*pid, SIGKILL);
  int status = 0;
  pid_t r;
  do
    r = waitpid(*pid, &status, 0);
  while (r < 0 && errno == EINTR);
  free(pid);
  proc->handle = NULL;
  if (r < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "waitpid: %s", strerror(errno));
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}

static void
host_resize(void *ctx, struct stream_process *proc, unsigned width, unsigned height)
{
  struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
  if (proc->stdout_fd >= 0)
    (void)ioctl(proc->stdout_fd, TIOCSWINSZ, &ws);
}

static int
host_port_forward(void *ctx, const struct stream_target *t, uint16_t port, int *fd, k8c_err *err)
{
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "socket: %s", strerror(errno));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(s);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dial tcp4 127.0.0.1:%u: connect: %s", port,
                     strerror(e));
  }
  *fd = s;
  return 0;
}

void
host_backend_init(struct host_backend *hb, const char *log_dir)
{
  memset(hb, 0, sizeof *hb);
  hb->log_dir = log_dir;
  hb->ops = (struct stream_backend){
      .ctx = hb,
      .log_path = host_log_path,
      .container_running = host_container_running,
      .exec = host_exec,
      .attach = NULL,
      .finish = host_finish,
      .resize = host_resize,
      .port_forward = host_port_forward,
  };
}
