/* podworker_volumes.c — the pod worker's hook for volumes. The volume plugins live in
 * src/kubelet/volumes/ (volumes_setup / volumes_mounts_for_container / volumes_teardown);
 * until they are joined here, this file supports pods without volumes and emptyDir
 * (a directory under the pod dir, or a tmpfs for medium Memory) and reports every other
 * kind as a FailedMount. One place to change when the plugins land. */
#include "kubelet/kubelet_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>
#include <sys/mount.h>

char *
podworker_pod_dir(struct kubelet *kl, const char *uid)
{
  return xasprintf("%s/pods/%s", kl->cfg.data_dir, uid);
}

static char *
empty_dir_path(struct kubelet *kl, const char *uid, const char *name)
{
  return xasprintf("%s/pods/%s/volumes/kubernetes.io~empty-dir/%s", kl->cfg.data_dir, uid, name);
}

int
podworker_volumes_setup(struct kubelet *kl, struct kpod *p, const json_t *pod, k8c_err *err)
{
  size_t i;
  const json_t *v;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "volumes"), i, v) {
    const char *name = json_string_value(json_object_get(v, "name")) ?: "";
    const json_t *ed = json_object_get(v, "emptyDir");
    if (ed == NULL)
      return k8c_error(err, 422, K8C_REASON_INVALID,
                       "MountVolume.SetUp failed for volume \"%s\" : volume kind not supported by "
                       "this agent yet",
                       name);
    cleanup_free char *path = empty_dir_path(kl, p->uid, name);
    if (fs_mkdir_p(path, 0777, err) < 0)
      return -1;
    const char *medium = json_string_value(json_object_get(ed, "medium"));
    if (medium && strcmp(medium, "Memory") == 0 &&
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0777") < 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL,
                       "MountVolume.SetUp failed for volume \"%s\" : tmpfs: %m", name);
  }
  return 0;
}

int
podworker_volume_mounts(struct kubelet *kl, struct kpod *p, const json_t *pod,
                        const json_t *container, const struct env_list *env,
                        struct mount_spec **mounts, size_t *n, k8c_err *err)
{
  (void)pod;
  (void)env;
  const json_t *vms = json_object_get(container, "volumeMounts");
  *mounts = xcalloc(json_array_size(vms) + 1, sizeof **mounts);
  *n = 0;
  size_t i;
  const json_t *vm;
  json_array_foreach (vms, i, vm) {
    const char *name = json_string_value(json_object_get(vm, "name")) ?: "";
    const char *dest = json_string_value(json_object_get(vm, "mountPath")) ?: "";
    const char *sub = json_string_value(json_object_get(vm, "subPath"));
    char *src = empty_dir_path(kl, p->uid, name);
    if (sub && *sub) {
      if (strstr(sub, "..")) {
        free(src);
        return k8c_error(err, 422, K8C_REASON_INVALID, "subPath \"%s\" must not contain '..'",
                         sub);
      }
      char *full = xasprintf("%s/%s", src, sub);
      free(src);
      src = full;
      if (fs_mkdir_p(src, 0777, err) < 0) {
        free(src);
        return -1;
      }
    }
    (*mounts)[*n] = (struct mount_spec){.kind = MOUNT_BIND,
                                        .source = src,
                                        .destination = xstrdup(dest),
                                        .readonly = json_is_true(json_object_get(vm, "readOnly"))};
    (*n)++;
  }
  return 0;
}

void
podworker_volume_mounts_free(struct mount_spec *mounts, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free((char *)mounts[i].source);
    free((char *)mounts[i].destination);
  }
  free(mounts);
}

void
podworker_volumes_teardown(struct kubelet *kl, const char *uid)
{
  cleanup_free char *dir = podworker_pod_dir(kl, uid);
  char **mounts = fs_mounts_under(dir);
  for (size_t i = 0; mounts[i]; i++)
    if (umount2(mounts[i], MNT_DETACH) < 0)
      log_warn("kubelet: unmounting %s: %m", mounts[i]);
  fs_strv_free(mounts);
  k8c_err err = {0};
  if (fs_remove_tree(dir, &err) < 0) {
    log_warn("kubelet: removing %s: %s", dir, err.message);
    k8c_err_clear(&err);
  }
}
