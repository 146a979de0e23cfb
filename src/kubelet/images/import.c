/* import.c — `k8c image import`: OCI layout tars (oci-archive, `docker save` of Docker
 * 25+) and classic `docker save` tars, for air-gapped nodes as k3s allows.
 *
 * The archive is unpacked into a temp directory inside the store (same filesystem), each
 * blob is hashed and renamed into the blob store, and the images are installed exactly as
 * pulled ones are. A classic docker tar has no manifest, so one is written for it. */
#include "kubelet/images/images_internal.h"
#include "kubelet/images/reference.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Moves dir/rel into the blob store; out gets its digest. Already stored blobs stay. */
static int
adopt_file(struct image_store *store, const char *dir, const char *rel,
           char out[DIGEST_STRING_LEN + 1], k8c_err *err)
{
  if (strstr(rel, "..") != NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "archive path \"%s\" is not allowed", rel);
  cleanup_free char *path = xasprintf("%s/%s", dir, rel);
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return k8c_error(err, 422, K8C_REASON_INVALID, "archive has no file \"%s\"", rel);
  if (digest_file(path, out, err) < 0)
    return -1;
  if (blob_exists(store, out))
    return 0;
  return blob_commit(store, path, out, out, err);
}

static json_t *
load_json_file(const char *dir, const char *name, k8c_err *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  json_error_t jerr;
  json_t *j = json_load_file(path, 0, &jerr);
  if (j == NULL)
    k8c_error(err, 422, K8C_REASON_INVALID, "archive %s: %s", name, jerr.text);
  return j;
}

static char *
normalised_name(const char *text)
{
  struct image_ref ref;
  k8c_err ignored = {0};
  if (image_ref_parse(text, &ref, &ignored) < 0) {
    k8c_err_clear(&ignored);
    return NULL;
  }
  char *name = ref.tag ? image_ref_string(&ref) : NULL;
  image_ref_free(&ref);
  return name;
}

static void
append_info(struct image_info ***list, size_t *n, struct image_info *info)
{
  *list = xrealloc(*list, (*n + 2) * sizeof(**list));
  (*list)[(*n)++] = info;
  (*list)[*n] = NULL;
}

static int
import_oci(struct image_store *store, const char *dir, struct image_info ***out, size_t *n,
           k8c_err *err)
{
  cleanup_json json_t *index = load_json_file(dir, "index.json", err);
  if (index == NULL)
    return -1;
  json_t *manifests = json_object_get(index, "manifests");
  size_t i;
  json_t *desc;
  json_array_foreach (manifests, i, desc) {
    const char *digest = json_string_value(json_object_get(desc, "digest"));
    const char *hex = digest_hex(digest);
    if (hex == NULL)
      return k8c_error(err, 422, K8C_REASON_INVALID, "index.json entry %zu has no sha256 digest",
                       i);
    json_t *annotations = json_object_get(desc, "annotations");
    const char *full = json_string_value(json_object_get(annotations, "io.containerd.image.name"));
    const char *ref_name =
        json_string_value(json_object_get(annotations, "org.opencontainers.image.ref.name"));
    cleanup_free char *name = NULL;
    if (full)
      name = normalised_name(full);
    else if (ref_name && (strchr(ref_name, '/') || strchr(ref_name, ':')))
      name = normalised_name(ref_name);
    cleanup_free char *manifest_digest = xstrdup(digest);
    for (int depth = 0; depth < 4; depth++) {
      cleanup_free char *rel = xasprintf("blobs/sha256/%s", digest_hex(manifest_digest));
      cleanup_json json_t *doc = load_json_file(dir, rel, err);
      if (doc == NULL)
        return -1;
      if (!manifest_is_index(json_string_value(json_object_get(desc, "mediaType")), doc))
        break;
      char *chosen = manifest_index_select(doc, err);
      if (chosen == NULL)
        return -1;
      free(manifest_digest);
      manifest_digest = chosen;
    }
    /* adopt the manifest, its config and its layers */
    cleanup_free char *rel = xasprintf("blobs/sha256/%s", digest_hex(manifest_digest));
    cleanup_json json_t *doc = load_json_file(dir, rel, err);
    struct manifest m;
    if (doc == NULL || manifest_parse(doc, &m, err) < 0)
      return -1;
    char got[DIGEST_STRING_LEN + 1];
    int rc = adopt_file(store, dir, rel, got, err);
    if (rc == 0 && strcmp(got, manifest_digest) != 0)
      rc = k8c_error(err, 422, K8C_REASON_INVALID, "blob %s has digest %s", manifest_digest, got);
    const struct descriptor *all[m.n_layers + 1];
    all[0] = &m.config;
    for (size_t k = 0; k < m.n_layers; k++)
      all[k + 1] = &m.layers[k];
    for (size_t k = 0; rc == 0 && k < m.n_layers + 1; k++) {
      if (blob_exists(store, all[k]->digest))
        continue;
      cleanup_free char *brel = xasprintf("blobs/sha256/%s", digest_hex(all[k]->digest));
      rc = adopt_file(store, dir, brel, got, err);
      if (rc == 0 && strcmp(got, all[k]->digest) != 0)
        rc = k8c_error(err, 422, K8C_REASON_INVALID, "blob %s has digest %s", all[k]->digest, got);
    }
    manifest_free(&m);
    if (rc < 0)
      return -1;
    const char *names[] = {name, NULL};
    struct image_info *info = image_install(store, manifest_digest, names, NULL, err);
    if (info == NULL)
      return -1;
    append_info(out, n, info);
  }
  return 0;
}

