/* runtime_internal.h — what the runtime's files share: the context struct, the run-dir
 * layout and the one way to invoke the OCI runtime. Not for use outside runtime/. */
#ifndef K8C_KUBELET_RUNTIME_INTERNAL_H
#define K8C_KUBELET_RUNTIME_INTERNAL_H

#include "kubelet/runtime/runtime.h"

#include <jansson.h>

struct runtime {
  char *run_dir;
  char *data_dir;
  char *oci_runtime;
  char *conmon;
  char *cni_bin_dir;
  char *cgroup_parent;
  char *bridge;
  char *pod_cidr;
  char *oci_state_dir; /* --root for the OCI runtime, per runtime binary */
  char *ipam_dir;
  enum cgroup_mode cgroup_mode;
  bool hybrid_cgroups;    /* v1 with a cgroup2 mount at /sys/fs/cgroup/unified */
  struct cni_network net; /* points into the strings above */
};

/* True if id is safe as a file name and an OCI id: [A-Za-z0-9_.-], 1..128, not "." or "..". */
bool runtime_valid_id(const char *id);

/* Runs `<oci runtime> --root <state> args...` (in the cgroup view on hybrid hosts); returns its
 * exit code (output, caller frees, may be NULL: stdout+stderr) or -1 with err. */
int runtime_oci_run(struct runtime *rt, const char *const *args, char **output, k8c_err *err);

/* config.json for a container; the bundle's rootfs is "rootfs". Caller owns the result. */
json_t *oci_spec_build(const struct runtime *rt, const struct container_spec *spec,
                       const char *cgroups_path, k8c_err *err);

/* Writes the process.json for `<runtime> exec --process`: the container's own process
 * section with argv, extra env and (terminal) a pty of width x height (0: default).
 * Returns its path (caller frees and unlinks) or NULL with err (404: unknown id). */
char *runtime_exec_process_file(struct runtime *rt, const char *id, const char *const *argv,
                                const char *const *env, bool terminal, unsigned width,
                                unsigned height, k8c_err *err);

/* The RuntimeDefault seccomp profile in OCI form (new reference). */
json_t *seccomp_runtime_default(void);

/* Wall clock in ns since the epoch. */
int64_t runtime_now_ns(void);

/* Loads a JSON record file; NULL with err (404 when missing). */
json_t *runtime_load_json(const char *path, k8c_err *err);
/* Writes a JSON record atomically. */
int runtime_save_json(const char *path, json_t *record, k8c_err *err);

#endif
