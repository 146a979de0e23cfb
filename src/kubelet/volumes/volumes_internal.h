/* volumes_internal.h — what the volume plugins (one file per kind) share with the
 * manager: the per-volume context, the plugin descriptor, and the projection helpers
 * that several kinds reuse (ConfigMap/Secret keys, downward API items). */
#ifndef K8C_KUBELET_VOLUMES_INTERNAL_H
#define K8C_KUBELET_VOLUMES_INTERNAL_H

#include "kubelet/volumes/atomic_writer.h"
#include "kubelet/volumes/volumes.h"

#include <sys/types.h>

/* One volume being prepared. Everything borrowed. */
struct volume_ctx {
  const json_t *pod;
  const json_t *volume; /* the pod.spec.volumes entry */
  const json_t *source; /* volume[plugin->field], e.g. the emptyDir object */
  const char *name;
  const char *ns;
  const char *dir; /* <pod_dir>/volumes/<plugin dir>/<name>; NULL when dir_name is NULL */
  const struct volume_sources *src;
  long fs_group; /* pod.spec.securityContext.fsGroup, -1 if unset */
};

/* A volume kind. Either setup (the plugin prepares out->path itself) or render (the
 * kubelet writes the content: the manager creates dir, mounts a tmpfs there when
 * on_tmpfs, and publishes render's payload with the atomic writer; also on update). */
struct volume_plugin {
  const char *field;    /* the source's key in the volume object: "emptyDir" */
  const char *dir_name; /* "kubernetes.io~empty-dir"; NULL: no directory in the pod dir */
  bool readonly;        /* always mounted read-only */
  bool subpath_create;  /* a missing subPath is created */
  bool on_tmpfs;        /* render kinds: content kept in memory (secrets) */
  int (*setup)(const struct volume_ctx *ctx, struct pod_volume *out, k8c_err *err);
  int (*render)(const struct volume_ctx *ctx, struct payload *out, k8c_err *err);
};

extern const struct volume_plugin volume_plugin_empty_dir;
extern const struct volume_plugin volume_plugin_host_path;
extern const struct volume_plugin volume_plugin_config_map;
extern const struct volume_plugin volume_plugin_secret;
extern const struct volume_plugin volume_plugin_downward_api;
extern const struct volume_plugin volume_plugin_projected;
extern const struct volume_plugin volume_plugin_pvc;

/* Permission bits from a mode field (an integer in the API), or def when absent. */
mode_t volume_mode(const json_t *mode, mode_t def);

/* Mounts a tmpfs at dir unless one is there already; size 0: the tmpfs default. */
int volume_mount_tmpfs(const char *dir, uint64_t size, k8c_err *err);

/* Checks (and for the *OrCreate types creates) a host path by a hostPath type
 * ("" or NULL: no check; a missing path becomes a 0755 directory, as the CRI does). */
int host_path_check_type(const char *path, const char *type, k8c_err *err);

/* ---- ConfigMap / Secret keys (keyed.c) ---- */

/* Fetches the ConfigMap or Secret ns/name; *obj NULL (return 0) when absent. */
int keyed_fetch(const struct volume_sources *src, bool secret, const char *ns, const char *name,
                json_t **obj, k8c_err *err);
/* Projects obj's keys (all of them, or items [{key, path, mode}]) into p with
 * default_mode. A missing key is an error unless optional. obj NULL projects nothing. */
int keyed_project(const json_t *obj, bool secret, const json_t *items, mode_t default_mode,
                  bool optional, struct payload *p, k8c_err *err);
/* fetch + project, with upstream's error for a missing, non-optional object. */
int keyed_render(const struct volume_ctx *ctx, bool secret, const json_t *ref, mode_t default_mode,
                 struct payload *p, k8c_err *err);

/* ---- downward API items (downward.c) ---- */

/* Renders items [{path, fieldRef|resourceFieldRef, mode}] of the pod into p. */
int downward_project(const json_t *pod, const json_t *items, mode_t default_mode,
                     const struct volume_sources *src, struct payload *p, k8c_err *err);
/* A label or annotation map as the downward API writes it: sorted `key="value"` lines,
 * values quoted as Go's %q. Caller frees. */
char *downward_format_map(const json_t *map);

#endif
