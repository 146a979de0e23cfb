/* image_record.c — image records (<root>/images/<id hex>.json): installing an image whose
 * blobs are present, looking images up, listing, removing, and sweeping what no record
 * references.
 *
 * A record is a small JSON file replaced atomically (write temp, rename); changes that
 * touch several records (moving a tag, removing) happen under the store lock. */
#include "kubelet/images/images_internal.h"
#include "kubelet/images/reference.h"
#include "lib/mem.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- JSON <-> struct ---- */

static json_t *
strv_json(char *const *v)
{
  if (v == NULL)
    return json_null();
  json_t *a = json_array();
  for (size_t i = 0; v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static char **
json_strv(const json_t *a)
{
  if (!json_is_array(a))
    return NULL;
  char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
  size_t n = 0, i;
  json_t *s;
  json_array_foreach (a, i, s)
    if (json_is_string(s))
      v[n++] = xstrdup(json_string_value(s));
  return v;
}

static char *
json_str(const json_t *obj, const char *key)
{
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? xstrdup(s) : NULL;
}

static struct image_info *
info_from_json(const json_t *j)
{
  struct image_info *info = xcalloc(1, sizeof(*info));
  info->id = json_str(j, "id");
  info->manifest_digest = json_str(j, "manifestDigest");
  info->names = json_strv(json_object_get(j, "names"));
  info->repo_digests = json_strv(json_object_get(j, "repoDigests"));
  info->entrypoint = json_strv(json_object_get(j, "entrypoint"));
  info->cmd = json_strv(json_object_get(j, "cmd"));
  info->env = json_strv(json_object_get(j, "env"));
  info->working_dir = json_str(j, "workingDir");
  info->user = json_str(j, "user");
  info->exposed_ports = json_strv(json_object_get(j, "exposedPorts"));
  json_t *labels = json_object_get(j, "labels");
  info->labels = json_is_object(labels) ? json_deep_copy(labels) : NULL;
  info->layers = json_strv(json_object_get(j, "layers"));
  if (info->layers == NULL)
    info->layers = xcalloc(1, sizeof(char *));
  info->n_layers = strv_len(info->layers);
  if (info->names == NULL)
    info->names = xcalloc(1, sizeof(char *));
  if (info->repo_digests == NULL)
    info->repo_digests = xcalloc(1, sizeof(char *));
  info->size = json_integer_value(json_object_get(j, "size"));
  info->pulled_at = json_integer_value(json_object_get(j, "pulledAt"));
  info->last_used = json_integer_value(json_object_get(j, "lastUsed"));
  return info;
}

static json_t *
info_to_json(const struct image_info *info, json_t *blobs)
{
  json_t *j = json_object();
  json_object_set_new(j, "id", json_string(info->id));
  json_object_set_new(j, "manifestDigest", json_string(info->manifest_digest));
  json_object_set_new(j, "names", strv_json(info->names));
  json_object_set_new(j, "repoDigests", strv_json(info->repo_digests));
  json_object_set_new(j, "entrypoint", strv_json(info->entrypoint));
  json_object_set_new(j, "cmd", strv_json(info->cmd));
  json_object_set_new(j, "env", strv_json(info->env));
  json_object_set_new(j, "workingDir",
                      info->working_dir ? json_string(info->working_dir) : json_null());
  json_object_set_new(j, "user", info->user ? json_string(info->user) : json_null());
  json_object_set_new(j, "exposedPorts", strv_json(info->exposed_ports));
  json_object_set_new(j, "labels", info->labels ? json_incref(info->labels) : json_null());
  json_object_set_new(j, "layers", strv_json(info->layers));
  json_object_set_new(j, "blobs", blobs);
  json_object_set_new(j, "size", json_integer(info->size));
  json_object_set_new(j, "pulledAt", json_integer(info->pulled_at));
  json_object_set_new(j, "lastUsed", json_integer(info->last_used));
  return j;
}

static json_t *
record_load(struct image_store *store, const char *id, k8c_err *err)
{
  cleanup_free char *path = store_record_path(store, id);
  json_error_t jerr;
  json_t *j = path ? json_load_file(path, 0, &jerr) : NULL;
  if (j == NULL)
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "image %s not found", id);
  return j;
}

static int
record_save(struct image_store *store, const json_t *j, k8c_err *err)
{
  const char *id = json_string_value(json_object_get(j, "id"));
  cleanup_free char *path = store_record_path(store, id);
  if (path == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "record without a valid id");
  cleanup_free char *tmp = xasprintf("%s.tmp", path);
  if (json_dump_file(j, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0) {
    unlink(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing %s: %s", path, strerror(errno));
  }
  return 0;
}

static int
records_load_json(struct image_store *store, json_t **out, k8c_err *err)
{
  cleanup_free char *dir_path = xasprintf("%s/images", store->root);
  DIR *dir = opendir(dir_path);
  if (dir == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "reading %s: %s", dir_path, strerror(errno));
  json_t *all = json_array();
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len != 64 + 5 || strcmp(de->d_name + 64, ".json") != 0)
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir_path, de->d_name);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (json_is_object(j))
      json_array_append_new(all, j);
    else
      json_decref(j);
  }
  closedir(dir);
  *out = all;
  return 0;
}

