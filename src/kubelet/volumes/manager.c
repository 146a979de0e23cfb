/* manager.c — the pod-level volume manager: walks pod.spec.volumes, picks each entry's
 * plugin from one table, prepares it under <pod_dir>/volumes, and later re-renders the
 * kubelet-written kinds or tears everything down. Teardown needs nothing but the pod
 * dir: it unmounts whatever the mount table shows below it, so it also works after an
 * agent restart. */
#include "kubelet/volumes/volumes_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static const struct volume_plugin *const plugins[] = {
    &volume_plugin_empty_dir, &volume_plugin_host_path,    &volume_plugin_config_map,
    &volume_plugin_secret,    &volume_plugin_downward_api, &volume_plugin_projected,
    &volume_plugin_pvc,
};

/* ---------- shared helpers ---------- */

mode_t
volume_mode(const json_t *mode, mode_t def)
{
  if (!json_is_integer(mode))
    return def;
  json_int_t v = json_integer_value(mode);
  return v < 0 ? def : (mode_t)(v & 0777);
}

int
volume_mount_tmpfs(const char *dir, uint64_t size, k8c_err *err)
{
  if (fs_is_mount_point(dir))
    return 0;
  char options[64];
  if (size)
    snprintf(options, sizeof options, "mode=0755,size=%llu", (unsigned long long)size);
  else
    snprintf(options, sizeof options, "mode=0755");
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "mounting a tmpfs at %s: %s", dir,
                     strerror(errno));
  return 0;
}

static const struct volume_plugin *
plugin_for(const json_t *volume, const char **field)
{
  for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++) {
    if (json_object_get(volume, plugins[i]->field) != NULL) {
      *field = plugins[i]->field;
      return plugins[i];
    }
  }
  const char *key;
  json_t *v;
  *field = "unknown";
  json_object_foreach ((json_t *)volume, key, v) {
    if (strcmp(key, "name") != 0) {
      *field = key;
      break;
    }
  }
  return NULL;
}

static bool
volume_name_valid(const char *name)
{
  return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
         strcmp(name, "..") != 0;
}

static const char *
pod_namespace(const json_t *pod)
{
  const char *ns =
      json_string_value(json_object_get(json_object_get(pod, "metadata"), "namespace"));
  return ns ? ns : "default";
}

static long
pod_fs_group(const json_t *pod)
{
  const json_t *g =
      json_object_get(json_object_get(json_object_get(pod, "spec"), "securityContext"), "fsGroup");
  return json_is_integer(g) && json_integer_value(g) >= 0 ? (long)json_integer_value(g) : -1;
}

static void
pod_volume_free(struct pod_volume *v)
{
  free(v->name);
  free(v->kind);
  free(v->path);
}

void
pod_volumes_clear(struct pod_volumes *v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->len; i++)
    pod_volume_free(&v->items[i]);
  free(v->items);
  v->items = NULL;
  v->len = 0;
}

const struct pod_volume *
pod_volumes_find(const struct pod_volumes *v, const char *name)
{
  for (size_t i = 0; v && name && i < v->len; i++)
    if (strcmp(v->items[i].name, name) == 0)
      return &v->items[i];
  return NULL;
}

/* ---------- content kinds ---------- */

static int
render_and_publish(const struct volume_plugin *plugin, const struct volume_ctx *ctx, bool *changed,
                   k8c_err *err)
{
  struct payload payload = {0};
  int rc = plugin->render(ctx, &payload, err);
  if (rc == 0)
    rc = atomic_writer_write(ctx->dir, &payload, ctx->fs_group, changed, err);
  payload_clear(&payload);
  return rc;
}

static int
content_setup(const struct volume_plugin *plugin, const struct volume_ctx *ctx,
              struct pod_volume *out, k8c_err *err)
{
  if (fs_mkdir_p(ctx->dir, 0750, err) < 0 || chmod(ctx->dir, 0755) < 0)
    return err->status ? -1
                       : k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", ctx->dir,
                                   strerror(errno));
  if (plugin->on_tmpfs) {
    if (volume_mount_tmpfs(ctx->dir, 0, err) < 0)
      return -1;
    out->tmpfs = true;
  }
  bool changed;
  if (render_and_publish(plugin, ctx, &changed, err) < 0)
    return -1;
  out->path = xstrdup(ctx->dir);
  return 0;
}

