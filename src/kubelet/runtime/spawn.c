/* spawn.c — vfork-style clone + exec with a CLOEXEC status pipe so exec failures come back
 * as errors. The child only makes system calls: everything it needs (argv, envp) is built
 * before the clone, since the agent is multithreaded and the child shares its memory. */
#include "kubelet/runtime/spawn.h"

#include "lib/clock.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **build_envp(const char *const *extra);

/* In the child: report errno on the status pipe and exit. */
static void __attribute__((noreturn)) child_fail(int status_fd, int error)
{
  ssize_t n = write(status_fd, &error, sizeof error);
  (void)n;
  _exit(127);
}

/* What the child needs, built before the clone. */
struct child_args {
  const struct spawn_opts *opts;
  char **envp;
  int child_stdin;
  int status_fd;
};

/* The child, on its own small stack in the agent's memory (CLONE_VM | CLONE_VFORK: no
 * copy of the agent's page tables, which a fork of this multithreaded process with tens
 * of MiB mapped would make and then fault on copy-on-write): system calls only, until
 * execve or _exit, while the calling thread waits. */
static int
child_main(void *arg)
{
  const struct child_args *a = arg;
  int sfd = a->status_fd;
  if (a->opts->new_session)
    setsid();
  if (a->opts->cgroup_view) {
    if (unshare(CLONE_NEWNS) < 0)
      child_fail(sfd, errno);
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
      child_fail(sfd, errno);
    if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
      child_fail(sfd, errno);
  }
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  /* Move every source out of the way first so dup2 targets cannot clobber one. */
  int src[3] = {a->child_stdin, a->opts->stdout_fd, a->opts->stderr_fd};
  for (int i = 0; i < 3; i++)
    src[i] = fcntl(src[i] >= 0 ? src[i] : null_fd, F_DUPFD_CLOEXEC, 100);
  int moved[64];
  size_t n_pass = a->opts->n_pass_fds < 64 ? a->opts->n_pass_fds : 64;
  for (size_t i = 0; i < n_pass; i++)
    moved[i] = fcntl(a->opts->pass_fds[i], F_DUPFD_CLOEXEC, 100);
  for (int i = 0; i < 3; i++)
    if (src[i] < 0 || dup2(src[i], i) < 0)
      child_fail(sfd, errno);
  for (size_t i = 0; i < n_pass; i++)
    if (moved[i] < 0 || dup2(moved[i], 3 + (int)i) < 0)
      child_fail(sfd, errno);
  if (sfd < 3 + (int)n_pass) {
    sfd = fcntl(sfd, F_DUPFD_CLOEXEC, 3 + (int)n_pass);
    if (sfd < 0)
      _exit(127);
  }
  close_range(3 + (unsigned)n_pass, ~0U, CLOSE_RANGE_CLOEXEC);
  /* handlers are the agent's (this child shares its memory): back to the defaults
   * before the signals the parent blocked for the clone are let through */
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) {
      sa.sa_handler = SIG_DFL;
      sa.sa_flags = 0;
      (void)sigaction(sig, &sa, NULL);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(a->opts->argv[0], (char *const *)a->opts->argv, a->envp);
  child_fail(sfd, errno);
  return 127;
}

#define CHILD_STACK_SIZE (64 * 1024)

