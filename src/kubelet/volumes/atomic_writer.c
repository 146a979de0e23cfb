/* atomic_writer.c — publishes a volume's files as one version: write everything into a
 * fresh timestamped directory, point `..data_tmp` at it, rename that over `..data`
 * (atomic), then add the user-visible links and drop the previous version. An unchanged
 * payload publishes nothing, so update checks are cheap and quiet. */
#include "kubelet/volumes/atomic_writer.h"

#include "kubelet/runtime/fsutil.h"
#include "kubelet/volumes/volpath.h"
#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DATA_LINK "..data"
#define DATA_TMP_LINK "..data_tmp"

/* ---------- payloads ---------- */

void
payload_put(struct payload *p, const char *path, const char *data, size_t len, mode_t mode)
{
  char *clean = volpath_clean(path);
  struct payload_file *f = NULL;
  for (size_t i = 0; i < p->len; i++) {
    if (strcmp(p->files[i].path, clean) == 0) {
      f = &p->files[i];
      free(f->path);
      free(f->data);
      break;
    }
  }
  if (f == NULL) {
    p->files = xrealloc(p->files, (p->len + 1) * sizeof p->files[0]);
    f = &p->files[p->len++];
  }
  f->path = clean;
  f->data = xmalloc(len + 1);
  memcpy(f->data, data, len);
  f->data[len] = '\0';
  f->len = len;
  f->mode = mode & 07777;
}

const struct payload_file *
payload_get(const struct payload *p, const char *path)
{
  cleanup_free char *clean = volpath_clean(path);
  for (size_t i = 0; i < p->len; i++)
    if (strcmp(p->files[i].path, clean) == 0)
      return &p->files[i];
  return NULL;
}

void
payload_clear(struct payload *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->len; i++) {
    free(p->files[i].path);
    free(p->files[i].data);
  }
  free(p->files);
  p->files = NULL;
  p->len = 0;
}

/* ---------- comparing with the published version ---------- */

/* With an fsGroup the group may always read (upstream's ownership pass on a read-only
 * volume adds r--r-----). */
static mode_t
effective_mode(mode_t mode, long gid)
{
  return gid >= 0 ? (mode | 0440) : mode;
}

/* Regular files below dir (recursively); -1 if dir cannot be read. */
static long
count_files(const char *dir)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  long n = 0;
  struct dirent *e;
  while (n >= 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    cleanup_free char *child = xasprintf("%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(child, &st) < 0) {
      n = -1;
    } else if (S_ISDIR(st.st_mode)) {
      long sub = count_files(child);
      n = sub < 0 ? -1 : n + sub;
    } else {
      n++;
    }
  }
  closedir(d);
  return n;
}

static bool
version_matches(const char *version_dir, const struct payload *p, long gid)
{
  for (size_t i = 0; i < p->len; i++) {
    cleanup_free char *path = xasprintf("%s/%s", version_dir, p->files[i].path);
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & 07777) != effective_mode(p->files[i].mode, gid) ||
        (size_t)st.st_size != p->files[i].len || (gid >= 0 && st.st_gid != (gid_t)gid))
      return false;
    k8c_err err = {0};
    size_t len = 0;
    cleanup_free char *data = fs_read_file(path, &len, &err);
    k8c_err_clear(&err);
    if (data == NULL || len != p->files[i].len || memcmp(data, p->files[i].data, len) != 0)
      return false;
  }
  return count_files(version_dir) == (long)p->len;
}

/* ---------- writing a version ---------- */

/* Creates <dir>/..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN (UTC); returns its name. */
static char *
make_version_dir(const char *dir, k8c_err *err)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char stamp[64];
  strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S", &tm);
  for (long nsec = ts.tv_nsec, tries = 0; tries < 1000; tries++, nsec = (nsec + 1) % 1000000000) {
    char *name = xasprintf("%s.%09ld", stamp, nsec);
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    if (mkdir(path, 0755) == 0) {
      if (chmod(path, 0755) < 0) {
        int e = errno;
        (void)rmdir(path);
        free(name);
        k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", path, strerror(e));
        return NULL;
      }
      return name;
    }
    free(name);
    if (errno != EEXIST) {
      k8c_error(err, 500, K8C_REASON_INTERNAL, "mkdir %s: %s", path, strerror(errno));
      return NULL;
    }
  }
  k8c_error(err, 500, K8C_REASON_INTERNAL, "no free version directory name in %s", dir);
  return NULL;
}

static int
set_group(const char *path, long gid, mode_t group_bits, k8c_err *err)
{
  if (gid < 0)
    return 0;
  struct stat st;
  if (lchown(path, (uid_t)-1, (gid_t)gid) < 0 || lstat(path, &st) < 0 ||
      chmod(path, (st.st_mode & 07777) | group_bits) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "setting group of %s: %s", path,
                     strerror(errno));
  return 0;
}

/* mkdir -p of path's parent directories below root (path relative and clean). */
static int
make_parents(const char *root, const char *path, long gid, k8c_err *err)
{
  cleanup_free char *rel = xstrdup(path);
  for (char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    cleanup_free char *dir = xasprintf("%s/%s", root, rel);
    *slash = '/';
    if (mkdir(dir, 0755) == 0) {
      if (chmod(dir, 0755) < 0 || set_group(dir, gid, 0050, err) < 0)
        return err->status
                   ? -1
                   : k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", dir, strerror(errno));
    } else if (errno != EEXIST) {
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "mkdir %s: %s", dir, strerror(errno));
    }
  }
  return 0;
}

