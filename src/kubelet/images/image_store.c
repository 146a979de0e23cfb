/* image_store.c — the store's layout on disk, its lock, and the small helpers the other
 * image files share (directories, string vectors). */
#include "kubelet/images/images_internal.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const store_subdirs[] = {"blobs/sha256", "layers", "images",
                                            "tmp",          "locks",  NULL};

struct image_store *
image_store_open(const char *root, k8c_err *err)
{
  if (mkdir_p(root, 0700, err) < 0)
    return NULL;
  char resolved[PATH_MAX];
  if (realpath(root, resolved) == NULL) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "image store %s: %s", root, strerror(errno));
    return NULL;
  }
  for (size_t i = 0; store_subdirs[i]; i++) {
    cleanup_free char *dir = xasprintf("%s/%s", resolved, store_subdirs[i]);
    if (mkdir_p(dir, 0700, err) < 0)
      return NULL;
  }
  struct image_store *store = xcalloc(1, sizeof(*store));
  store->root = xstrdup(resolved);
  return store;
}

void
image_store_close(struct image_store *store)
{
  if (store == NULL)
    return;
  free(store->root);
  free(store);
}

const char *
image_store_root(const struct image_store *store)
{
  return store->root;
}

char *
store_blob_path(const struct image_store *store, const char *digest)
{
  const char *hex = digest_hex(digest);
  return hex ? xasprintf("%s/blobs/sha256/%s", store->root, hex) : NULL;
}

char *
store_layer_path(const struct image_store *store, const char *diff_id)
{
  const char *hex = digest_hex(diff_id);
  return hex ? xasprintf("%s/layers/%s", store->root, hex) : NULL;
}

char *
store_record_path(const struct image_store *store, const char *id)
{
  const char *hex = digest_hex(id);
  return hex ? xasprintf("%s/images/%s.json", store->root, hex) : NULL;
}

int
store_lock(struct image_store *store, k8c_err *err)
{
  cleanup_free char *path = xasprintf("%s/locks/store.lock", store->root);
  int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opening %s: %s", path, strerror(errno));
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int saved = errno;
      close(fd);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "locking %s: %s", path, strerror(saved));
    }
  }
  return fd;
}

void
store_unlock(int fd)
{
  if (fd >= 0)
    close(fd); /* closing drops the flock */
}

int
mkdir_p(const char *path, unsigned mode, k8c_err *err)
{
  cleanup_free char *copy = xstrdup(path);
  for (char *p = copy + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(copy, mode) != 0 && errno != EEXIST)
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating %s: %s", copy, strerror(errno));
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (type == FTW_DP)
    return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
  return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int
remove_tree(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? 0 : -1;
  return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

size_t
strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **
strv_dup(char *const *v)
{
  if (v == NULL)
    return NULL;
  size_t n = strv_len(v);
  char **out = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    out[i] = xstrdup(v[i]);
  return out;
}

void
strv_free(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

void
image_info_free(struct image_info *info)
{
  if (info == NULL)
    return;
  free(info->id);
  free(info->manifest_digest);
  strv_free(info->names);
  strv_free(info->repo_digests);
  strv_free(info->entrypoint);
  strv_free(info->cmd);
  strv_free(info->env);
  free(info->working_dir);
  free(info->user);
  strv_free(info->exposed_ports);
  json_decref(info->labels);
  strv_free(info->layers);
  free(info);
}

void
image_info_list_free(struct image_info **list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    image_info_free(list[i]);
  free(list);
}
