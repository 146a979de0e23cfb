/* netns.h — namespaces held by bind mounts instead of by a process, as `ip netns add`
 * holds a network namespace: /proc/self/ns/<type> of a short-lived child that unshared
 * them is bind-mounted onto an empty file. The namespace lives until the file is
 * unmounted (and no process is left in it). */
#ifndef K8C_KUBELET_CNI_NETNS_H
#define K8C_KUBELET_CNI_NETNS_H

#include "lib/err.h"

/* Creates new namespaces and binds each onto its path; a NULL path skips that type.
 * The parent directories must exist. hostname (may be NULL) is set in the new UTS
 * namespace. On failure nothing is left mounted. */
int ns_create_bound(const char *net_path, const char *uts_path, const char *ipc_path,
                    const char *hostname, k8c_err *err);

/* Unmounts and unlinks a bound namespace file; a missing file is success. */
int ns_remove_bound(const char *path, k8c_err *err);

/* One new network namespace at dir/name (dir is made a shared mount first, as `ip netns`
 * does). *path_out (caller frees) receives the full path. */
int netns_create(const char *dir, const char *name, char **path_out, k8c_err *err);

#endif
