/* backend.h — what the kubelet's streaming server needs from whoever runs the
 * containers: where a container's log file is, how to run a command in it (or attach to
 * its main process), and how to reach a port inside the pod. The pod worker implements
 * this over the runtime; `k8c testing-kubelet-server` implements it over host processes.
 * Design: plain C values and file descriptors only, no Kubernetes objects. */
#ifndef K8C_KUBELET_SERVER_BACKEND_H
#define K8C_KUBELET_SERVER_BACKEND_H

#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>

/* The container a request names. pod_uid may be NULL (the URL form without a uid);
 * container is NULL for port-forward. Borrowed for the call. */
struct stream_target {
  const char *namespace_;
  const char *pod;
  const char *pod_uid;
  const char *container;
};

/* A process whose stdio the server relays. The backend fills the fds; the server
 * closes each one it is done with and sets it to -1, so finish() closes only those
 * still >= 0. With a tty, stdout_fd and stdin_fd are separate fds (dups) of the
 * terminal and stderr_fd is -1. */
struct stream_process {
  int stdin_fd;  /* write end; -1 unless with_stdin */
  int stdout_fd; /* read end; always given */
  int stderr_fd; /* read end; -1 with a tty */
  void *handle;  /* the backend's own state (pid, process file ...) */
};

struct stream_backend {
  void *ctx;
  /* The CRI log file of the container's current run (previous: the run before);
   * *path is caller-owned. Fail with 404/400 and upstream's wording, e.g.
   * `previous terminated container "c" in pod "p" not found`. */
  int (*log_path)(void *ctx, const struct stream_target *t, bool previous, char **path,
                  k8c_err *err);
  /* Optional: 1 while the container runs, 0 once it stopped (log -f ends then). */
  int (*container_running)(void *ctx, const struct stream_target *t);
  /* Runs argv (NULL-terminated) in the container. */
  int (*exec)(void *ctx, const struct stream_target *t, const char *const *argv, bool tty,
              bool with_stdin, struct stream_process *proc, k8c_err *err);
  /* Optional (NULL: attach answers 501): connects to the main process's stdio. */
  int (*attach)(void *ctx, const struct stream_target *t, bool tty, bool with_stdin,
                struct stream_process *proc, k8c_err *err);
  /* Ends an exec or attach once its output is drained (or the client left: kill is
   * true and an exec'd process should be killed). Closes the fds still >= 0, reaps,
   * fills *exit_code (attach: the container's if it exited, else 0), frees handle. */
  int (*finish)(void *ctx, struct stream_process *proc, bool kill, int *exit_code, k8c_err *err);
  /* Optional: the client's terminal size changed (tty sessions). */
  void (*resize)(void *ctx, struct stream_process *proc, unsigned width, unsigned height);
  /* A connected socket to port inside the pod's network namespace; *fd caller-owned. */
  int (*port_forward)(void *ctx, const struct stream_target *t, uint16_t port, int *fd,
                      k8c_err *err);
};

#endif