/* ---------- entry points ---------- */

static void
fill_ctx(struct volume_ctx *ctx, const json_t *pod, const json_t *volume, const char *field,
         const struct volume_sources *src)
{
  ctx->pod = pod;
  ctx->volume = volume;
  ctx->source = json_object_get(volume, field);
  ctx->name = json_string_value(json_object_get(volume, "name"));
  ctx->ns = pod_namespace(pod);
  ctx->src = src;
  ctx->fs_group = pod_fs_group(pod);
}

int
volumes_setup(const json_t *pod, const char *pod_dir, const struct volume_sources *src,
              struct pod_volumes *out, k8c_err *err)
{
  struct pod_volumes result = {0};
  cleanup_free char *root = xasprintf("%s/volumes", pod_dir);
  if (fs_mkdir_p(root, 0750, err) < 0)
    return -1;
  size_t i;
  json_t *volume;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "volumes"), i, volume) {
    const char *name = json_string_value(json_object_get(volume, "name"));
    const char *field;
    const struct volume_plugin *plugin = plugin_for(volume, &field);
    if (!volume_name_valid(name)) {
      k8c_error(err, 422, K8C_REASON_INVALID, "spec.volumes[%zu]: invalid volume name", i);
      goto fail;
    }
    if (plugin == NULL) {
      k8c_error(err, 422, K8C_REASON_INVALID,
                "MountVolume.SetUp failed for volume \"%s\" : volume type %s is not supported "
                "on this node",
                name, field);
      goto fail;
    }
    struct volume_ctx ctx;
    fill_ctx(&ctx, pod, volume, field, src);
    cleanup_free char *dir =
        plugin->dir_name ? xasprintf("%s/%s/%s", root, plugin->dir_name, name) : NULL;
    ctx.dir = dir;
    struct pod_volume pv = {.name = xstrdup(name),
                            .kind = xstrdup(field),
                            .readonly = plugin->readonly,
                            .subpath_create = plugin->subpath_create};
    int rc = plugin->render ? content_setup(plugin, &ctx, &pv, err) : plugin->setup(&ctx, &pv, err);
    if (rc < 0) {
      pod_volume_free(&pv);
      k8c_err_prefix(err, "MountVolume.SetUp failed for volume \"%s\" ", name);
      goto fail;
    }
    result.items = xrealloc(result.items, (result.len + 1) * sizeof result.items[0]);
    result.items[result.len++] = pv;
  }
  *out = result;
  return 0;
fail:
  pod_volumes_clear(&result);
  return -1;
}

int
volumes_update(const json_t *pod, const char *pod_dir, const struct volume_sources *src,
               const struct pod_volumes *v, k8c_err *err)
{
  int any = 0;
  size_t i;
  json_t *volume;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "volumes"), i, volume) {
    const char *field;
    const struct volume_plugin *plugin = plugin_for(volume, &field);
    const char *name = json_string_value(json_object_get(volume, "name"));
    const struct pod_volume *pv = pod_volumes_find(v, name);
    if (plugin == NULL || plugin->render == NULL || pv == NULL)
      continue;
    struct volume_ctx ctx;
    fill_ctx(&ctx, pod, volume, field, src);
    cleanup_free char *dir = xasprintf("%s/volumes/%s/%s", pod_dir, plugin->dir_name, name);
    ctx.dir = dir;
    bool changed = false;
    if (render_and_publish(plugin, &ctx, &changed, err) < 0)
      return k8c_err_prefix(err, "MountVolume.SetUp failed for volume \"%s\" ", name);
    any |= changed;
  }
  return any;
}

int
volumes_teardown(const char *pod_dir, k8c_err *err)
{
  cleanup_free char *root = xasprintf("%s/volumes", pod_dir);
  char **mounts = fs_mounts_under(root);
  int rc = 0;
  for (size_t i = 0; mounts[i] && rc == 0; i++) {
    if (umount2(mounts[i], 0) < 0 && errno != EINVAL && errno != ENOENT &&
        umount2(mounts[i], MNT_DETACH) < 0)
      rc =
          k8c_error(err, 500, K8C_REASON_INTERNAL, "unmounting %s: %s", mounts[i], strerror(errno));
  }
  fs_strv_free(mounts);
  if (rc < 0)
    return -1;
  return fs_remove_tree(root, err);
}
