/* attach.c — `kubectl attach`: a connection to a container's main process through
 * conmon's attach socket (<bundle>/attach, SOCK_SEQPACKET). Each message from conmon is
 * one byte naming the stream (2 stdout, 3 stderr) and the bytes; what we send is the
 * container's stdin as is, and shutting down our write side ends its stdin. Resizes set
 * the container's terminal directly (conmon's control fifo <bundle>/ctl as fallback).
 * One relay thread per session turns the framed socket into plain pipes. */
#include "kubelet/runtime/terminal.h"

#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/runtime_internal.h"
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
#include <unistd.h>

#define ATTACH_STDOUT 2
#define ATTACH_STDERR 3
#define ATTACH_MSG_MAX 32768

static int
write_fully(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static void *
relay_main(void *arg)
{
  struct attach_session *a = arg;
  /* A reader that left makes writes fail with EPIPE instead of killing the process. */
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
  char *msg = xmalloc(ATTACH_MSG_MAX + 1);
  bool out_open = true;
  while (out_open) {
    struct pollfd p[3] = {{.fd = a->wake[0], .events = POLLIN},
                          {.fd = a->sock, .events = POLLIN},
                          {.fd = a->in_r, .events = POLLIN}};
    if (poll(p, a->in_r >= 0 ? 3 : 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[0].revents)
      break;
    if (p[1].revents) {
      ssize_t n = recv(a->sock, msg, ATTACH_MSG_MAX + 1, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        break; /* conmon left: the container exited */
      int target = msg[0] == ATTACH_STDERR && a->err_w >= 0 ? a->err_w : a->out_w;
      if (n > 1 && (msg[0] == ATTACH_STDOUT || msg[0] == ATTACH_STDERR) &&
          write_fully(target, msg + 1, (size_t)n - 1) < 0)
        out_open = false; /* nobody reads any more */
    }
    if (a->in_r >= 0 && p[2].revents) {
      ssize_t n = read(a->in_r, msg, ATTACH_MSG_MAX);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n > 0 && send(a->sock, msg, (size_t)n, MSG_NOSIGNAL) == n)
        continue;
      /* stdin ended (or conmon stopped taking it): end the container's stdin */
      (void)shutdown(a->sock, SHUT_WR);
      close(a->in_r);
      a->in_r = -1;
    }
  }
  free(msg);
  int *fds[] = {&a->out_w, &a->err_w, &a->in_r, &a->sock};
  for (size_t i = 0; i < 4; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
  return NULL;
}

/* Connects to <bundle>/attach through an O_PATH fd of the bundle, so long run dirs do
 * not hit the 107-byte limit of socket paths. */
static int
connect_attach(const char *bundle, k8c_err *err)
{
  int dir = open(bundle, O_PATH | O_CLOEXEC);
  if (dir < 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "container bundle %s: %s", bundle,
                     strerror(errno));
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach", dir);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int saved = errno;
    if (fd >= 0)
      close(fd);
    close(dir);
    return k8c_error(err, 409, K8C_REASON_CONFLICT, "cannot attach to the container: %s",
                     strerror(saved));
  }
  close(dir);
  return fd;
}

static void
close_if_open(int *fd)
{
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

int
runtime_container_attach(struct runtime *rt, const char *id, bool tty, bool with_stdin,
                         struct attach_session *a, k8c_err *err)
{
  memset(a, 0, sizeof *a);
  a->stdin_fd = a->stdout_fd = a->stderr_fd = a->sock = -1;
  a->out_w = a->err_w = a->in_r = -1;
  a->wake[0] = a->wake[1] = -1;
  struct container_state st;
  if (runtime_container_state(rt, id, &st, err) < 0)
    return -1;
  bool running = st.status == CONTAINER_RUNNING;
  container_state_free(&st);
  if (!running)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "container %s is not running", id);
  (void)tty; /* the container decides: with its own terminal, all output is stdout */
  cleanup_free char *bundle = xasprintf("%s/containers/%s", rt->run_dir, id);
  cleanup_free char *config_path = xasprintf("%s/config.json", bundle);
  cleanup_json json_t *config = runtime_load_json(config_path, err);
  if (config == NULL)
    return -1;
  bool has_tty = json_is_true(json_object_get(json_object_get(config, "process"), "terminal"));
  a->sock = connect_attach(bundle, err);
  if (a->sock < 0)
    return -1;
  int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
  if (pipe2(a->wake, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
      (!has_tty && pipe2(errp, O_CLOEXEC) < 0) || (with_stdin && pipe2(in, O_CLOEXEC) < 0)) {
    int saved = errno;
    int *all[] = {&a->wake[0], &a->wake[1], &out[0], &out[1], &errp[0],
                  &errp[1],    &in[0],      &in[1],  &a->sock};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
      close_if_open(all[i]);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(saved));
  }
  a->stdout_fd = out[0];
  a->out_w = out[1];
  a->stderr_fd = errp[0];
  a->err_w = errp[1];
  a->stdin_fd = in[1];
  a->in_r = in[0];
  a->with_stdin = with_stdin;
  if (pthread_create(&a->relay, NULL, relay_main, a) != 0) {
    int *all[] = {&a->wake[0], &a->wake[1],  &a->stdout_fd, &a->out_w, &a->stderr_fd,
                  &a->err_w,   &a->stdin_fd, &a->in_r,      &a->sock};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
      close_if_open(all[i]);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "attach: cannot start a thread");
  }
  return 0;
}

void
runtime_attach_close(struct attach_session *a)
{
  close_if_open(&a->wake[1]); /* wakes the relay */
  pthread_join(a->relay, NULL);
  close_if_open(&a->wake[0]);
  close_if_open(&a->stdin_fd);
  close_if_open(&a->stdout_fd);
  close_if_open(&a->stderr_fd);
}

/* Sets the size on the container's own terminal (its init's stdin, reopened through
 * /proc): the kernel then signals the foreground process group. */
static int
resize_container_tty(struct runtime *rt, const char *id, unsigned width, unsigned height)
{
  struct container_state st;
  k8c_err ignored = {0};
  if (runtime_container_state(rt, id, &st, &ignored) < 0) {
    k8c_err_clear(&ignored);
    return -1;
  }
  pid_t pid = st.status == CONTAINER_RUNNING ? st.pid : 0;
  container_state_free(&st);
  if (pid <= 0)
    return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
  int rc = isatty(fd) ? ioctl(fd, TIOCSWINSZ, &ws) : -1;
  close(fd);
  return rc;
}

int
runtime_container_resize(struct runtime *rt, const char *id, unsigned width, unsigned height,
                         k8c_err *err)
{
  if (!runtime_valid_id(id))
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "container \"%s\" not found", id);
  /* conmon 2.1's control fifo drops one of two resizes sent back to back (kubectl attach
   * sends size+1 and then size to force a redraw), so the terminal is set directly; the
   * fifo is the fallback. */
  if (resize_container_tty(rt, id, width, height) == 0)
    return 0;
  if (width > 1000)
    width = 1000; /* conmon refuses larger sizes */
  if (height > 1000)
    height = 1000;
  cleanup_free char *ctl = xasprintf("%s/containers/%s/ctl", rt->run_dir, id);
  int fd = open(ctl, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "container %s has no control fifo: %s", id,
                     strerror(errno));
  char line[64];
  int n = snprintf(line, sizeof line, "1 %u %u\n", height, width);
  int rc = write_fully(fd, line, (size_t)n);
  close(fd);
  if (rc < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "resize container %s: %s", id, strerror(errno));
  return 0;
}
