/* fsutil.c — filesystem helpers for the node runtime: the recursive removal refuses to
 * cross mount points (st_dev check), so a forgotten mount is reported, never wiped. */
#include "kubelet/runtime/fsutil.h"

#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int remove_at(int parent_fd, const char *name, dev_t dev, const char *top, k8c_err *err);

int
fs_mkdir_p(const char *path, mode_t mode, k8c_err *err)
{
  cleanup_free char *copy = xstrdup(path);
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "mkdir %s: %s", copy, strerror(errno));
    *p = '/';
  }
  if (mkdir(copy, mode) < 0 && errno != EEXIST)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "mkdir %s: %s", copy, strerror(errno));
  return 0;
}

int
fs_remove_tree(const char *path, k8c_err *err)
{
  struct stat st;
  if (lstat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "stat %s: %s", path, strerror(errno));
  }
  return remove_at(AT_FDCWD, path, st.st_dev, path, err);
}

int
fs_write_file(const char *path, const char *data, size_t len, mode_t mode, k8c_err *err)
{
  cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "create %s: %s", tmp, strerror(errno));
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      unlink(tmp);
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "write %s: %s", tmp, strerror(saved));
    }
    off += (size_t)n;
  }
  if (fchmod(fd, mode) < 0 || close(fd) < 0) {
    unlink(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "finish %s: %s", tmp, strerror(errno));
  }
  if (rename(tmp, path) < 0) {
    int saved = errno;
    unlink(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "rename %s: %s", path, strerror(saved));
  }
  return 0;
}

char *
fs_read_file(const char *path, size_t *len, k8c_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    k8c_error(err, errno == ENOENT ? 404 : 500,
              errno == ENOENT ? K8C_REASON_NOT_FOUND : K8C_REASON_INTERNAL, "open %s: %s", path,
              strerror(errno));
    return NULL;
  }
  size_t cap = 4096, used = 0;
  char *data = xmalloc(cap + 1);
  for (;;) {
    if (used == cap) {
      cap *= 2;
      data = xrealloc(data, cap + 1);
    }
    ssize_t n = read(fd, data + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      free(data);
      k8c_error(err, 500, K8C_REASON_INTERNAL, "read %s: %s", path, strerror(saved));
      return NULL;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  close(fd);
  data[used] = '\0';
  if (len)
    *len = used;
  return data;
}

/* Decodes the octal escapes (\040 for a space) mountinfo uses in paths, in place. */
static void
unescape_mountinfo(char *s)
{
  char *out = s;
  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
      *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 4;
    } else {
      *out++ = *s++;
    }
  }
  *out = '\0';
}

/* Calls fn(mount_point) for every line of /proc/self/mountinfo, in table order. */
static void
each_mount_point(void (*fn)(const char *mount_point, void *ctx), void *ctx)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char point[4096];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
      continue;
    unescape_mountinfo(point);
    fn(point, ctx);
  }
  free(line);
  fclose(f);
}

struct mount_query {
  const char *prefix;
  size_t prefix_len;
  bool exact;
  bool found;
  char **list;
  size_t n;
};

static void
match_mount(const char *point, void *ctx)
{
  struct mount_query *q = ctx;
  if (q->exact) {
    if (strcmp(point, q->prefix) == 0)
      q->found = true;
    return;
  }
  if (strncmp(point, q->prefix, q->prefix_len) != 0)
    return;
  if (point[q->prefix_len] != '\0' && point[q->prefix_len] != '/')
    return;
  q->list = xrealloc(q->list, (q->n + 2) * sizeof *q->list);
  q->list[q->n++] = xstrdup(point);
  q->list[q->n] = NULL;
}

bool
fs_is_mount_point(const char *path)
{
  struct mount_query q = {.prefix = path, .exact = true};
  each_mount_point(match_mount, &q);
  return q.found;
}

char **
fs_mounts_under(const char *prefix)
{
  struct mount_query q = {.prefix = prefix, .prefix_len = strlen(prefix)};
  while (q.prefix_len > 1 && prefix[q.prefix_len - 1] == '/')
    q.prefix_len--;
  each_mount_point(match_mount, &q);
  if (q.list == NULL)
    return xcalloc(1, sizeof(char *));
  /* Later mounts stack on earlier ones; unmounting in reverse table order goes deepest first. */
  for (size_t i = 0; i < q.n / 2; i++) {
    char *t = q.list[i];
    q.list[i] = q.list[q.n - 1 - i];
    q.list[q.n - 1 - i] = t;
  }
  return q.list;
}

int
fs_make_shared_mount(const char *dir, k8c_err *err)
{
  if (fs_mkdir_p(dir, 0711, err) < 0)
    return -1;
  if (!fs_is_mount_point(dir) && mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "bind %s: %s", dir, strerror(errno));
  if (mount(NULL, dir, NULL, MS_SHARED | MS_REC, NULL) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "make %s shared: %s", dir, strerror(errno));
  return 0;
}

void
fs_strv_free(char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

size_t
fs_strv_len(const char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

static int
remove_at(int parent_fd, const char *name, dev_t dev, const char *top, k8c_err *err)
{
  struct stat st;
  if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0
                           : k8c_error(err, 500, K8C_REASON_INTERNAL, "stat %s/%s: %s", top, name,
                                       strerror(errno));
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "unlink %s/%s: %s", top, name,
                       strerror(errno));
    return 0;
  }
  if (st.st_dev != dev)
    return k8c_error(err, 409, K8C_REASON_CONFLICT, "%s/%s is still a mount point", top, name);
  int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "open %s/%s: %s", top, name, strerror(errno));
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opendir %s: %s", name, strerror(errno));
  }
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    rc = remove_at(dirfd(d), de->d_name, dev, top, err);
  }
  closedir(d);
  if (rc < 0)
    return -1;
  if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "rmdir %s/%s: %s", top, name, strerror(errno));
  return 0;
}
