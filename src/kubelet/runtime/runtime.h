/* runtime.h — the container runtime the kubelet's pod worker calls: pod sandboxes
 * (namespaces + CNI network + per-pod hostname/hosts/resolv.conf) and containers (OCI
 * bundles run by crun or runc under conmon). Plain C structs in; no Kubernetes objects.
 *
 * Everything lives in files under the run dir, so a restarted agent re-adopts what it
 * finds there (runtime_sandbox_list / runtime_container_list):
 *   <run>/netns/<sandbox>            bind-mounted network namespace
 *   <run>/sandboxes/<sandbox>/       uts, ipc (bind-mounted namespaces), hostname, hosts,
 *                                    resolv.conf, sandbox.json (record incl. CNI result)
 *   <run>/containers/<id>/           OCI bundle: config.json, rootfs (overlay), k8c.json
 *                                    (record), pidfile, conmon.pid, exit/ (conmon)
 *   <data>/containers/<id>/          overlay upper and work dirs
 *   <data>/cni/ipam/                 host-local leases
 * Sandbox design: no pause process. The network, UTS and IPC namespaces are created by a
 * short-lived child and held by bind mounts (as `ip netns` holds a network namespace), so
 * a sandbox costs no process at all; containers join them by path. */
#ifndef K8C_KUBELET_RUNTIME_RUNTIME_H
#define K8C_KUBELET_RUNTIME_RUNTIME_H

#include "kubelet/cgroups/cgroups.h"
#include "kubelet/cni/cni.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct runtime_config {
  const char *run_dir;       /* e.g. /run/k8c */
  const char *data_dir;      /* e.g. /var/lib/k8c/agent */
  const char *oci_runtime;   /* /usr/bin/crun (default when NULL) or /usr/bin/runc */
  const char *conmon;        /* default /usr/bin/conmon */
  const char *cni_bin_dir;   /* default /usr/lib/cni */
  const char *cgroup_parent; /* default "k8c": pods go under /<parent>/kubepods/... */
  const char *bridge;        /* default "k8c0" */
  const char *pod_cidr;      /* the node's pod CIDR, e.g. "10.42.0.0/24" */
};

struct runtime;

/* Opens the runtime (creating its directories; making the namespace and bundle
 * directories shared mounts). The config strings are copied. Caller frees with
 * runtime_close, which leaves sandboxes and containers running. */
struct runtime *runtime_open(const struct runtime_config *config, k8c_err *err);
void runtime_close(struct runtime *rt);
enum cgroup_mode runtime_cgroup_mode(const struct runtime *rt);
/* Undoes runtime_open's shared bind mounts of the run dir's subdirectories (for an
 * uninstall or a test's cleanup, once no sandbox or container is left). */
int runtime_unmount_run_dirs(const struct runtime_config *config, k8c_err *err);

/* ---- pod sandboxes ---- */

struct sandbox_spec {
  const char *id; /* unique, [A-Za-z0-9_.-], e.g. the pod UID */
  const char *pod_uid;
  const char *pod_name;
  const char *pod_namespace;
  const char *hostname;                 /* default pod_name */
  bool host_network;                    /* no netns, no CNI; host UTS too */
  bool host_ipc;                        /* no IPC namespace */
  enum pod_qos qos;                     /* picks the pod cgroup's parent */
  const char *const *dns_nameservers;   /* NULL-terminated; NULL: none */
  const char *const *dns_searches;      /* NULL-terminated */
  const char *const *dns_options;       /* NULL-terminated, e.g. "ndots:5" */
  const char *const *host_aliases;      /* NULL-terminated extra /etc/hosts lines */
  const struct cni_port_mapping *ports; /* hostPort mappings */
  size_t n_ports;
};

