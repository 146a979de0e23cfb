/* keyed.c — ConfigMap and Secret keys as volume files, shared by the configMap, secret
 * and projected volumes: the whole object or selected items, each with its mode.
 * Secret data is base64 and may hold any bytes, so values travel with their length. */
#include "kubelet/volumes/volumes_internal.h"

#include "kubelet/volumes/volpath.h"
#include "lib/mem.h"

#include <nettle/base64.h>
#include <string.h>

/* Decodes base64 text into a new buffer (*len bytes). */
static char *
decode_base64(const char *text, size_t *len, k8c_err *err)
{
  size_t in = strlen(text);
  size_t n = BASE64_DECODE_LENGTH(in);
  char *out = xmalloc(n + 1);
  struct base64_decode_ctx ctx;
  base64_decode_init(&ctx);
  if (!base64_decode_update(&ctx, &n, (uint8_t *)out, in, text) || !base64_decode_final(&ctx)) {
    free(out);
    k8c_error(err, 422, K8C_REASON_INVALID, "data is not valid base64");
    return NULL;
  }
  out[n] = '\0';
  *len = n;
  return out;
}

/* The bytes of key (data, then binaryData for a ConfigMap / stringData for a Secret);
 * NULL without error when the key is absent. */
static char *
key_value(const json_t *obj, bool secret, const char *key, size_t *len, k8c_err *err)
{
  const char *v = json_string_value(json_object_get(json_object_get(obj, "data"), key));
  if (v != NULL && !secret) {
    *len = strlen(v);
    return xstrdup(v);
  }
  if (v != NULL)
    return decode_base64(v, len, err);
  v = json_string_value(
      json_object_get(json_object_get(obj, secret ? "stringData" : "binaryData"), key));
  if (v == NULL)
    return NULL;
  if (secret) {
    *len = strlen(v);
    return xstrdup(v);
  }
  return decode_base64(v, len, err);
}

static int
put_key(const json_t *obj, bool secret, const char *key, const char *path, mode_t mode,
        struct payload *p, k8c_err *err)
{
  if (volpath_validate_item(path, err) < 0)
    return -1;
  size_t len = 0;
  cleanup_free char *data = key_value(obj, secret, key, &len, err);
  if (data == NULL)
    return k8c_err_prefix(err, "key %s", key);
  payload_put(p, path, data, len, mode);
  return 0;
}

int
keyed_fetch(const struct volume_sources *src, bool secret, const char *ns, const char *name,
            json_t **obj, k8c_err *err)
{
  json_t *(*get)(void *, const char *, const char *, k8c_err *) =
      secret ? src->objects.get_secret : src->objects.get_configmap;
  k8c_err_clear(err);
  *obj = get ? get(src->objects.ctx, ns, name, err) : NULL;
  if (*obj == NULL && err->status != 0 && err->status != 404)
    return -1;
  k8c_err_clear(err);
  return 0;
}

int
keyed_project(const json_t *obj, bool secret, const json_t *items, mode_t default_mode,
              bool optional, struct payload *p, k8c_err *err)
{
  if (obj == NULL)
    return 0;
  if (json_array_size(items) == 0) {
    static const char *const sections[2][2] = {{"data", "binaryData"}, {"data", "stringData"}};
    for (size_t s = 0; s < 2; s++) {
      const char *key;
      json_t *v;
      json_object_foreach (json_object_get(obj, sections[secret][s]), key, v) {
        if (put_key(obj, secret, key, key, default_mode, p, err) < 0)
          return -1;
      }
    }
    return 0;
  }
  size_t i;
  json_t *item;
  json_array_foreach (items, i, item) {
    const char *key = json_string_value(json_object_get(item, "key"));
    const char *path = json_string_value(json_object_get(item, "path"));
    if (key == NULL || path == NULL)
      return k8c_error(err, 422, K8C_REASON_INVALID, "items[%zu]: key and path are required", i);
    size_t len = 0;
    cleanup_free char *probe = key_value(obj, secret, key, &len, err);
    if (probe == NULL && err->status != 0)
      return -1;
    if (probe == NULL) {
      if (optional)
        continue;
      return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "%s references non-existent %s key: %s",
                       secret ? "secret" : "configmap", secret ? "secret" : "config", key);
    }
    if (volpath_validate_item(path, err) < 0)
      return -1;
    payload_put(p, path, probe, len, volume_mode(json_object_get(item, "mode"), default_mode));
  }
  return 0;
}

int
keyed_render(const struct volume_ctx *ctx, bool secret, const json_t *ref, mode_t default_mode,
             struct payload *p, k8c_err *err)
{
  const char *name = json_string_value(json_object_get(ref, secret ? "secretName" : "name"));
  if (name == NULL && secret)
    name = json_string_value(json_object_get(ref, "name")); /* projected secret sources */
  bool optional = json_is_true(json_object_get(ref, "optional"));
  if (name == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "%s volume source without a name",
                     secret ? "secret" : "configMap");
  cleanup_json json_t *obj = NULL;
  if (keyed_fetch(ctx->src, secret, ctx->ns, name, &obj, err) < 0)
    return -1;
  if (obj == NULL) {
    if (optional)
      return 0;
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "%s \"%s\" not found",
                     secret ? "secret" : "configmap", name);
  }
  return keyed_project(obj, secret, json_object_get(ref, "items"), default_mode, optional, p, err);
}
