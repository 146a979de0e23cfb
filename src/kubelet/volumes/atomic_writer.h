/* atomic_writer.h — writes a set of files into a volume directory so that readers see
 * either the old set or the new one, never a mix (upstream's AtomicWriter layout):
 *   <dir>/..2026_01_01_00_00_00.123456789/  the files of one version
 *   <dir>/..data -> ..2026_...               swapped with one rename
 *   <dir>/<top> -> ..data/<top>              one user-visible link per top-level name */
#ifndef K8C_KUBELET_VOLUMES_ATOMIC_WRITER_H
#define K8C_KUBELET_VOLUMES_ATOMIC_WRITER_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One file of a payload: a validated relative path, bytes, permission bits. Owned. */
struct payload_file {
  char *path;
  char *data;
  size_t len;
  mode_t mode;
};

/* The complete content of a volume. */
struct payload {
  struct payload_file *files;
  size_t len;
};

/* Adds or replaces (same path: the later one wins) a file; path and data are copied.
 * path must have passed volpath_validate_item; it is stored cleaned. */
void payload_put(struct payload *p, const char *path, const char *data, size_t len, mode_t mode);
/* The file at path (cleaned), or NULL. Borrowed. */
const struct payload_file *payload_get(const struct payload *p, const char *path);
void payload_clear(struct payload *p);

/* Makes dir hold exactly payload. Nothing is written when the current version already
 * matches (contents, modes and the set of files); *changed says whether a new version
 * was published. dir must exist. gid >= 0: files and directories get that group and
 * group read (the pod's fsGroup). */
int atomic_writer_write(const char *dir, const struct payload *payload, long gid, bool *changed,
                        k8c_err *err);
/* The current content of path (relative) under dir/..data, or NULL when absent.
 * Caller frees; *len its size. */
char *atomic_writer_read(const char *dir, const char *path, size_t *len);

#endif
