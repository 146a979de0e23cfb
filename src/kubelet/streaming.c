/* streaming.c — the pod worker's backend for the kubelet's streaming server
 * (src/kubelet/server/): `kubectl logs` reads the CRI log file of a container's current
 * or previous run, `exec` runs a process in the container through the runtime, and
 * `exec -t` gets a terminal (the pty master relayed as stdout/stdin), `attach` connects to
 * the main process through conmon, and
 * `port-forward` connects to the port from inside the pod's network namespace.
 * Design idea: everything is looked up in the runtime's files by the ids the pod worker
 * gives runs (<podUID>_<name>_<restart>), never in the workers' records, so streams need
 * no lock shared with syncs. */
#include "kubelet/kubelet_internal.h"

#include "apimachinery/meta.h"
#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/terminal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The pod's UID: the one the request names, else the cached pod's. Caller frees. */
static char *
pod_uid(struct kubelet *kl, const struct stream_target *t, k8c_err *err)
{
  pthread_mutex_lock(&kl->lock);
  bool ready = kl->ready;
  pthread_mutex_unlock(&kl->lock);
  if (!ready) {
    k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "the node agent is starting");
    return NULL;
  }
  cleanup_free char *key = xasprintf("%s/%s", t->namespace_, t->pod);
  cleanup_json json_t *pod = informer_get(kl->pod_informer, key);
  if (pod == NULL) {
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "pod \"%s\" not found", t->pod);
    return NULL;
  }
  if (t->pod_uid && *t->pod_uid && strcmp(t->pod_uid, meta_uid(pod) ?: "") != 0) {
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "pod \"%s\" with UID %s not found", t->pod,
              t->pod_uid);
    return NULL;
  }
  return xstrdup(meta_uid(pod) ?: "");
}

/* The id of the container's newest run (previous: the one before). Caller frees. */
static char *
run_id(struct kubelet *kl, const struct stream_target *t, bool previous, k8c_err *err)
{
  cleanup_free char *uid = pod_uid(kl, t, err);
  if (uid == NULL)
    return NULL;
  char **ids = runtime_container_list(kl->rt);
  int best = -1, second = -1;
  for (size_t i = 0; ids[i]; i++) {
    char u[64], name[128];
    int restart;
    if (!podworker_parse_container_id(ids[i], u, name, &restart) || strcmp(u, uid) != 0 ||
        strcmp(name, t->container ? t->container : "") != 0)
      continue;
    if (restart > best) {
      second = best;
      best = restart;
    } else if (restart > second) {
      second = restart;
    }
  }
  fs_strv_free(ids);
  int want = previous ? second : best;
  if (want < 0) {
    if (previous)
      k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                "previous terminated container \"%s\" in pod \"%s\" not found", t->container,
                t->pod);
    else
      k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                "container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating",
                t->container, t->pod);
    return NULL;
  }
  return podworker_container_id(uid, t->container, want);
}

static int
log_path(void *ctx, const struct stream_target *t, bool previous, char **path, k8c_err *err)
{
  struct kubelet *kl = ctx;
  cleanup_free char *id = run_id(kl, t, previous, err);
  if (id == NULL)
    return -1;
  struct container_state st;
  if (runtime_container_state(kl->rt, id, &st, err) < 0)
    return -1;
  *path = xstrdup(st.log_path ? st.log_path : "");
  container_state_free(&st);
  return 0;
}

static int
container_running(void *ctx, const struct stream_target *t)
{
  struct kubelet *kl = ctx;
  k8c_err err = {0};
  cleanup_free char *id = run_id(kl, t, false, &err);
  k8c_err_clear(&err);
  struct container_state st;
  if (id == NULL || runtime_container_state(kl->rt, id, &st, &err) < 0) {
    k8c_err_clear(&err);
    return 0;
  }
  int running = st.status == CONTAINER_RUNNING;
  container_state_free(&st);
  return running;
}

/* What an exec or attach session holds until finish(). */
struct stream_handle {
  bool attach;
  struct exec_process ep;   /* exec */
  int tty_fd;               /* exec with a terminal: for resizes; else -1 */
  struct attach_session as; /* attach */
  char *container_id;
};

static int
exec_in(void *ctx, const struct stream_target *t, const char *const *argv, bool tty,
        bool with_stdin, struct stream_process *proc, k8c_err *err)
{
  struct kubelet *kl = ctx;
  cleanup_free char *id = run_id(kl, t, false, err);
  if (id == NULL)
    return -1;
  if (!container_running(ctx, t))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "container %s is not valid for pod %s: not running", t->container, t->pod);
  struct stream_handle *h = xcalloc(1, sizeof *h);
  h->tty_fd = -1;
  int rc = tty ? runtime_container_exec_tty(kl->rt, id, argv, NULL, 0, 0, &h->ep, &h->tty_fd, err)
               : runtime_container_exec(kl->rt, id, argv, NULL, with_stdin, &h->ep, err);
  if (rc < 0) {
    free(h);
    return -1;
  }
  if (tty && !with_stdin) {
    close(h->ep.stdin_fd);
    h->ep.stdin_fd = -1;
  }
  proc->stdin_fd = h->ep.stdin_fd;
  proc->stdout_fd = h->ep.stdout_fd;
  proc->stderr_fd = h->ep.stderr_fd;
  proc->handle = h;
  return 0;
}

