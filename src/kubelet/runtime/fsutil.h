/* fsutil.h — small filesystem helpers the node runtime layers share (runtime, cni, cgroups):
 * recursive mkdir/remove, whole-file read/write, mount-table queries. Every function
 * reports failure through k8c_err, with the path in the message. */
#ifndef K8C_KUBELET_RUNTIME_FSUTIL_H
#define K8C_KUBELET_RUNTIME_FSUTIL_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with the given mode for the directories it creates. */
int fs_mkdir_p(const char *path, mode_t mode, k8c_err *err);
/* rm -rf that never crosses into another filesystem (a mount below path fails the removal
 * instead of emptying the mounted filesystem). A missing path is success. */
int fs_remove_tree(const char *path, k8c_err *err);
/* Writes data to path atomically (temp file + rename) with the given mode. */
int fs_write_file(const char *path, const char *data, size_t len, mode_t mode, k8c_err *err);
/* Reads a whole file; returns a NUL-terminated buffer the caller frees, or NULL. */
char *fs_read_file(const char *path, size_t *len, k8c_err *err);
/* True if path is exactly a mount point in this mount namespace. */
bool fs_is_mount_point(const char *path);
/* Mount points at or below prefix (from /proc/self/mountinfo), deepest first. Returns a
 * NULL-terminated array the caller frees with fs_strv_free (never NULL). */
char **fs_mounts_under(const char *prefix);
/* Makes dir a shared mount (bind-mounting it on itself first if it is not a mount point),
 * as `ip netns` does for /run/netns, so unmounts below it reach child mount namespaces. */
int fs_make_shared_mount(const char *dir, k8c_err *err);
/* Frees a NULL-terminated string array. */
void fs_strv_free(char **v);
/* Number of entries in a NULL-terminated string array (0 for NULL). */
size_t fs_strv_len(const char *const *v);

#endif
