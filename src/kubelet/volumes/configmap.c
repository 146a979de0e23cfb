/* configmap.c — the configMap volume: a ConfigMap's keys as files (all, or items with
 * their own paths and modes; defaultMode 0644), kept current by volumes_update. */
#include "kubelet/volumes/volumes_internal.h"

static int
config_map_render(const struct volume_ctx *ctx, struct payload *out, k8c_err *err)
{
  mode_t mode = volume_mode(json_object_get(ctx->source, "defaultMode"), 0644);
  return keyed_render(ctx, false, ctx->source, mode, out, err);
}

const struct volume_plugin volume_plugin_config_map = {
    .field = "configMap",
    .dir_name = "kubernetes.io~configmap",
    .readonly = true,
    .render = config_map_render,
};
