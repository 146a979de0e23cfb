/* secret.c — the secret volume: a Secret's keys as files on a tmpfs (never on disk, as
 * upstream), items and modes as for configMap, kept current by volumes_update. */
#include "kubelet/volumes/volumes_internal.h"

static int
secret_render(const struct volume_ctx *ctx, struct payload *out, k8c_err *err)
{
  mode_t mode = volume_mode(json_object_get(ctx->source, "defaultMode"), 0644);
  return keyed_render(ctx, true, ctx->source, mode, out, err);
}

const struct volume_plugin volume_plugin_secret = {
    .field = "secret",
    .dir_name = "kubernetes.io~secret",
    .readonly = true,
    .on_tmpfs = true,
    .render = secret_render,
};
