/* ingress_nginx.c — running nginx: fork/exec into a new session (so the master and its
 * workers form one process group that can be killed as a whole when the master dies),
 * a supervisor thread blocked in waitpid that restarts it with back-off, and the
 * check-then-rename-then-SIGHUP reload, which counts as done only once the previous
 * configuration's workers have stopped taking connections. */
#include "ingress/ingress_nginx.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Like a crash-looping container: a port held by someone else does not cost a restart
 * (and nginx's own 2.5 s of bind retries) every 5 s forever. */
#define MAX_BACKOFF_MS 30000

struct nginx_process {
  char *bin;
  char *state_dir;
  char *conf;        /* STATE/nginx.conf */
  char *pid_file;    /* STATE/nginx.pid */
  char *socket_file; /* STATE/unavailable.sock (see ingress_render.c) */

  pthread_mutex_t mu;  /* guards below */
  pthread_cond_t cond; /* stopping, exits */
  pid_t pid;
  unsigned starts;
  bool thread_started;
  bool stopping;
  pthread_t thread;
};

/* ---------- children ---------- */

/* In the child between fork and exec: only async-signal-safe calls. */
static void
child_prepare(int stderr_fd)
{
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int s = 1; s < 32; s++)
    (void)sigaction(s, &dfl, NULL);
  (void)setsid();
  if (stderr_fd >= 0)
    (void)dup2(stderr_fd, 2);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    (void)dup2(devnull, 0);
    (void)dup2(devnull, 1);
  }
  (void)syscall(SYS_close_range, 3U, ~0U, 0U);
}

static pid_t
spawn_master(struct nginx_process *p)
{
  char *argv[] = {p->bin, "-p", p->state_dir, "-e", NULL, "-c", p->conf, NULL};
  char *errlog = xasprintf("%s/error.log", p->state_dir);
  argv[4] = errlog;
  pid_t pid = fork();
  if (pid == 0) {
    child_prepare(-1);
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    execv(p->bin, argv);
    _exit(127);
  }
  free(errlog);
  return pid;
}

/* nginx -t on path: 0 if it passes; -1 with its stderr in err. */
static int
check_config(struct nginx_process *p, const char *path, int *bad_line, k8c_err *err)
{
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  char *errlog = xasprintf("%s/error.log", p->state_dir);
  char *argv[] = {p->bin, "-t", "-q", "-p", p->state_dir, "-e", errlog, "-c", (char *)path, NULL};
  pid_t pid = fork();
  if (pid == 0) {
    child_prepare(fds[1]);
    execv(p->bin, argv);
    _exit(127);
  }
  free(errlog);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "fork: %s", strerror(errno));
  }
  buf out;
  buf_init(&out);
  char chunk[4096];
  ssize_t n;
  while ((n = read(fds[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      buf_append(&out, chunk, (size_t)n);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  int rc = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const char *text = buf_cstr(&out);
    if (bad_line) {
      /* "... in /state/nginx.conf.new:42" */
      const char *at = strstr(text, path);
      *bad_line = at && at[strlen(path)] == ':' ? atoi(at + strlen(path) + 1) : 0;
    }
    rc = k8c_error(err, 422, K8C_REASON_INVALID, "nginx -t: %.*s", (int)strcspn(text, "\n"), text);
  }
  buf_free(&out);
  return rc;
}

/* ---------- the supervisor ---------- */

static void
sleep_unless_stopping(struct nginx_process *p, int ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&p->mu);
  if (!p->stopping)
    pthread_cond_timedwait(&p->cond, &p->mu, &ts);
  pthread_mutex_unlock(&p->mu);
}

static void *
supervise(void *arg)
{
  struct nginx_process *p = arg;
  int backoff_ms = 100;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    (void)unlink(p->pid_file);
    (void)unlink(p->socket_file); /* a killed master leaves it behind: bind would fail */
    pid_t pid = spawn_master(p);
    if (pid > 0) {
      p->pid = pid;
      p->starts++;
    }
    pthread_mutex_unlock(&p->mu);
    if (pid < 0) {
      log_error("ingress: starting nginx: %s", strerror(errno));
      sleep_unless_stopping(p, backoff_ms);
      continue;
    }
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    (void)kill(-pid, SIGKILL); /* workers left behind would hold the ports */
    pthread_mutex_lock(&p->mu);
    p->pid = 0;
    bool stopping = p->stopping;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (stopping)
      break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - started.tv_sec > 10)
      backoff_ms = 100; /* it ran for a while: start over quickly */
    log_warn("ingress: nginx (pid %d) exited (%s %d); restarting in %d ms", (int)pid,
             WIFSIGNALED(status) ? "signal" : "status",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), backoff_ms);
    sleep_unless_stopping(p, backoff_ms);
    backoff_ms = backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff_ms * 2;
  }
  return NULL;
}

