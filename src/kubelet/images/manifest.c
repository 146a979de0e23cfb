/* manifest.c — reading manifests, indexes and configs into plain structs. */
#include "kubelet/images/manifest.h"
#include "kubelet/images/digest.h"
#include "kubelet/images/reference.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <string.h>

static int descriptor_parse(const json_t *j, struct descriptor *d, const char *where, k8c_err *err);
static char **string_array(const json_t *j);

const char *
manifest_native_arch(void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "amd64";
#endif
}

bool
manifest_is_index(const char *content_type, const json_t *doc)
{
  const char *media = json_string_value(json_object_get(doc, "mediaType"));
  if (media == NULL)
    media = content_type;
  if (media != NULL && (strncmp(media, MEDIA_OCI_INDEX, strlen(MEDIA_OCI_INDEX)) == 0 ||
                        strncmp(media, MEDIA_DOCKER_LIST, strlen(MEDIA_DOCKER_LIST)) == 0))
    return true;
  /* an OCI index may omit mediaType: it has "manifests" and no "layers" */
  return json_is_array(json_object_get(doc, "manifests")) && json_object_get(doc, "layers") == NULL;
}

char *
manifest_index_select(const json_t *index, k8c_err *err)
{
  const char *arch = manifest_native_arch();
  json_t *manifests = json_object_get(index, "manifests");
  size_t i;
  json_t *m;
  buf offered;
  buf_init(&offered);
  json_array_foreach (manifests, i, m) {
    json_t *platform = json_object_get(m, "platform");
    const char *os = json_string_value(json_object_get(platform, "os"));
    const char *march = json_string_value(json_object_get(platform, "architecture"));
    const char *digest = json_string_value(json_object_get(m, "digest"));
    if (os && march) {
      buf_printf(&offered, "%s%s/%s", offered.len ? ", " : "", os, march);
      if (strcmp(os, "linux") == 0 && strcmp(march, arch) == 0 && digest &&
          image_digest_valid(digest)) {
        buf_free(&offered);
        return xstrdup(digest);
      }
    }
  }
  /* an index without platforms and one entry (as some tools write) means that entry */
  if (json_array_size(manifests) == 1 && offered.len == 0) {
    const char *digest = json_string_value(json_object_get(json_array_get(manifests, 0), "digest"));
    if (digest && image_digest_valid(digest)) {
      buf_free(&offered);
      return xstrdup(digest);
    }
  }
  k8c_error(err, 404, K8C_REASON_NOT_FOUND,
            "no matching manifest for linux/%s in the index (has: %s)", arch,
            offered.len ? buf_cstr(&offered) : "none");
  buf_free(&offered);
  return NULL;
}

int
manifest_parse(const json_t *doc, struct manifest *out, k8c_err *err)
{
  memset(out, 0, sizeof(*out));
  if (!json_is_object(doc))
    return k8c_error(err, 422, K8C_REASON_INVALID, "manifest is not a JSON object");
  json_t *version = json_object_get(doc, "schemaVersion");
  if (json_is_integer(version) && json_integer_value(version) != 2)
    return k8c_error(err, 422, K8C_REASON_INVALID, "unsupported manifest schemaVersion %lld",
                     (long long)json_integer_value(version));
  if (descriptor_parse(json_object_get(doc, "config"), &out->config, "config", err) < 0)
    return -1;
  json_t *layers = json_object_get(doc, "layers");
  if (!json_is_array(layers)) {
    manifest_free(out);
    return k8c_error(err, 422, K8C_REASON_INVALID, "manifest has no layers list");
  }
  out->layers = xcalloc(json_array_size(layers) + 1, sizeof(*out->layers));
  size_t i;
  json_t *l;
  json_array_foreach (layers, i, l) {
    if (descriptor_parse(l, &out->layers[i], "layer", err) < 0) {
      manifest_free(out);
      return -1;
    }
    out->n_layers++;
  }
  return 0;
}

void
manifest_free(struct manifest *m)
{
  free(m->config.media_type);
  free(m->config.digest);
  for (size_t i = 0; i < m->n_layers; i++) {
    free(m->layers[i].media_type);
    free(m->layers[i].digest);
  }
  free(m->layers);
  memset(m, 0, sizeof(*m));
}

int
image_config_parse(const char *data, size_t len, struct image_info *info, k8c_err *err)
{
  json_error_t jerr;
  cleanup_json json_t *doc = json_loadb(data, len, 0, &jerr);
  if (!json_is_object(doc))
    return k8c_error(err, 422, K8C_REASON_INVALID, "image config is not a JSON object");
  json_t *config = json_object_get(doc, "config");
  info->entrypoint = string_array(json_object_get(config, "Entrypoint"));
  info->cmd = string_array(json_object_get(config, "Cmd"));
  info->env = string_array(json_object_get(config, "Env"));
  const char *wd = json_string_value(json_object_get(config, "WorkingDir"));
  info->working_dir = wd && *wd ? xstrdup(wd) : NULL;
  const char *user = json_string_value(json_object_get(config, "User"));
  info->user = user && *user ? xstrdup(user) : NULL;
  json_t *ports = json_object_get(config, "ExposedPorts");
  if (json_is_object(ports)) {
    info->exposed_ports = xcalloc(json_object_size(ports) + 1, sizeof(char *));
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach (ports, key, value)
      info->exposed_ports[n++] = xstrdup(key);
  }
  json_t *labels = json_object_get(config, "Labels");
  if (json_is_object(labels))
    info->labels = json_deep_copy(labels);
  json_t *diff_ids = json_object_get(json_object_get(doc, "rootfs"), "diff_ids");
  if (!json_is_array(diff_ids))
    return k8c_error(err, 422, K8C_REASON_INVALID, "image config has no rootfs.diff_ids");
  info->layers = xcalloc(json_array_size(diff_ids) + 1, sizeof(char *));
  size_t i;
  json_t *d;
  json_array_foreach (diff_ids, i, d) {
    const char *text = json_string_value(d);
    if (text == NULL || digest_hex(text) == NULL)
      return k8c_error(err, 422, K8C_REASON_INVALID, "image config has a bad diff_id at %zu", i);
    info->layers[info->n_layers++] = xstrdup(text);
  }
  return 0;
}

static int
descriptor_parse(const json_t *j, struct descriptor *d, const char *where, k8c_err *err)
{
  const char *digest = json_string_value(json_object_get(j, "digest"));
  json_t *size = json_object_get(j, "size");
  if (digest == NULL || !image_digest_valid(digest))
    return k8c_error(err, 422, K8C_REASON_INVALID, "manifest %s has no valid digest", where);
  if (digest_hex(digest) == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "manifest %s digest %s: only sha256 is supported", where, digest);
  if (size != NULL && (!json_is_integer(size) || json_integer_value(size) < 0))
    return k8c_error(err, 422, K8C_REASON_INVALID, "manifest %s has a bad size", where);
  const char *media = json_string_value(json_object_get(j, "mediaType"));
  d->media_type = media ? xstrdup(media) : NULL;
  d->digest = xstrdup(digest);
  d->size = size ? json_integer_value(size) : -1;
  return 0;
}

/* A JSON array of strings as a NULL-terminated array; NULL when absent or not an array. */
static char **
string_array(const json_t *j)
{
  if (!json_is_array(j))
    return NULL;
  char **out = xcalloc(json_array_size(j) + 1, sizeof(char *));
  size_t n = 0, i;
  json_t *s;
  json_array_foreach (j, i, s)
    if (json_is_string(s))
      out[n++] = xstrdup(json_string_value(s));
  return out;
}
