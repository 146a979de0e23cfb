/* emptydir.c — the emptyDir volume: a directory that lives as long as the pod, on the
 * node's disk or (medium Memory) on a tmpfs sized by sizeLimit. With an fsGroup the
 * directory belongs to that group, group-writable and setgid, as upstream sets it. */
#include "kubelet/volumes/volumes_internal.h"

#include "apimachinery/quantity.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
empty_dir_setup(const struct volume_ctx *ctx, struct pod_volume *out, k8c_err *err)
{
  const char *medium = json_string_value(json_object_get(ctx->source, "medium"));
  const char *limit = json_string_value(json_object_get(ctx->source, "sizeLimit"));
  if (medium != NULL && medium[0] != '\0' && strcmp(medium, "Memory") != 0)
    return k8c_error(err, 422, K8C_REASON_INVALID, "emptyDir medium %s is not supported", medium);
  if (fs_mkdir_p(ctx->dir, 0750, err) < 0)
    return -1;
  if (chmod(ctx->dir, 0777) < 0) /* upstream: any container user may write */
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", ctx->dir, strerror(errno));
  if (medium != NULL && strcmp(medium, "Memory") == 0) {
    uint64_t size = 0;
    if (limit != NULL) {
      quantity q;
      if (quantity_parse(limit, &q, err) < 0)
        return k8c_err_prefix(err, "emptyDir sizeLimit");
      int64_t bytes = quantity_value(&q);
      size = bytes > 0 ? (uint64_t)bytes : 0;
    }
    if (volume_mount_tmpfs(ctx->dir, size, err) < 0)
      return -1;
    out->tmpfs = true;
    if (chmod(ctx->dir, 0777) < 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", ctx->dir, strerror(errno));
  }
  if (ctx->fs_group >= 0 &&
      (chown(ctx->dir, (uid_t)-1, (gid_t)ctx->fs_group) < 0 || chmod(ctx->dir, 02777) < 0))
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "fsGroup on %s: %s", ctx->dir, strerror(errno));
  out->path = xstrdup(ctx->dir);
  return 0;
}

const struct volume_plugin volume_plugin_empty_dir = {
    .field = "emptyDir",
    .dir_name = "kubernetes.io~empty-dir",
    .subpath_create = true,
    .setup = empty_dir_setup,
};
