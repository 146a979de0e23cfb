/* volpath.h — the relative paths users write into volumes (items[].path, subPath) and
 * how they are checked and resolved on the host. Design: textual checks first (upstream's
 * rules), then a component-by-component walk that resolves each step with realpath and
 * refuses anything that ends up outside the volume's root. */
#ifndef K8C_KUBELET_VOLUMES_VOLPATH_H
#define K8C_KUBELET_VOLUMES_VOLPATH_H

#include "lib/err.h"

#include <stdbool.h>

#define VOLPATH_MAX 4096
#define VOLPATH_NAME_MAX 255

/* A file path inside a kubelet-written volume (items[].path, projected paths): not empty,
 * relative, no `..` element, no name longer than 255 bytes nor a path over 4096, and not
 * starting with `..` (names the atomic writer reserves). 422 with upstream's words. */
int volpath_validate_item(const char *path, k8c_err *err);
/* A volumeMount's subPath (or expanded subPathExpr): relative and without a `..`
 * element. The empty string (the whole volume) is valid. */
int volpath_validate_subpath(const char *path, k8c_err *err);
/* path without empty and "." elements ("a//./b/" → "a/b"); "" when none is left.
 * Caller frees. */
char *volpath_clean(const char *path);
/* True if path is root itself or lies below it (textually; both absolute, clean). */
bool volpath_within(const char *root, const char *path);
/* Resolves root/rel (rel already validated) one element at a time: each existing step is
 * resolved with realpath and must stay within root's real path; a missing step is
 * created as a 0755 directory when create is set, else it is a 404. *out is the real
 * host path, which the caller frees. */
int volpath_resolve_in(const char *root, const char *rel, bool create, char **out, k8c_err *err);

#endif