struct sandbox_info {
  char *id;
  char *ip;          /* pod IP; the node's choice (NULL) for hostNetwork pods */
  char *netns_path;  /* NULL for hostNetwork */
  char *uts_path;    /* NULL for hostNetwork */
  char *ipc_path;    /* NULL for hostIPC */
  char *dir;         /* <run>/sandboxes/<id> */
  char *cgroup_path; /* pod cgroup, e.g. /k8c/kubepods/besteffort/pod<uid> */
  char *hostname;
  bool host_network;
};

/* Creates the sandbox; on failure nothing is left behind. *info is filled (free with
 * sandbox_info_free). */
int runtime_sandbox_create(struct runtime *rt, const struct sandbox_spec *spec,
                           struct sandbox_info *info, k8c_err *err);
/* The same in two steps, so that containers can be created while CNI runs: _prepare
 * makes everything but the pod network (record, pod cgroup, namespaces, hostname, hosts
 * and resolv.conf files; for a hostNetwork pod that is all) and fills *info without an
 * IP; _connect then runs CNI ADD in the netns, records the IP and adds it to the hosts
 * file in place (containers created meanwhile bind-mount that very file). Start no
 * container before _connect succeeded. A failed _prepare leaves nothing behind; after a
 * failed _connect the caller removes the containers and then the sandbox. The two may
 * run on different threads; *ip is the caller's to free. */
int runtime_sandbox_prepare(struct runtime *rt, const struct sandbox_spec *spec,
                            struct sandbox_info *info, k8c_err *err);
int runtime_sandbox_connect(struct runtime *rt, const char *id, char **ip, k8c_err *err);
/* Reads a sandbox's record back (404 if unknown). */
int runtime_sandbox_get(struct runtime *rt, const char *id, struct sandbox_info *info,
                        k8c_err *err);
/* CNI DEL, unmounts namespaces, removes files and the pod cgroup. Its containers must be
 * removed first. Idempotent: an unknown sandbox is success. */
int runtime_sandbox_remove(struct runtime *rt, const char *id, k8c_err *err);
/* Sandbox ids found under the run dir; NULL-terminated, free with fs_strv_free. */
char **runtime_sandbox_list(struct runtime *rt);
void sandbox_info_free(struct sandbox_info *info);

/* ---- containers ---- */

enum mount_kind { MOUNT_BIND = 0, MOUNT_TMPFS };

struct mount_spec {
  enum mount_kind kind;
  const char *source; /* host path for binds */
  const char *destination;
  bool readonly;
  uint64_t tmpfs_size; /* bytes; 0: tmpfs default */
};

struct container_resources {
  uint64_t cpu_shares;  /* 0: unset (v1 shares; converted to weight on v2) */
  int64_t cpu_quota;    /* us per period; 0: unlimited */
  uint64_t cpu_period;  /* us; 0: 100000 */
  int64_t memory_limit; /* bytes; 0: unlimited (swap limited to the same) */
  int64_t pids_limit;   /* 0: unlimited */
};

enum seccomp_mode { SECCOMP_UNCONFINED = 0, SECCOMP_RUNTIME_DEFAULT };

struct container_spec {
  const char *id;   /* unique, [A-Za-z0-9_.-] */
  const char *name; /* the container's name in the pod */
  const struct sandbox_info *sandbox;
  const char *const
      *argv;              /* NULL-terminated, argv[0] resolved in the image's PATH by the runtime */
  const char *const *env; /* NULL-terminated "K=V" */
  const char *cwd;        /* default "/" */
  uint32_t uid, gid;
  const uint32_t *additional_gids;
  size_t n_additional_gids;
  const char *const *lowerdirs; /* NULL-terminated, top layer first */
  bool readonly_rootfs;
  const struct mount_spec *mounts;
  size_t n_mounts;
  struct container_resources resources;
  const char *const *cap_add;  /* NULL-terminated, "NET_ADMIN" or "CAP_NET_ADMIN" or "ALL" */
  const char *const *cap_drop; /* likewise */
  bool privileged;
  bool no_new_privileges;
  enum seccomp_mode seccomp;
  int oom_score_adj;
  bool tty;
  bool stdin_open;
  bool stdin_once;      /* stdin_open: the first attach that ends its stdin closes it for good */
  const char *log_path; /* CRI log file, e.g. /var/log/pods/<ns>_<pod>_<uid>/<c>/<n>.log */
};