static int
write_one(const char *root, const struct payload_file *f, long gid, k8c_err *err)
{
  if (make_parents(root, f->path, gid, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", root, f->path);
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "create %s: %s", path, strerror(errno));
  for (size_t off = 0; off < f->len;) {
    ssize_t n = write(fd, f->data + off, f->len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "write %s: %s", path, strerror(errno));
    off += (size_t)n;
  }
  if (gid >= 0 && fchown(fd, (uid_t)-1, (gid_t)gid) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "chown %s: %s", path, strerror(errno));
  if (fchmod(fd, effective_mode(f->mode, gid)) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", path, strerror(errno));
  return 0;
}

/* ---------- user-visible links ---------- */

static char *
top_name(const char *path)
{
  const char *slash = strchr(path, '/');
  return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(path);
}

static bool
payload_has_top(const struct payload *p, const char *name)
{
  size_t n = strlen(name);
  for (size_t i = 0; i < p->len; i++)
    if (strncmp(p->files[i].path, name, n) == 0 &&
        (p->files[i].path[n] == '\0' || p->files[i].path[n] == '/'))
      return true;
  return false;
}

static int
link_visible(const char *dir, const struct payload *p, k8c_err *err)
{
  for (size_t i = 0; i < p->len; i++) {
    cleanup_free char *top = top_name(p->files[i].path);
    cleanup_free char *link = xasprintf("%s/%s", dir, top);
    cleanup_free char *target = xasprintf(DATA_LINK "/%s", top);
    struct stat st;
    if (lstat(link, &st) == 0)
      continue; /* already linked (or a name the writer does not own) */
    if (symlink(target, link) < 0 && errno != EEXIST)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "symlink %s: %s", link, strerror(errno));
  }
  return 0;
}

/* Unlinks the user-visible links of the previous version that the new one lacks. */
static int
unlink_stale(const char *dir, const char *old_version, const struct payload *p, k8c_err *err)
{
  cleanup_free char *old_dir = xasprintf("%s/%s", dir, old_version);
  DIR *d = opendir(old_dir);
  if (d == NULL)
    return 0;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        payload_has_top(p, e->d_name))
      continue;
    cleanup_free char *link = xasprintf("%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(link, &st) == 0 && S_ISLNK(st.st_mode) && unlink(link) < 0)
      rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "unlink %s: %s", link, strerror(errno));
  }
  closedir(d);
  return rc;
}

/* Removes every version directory but keep_a and keep_b (either may be NULL). The version
 * just replaced is kept until the next write: a reader that resolved `..data` to it a moment
 * before the swap can still open its file, instead of finding it gone. */
static int
remove_older_versions(const char *dir, const char *keep_a, const char *keep_b, k8c_err *err)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opendir %s: %s", dir, strerror(errno));
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "..", 2) != 0 || strcmp(e->d_name, "..") == 0 ||
        (keep_a && strcmp(e->d_name, keep_a) == 0) || (keep_b && strcmp(e->d_name, keep_b) == 0))
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      rc = fs_remove_tree(path, err);
  }
  closedir(d);
  return rc;
}

/* ---------- entry points ---------- */

static char *
current_version(const char *dir)
{
  cleanup_free char *link = xasprintf("%s/" DATA_LINK, dir);
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0)
    return NULL;
  target[n] = '\0';
  if (strchr(target, '/') != NULL || strncmp(target, "..", 2) != 0)
    return NULL; /* not something this writer made */
  return xstrdup(target);
}

int
atomic_writer_write(const char *dir, const struct payload *payload, long gid, bool *changed,
                    k8c_err *err)
{
  *changed = false;
  for (size_t i = 0; i < payload->len; i++)
    if (volpath_validate_item(payload->files[i].path, err) < 0)
      return -1;
  cleanup_free char *old = current_version(dir);
  if (old != NULL) {
    cleanup_free char *old_dir = xasprintf("%s/%s", dir, old);
    if (version_matches(old_dir, payload, gid))
      return 0;
  }
  cleanup_free char *version = make_version_dir(dir, err);
  if (version == NULL)
    return -1;
  cleanup_free char *version_dir = xasprintf("%s/%s", dir, version);
  cleanup_free char *tmp_link = xasprintf("%s/" DATA_TMP_LINK, dir);
  cleanup_free char *data_link = xasprintf("%s/" DATA_LINK, dir);
  if (set_group(version_dir, gid, 0050, err) < 0)
    goto fail;
  for (size_t i = 0; i < payload->len; i++)
    if (write_one(version_dir, &payload->files[i], gid, err) < 0)
      goto fail;
  if (unlink(tmp_link) < 0 && errno != ENOENT) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "unlink %s: %s", tmp_link, strerror(errno));
    goto fail;
  }
  if (symlink(version, tmp_link) < 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "symlink %s: %s", tmp_link, strerror(errno));
    goto fail;
  }
  if (rename(tmp_link, data_link) < 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "rename %s: %s", tmp_link, strerror(errno));
    (void)unlink(tmp_link);
    goto fail;
  }
  *changed = true;
  /* Published: from here on a failure leaves the new version in place. */
  if (link_visible(dir, payload, err) < 0)
    return -1;
  if (old != NULL && unlink_stale(dir, old, payload, err) < 0)
    return -1;
  return remove_older_versions(dir, version, old, err);
fail:;
  k8c_err ignored = {0};
  (void)fs_remove_tree(version_dir, &ignored);
  k8c_err_clear(&ignored);
  return -1;
}

char *
atomic_writer_read(const char *dir, const char *path, size_t *len)
{
  cleanup_free char *clean = volpath_clean(path);
  cleanup_free char *full = xasprintf("%s/" DATA_LINK "/%s", dir, clean);
  k8c_err err = {0};
  char *data = fs_read_file(full, len, &err);
  k8c_err_clear(&err);
  return data;
}