int
records_load_all(struct image_store *store, struct image_info ***out, size_t *n, k8c_err *err)
{
  cleanup_json json_t *all = NULL;
  if (records_load_json(store, &all, err) < 0)
    return -1;
  struct image_info **list = xcalloc(json_array_size(all) + 1, sizeof(*list));
  size_t i;
  json_t *j;
  json_array_foreach (all, i, j)
    list[i] = info_from_json(j);
  *out = list;
  *n = json_array_size(all);
  return 0;
}

/* ---- names ---- */

static bool
json_array_has(const json_t *a, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (a, i, v)
    if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
      return true;
  return false;
}

static bool
json_array_remove_string(json_t *a, const char *s)
{
  for (size_t i = 0; i < json_array_size(a); i++) {
    if (strcmp(json_string_value(json_array_get(a, i)) ?: "", s) == 0) {
      json_array_remove(a, i);
      return true;
    }
  }
  return false;
}

/* ---- install ---- */

struct image_info *
image_install(struct image_store *store, const char *manifest_digest, const char *const *names,
              const char *const *repo_digests, k8c_err *err)
{
  cleanup_free char *manifest_text = NULL;
  size_t manifest_len;
  if (blob_read(store, manifest_digest, 8 << 20, &manifest_text, &manifest_len, err) < 0)
    return NULL;
  json_error_t jerr;
  cleanup_json json_t *doc = json_loadb(manifest_text, manifest_len, 0, &jerr);
  struct manifest m;
  if (manifest_parse(doc, &m, err) < 0)
    return NULL;
  struct image_info *info = xcalloc(1, sizeof(*info));
  cleanup_free char *config_text = NULL;
  size_t config_len;
  json_t *blobs = json_array();
  cleanup_json json_t *all = NULL;
  json_t *record = NULL;
  int lock = -1;
  if (blob_read(store, m.config.digest, 8 << 20, &config_text, &config_len, err) < 0 ||
      image_config_parse(config_text, config_len, info, err) < 0)
    goto fail;
  if (info->n_layers != m.n_layers) {
    k8c_error(err, 422, K8C_REASON_INVALID, "manifest has %zu layers but the config %zu diff_ids",
              m.n_layers, info->n_layers);
    goto fail;
  }
  info->id = xstrdup(m.config.digest);
  info->manifest_digest = xstrdup(manifest_digest);
  info->size = (int64_t)manifest_len + (int64_t)config_len;
  json_array_append_new(blobs, json_string(manifest_digest));
  json_array_append_new(blobs, json_string(m.config.digest));
  for (size_t i = 0; i < m.n_layers; i++) {
    if (layer_ensure(store, m.layers[i].digest, info->layers[i], err) < 0)
      goto fail;
    info->size += blob_size(store, m.layers[i].digest);
    json_array_append_new(blobs, json_string(m.layers[i].digest));
  }
  lock = store_lock(store, err);
  if (lock < 0)
    goto fail;
  /* a tag names one image: take each name away from whichever image had it */
  if (records_load_json(store, &all, err) < 0) {
    store_unlock(lock);
    goto fail;
  }
  json_t *merged_names = json_array();
  json_t *merged_digests = json_array();
  int64_t now = (int64_t)time(NULL);
  int64_t last_used = 0;
  size_t i;
  json_t *rec;
  json_array_foreach (all, i, rec) {
    const char *rid = json_string_value(json_object_get(rec, "id"));
    json_t *rnames = json_object_get(rec, "names");
    if (rid && strcmp(rid, info->id) == 0) {
      json_array_extend(merged_names, rnames);
      json_array_extend(merged_digests, json_object_get(rec, "repoDigests"));
      last_used = json_integer_value(json_object_get(rec, "lastUsed"));
      continue;
    }
    bool changed = false;
    for (size_t k = 0; names && names[k]; k++)
      changed |= json_array_remove_string(rnames, names[k]);
    if (changed && record_save(store, rec, err) < 0) {
      json_decref(merged_names);
      json_decref(merged_digests);
      store_unlock(lock);
      goto fail;
    }
  }
  for (size_t k = 0; names && names[k]; k++)
    if (!json_array_has(merged_names, names[k]))
      json_array_append_new(merged_names, json_string(names[k]));
  for (size_t k = 0; repo_digests && repo_digests[k]; k++)
    if (!json_array_has(merged_digests, repo_digests[k]))
      json_array_append_new(merged_digests, json_string(repo_digests[k]));
  strv_free(info->names);
  strv_free(info->repo_digests);
  info->names = json_strv(merged_names);
  info->repo_digests = json_strv(merged_digests);
  json_decref(merged_names);
  json_decref(merged_digests);
  info->pulled_at = now;
  info->last_used = last_used;
  /* a layer swept between unpacking and now would leave a broken image: check under lock */
  for (size_t k = 0; k < info->n_layers; k++) {
    cleanup_free char *dir = store_layer_path(store, info->layers[k]);
    struct stat st;
    if (dir == NULL || stat(dir, &st) != 0) {
      store_unlock(lock);
      k8c_error(err, 409, K8C_REASON_CONFLICT, "layer %s was removed during the pull; retry",
                info->layers[k]);
      goto fail;
    }
  }
  record = info_to_json(info, steal_ptr(blobs));
  int rc = record_save(store, record, err);
  json_decref(record);
  store_unlock(lock);
  manifest_free(&m);
  if (rc < 0) {
    image_info_free(info);
    return NULL;
  }
  return info;
fail:
  json_decref(blobs);
  manifest_free(&m);
  image_info_free(info);
  return NULL;
}

