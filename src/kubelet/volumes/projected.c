/* projected.c — the projected volume: ConfigMap, Secret, downward API and service
 * account token sources merged into one directory (on a tmpfs, as it may hold secrets).
 * A token is requested again only when 80% of its lifetime has passed, so updates do
 * not churn it; without a TokenRequest getter a placeholder file stands in. */
#include "kubelet/volumes/volumes_internal.h"

#include "kubelet/volumes/volpath.h"
#include "lib/mem.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The token already published at path if it is still fresh, else NULL. */
static char *
fresh_token(const char *dir, const char *path, int64_t expiration_seconds)
{
  cleanup_free char *clean = volpath_clean(path);
  cleanup_free char *full = xasprintf("%s/..data/%s", dir, clean);
  struct stat st;
  if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode))
    return NULL;
  if ((int64_t)(time(NULL) - st.st_mtime) * 10 >= expiration_seconds * 8)
    return NULL;
  size_t len = 0;
  return atomic_writer_read(dir, path, &len);
}

static int
token_project(const struct volume_ctx *ctx, const json_t *tok, mode_t mode, struct payload *p,
              k8c_err *err)
{
  const char *path = json_string_value(json_object_get(tok, "path"));
  const char *audience = json_string_value(json_object_get(tok, "audience"));
  json_int_t expiration = json_integer_value(json_object_get(tok, "expirationSeconds"));
  if (expiration <= 0)
    expiration = 3600;
  if (volpath_validate_item(path, err) < 0)
    return -1;
  const json_t *spec = json_object_get(ctx->pod, "spec");
  const json_t *meta = json_object_get(ctx->pod, "metadata");
  const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
  cleanup_free char *token = NULL;
  if (ctx->src->request_token == NULL) {
    return k8c_error(err, 500, K8C_REASON_INTERNAL,
                     "cannot project a service account token: no TokenRequest API");
  } else if ((token = fresh_token(ctx->dir, path, expiration)) == NULL) {
    token = ctx->src->request_token(ctx->src->objects.ctx, ctx->ns, sa ? sa : "default",
                                    audience ? audience : "", expiration,
                                    json_string_value(json_object_get(meta, "name")),
                                    json_string_value(json_object_get(meta, "uid")), err);
    if (token == NULL)
      return k8c_err_prefix(err, "requesting a token for service account %s", sa ? sa : "default");
  }
  payload_put(p, path, token, strlen(token), mode);
  return 0;
}

static int
projected_render(const struct volume_ctx *ctx, struct payload *out, k8c_err *err)
{
  mode_t mode = volume_mode(json_object_get(ctx->source, "defaultMode"), 0644);
  size_t i;
  json_t *source;
  json_array_foreach (json_object_get(ctx->source, "sources"), i, source) {
    const json_t *part;
    int rc;
    if ((part = json_object_get(source, "configMap")) != NULL)
      rc = keyed_render(ctx, false, part, mode, out, err);
    else if ((part = json_object_get(source, "secret")) != NULL)
      rc = keyed_render(ctx, true, part, mode, out, err);
    else if ((part = json_object_get(source, "downwardAPI")) != NULL)
      rc = downward_project(ctx->pod, json_object_get(part, "items"), mode, ctx->src, out, err);
    else if ((part = json_object_get(source, "serviceAccountToken")) != NULL)
      rc = token_project(ctx, part, mode, out, err);
    else if (json_object_get(source, "clusterTrustBundle") != NULL)
      rc = k8c_error(err, 422, K8C_REASON_INVALID,
                     "projected source clusterTrustBundle is not supported");
    else
      rc = k8c_error(err, 422, K8C_REASON_INVALID, "projected sources[%zu] names no source", i);
    if (rc < 0)
      return -1;
  }
  return 0;
}

const struct volume_plugin volume_plugin_projected = {
    .field = "projected",
    .dir_name = "kubernetes.io~projected",
    .readonly = true,
    .on_tmpfs = true,
    .render = projected_render,
};
