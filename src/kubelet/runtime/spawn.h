/* spawn.h — starting the helper programs the runtime drives (conmon, crun/runc, CNI
 * plugins) with chosen stdio, passed-through fds and extra environment.
 *
 * With cgroup_view set, the child first enters a private mount namespace (a slave of the
 * host's, so unmounts below the run dir still reach it) with /sys/fs/cgroup/unified
 * unmounted: crun 1.8 refuses the hybrid cgroup layout and runs fine without that mount. */
#ifndef K8C_KUBELET_RUNTIME_SPAWN_H
#define K8C_KUBELET_RUNTIME_SPAWN_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct spawn_opts {
  const char *const *argv;      /* argv[0] is the program's absolute path */
  const char *const *extra_env; /* "K=V" added to the inherited environment; may be NULL */
  const char *stdin_data;       /* written to the child's stdin, then closed; or */
  int stdin_fd;                 /* used when stdin_data is NULL; -1 for /dev/null */
  int stdout_fd, stderr_fd;     /* -1 for /dev/null */
  const int *pass_fds;          /* pass_fds[i] becomes fd 3+i in the child */
  size_t n_pass_fds;
  bool cgroup_view;  /* private mount namespace without the hybrid unified mount */
  bool new_session;  /* setsid() so terminal signals of the agent do not reach it */
  bool merge_stderr; /* spawn_run: collect stderr with stdout (else stderr_fd applies) */
};

/* Forks and execs; returns the child's pid (the caller reaps it) or -1. An exec failure
 * is reported here, not as an exit status. */
pid_t spawn_start(const struct spawn_opts *opts, k8c_err *err);

/* Waits up to timeout_ms (-1: forever) for pid; returns 0 and its wait status, or -1
 * with err on timeout (the child is left running). */
int spawn_wait(pid_t pid, int timeout_ms, int *status, k8c_err *err);

/* Runs a program to completion, collecting stdout (and stderr, if merge_stderr) into
 * *output (caller frees; may be NULL to discard). Returns the exit code (128+signal when
 * killed), or -1 with err if it could not run or exceeded timeout_ms (then it is killed). */
int spawn_run(const struct spawn_opts *opts, int timeout_ms, char **output, k8c_err *err);

#endif