/* ---- lookup ---- */

static bool
is_hex_prefix(const char *s)
{
  size_t n = strlen(s);
  if (n < 4 || n > 64)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return false;
  return true;
}

/* Finds the record ref names; *by_name tells whether it matched a name (not an ID). Returns
 * a new reference to the record's JSON, or NULL with 404. *all keeps every record. */
static json_t *
record_find(json_t *all, const char *ref, bool *by_name, char **name_out, k8c_err *err)
{
  *by_name = false;
  if (name_out)
    *name_out = NULL;
  size_t i;
  json_t *rec;
  if (strncmp(ref, "sha256:", 7) == 0 && digest_hex(ref) != NULL) {
    json_array_foreach (all, i, rec) {
      const char *id = json_string_value(json_object_get(rec, "id"));
      const char *md = json_string_value(json_object_get(rec, "manifestDigest"));
      if ((id && strcmp(id, ref) == 0) || (md && strcmp(md, ref) == 0))
        return json_incref(rec);
    }
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "image %s not found", ref);
    return NULL;
  }
  struct image_ref parsed;
  k8c_err parse_err = {0};
  if (image_ref_parse(ref, &parsed, &parse_err) == 0) {
    cleanup_free char *name = image_ref_string(&parsed);
    cleanup_free char *repo = image_ref_repository(&parsed);
    cleanup_free char *repo_digest = parsed.digest ? xasprintf("%s@%s", repo, parsed.digest) : NULL;
    cleanup_free char *tag_name = parsed.tag ? xasprintf("%s:%s", repo, parsed.tag) : NULL;
    json_array_foreach (all, i, rec) {
      bool match = false;
      if (parsed.digest) {
        const char *md = json_string_value(json_object_get(rec, "manifestDigest"));
        match = json_array_has(json_object_get(rec, "repoDigests"), repo_digest) ||
                (md && strcmp(md, parsed.digest) == 0 &&
                 (tag_name == NULL || json_array_has(json_object_get(rec, "names"), tag_name)));
      } else {
        match = json_array_has(json_object_get(rec, "names"), name);
      }
      if (match) {
        *by_name = parsed.digest == NULL;
        image_ref_free(&parsed);
        if (name_out)
          *name_out = xstrdup(name);
        return json_incref(rec);
      }
    }
    image_ref_free(&parsed);
  }
  k8c_err_clear(&parse_err);
  if (is_hex_prefix(ref)) {
    json_t *found = NULL;
    json_array_foreach (all, i, rec) {
      const char *hex = digest_hex(json_string_value(json_object_get(rec, "id")));
      if (hex && strncmp(hex, ref, strlen(ref)) == 0) {
        if (found != NULL) {
          k8c_error(err, 409, K8C_REASON_CONFLICT, "image ID prefix %s is ambiguous", ref);
          return NULL;
        }
        found = rec;
      }
    }
    if (found)
      return json_incref(found);
  }
  k8c_error(err, 404, K8C_REASON_NOT_FOUND, "image \"%s\" not found", ref);
  return NULL;
}