/* The master has set up its signal handlers once its pid file names it. */
static bool
master_ready(struct nginx_process *p, pid_t pid)
{
  FILE *f = fopen(p->pid_file, "r");
  if (f == NULL)
    return false;
  int v = 0;
  bool ok = fscanf(f, "%d", &v) == 1 && v == (int)pid;
  fclose(f);
  return ok;
}

/* ---------- reloads ---------- */

/* /proc/PID/NAME into text (NUL-terminated, cut to size - 1); false when pid is gone. */
static bool
read_proc(pid_t pid, const char *name, char *text, size_t size)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return false;
  size_t n = fread(text, 1, size - 1, f);
  fclose(f);
  text[n] = '\0';
  return true;
}

/* ppid and state of pid from /proc/PID/stat; false when it is gone. */
static bool
proc_parent(pid_t pid, pid_t *ppid, char *state)
{
  char text[512];
  if (!read_proc(pid, "stat", text, sizeof text))
    return false;
  const char *after = strrchr(text, ')'); /* the command may hold spaces and parentheses */
  int parent = 0;
  if (after == NULL || sscanf(after + 1, " %c %d", state, &parent) != 2)
    return false;
  *ppid = parent;
  return true;
}

/* The master's children (its workers) now: at most max pids in out; returns the count. */
static size_t
workers_of(pid_t master, pid_t *out, size_t max)
{
  DIR *d = opendir("/proc");
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *e;
  while (n < max && (e = readdir(d)) != NULL) {
    pid_t pid = (pid_t)atoi(e->d_name);
    pid_t ppid = 0;
    char state = 0;
    if (pid > 0 && proc_parent(pid, &ppid, &state) && ppid == master && state != 'Z')
      out[n++] = pid;
  }
  closedir(d);
  return n;
}

/* An old worker no longer takes connections once it is gone or has begun its graceful
 * shutdown: nginx retitles it "... is shutting down" as it closes its listening
 * sockets. */
static bool
worker_retired(pid_t pid, pid_t master)
{
  pid_t ppid = 0;
  char state = 0;
  if (!proc_parent(pid, &ppid, &state) || ppid != master || state == 'Z')
    return true;
  char title[256];
  return !read_proc(pid, "cmdline", title, sizeof title) || strstr(title, "shutting down") != NULL;
}

/* After SIGHUP nginx starts the new workers, lets them run beside the old ones for
 * 100 ms (both accept on the shared listening sockets, so answers alternate between
 * the two configurations), then tells the old ones to quit. Waits (5 s at most) until
 * every old worker is out of the way, so that once a reload is reported applied every
 * answer comes from the new configuration. */
static void
wait_old_workers(pid_t master, const pid_t *old, size_t n_old)
{
  for (int i = 0; i < 500; i++) {
    size_t left = 0;
    for (size_t w = 0; w < n_old; w++)
      left += !worker_retired(old[w], master);
    if (left == 0)
      return;
    usleep(10000);
  }
  log_warn("ingress: nginx (pid %d) still runs workers of the previous configuration after 5 s",
           (int)master);
}

