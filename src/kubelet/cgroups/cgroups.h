/* cgroups.h — pod cgroups for the node agent, on cgroup v1 (per-controller hierarchies,
 * including the hybrid layout with /sys/fs/cgroup/unified) and pure cgroup v2.
 *
 * Paths are hierarchy-relative, as OCI's cgroupsPath is ("/k8c/kubepods/burstable/pod<uid>"),
 * laid out as upstream's cgroupfs driver does. Removal walks every mounted hierarchy, so a
 * directory the OCI runtime created in a controller we never touch is still cleaned up. */
#ifndef K8C_KUBELET_CGROUPS_CGROUPS_H
#define K8C_KUBELET_CGROUPS_CGROUPS_H

#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>

enum cgroup_mode { CGROUP_MODE_V1 = 1, CGROUP_MODE_V2 = 2 };

/* Kubernetes QoS classes; they pick the pod cgroup's parent. */
enum pod_qos { POD_QOS_GUARANTEED = 0, POD_QOS_BURSTABLE, POD_QOS_BESTEFFORT };

#define CGROUP_ROOT "/sys/fs/cgroup"

/* v2 when /sys/fs/cgroup is a cgroup2 filesystem, v1 when it is a tmpfs of hierarchies. */
int cgroup_detect(enum cgroup_mode *mode, k8c_err *err);

/* "/<parent>/kubepods[/burstable|/besteffort]/pod<uid>"; caller frees. */
char *cgroup_pod_path(const char *parent, enum pod_qos qos, const char *pod_uid);

/* Creates path (and its ancestors) in cpu, cpuacct, memory and pids on v1; one directory
 * with those controllers enabled on v2. Existing directories are fine. */
int cgroup_create(enum cgroup_mode mode, const char *path, k8c_err *err);

/* Removes path and everything below it in every mounted cgroup hierarchy, children first.
 * Missing directories are fine; a cgroup that still has processes after ~2 s fails (EBUSY). */
int cgroup_remove(const char *path, k8c_err *err);

/* True if path exists in any mounted hierarchy. */
bool cgroup_exists(const char *path);

/* Current memory usage in bytes (memory.usage_in_bytes on v1, memory.current on v2). */
int cgroup_memory_usage(enum cgroup_mode mode, const char *path, uint64_t *bytes, k8c_err *err);

/* Number of OOM kills in the cgroup (oom_kill of memory.oom_control on v1, of
 * memory.events on v2). */
int cgroup_oom_kills(enum cgroup_mode mode, const char *path, uint64_t *count, k8c_err *err);

/* Writes "value" to file in the controller's directory for path ("memory",
 * "memory.limit_in_bytes", "1048576"); on v2 controller is ignored. */
int cgroup_write(enum cgroup_mode mode, const char *controller, const char *path, const char *file,
                 const char *value, k8c_err *err);

#endif
