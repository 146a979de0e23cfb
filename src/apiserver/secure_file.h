/* secure_file.h — reading and writing files that hold credentials (keys, tokens,
 * kubeconfigs). The one idea: a secret file is never visible half-written or with a
 * looser mode — it is written to a temporary file that already has its final mode,
 * then renamed into place. */
#ifndef K8C_APISERVER_SECURE_FILE_H
#define K8C_APISERVER_SECURE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

/* Creates dir and every missing parent with mode (existing ones are left alone). */
int secure_mkdir_p(const char *dir, mode_t mode, k8c_err *err);

/* Creates the parent directory of path (and its parents) with dir_mode. */
int secure_mkdir_parent(const char *path, mode_t dir_mode, k8c_err *err);

/* Writes len bytes to path atomically (temporary file in the same directory, fsync,
 * rename) with the given file mode. The parent directory must exist. */
int secure_write_file(const char *path, const void *data, size_t len, mode_t mode, k8c_err *err);

/* Reads the whole file into a NUL-terminated buffer the caller frees (and should wipe
 * with secure_free_secret when it is a secret). Returns 1 on success, 0 when the file
 * does not exist (*out = NULL), -1 on any other error. */
int secure_read_file(const char *path, char **out, size_t *len_out, k8c_err *err);

/* True if path exists (any type). */
bool secure_file_exists(const char *path);

/* Overwrites a NUL-terminated secret with zeros, then frees it. NULL is fine. */
void secure_free_secret(char *secret);

#endif