struct image_info *
image_get(struct image_store *store, const char *ref, k8c_err *err)
{
  cleanup_json json_t *all = NULL;
  if (records_load_json(store, &all, err) < 0)
    return NULL;
  bool by_name;
  cleanup_json json_t *rec = record_find(all, ref, &by_name, NULL, err);
  return rec ? info_from_json(rec) : NULL;
}

int
image_list(struct image_store *store, struct image_info ***out, size_t *n, k8c_err *err)
{
  return records_load_all(store, out, n, err);
}

char **
image_lowerdirs(struct image_store *store, const struct image_info *info, k8c_err *err)
{
  char **dirs = xcalloc(info->n_layers + 1, sizeof(char *));
  for (size_t i = 0; i < info->n_layers; i++) {
    char *dir = store_layer_path(store, info->layers[info->n_layers - 1 - i]);
    struct stat st;
    if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      free(dir);
      strv_free(dirs);
      k8c_error(err, 404, K8C_REASON_NOT_FOUND, "image %s: layer %s is missing", info->id,
                info->layers[info->n_layers - 1 - i]);
      return NULL;
    }
    dirs[i] = dir;
  }
  return dirs;
}

int
image_mark_used(struct image_store *store, const char *id, k8c_err *err)
{
  int lock = store_lock(store, err);
  if (lock < 0)
    return -1;
  cleanup_json json_t *rec = record_load(store, id, err);
  int rc = -1;
  if (rec != NULL) {
    json_object_set_new(rec, "lastUsed", json_integer((json_int_t)time(NULL)));
    rc = record_save(store, rec, err);
  }
  store_unlock(lock);
  return rc;
}

/* ---- remove and sweep ---- */

