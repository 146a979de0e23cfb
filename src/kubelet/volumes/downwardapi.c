/* downwardapi.c — the downwardAPI volume: the pod's own fields and its containers'
 * resources as files; volumes_update rewrites them when labels or annotations change. */
#include "kubelet/volumes/volumes_internal.h"

static int
downward_api_render(const struct volume_ctx *ctx, struct payload *out, k8c_err *err)
{
  mode_t mode = volume_mode(json_object_get(ctx->source, "defaultMode"), 0644);
  return downward_project(ctx->pod, json_object_get(ctx->source, "items"), mode, ctx->src, out,
                          err);
}

const struct volume_plugin volume_plugin_downward_api = {
    .field = "downwardAPI",
    .dir_name = "kubernetes.io~downward-api",
    .readonly = true,
    .render = downward_api_render,
};
