/* exec_tty.c — `kubectl exec -t`: the OCI runtime's exec with a terminal. We listen on a
 * console socket, run `<runtime> exec --console-socket SOCK --process FILE id` (the
 * process file asks for a terminal), and receive the pty master the runtime sends over
 * the socket as SCM_RIGHTS; the master then carries both directions of the session.
 * runc refuses a console socket unless it detaches (and then its exit code is lost), so
 * runc gets a pty of ours as its stdio instead: it relays between that and the
 * container's terminal, copying our window size on SIGWINCH. */
#include "kubelet/runtime/terminal.h"

#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/runtime_internal.h"
#include "kubelet/runtime/spawn.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONSOLE_TIMEOUT_MS 15000

int
runtime_exec_resize(const struct exec_process *proc, int tty_fd, unsigned width, unsigned height,
                    k8c_err *err)
{
  struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
  if (ioctl(tty_fd, TIOCSWINSZ, &ws) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "resize terminal: %s", strerror(errno));
  /* runc relays a size change on SIGWINCH; the terminal already told the process */
  if (proc->pid > 0 && proc->uses_own_pty)
    (void)kill(proc->pid, SIGWINCH);
  return 0;
}

static bool
is_runc(const struct runtime *rt)
{
  const char *base = strrchr(rt->oci_runtime, '/');
  return strstr(base ? base + 1 : rt->oci_runtime, "runc") != NULL;
}

/* A new pty: *master and *slave (both close-on-exec), sized width x height. */
static int
open_pty(unsigned width, unsigned height, int *master, int *slave, k8c_err *err)
{
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  char name[64];
  if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0 ||
      ptsname_r(*master, name, sizeof name) != 0 ||
      (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    int saved = errno;
    if (*master >= 0)
      close(*master);
    *master = -1;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pty: %s", strerror(saved));
  }
  if (width > 0 && height > 0) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    (void)ioctl(*master, TIOCSWINSZ, &ws);
  }
  return 0;
}

/* A listening unix socket at path (removed first if stale). */
static int
listen_unix(const char *path, k8c_err *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "console socket path too long: %s", path);
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "socket: %s", strerror(errno));
  (void)unlink(path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
    int saved = errno;
    close(fd);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "console socket %s: %s", path, strerror(saved));
  }
  return fd;
}

/* The first fd passed in an SCM_RIGHTS message on conn (others are closed). */
static int
receive_fd(int conn, k8c_err *err)
{
  char data[4096];
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t n;
  do
    n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "console socket: %s", strerror(errno));
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int fds[4];
    memcpy(fds, CMSG_DATA(c), count * sizeof(int));
    for (size_t i = 0; i < count; i++) {
      if (fd < 0)
        fd = fds[i];
      else
        close(fds[i]);
    }
  }
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "the runtime sent no terminal");
  return fd;
}

/* Waits for the runtime to connect and send the master; -1 if it exits first or times
 * out (the caller reaps it). */
static int
await_master(int listen_fd, pid_t pid, k8c_err *err)
{
  for (int waited = 0; waited < CONSOLE_TIMEOUT_MS; waited += 50) {
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};
    int rc = poll(&p, 1, 50);
    if (rc < 0 && errno != EINTR)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "poll: %s", strerror(errno));
    if (rc > 0) {
      int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0)
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "accept: %s", strerror(errno));
      int fd = receive_fd(conn, err);
      close(conn);
      return fd;
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "exec failed");
  }
  return k8c_error(err, 504, K8C_REASON_TIMEOUT, "the runtime did not hand over a terminal");
}

/* The runtime's complaint (its stderr file), trimmed, or a fallback. Caller frees. */
static char *
runtime_complaint(const char *path)
{
  k8c_err ignored = {0};
  char *text = fs_read_file(path, NULL, &ignored);
  k8c_err_clear(&ignored);
  if (text == NULL || *text == '\0') {
    free(text);
    return xstrdup("exec failed");
  }
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
    text[--n] = '\0';
  return text;
}

/* Fills proc (stdout: the master, stdin: a dup) and *tty_fd (another dup) for a started
 * exec; on failure kills and reaps it. Takes master and process_file. */
