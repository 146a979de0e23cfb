/* pvc.c — persistentVolumeClaim volumes: the claim must exist and be bound; its
 * PersistentVolume is used when the node can serve it directly (hostPath or local),
 * anything else is refused with a message naming what is missing. */
#include "kubelet/volumes/volumes_internal.h"

#include "lib/mem.h"

#include <string.h>
#include <unistd.h>

static json_t *
fetch(json_t *obj, k8c_err *err, int *failed)
{
  *failed = obj == NULL && err->status != 0 && err->status != 404;
  if (!*failed)
    k8c_err_clear(err);
  return obj;
}

static int
pvc_setup(const struct volume_ctx *ctx, struct pod_volume *out, k8c_err *err)
{
  const char *claim = json_string_value(json_object_get(ctx->source, "claimName"));
  const struct volume_sources *src = ctx->src;
  if (claim == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "persistentVolumeClaim without a claimName");
  int failed = 0;
  k8c_err_clear(err);
  cleanup_json json_t *pvc =
      src->get_pvc ? fetch(src->get_pvc(src->objects.ctx, ctx->ns, claim, err), err, &failed)
                   : NULL;
  if (failed)
    return -1;
  if (pvc == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "persistentvolumeclaim \"%s\" not found",
                     claim);
  const char *phase = json_string_value(json_object_get(json_object_get(pvc, "status"), "phase"));
  const char *pv_name =
      json_string_value(json_object_get(json_object_get(pvc, "spec"), "volumeName"));
  if (pv_name == NULL || phase == NULL || strcmp(phase, "Bound") != 0)
    return k8c_error(err, 409, K8C_REASON_CONFLICT, "PVC %s/%s is not bound", ctx->ns, claim);
  cleanup_json json_t *pv =
      src->get_pv ? fetch(src->get_pv(src->objects.ctx, pv_name, err), err, &failed) : NULL;
  if (failed)
    return -1;
  if (pv == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "persistentvolume \"%s\" not found", pv_name);
  const json_t *spec = json_object_get(pv, "spec");
  const json_t *host = json_object_get(spec, "hostPath");
  const json_t *local = json_object_get(spec, "local");
  const char *path = json_string_value(json_object_get(host ? host : local, "path"));
  if (path == NULL)
    return k8c_error(
        err, 422, K8C_REASON_INVALID,
        "persistentvolume \"%s\": only hostPath and local volumes are supported on this node",
        pv_name);
  if (host != NULL) {
    if (host_path_check_type(path, json_string_value(json_object_get(host, "type")), err) < 0)
      return -1;
  } else if (access(path, F_OK) < 0) { /* a local volume must exist (a dir or a device) */
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "path \"%s\" does not exist", path);
  }
  out->path = xstrdup(path);
  out->readonly = json_is_true(json_object_get(ctx->source, "readOnly"));
  return 0;
}

const struct volume_plugin volume_plugin_pvc = {
    .field = "persistentVolumeClaim",
    .subpath_create = true,
    .setup = pvc_setup,
};
