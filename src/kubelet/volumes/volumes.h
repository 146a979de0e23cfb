/* volumes.h — a pod's volumes on the node, as the kubelet prepares them: each entry of
 * pod.spec.volumes becomes a host path (upstream's layout under the pod dir:
 * <pod_dir>/volumes/kubernetes.io~<kind>/<name>), filled from its source, and each
 * container's volumeMounts become runtime mount_specs that bind those paths in.
 * Design: one small plugin per volume kind behind one table; content the kubelet writes
 * (configMap, secret, downwardAPI, projected) goes through the atomic writer, so live
 * updates swap a `..data` symlink and a reader never sees a half-written file. */
#ifndef K8C_KUBELET_VOLUMES_VOLUMES_H
#define K8C_KUBELET_VOLUMES_VOLUMES_H

#include "kubelet/env.h"
#include "kubelet/runtime/runtime.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where volume content comes from. objects carries the ConfigMap/Secret getters and the
 * node's allocatable exactly as env_resolve uses them (objects.ctx is passed to every
 * getter below too). */
struct volume_sources {
  struct env_sources objects;
  /* A token for the pod's service account (TokenRequest), as the projected
   * serviceAccountToken source asks for it; returns a new string or NULL with err
   * filled. NULL getter: a volume asking for a token fails to set up. */
  char *(*request_token)(void *ctx, const char *ns, const char *service_account,
                         const char *audience, int64_t expiration_seconds, const char *pod_name,
                         const char *pod_uid, k8c_err *err);
  /* PersistentVolumeClaims and PersistentVolumes (new references or NULL when absent,
   * as the env getters). NULL getters: every claim is "not found". */
  json_t *(*get_pvc)(void *ctx, const char *ns, const char *name, k8c_err *err);
  json_t *(*get_pv)(void *ctx, const char *name, k8c_err *err);
};

/* One prepared volume. All strings owned. */
struct pod_volume {
  char *name;          /* pod.spec.volumes[].name */
  char *kind;          /* the source's field name: "emptyDir", "configMap", ... */
  char *path;          /* host path bound into containers (a file for some hostPaths) */
  bool tmpfs;          /* a tmpfs mounted at path by volumes_setup (volumes_teardown unmounts) */
  bool readonly;       /* always mounted read-only (content written by the kubelet) */
  bool subpath_create; /* a missing subPath is created (emptyDir, hostPath) */
};

struct pod_volumes {
  struct pod_volume *items;
  size_t len;
};

/* Prepares every volume of pod.spec.volumes under pod_dir (created if missing). On
 * failure returns -1 with a message the pod worker can show as a FailedMount event
 * (upstream's words, e.g. `MountVolume.SetUp failed for volume "cfg" : configmap "cfg"
 * not found`); what was prepared before stays for volumes_teardown. out is filled on
 * success and released with pod_volumes_clear. */
int volumes_setup(const json_t *pod, const char *pod_dir, const struct volume_sources *src,
                  struct pod_volumes *out, k8c_err *err);

/* Re-renders the configMap, secret, downwardAPI and projected volumes of v from the
 * current sources and pod (live updates). Returns 1 if any file changed, 0 if nothing
 * did, -1 on error (the old content stays in place). */
int volumes_update(const json_t *pod, const char *pod_dir, const struct volume_sources *src,
                   const struct pod_volumes *v, k8c_err *err);

/* The runtime mounts for container's volumeMounts (container is an element of
 * pod.spec.containers or initContainers). env is the container's resolved environment
 * for subPathExpr (may be NULL when no mount uses it). subPaths are resolved to host
 * paths inside their volume (created for emptyDir/hostPath; `..` and symlinks leaving
 * the volume are refused). The runtime adds /etc/hosts, /etc/hostname and
 * /etc/resolv.conf itself. *mounts (every string in it owned too) is freed with
 * volumes_mounts_free. */
int volumes_mounts_for_container(const json_t *pod, const json_t *container,
                                 const struct pod_volumes *v, const struct env_list *env,
                                 struct mount_spec **mounts, size_t *n, k8c_err *err);
void volumes_mounts_free(struct mount_spec *mounts, size_t n);

/* Unmounts every mount under <pod_dir>/volumes and removes that directory. Idempotent;
 * hostPath content is never touched. */
int volumes_teardown(const char *pod_dir, k8c_err *err);

void pod_volumes_clear(struct pod_volumes *v);
/* The prepared volume called name, or NULL. Borrowed from v. */
const struct pod_volume *pod_volumes_find(const struct pod_volumes *v, const char *name);

#endif