int
image_remove(struct image_store *store, const char *ref, k8c_err *err)
{
  int lock = store_lock(store, err);
  if (lock < 0)
    return -1;
  cleanup_json json_t *all = NULL;
  int rc = records_load_json(store, &all, err);
  bool by_name = false;
  cleanup_free char *name = NULL;
  cleanup_json json_t *rec = rc == 0 ? record_find(all, ref, &by_name, &name, err) : NULL;
  if (rec == NULL) {
    store_unlock(lock);
    return -1;
  }
  json_t *names = json_object_get(rec, "names");
  if (by_name && json_array_size(names) > 1) {
    json_array_remove_string(names, name);
    rc = record_save(store, rec, err);
    store_unlock(lock);
    return rc;
  }
  cleanup_free char *path = store_record_path(store, json_string_value(json_object_get(rec, "id")));
  if (path == NULL || unlink(path) != 0) {
    store_unlock(lock);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "removing the record of %s: %s", ref,
                     strerror(errno));
  }
  rc = store_sweep(store, err);
  store_unlock(lock);
  return rc;
}

int
store_pull_lock(struct image_store *store, k8c_err *err)
{
  cleanup_free char *path = xasprintf("%s/locks/pull.lock", store->root);
  int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opening %s: %s", path, strerror(errno));
  while (flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) {
      close(fd);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "locking %s", path);
    }
  }
  return fd;
}

static void
sweep_dir(const char *dir_path, const json_t *keep_hex, bool remove_all)
{
  DIR *dir = opendir(dir_path);
  if (dir == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (!remove_all && json_object_get(keep_hex, de->d_name) != NULL)
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir_path, de->d_name);
    if (remove_tree(path) != 0)
      continue; /* best effort: the next sweep tries again */
  }
  closedir(dir);
}

int
store_sweep(struct image_store *store, k8c_err *err)
{
  cleanup_free char *pull_path = xasprintf("%s/locks/pull.lock", store->root);
  cleanup_close int pull = open(pull_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (pull < 0 || flock(pull, LOCK_EX | LOCK_NB) != 0)
    return 0; /* a pull is running: what it fetched is not in a record yet */
  cleanup_json json_t *all = NULL;
  if (records_load_json(store, &all, err) < 0)
    return -1;
  cleanup_json json_t *blobs = json_object();
  cleanup_json json_t *layers = json_object();
  size_t i, k;
  json_t *rec, *v;
  json_array_foreach (all, i, rec) {
    json_array_foreach (json_object_get(rec, "blobs"), k, v) {
      const char *hex = digest_hex(json_string_value(v));
      if (hex)
        json_object_set_new(blobs, hex, json_true());
    }
    json_array_foreach (json_object_get(rec, "layers"), k, v) {
      const char *hex = digest_hex(json_string_value(v));
      if (hex)
        json_object_set_new(layers, hex, json_true());
    }
  }
  cleanup_free char *blob_dir = xasprintf("%s/blobs/sha256", store->root);
  cleanup_free char *layer_dir = xasprintf("%s/layers", store->root);
  cleanup_free char *tmp_dir = xasprintf("%s/tmp", store->root);
  sweep_dir(blob_dir, blobs, false);
  sweep_dir(layer_dir, layers, false);
  sweep_dir(tmp_dir, NULL, true);
  /* per-layer unpack locks: no pull is running, so none is held */
  cleanup_json json_t *locks = json_object();
  json_object_set_new(locks, "store.lock", json_true());
  json_object_set_new(locks, "pull.lock", json_true());
  const char *hex;
  json_t *unused;
  json_object_foreach (layers, hex, unused) {
    char name[80];
    snprintf(name, sizeof(name), "%s.lock", hex);
    json_object_set_new(locks, name, json_true());
  }
  cleanup_free char *lock_dir = xasprintf("%s/locks", store->root);
  sweep_dir(lock_dir, locks, false);
  return 0;
}