pid_t
spawn_start(const struct spawn_opts *opts, k8c_err *err)
{
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  int stdin_pipe[2] = {-1, -1};
  if (opts->stdin_data && pipe2(stdin_pipe, O_CLOEXEC) < 0) {
    close(status_pipe[0]);
    close(status_pipe[1]);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  }
  char **envp = build_envp(opts->extra_env);
  int child_stdin = opts->stdin_data ? stdin_pipe[0] : opts->stdin_fd;

  struct child_args args = {
      .opts = opts, .envp = envp, .child_stdin = child_stdin, .status_fd = status_pipe[1]};
  pid_t pid = -1;
  int fork_errno = 0;
  char *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    fork_errno = errno;
  } else {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = clone(child_main, stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    fork_errno = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, CHILD_STACK_SIZE);
  }
  close(status_pipe[1]);
  if (stdin_pipe[0] >= 0)
    close(stdin_pipe[0]);
  for (char **e = envp; *e; e++)
    free(*e);
  free(envp);
  if (pid < 0) {
    close(status_pipe[0]);
    if (stdin_pipe[1] >= 0)
      close(stdin_pipe[1]);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "fork: %s", strerror(fork_errno));
  }
  int child_errno = 0;
  ssize_t n;
  do
    n = read(status_pipe[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (n == sizeof child_errno) {
    if (stdin_pipe[1] >= 0)
      close(stdin_pipe[1]);
    waitpid(pid, NULL, 0);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "starting %s: %s", opts->argv[0],
                     strerror(child_errno));
  }
  if (opts->stdin_data) {
    /* Small payloads (CNI configs, JSON) fit the pipe buffer; write all, ignore EPIPE. */
    size_t len = strlen(opts->stdin_data), off = 0;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    while (off < len) {
      ssize_t w = write(stdin_pipe[1], opts->stdin_data + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (size_t)w;
    }
    sigaction(SIGPIPE, &old, NULL);
    close(stdin_pipe[1]);
  }
  return pid;
}

int
spawn_wait(pid_t pid, int timeout_ms, int *status, k8c_err *err)
{
  int64_t deadline = timeout_ms < 0 ? 0 : clock_monotonic_ms() + timeout_ms;
  int delay_us = 200;
  for (;;) {
    pid_t r = waitpid(pid, status, timeout_ms < 0 ? 0 : WNOHANG);
    if (r == pid)
      return 0;
    if (r < 0 && errno != EINTR)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "waitpid %d: %s", (int)pid, strerror(errno));
    if (timeout_ms >= 0 && clock_monotonic_ms() >= deadline)
      return k8c_error(err, 504, K8C_REASON_TIMEOUT, "process %d still running after %d ms",
                       (int)pid, timeout_ms);
    if (r == 0) {
      struct timespec ts = {0, delay_us * 1000L};
      nanosleep(&ts, NULL);
      if (delay_us < 20000)
        delay_us *= 2;
    }
  }
}

int
spawn_run(const struct spawn_opts *opts, int timeout_ms, char **output, k8c_err *err)
{
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  struct spawn_opts o = *opts;
  o.stdout_fd = out_pipe[1];
  if (opts->merge_stderr)
    o.stderr_fd = out_pipe[1];
  pid_t pid = spawn_start(&o, err);
  close(out_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    return -1;
  }
  char *text = xmalloc(4097);
  size_t len = 0, cap = 4096;
  int64_t deadline = clock_monotonic_ms() + (timeout_ms < 0 ? 3600 * 1000 : timeout_ms);
  bool timed_out = false;
  for (;;) {
    int left = (int)(deadline - clock_monotonic_ms());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {.fd = out_pipe[0], .events = POLLIN};
    int pr = poll(&pfd, 1, left);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr <= 0) {
      timed_out = pr == 0;
      break;
    }
    if (len == cap) {
      cap *= 2;
      text = xrealloc(text, cap + 1);
    }
    ssize_t n = read(out_pipe[0], text + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(out_pipe[0]);
  text[len] = '\0';
  if (timed_out)
    kill(pid, SIGKILL);
  int status = 0;
  if (spawn_wait(pid, -1, &status, err) < 0) {
    free(text);
    return -1;
  }
  if (timed_out) {
    free(text);
    return k8c_error(err, 504, K8C_REASON_TIMEOUT, "%s did not finish within %d ms", opts->argv[0],
                     timeout_ms);
  }
  if (output)
    *output = text;
  else
    free(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char **
build_envp(const char *const *extra)
{
  size_t n_env = 0, n_extra = 0;
  while (environ && environ[n_env])
    n_env++;
  while (extra && extra[n_extra])
    n_extra++;
  char **envp = xcalloc(n_env + n_extra + 1, sizeof *envp);
  size_t k = 0;
  for (size_t i = 0; i < n_extra; i++)
    envp[k++] = xstrdup(extra[i]);
  for (size_t i = 0; i < n_env; i++) {
    /* An extra entry overrides the inherited one of the same name. */
    const char *eq = strchr(environ[i], '=');
    size_t name_len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
    bool overridden = false;
    for (size_t j = 0; j < n_extra && !overridden; j++)
      overridden = strncmp(extra[j], environ[i], name_len) == 0 && extra[j][name_len] == '=';
    if (!overridden)
      envp[k++] = xstrdup(environ[i]);
  }
  return envp;
}