static int
import_docker(struct image_store *store, const char *dir, struct image_info ***out, size_t *n,
              k8c_err *err)
{
  cleanup_json json_t *list = load_json_file(dir, "manifest.json", err);
  if (list == NULL)
    return -1;
  if (!json_is_array(list))
    return k8c_error(err, 422, K8C_REASON_INVALID, "manifest.json is not a list");
  size_t i;
  json_t *entry;
  json_array_foreach (list, i, entry) {
    const char *config = json_string_value(json_object_get(entry, "Config"));
    json_t *layers = json_object_get(entry, "Layers");
    if (config == NULL || !json_is_array(layers))
      return k8c_error(err, 422, K8C_REASON_INVALID, "manifest.json entry %zu lacks Config/Layers",
                       i);
    char digest[DIGEST_STRING_LEN + 1];
    if (adopt_file(store, dir, config, digest, err) < 0)
      return -1;
    cleanup_free char *config_path = store_blob_path(store, digest);
    struct stat st;
    if (stat(config_path, &st) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "config blob vanished");
    json_t *manifest = json_pack("{s:i,s:s,s:{s:s,s:I,s:s},s:[]}", "schemaVersion", 2, "mediaType",
                                 MEDIA_DOCKER_MANIFEST, "config", "mediaType", MEDIA_DOCKER_CONFIG,
                                 "size", (json_int_t)st.st_size, "digest", digest, "layers");
    size_t k;
    json_t *layer;
    json_array_foreach (layers, k, layer) {
      const char *rel = json_string_value(layer);
      char layer_digest[DIGEST_STRING_LEN + 1];
      if (rel == NULL || adopt_file(store, dir, rel, layer_digest, err) < 0) {
        json_decref(manifest);
        return rel ? -1 : k8c_error(err, 422, K8C_REASON_INVALID, "bad layer entry");
      }
      json_array_append_new(json_object_get(manifest, "layers"),
                            json_pack("{s:s,s:I,s:s}", "mediaType", MEDIA_DOCKER_LAYER_TAR, "size",
                                      (json_int_t)blob_size(store, layer_digest), "digest",
                                      layer_digest));
    }
    char *text = json_dumps(manifest, JSON_COMPACT);
    json_decref(manifest);
    char manifest_digest[DIGEST_STRING_LEN + 1];
    int rc = blob_put(store, text, strlen(text), manifest_digest, err);
    free(text);
    if (rc < 0)
      return -1;
    json_t *tags = json_object_get(entry, "RepoTags");
    const char **names = xcalloc(json_array_size(tags) + 1, sizeof(char *));
    size_t n_names = 0;
    json_t *tag;
    json_array_foreach (tags, k, tag) {
      char *name = json_is_string(tag) ? normalised_name(json_string_value(tag)) : NULL;
      if (name)
        names[n_names++] = name;
    }
    struct image_info *info = image_install(store, manifest_digest, names, NULL, err);
    for (size_t t = 0; t < n_names; t++)
      free((char *)names[t]);
    free(names);
    if (info == NULL)
      return -1;
    append_info(out, n, info);
  }
  return 0;
}

int
image_import(struct image_store *store, const char *archive_path, struct image_info ***out,
             size_t *n, k8c_err *err)
{
  *out = xcalloc(1, sizeof(**out));
  *n = 0;
  int pull_lock = store_pull_lock(store, err);
  if (pull_lock < 0)
    return -1;
  cleanup_free char *dir = xasprintf("%s/tmp/import-XXXXXX", store->root);
  cleanup_free char *index = NULL;
  cleanup_free char *docker = NULL;
  int rc = -1;
  if (mkdtemp(dir) == NULL) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "creating %s: %s", dir, strerror(errno));
    goto out;
  }
  if (layer_unpack(archive_path, dir, NULL, err) < 0) {
    k8c_err_prefix(err, "importing %s", archive_path);
    goto out;
  }
  index = xasprintf("%s/index.json", dir);
  docker = xasprintf("%s/manifest.json", dir);
  struct stat st;
  if (stat(index, &st) == 0)
    rc = import_oci(store, dir, out, n, err);
  else if (stat(docker, &st) == 0)
    rc = import_docker(store, dir, out, n, err);
  else
    rc = k8c_error(err, 422, K8C_REASON_INVALID,
                   "%s is neither an OCI layout (index.json) nor a docker archive (manifest.json)",
                   archive_path);
  if (rc < 0)
    k8c_err_prefix(err, "importing %s", archive_path);
out:
  remove_tree(dir);
  store_unlock(pull_lock);
  if (rc < 0) {
    image_info_list_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return rc;
}