/* ---------- public ---------- */

struct nginx_process *
nginx_process_new(const char *nginx_bin, const char *state_dir)
{
  struct nginx_process *p = xcalloc(1, sizeof *p);
  p->bin = xstrdup(nginx_bin);
  p->state_dir = xstrdup(state_dir);
  p->conf = xasprintf("%s/nginx.conf", state_dir);
  p->pid_file = xasprintf("%s/nginx.pid", state_dir);
  p->socket_file = xasprintf("%s/unavailable.sock", state_dir);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cond, NULL);
  return p;
}

int
nginx_process_apply(struct nginx_process *p, const char *config, int *bad_line, k8c_err *err)
{
  if (bad_line)
    *bad_line = 0;
  char *tmp = xasprintf("%s/nginx.conf.new", p->state_dir);
  FILE *f = fopen(tmp, "we");
  if (f == NULL) {
    int rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "writing %s: %s", tmp, strerror(errno));
    free(tmp);
    return rc;
  }
  bool wrote = fputs(config, f) >= 0;
  if (fclose(f) != 0 || !wrote) {
    int rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "writing %s failed", tmp);
    free(tmp);
    return rc;
  }
  if (check_config(p, tmp, bad_line, err) < 0) {
    free(tmp);
    return -1;
  }
  if (rename(tmp, p->conf) < 0) {
    int rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "renaming %s: %s", tmp, strerror(errno));
    free(tmp);
    return rc;
  }
  free(tmp);
  pthread_mutex_lock(&p->mu);
  if (!p->thread_started) {
    int rc = pthread_create(&p->thread, NULL, supervise, p);
    p->thread_started = rc == 0;
    pthread_mutex_unlock(&p->mu);
    if (rc != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "starting the nginx supervisor: %s",
                       strerror(rc));
    return 0;
  }
  pid_t pid = p->pid;
  pthread_mutex_unlock(&p->mu);
  if (pid <= 0)
    return 0; /* (re)starting: it will read the new file */
  /* A SIGHUP before nginx installs its handlers would kill it: wait for its pid file,
   * and for its first workers, which must be known to wait for their retirement. */
  pid_t old[64];
  size_t n_old = 0;
  for (int i = 0; i < 200; i++) {
    if (master_ready(p, pid) && (n_old = workers_of(pid, old, sizeof old / sizeof *old)) > 0)
      break;
    usleep(10000);
  }
  if (kill(pid, SIGHUP) < 0) {
    if (errno == ESRCH)
      return 0; /* it died: the supervisor starts it again on the new file */
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "signalling nginx: %s", strerror(errno));
  }
  wait_old_workers(pid, old, n_old);
  return 0;
}

pid_t
nginx_process_pid(struct nginx_process *p)
{
  pthread_mutex_lock(&p->mu);
  pid_t pid = p->pid;
  pthread_mutex_unlock(&p->mu);
  return pid;
}

unsigned
nginx_process_starts(struct nginx_process *p)
{
  pthread_mutex_lock(&p->mu);
  unsigned n = p->starts;
  pthread_mutex_unlock(&p->mu);
  return n;
}

void
nginx_process_free(struct nginx_process *p)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->cond);
  if (p->pid > 0) {
    (void)kill(p->pid, SIGTERM);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3;
    while (p->pid > 0)
      if (pthread_cond_timedwait(&p->cond, &p->mu, &ts) == ETIMEDOUT) {
        (void)kill(-p->pid, SIGKILL);
        break;
      }
  }
  bool joined = p->thread_started;
  pthread_mutex_unlock(&p->mu);
  if (joined)
    pthread_join(p->thread, NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cond);
  free(p->bin);
  free(p->state_dir);
  free(p->conf);
  free(p->pid_file);
  free(p->socket_file);
  free(p);
}
