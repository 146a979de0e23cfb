/* mounts.c — a container's volumeMounts as runtime mounts: each names a prepared
 * volume, optionally narrowed to a subPath (or a subPathExpr expanded from the
 * container's env), which is resolved to a real host path that must stay inside its
 * volume. Kubelet-written volumes are always read-only, as upstream mounts them. */
#include "kubelet/volumes/volumes_internal.h"

#include "kubelet/volumes/volpath.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

/* Names referenced as $(NAME) in s that env lacks or holds empty, comma-separated and
 * sorted (upstream's "missing value for" check); NULL when every one is set. */
static char *
missing_references(const char *s, const struct env_list *env)
{
  char **names = NULL;
  size_t n = 0;
  for (const char *p = s; *p; p++) {
    if (p[0] == '$' && p[1] == '$') {
      p++;
      continue;
    }
    if (p[0] != '$' || p[1] != '(')
      continue;
    const char *close = strchr(p + 2, ')');
    if (close == NULL)
      break;
    char *name = xstrndup(p + 2, (size_t)(close - p - 2));
    const char *value = env ? env_list_get(env, name) : NULL;
    bool seen = false;
    for (size_t i = 0; i < n && !seen; i++)
      seen = strcmp(names[i], name) == 0;
    if ((value == NULL || value[0] == '\0') && !seen) {
      names = xrealloc(names, (n + 1) * sizeof *names);
      names[n++] = name;
    } else {
      free(name);
    }
    p = close;
  }
  if (n == 0)
    return NULL;
  for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
    for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  buf b = {0};
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf_puts(&b, ", ");
    buf_puts(&b, names[i]);
    free(names[i]);
  }
  free(names);
  return buf_steal(&b, NULL);
}

/* The subPath of mount (expanded for subPathExpr); NULL with err on failure. */
static char *
mount_subpath(const json_t *mount, const struct env_list *env, k8c_err *err)
{
  const char *sub = json_string_value(json_object_get(mount, "subPath"));
  const char *expr = json_string_value(json_object_get(mount, "subPathExpr"));
  if (sub != NULL && sub[0] && expr != NULL && expr[0]) {
    k8c_error(err, 422, K8C_REASON_INVALID, "subPath and subPathExpr are mutually exclusive");
    return NULL;
  }
  if (expr == NULL || expr[0] == '\0')
    return xstrdup(sub ? sub : "");
  cleanup_free char *missing = missing_references(expr, env);
  if (missing != NULL) {
    k8c_error(err, 422, K8C_REASON_INVALID, "missing value for %s", missing);
    return NULL;
  }
  static const struct env_list no_env = {0};
  return env_expand(expr, env ? env : &no_env);
}

static int
one_mount(const json_t *mount, const struct pod_volumes *v, const struct env_list *env,
          const char *container_name, struct mount_spec *out, k8c_err *err)
{
  const char *name = json_string_value(json_object_get(mount, "name"));
  const char *dest = json_string_value(json_object_get(mount, "mountPath"));
  const struct pod_volume *pv = pod_volumes_find(v, name);
  if (pv == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "cannot find volume \"%s\" to mount into container \"%s\"", name ? name : "",
                     container_name);
  if (dest == NULL || dest[0] != '/')
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "volumeMount \"%s\" of container \"%s\": mountPath must be absolute", name,
                     container_name);
  cleanup_free char *sub = mount_subpath(mount, env, err);
  if (sub == NULL || volpath_validate_subpath(sub, err) < 0)
    return k8c_err_prefix(err,
                          "failed to prepare subPath for volumeMount \"%s\" of container \"%s\"",
                          name, container_name);
  char *source = NULL;
  if (sub[0] == '\0') {
    source = xstrdup(pv->path);
  } else if (volpath_resolve_in(pv->path, sub, pv->subpath_create, &source, err) < 0) {
    return k8c_err_prefix(err,
                          "failed to prepare subPath for volumeMount \"%s\" of container \"%s\"",
                          name, container_name);
  }
  *out = (struct mount_spec){
      .kind = MOUNT_BIND,
      .source = source,
      .destination = xstrdup(dest),
      .readonly = pv->readonly || json_is_true(json_object_get(mount, "readOnly")),
  };
  return 0;
}

int
volumes_mounts_for_container(const json_t *pod, const json_t *container,
                             const struct pod_volumes *v, const struct env_list *env,
                             struct mount_spec **mounts, size_t *n, k8c_err *err)
{
  (void)pod;
  const json_t *list = json_object_get(container, "volumeMounts");
  const char *cname = json_string_value(json_object_get(container, "name"));
  size_t count = json_array_size(list);
  struct mount_spec *result = xcalloc(count ? count : 1, sizeof *result);
  for (size_t i = 0; i < count; i++) {
    if (one_mount(json_array_get(list, i), v, env, cname ? cname : "", &result[i], err) < 0) {
      volumes_mounts_free(result, i);
      return -1;
    }
  }
  *mounts = result;
  *n = count;
  return 0;
}

void
volumes_mounts_free(struct mount_spec *mounts, size_t n)
{
  if (mounts == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    free((char *)mounts[i].source);
    free((char *)mounts[i].destination);
  }
  free(mounts);
}
