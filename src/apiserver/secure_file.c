/* secure_file.c — atomic, mode-correct writes of credential files and whole-file reads.
 * The temporary file is created 0600 by mkstemp and fchmod'ed to the final mode before
 * any byte is written, so there is no window where a secret is world-readable. */
#include "apiserver/secure_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"

static int write_all(int fd, const char *data, size_t len);

int
secure_mkdir_p(const char *dir, mode_t mode, k8c_err *err)
{
  cleanup_free char *copy = xstrdup(dir);
  size_t len = strlen(copy);
  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  for (char *p = copy + 1;; p++) {
    bool at_end = (*p == '\0');
    if (*p != '/' && !at_end)
      continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(copy, mode) != 0 && errno != EEXIST)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating directory %s: %s", copy,
                       strerror(errno));
    *p = saved;
    if (at_end)
      break;
  }
  struct stat st;
  if (stat(copy, &st) != 0 || !S_ISDIR(st.st_mode))
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s is not a directory", copy);
  return 0;
}

int
secure_mkdir_parent(const char *path, mode_t dir_mode, k8c_err *err)
{
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path)
    return 0;
  cleanup_free char *parent = xstrndup(path, (size_t)(slash - path));
  return secure_mkdir_p(parent, dir_mode, err);
}

int
secure_write_file(const char *path, const void *data, size_t len, mode_t mode, k8c_err *err)
{
  cleanup_free char *tmp = xasprintf("%s.tmp.XXXXXX", path);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating temporary file for %s: %s", path,
                     strerror(errno));
  int saved_errno = 0;
  if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0)
    saved_errno = errno;
  if (close(fd) != 0 && saved_errno == 0)
    saved_errno = errno;
  if (saved_errno == 0 && rename(tmp, path) != 0)
    saved_errno = errno;
  if (saved_errno != 0) {
    (void)unlink(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing %s: %s", path, strerror(saved_errno));
  }
  return 0;
}

int
secure_read_file(const char *path, char **out, size_t *len_out, k8c_err *err)
{
  *out = NULL;
  if (len_out)
    *len_out = 0;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opening %s: %s", path, strerror(errno));
  }
  size_t cap = 4096, len = 0;
  char *data = xmalloc(cap);
  for (;;) {
    if (len + 1 >= cap) {
      cap *= 2;
      data = xrealloc(data, cap);
    }
    ssize_t n = read(fd, data + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      explicit_bzero(data, cap);
      free(data);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "reading %s: %s", path, strerror(e));
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  data[len] = '\0';
  *out = data;
  if (len_out)
    *len_out = len;
  return 1;
}

bool
secure_file_exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

void
secure_free_secret(char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero(secret, strlen(secret));
  free(secret);
}

static int
write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}