static int
hand_out(pid_t pid, int master, char *process_file, bool own_pty, struct exec_process *proc,
         int *tty_fd, k8c_err *err)
{
  int in = fcntl(master, F_DUPFD_CLOEXEC, 3);
  int extra = in < 0 ? -1 : fcntl(master, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || extra < 0) {
    int saved = errno;
    kill(pid, SIGKILL);
    *proc = (struct exec_process){.pid = pid,
                                  .stdin_fd = in,
                                  .stdout_fd = master,
                                  .stderr_fd = -1,
                                  .process_file = process_file};
    int code = 0;
    k8c_err ignored = {0};
    if (runtime_exec_wait(proc, 5000, &code, &ignored) < 0)
      k8c_err_clear(&ignored);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dup: %s", strerror(saved));
  }
  *proc = (struct exec_process){.pid = pid,
                                .stdin_fd = in,
                                .stdout_fd = master,
                                .stderr_fd = -1,
                                .process_file = process_file,
                                .uses_own_pty = own_pty};
  *tty_fd = extra;
  return 0;
}

int
runtime_container_exec_tty(struct runtime *rt, const char *id, const char *const *argv,
                           const char *const *env, unsigned width, unsigned height,
                           struct exec_process *proc, int *tty_fd, k8c_err *err)
{
  char *process_file = runtime_exec_process_file(rt, id, argv, env, true, width, height, err);
  if (process_file == NULL)
    return -1;
  if (is_runc(rt)) {
    int master = -1, slave = -1;
    if (open_pty(width, height, &master, &slave, err) < 0) {
      unlink(process_file);
      free(process_file);
      return -1;
    }
    const char *cmd[] = {
        rt->oci_runtime, "--root", rt->oci_state_dir, "exec", "--process", process_file, id, NULL};
    struct spawn_opts opts = {.argv = cmd,
                              .stdin_fd = slave,
                              .stdout_fd = slave,
                              .stderr_fd = slave,
                              .cgroup_view = rt->hybrid_cgroups,
                              .new_session = true};
    pid_t pid = spawn_start(&opts, err);
    close(slave);
    if (pid < 0) {
      close(master);
      unlink(process_file);
      free(process_file);
      return -1;
    }
    return hand_out(pid, master, process_file, true, proc, tty_fd, err);
  }
  /* Short names: a unix socket path has at most 107 bytes. */
  cleanup_free char *dir = xasprintf("%s/console", rt->run_dir);
  if (fs_mkdir_p(dir, 0700, err) < 0) {
    unlink(process_file);
    free(process_file);
    return -1;
  }
  int64_t stamp = runtime_now_ns();
  cleanup_free char *sock_path =
      xasprintf("%s/%d-%llx.sock", dir, (int)gettid(), (unsigned long long)stamp);
  cleanup_free char *stderr_path =
      xasprintf("%s/%d-%llx.err", dir, (int)gettid(), (unsigned long long)stamp);
  int listen_fd = listen_unix(sock_path, err);
  int errfd =
      listen_fd < 0 ? -1 : open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (listen_fd < 0 || errfd < 0) {
    if (listen_fd >= 0) {
      k8c_error(err, 500, K8C_REASON_INTERNAL, "%s: %s", stderr_path, strerror(errno));
      close(listen_fd);
      unlink(sock_path);
    }
    unlink(process_file);
    free(process_file);
    return -1;
  }
  const char *cmd[] = {rt->oci_runtime, "--root",    rt->oci_state_dir, "exec", "--console-socket",
                       sock_path,       "--process", process_file,      id,     NULL};
  struct spawn_opts opts = {.argv = cmd,
                            .stdin_fd = -1,
                            .stdout_fd = -1,
                            .stderr_fd = errfd,
                            .cgroup_view = rt->hybrid_cgroups,
                            .new_session = true};
  pid_t pid = spawn_start(&opts, err);
  close(errfd);
  int master = pid < 0 ? -1 : await_master(listen_fd, pid, err);
  close(listen_fd);
  unlink(sock_path);
  if (master < 0 && pid >= 0) {
    kill(pid, SIGKILL);
    int status = 0;
    k8c_err ignored = {0};
    if (spawn_wait(pid, 5000, &status, &ignored) < 0)
      k8c_err_clear(&ignored);
    cleanup_free char *why = runtime_complaint(stderr_path);
    k8c_err_clear(err);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "exec in container %s: %s", id, why);
  }
  unlink(stderr_path);
  if (master < 0) {
    unlink(process_file);
    free(process_file);
    return -1;
  }
  if (width > 0 && height > 0) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    (void)ioctl(master, TIOCSWINSZ, &ws);
  }
  return hand_out(pid, master, process_file, false, proc, tty_fd, err);
}
