/* blobstore.c — the content-addressed blob store: <root>/blobs/sha256/<hex>.
 *
 * A blob is written to <root>/tmp first and renamed into place only once its digest has
 * been checked, so a path under blobs/ always holds exactly the content it names. */
#include "kubelet/images/images_internal.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
blob_exists(const struct image_store *store, const char *digest)
{
  cleanup_free char *path = store_blob_path(store, digest);
  struct stat st;
  return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int64_t
blob_size(const struct image_store *store, const char *digest)
{
  cleanup_free char *path = store_blob_path(store, digest);
  struct stat st;
  if (path == NULL || stat(path, &st) != 0)
    return 0;
  return (int64_t)st.st_size;
}

int
blob_temp_open(const struct image_store *store, char **path, k8c_err *err)
{
  char *tmpl = xasprintf("%s/tmp/blob-XXXXXX", store->root);
  int fd = mkostemp(tmpl, O_CLOEXEC);
  if (fd < 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "creating a temporary blob in %s/tmp: %s", store->root,
              strerror(errno));
    free(tmpl);
    return -1;
  }
  *path = tmpl;
  return fd;
}

int
blob_commit(const struct image_store *store, const char *tmp_path, const char *expected,
            const char *actual, k8c_err *err)
{
  if (strcmp(expected, actual) != 0) {
    unlink(tmp_path);
    return k8c_error(err, 422, K8C_REASON_INVALID, "digest mismatch: expected %s, got %s", expected,
                     actual);
  }
  cleanup_free char *path = store_blob_path(store, expected);
  if (path == NULL) {
    unlink(tmp_path);
    return k8c_error(err, 422, K8C_REASON_INVALID, "unsupported digest %s", expected);
  }
  if (chmod(tmp_path, 0644) != 0 || rename(tmp_path, path) != 0) {
    int saved = errno;
    unlink(tmp_path);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "storing blob %s: %s", expected,
                     strerror(saved));
  }
  return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int
blob_put(const struct image_store *store, const void *data, size_t len,
         char out[DIGEST_STRING_LEN + 1], k8c_err *err)
{
  digest_buffer(data, len, out);
  if (blob_exists(store, out))
    return 0;
  cleanup_free char *tmp = NULL;
  int fd = blob_temp_open(store, &tmp, err);
  if (fd < 0)
    return -1;
  if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    int saved = errno;
    close(fd);
    unlink(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing blob: %s", strerror(saved));
  }
  close(fd);
  return blob_commit(store, tmp, out, out, err);
}

int
blob_read(const struct image_store *store, const char *digest, size_t max, char **data, size_t *len,
          k8c_err *err)
{
  cleanup_free char *path = store_blob_path(store, digest);
  if (path == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "unsupported digest %s", digest);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, errno == ENOENT ? 404 : 500,
                     errno == ENOENT ? K8C_REASON_NOT_FOUND : K8C_REASON_INTERNAL, "blob %s: %s",
                     digest, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size > max)
    return k8c_error(err, 422, K8C_REASON_INVALID, "blob %s is too large", digest);
  char *out = xmalloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, out + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      free(out);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "reading blob %s", digest);
    }
    got += (size_t)n;
  }
  out[got] = '\0';
  *data = out;
  *len = got;
  return 0;
}
