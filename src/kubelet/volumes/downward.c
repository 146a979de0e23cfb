/* downward.c — the downward API as files, shared by the downwardAPI and projected
 * volumes: pod fields (labels and annotations also as whole maps) and container
 * resources, rendered with the same rules env uses so a value reads the same either way. */
#include "kubelet/volumes/volumes_internal.h"

#include "kubelet/volumes/volpath.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

/* Appends s quoted as Go's %q does for ASCII; other bytes pass through. */
static void
append_quoted(buf *b, const char *s)
{
  buf_append(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      buf_puts(b, "\\\"");
      break;
    case '\\':
      buf_puts(b, "\\\\");
      break;
    case '\a':
      buf_puts(b, "\\a");
      break;
    case '\b':
      buf_puts(b, "\\b");
      break;
    case '\f':
      buf_puts(b, "\\f");
      break;
    case '\n':
      buf_puts(b, "\\n");
      break;
    case '\r':
      buf_puts(b, "\\r");
      break;
    case '\t':
      buf_puts(b, "\\t");
      break;
    case '\v':
      buf_puts(b, "\\v");
      break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        buf_printf(b, "\\x%02x", *p);
      else
        buf_append(b, p, 1);
    }
  }
  buf_append(b, "\"", 1);
}

static int
compare_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
downward_format_map(const json_t *map)
{
  size_t n = json_object_size(map);
  const char **keys = xcalloc(n + 1, sizeof *keys);
  size_t k = 0;
  const char *key;
  json_t *v;
  json_object_foreach ((json_t *)map, key, v)
    keys[k++] = key;
  qsort(keys, k, sizeof *keys, compare_keys);
  buf b = {0};
  for (size_t i = 0; i < k; i++) {
    if (i)
      buf_append(&b, "\n", 1);
    buf_printf(&b, "%s=", keys[i]);
    const char *value = json_string_value(json_object_get(map, keys[i]));
    append_quoted(&b, value ? value : "");
  }
  free(keys);
  return b.len ? buf_steal(&b, NULL) : xstrdup("");
}

static const json_t *
find_container(const json_t *pod, const char *name)
{
  static const char *const lists[] = {"containers", "initContainers"};
  const json_t *spec = json_object_get(pod, "spec");
  for (size_t l = 0; l < 2; l++) {
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(spec, lists[l]), i, c) {
      const char *cname = json_string_value(json_object_get(c, "name"));
      if (cname && strcmp(cname, name) == 0)
        return c;
    }
  }
  return NULL;
}

static int
item_value(const json_t *pod, const json_t *item, const struct volume_sources *src, char **out,
           k8c_err *err)
{
  const json_t *field = json_object_get(item, "fieldRef");
  if (field != NULL) {
    const char *path = json_string_value(json_object_get(field, "fieldPath"));
    const json_t *meta = json_object_get(pod, "metadata");
    if (path && strcmp(path, "metadata.labels") == 0) {
      *out = downward_format_map(json_object_get(meta, "labels"));
      return 0;
    }
    if (path && strcmp(path, "metadata.annotations") == 0) {
      *out = downward_format_map(json_object_get(meta, "annotations"));
      return 0;
    }
    return env_field_ref_value(pod, field, out, err);
  }
  const json_t *res = json_object_get(item, "resourceFieldRef");
  if (res != NULL) {
    const char *cname = json_string_value(json_object_get(res, "containerName"));
    const json_t *container = cname ? find_container(pod, cname) : NULL;
    if (container == NULL)
      return k8c_error(err, 422, K8C_REASON_INVALID, "resourceFieldRef: container \"%s\" not found",
                       cname ? cname : "");
    return env_resource_ref_value(container, res, &src->objects, out, err);
  }
  return k8c_error(err, 422, K8C_REASON_INVALID,
                   "downward API item without fieldRef or resourceFieldRef");
}

int
downward_project(const json_t *pod, const json_t *items, mode_t default_mode,
                 const struct volume_sources *src, struct payload *p, k8c_err *err)
{
  size_t i;
  json_t *item;
  json_array_foreach (items, i, item) {
    const char *path = json_string_value(json_object_get(item, "path"));
    if (volpath_validate_item(path, err) < 0)
      return -1;
    cleanup_free char *value = NULL;
    if (item_value(pod, item, src, &value, err) < 0)
      return k8c_err_prefix(err, "downward API item %s", path);
    payload_put(p, path, value, strlen(value),
                volume_mode(json_object_get(item, "mode"), default_mode));
  }
  return 0;
}