enum container_status {
  CONTAINER_CREATED = 0,
  CONTAINER_RUNNING,
  CONTAINER_EXITED,
  CONTAINER_UNKNOWN
};

struct container_state {
  char *id;
  char *name;
  char *sandbox_id;
  char *log_path;
  enum container_status status;
  int exit_code; /* valid when EXITED; 128+signal when killed */
  bool oom_killed;
  int64_t created_at_ns; /* wall clock, ns since the epoch; 0 if unknown */
  int64_t started_at_ns;
  int64_t finished_at_ns;
  pid_t pid; /* the container's init process, host pid namespace */
};

/* Builds the bundle, mounts the rootfs and starts conmon, which runs `<runtime> create`;
 * the container is then CREATED. On failure nothing is left behind; status 502 when the
 * OCI runtime refused to create the process (a missing executable, say): containerd
 * reports that when it starts the task, so the kubelet calls it RunContainerError. */
int runtime_container_create(struct runtime *rt, const struct container_spec *spec, k8c_err *err);
/* `<runtime> start`: the process runs its argv. */
int runtime_container_start(struct runtime *rt, const char *id, k8c_err *err);
/* Reads the state (exit code and OOM from conmon's files and the cgroup). Caller frees
 * with container_state_free. 404 for an unknown id. */
int runtime_container_state(struct runtime *rt, const char *id, struct container_state *state,
                            k8c_err *err);
/* SIGTERM, up to grace_seconds for it to exit, then SIGKILL. A stopped container is fine. */
int runtime_container_stop(struct runtime *rt, const char *id, int grace_seconds, k8c_err *err);
/* Sends one signal to the container's init process. */
int runtime_container_signal(struct runtime *rt, const char *id, int signo, k8c_err *err);
/* Deletes the runtime's state, unmounts the rootfs, removes bundle and upper dir. Kills a
 * running container first. Idempotent. */
int runtime_container_remove(struct runtime *rt, const char *id, k8c_err *err);
/* Memory usage and OOM kills counted so far in the container's cgroup (while it exists:
 * until runtime_container_remove). */
int runtime_container_memory(struct runtime *rt, const char *id, uint64_t *usage_bytes,
                             uint64_t *oom_kills, k8c_err *err);
/* Container ids found under the run dir; NULL-terminated, free with fs_strv_free. */
char **runtime_container_list(struct runtime *rt);
void container_state_free(struct container_state *state);

/* A process started in a running container by runtime_container_exec. */
struct exec_process {
  pid_t pid;          /* of the runtime's exec command; reap with runtime_exec_wait */
  int stdin_fd;       /* write end of the process's stdin (-1 unless stdin was asked for) */
  int stdout_fd;      /* read end of stdout */
  int stderr_fd;      /* read end of stderr */
  char *process_file; /* owned: the process.json, removed by runtime_exec_wait */
  bool uses_own_pty;  /* tty exec under runc: it relays our pty (resizes need SIGWINCH) */
};

/* Runs argv (NULL-terminated) in the container with env (extra "K=V", may be NULL).
 * The caller owns the fds and must reap the process. */
int runtime_container_exec(struct runtime *rt, const char *id, const char *const *argv,
                           const char *const *env, bool with_stdin, struct exec_process *proc,
                           k8c_err *err);
/* Waits up to timeout_ms (-1: forever) and closes the fds; *exit_code as a shell reports it. */
int runtime_exec_wait(struct exec_process *proc, int timeout_ms, int *exit_code, k8c_err *err);

#endif