static int
attach_to(void *ctx, const struct stream_target *t, bool tty, bool with_stdin,
          struct stream_process *proc, k8c_err *err)
{
  struct kubelet *kl = ctx;
  char *id = run_id(kl, t, false, err);
  if (id == NULL)
    return -1;
  struct stream_handle *h = xcalloc(1, sizeof *h);
  h->attach = true;
  h->tty_fd = -1;
  h->container_id = id;
  if (runtime_container_attach(kl->rt, id, tty, with_stdin, &h->as, err) < 0) {
    free(h->container_id);
    free(h);
    return -1;
  }
  proc->stdin_fd = h->as.stdin_fd;
  proc->stdout_fd = h->as.stdout_fd;
  proc->stderr_fd = h->as.stderr_fd;
  proc->handle = h;
  return 0;
}

static int
finish(void *ctx, struct stream_process *proc, bool kill_it, int *exit_code, k8c_err *err)
{
  struct kubelet *kl = ctx;
  struct stream_handle *h = proc->handle;
  proc->handle = NULL;
  int rc = 0;
  if (h->attach) {
    /* the server closed (and set to -1) the fds it was done with */
    h->as.stdin_fd = proc->stdin_fd;
    h->as.stdout_fd = proc->stdout_fd;
    h->as.stderr_fd = proc->stderr_fd;
    proc->stdin_fd = proc->stdout_fd = proc->stderr_fd = -1;
    runtime_attach_close(&h->as);
    *exit_code = 0;
    struct container_state st;
    k8c_err ignored = {0};
    if (runtime_container_state(kl->rt, h->container_id, &st, &ignored) == 0) {
      if (st.status == CONTAINER_EXITED)
        *exit_code = st.exit_code;
      container_state_free(&st);
    }
    k8c_err_clear(&ignored);
    free(h->container_id);
  } else {
    h->ep.stdin_fd = proc->stdin_fd;
    h->ep.stdout_fd = proc->stdout_fd;
    h->ep.stderr_fd = proc->stderr_fd;
    proc->stdin_fd = proc->stdout_fd = proc->stderr_fd = -1;
    if (kill_it)
      kill(h->ep.pid, SIGKILL);
    rc = runtime_exec_wait(&h->ep, kill_it ? 5000 : -1, exit_code, err);
    if (h->tty_fd >= 0)
      close(h->tty_fd);
  }
  free(h);
  return rc;
}

static void
resize(void *ctx, struct stream_process *proc, unsigned width, unsigned height)
{
  struct kubelet *kl = ctx;
  struct stream_handle *h = proc->handle;
  k8c_err err = {0};
  int rc = 0;
  if (h->attach)
    rc = runtime_container_resize(kl->rt, h->container_id, width, height, &err);
  else if (h->tty_fd >= 0)
    rc = runtime_exec_resize(&h->ep, h->tty_fd, width, height, &err);
  if (rc < 0)
    log_debug("resize: %s", err.message);
  k8c_err_clear(&err);
}

struct netns_dial {
  const char *netns_path;
  uint16_t port;
  int fd;
  int error;
};

/* Runs on its own thread: setns only changes the calling thread's namespace. */
static void *
dial_in_netns(void *arg)
{
  struct netns_dial *d = arg;
  d->fd = -1;
  int ns = open(d->netns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    d->error = errno;
    if (ns >= 0)
      close(ns);
    return NULL;
  }
  close(ns);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    d->error = errno;
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  d->fd = fd;
  return NULL;
}

static int
port_forward(void *ctx, const struct stream_target *t, uint16_t port, int *fd, k8c_err *err)
{
  struct kubelet *kl = ctx;
  cleanup_free char *uid = pod_uid(kl, t, err);
  if (uid == NULL)
    return -1;
  struct sandbox_info sb;
  if (runtime_sandbox_get(kl->rt, uid, &sb, err) < 0)
    return -1;
  struct netns_dial d = {.netns_path = sb.netns_path, .port = port};
  if (sb.netns_path == NULL) { /* hostNetwork: the host's own loopback */
    d.netns_path = "/proc/self/ns/net";
  }
  pthread_t th;
  int rc = -1;
  if (pthread_create(&th, NULL, dial_in_netns, &d) != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "port-forward: cannot start a thread");
  } else {
    pthread_join(th, NULL);
    if (d.fd >= 0) {
      *fd = d.fd;
      rc = 0;
    } else {
      k8c_error(err, 500, K8C_REASON_INTERNAL,
                "error forwarding port %u to pod %s, uid : failed to connect to localhost:%u "
                "inside namespace \"%s\": %s",
                port, uid, port, uid, strerror(d.error));
    }
  }
  sandbox_info_free(&sb);
  return rc;
}

void
streaming_backend_init(struct kubelet *kl, struct stream_backend *b)
{
  *b = (struct stream_backend){.ctx = kl,
                               .log_path = log_path,
                               .container_running = container_running,
                               .exec = exec_in,
                               .attach = attach_to,
                               .finish = finish,
                               .resize = resize,
                               .port_forward = port_forward};
}
