/* volpath.c — checks and resolution of user-given paths inside volumes. The walk in
 * volpath_resolve_in re-resolves after every step (and after every mkdir), so a symlink
 * anywhere on the way that points out of the volume is caught before it is used. */
#include "kubelet/volumes/volpath.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------- textual checks ---------- */

/* Calls fn on each '/'-separated element of path (empty ones included); stops at the
 * first non-zero return. */
static int
for_each_element(const char *path, int (*fn)(const char *el, size_t len, void *arg), void *arg)
{
  const char *p = path;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    int rc = fn(p, len, arg);
    if (rc != 0 || slash == NULL)
      return rc;
    p = slash + 1;
  }
}

static int
element_is_dotdot(const char *el, size_t len, void *arg)
{
  (void)arg;
  return len == 2 && el[0] == '.' && el[1] == '.';
}

static int
element_too_long(const char *el, size_t len, void *arg)
{
  (void)el;
  (void)arg;
  return len > VOLPATH_NAME_MAX;
}

int
volpath_validate_item(const char *path, k8c_err *err)
{
  if (path == NULL || path[0] == '\0')
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid path: must not be empty");
  if (path[0] == '/')
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid path: must be relative path: %s", path);
  if (strlen(path) > VOLPATH_MAX)
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "invalid path: must be less than or equal to %d characters", VOLPATH_MAX);
  if (for_each_element(path, element_is_dotdot, NULL))
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid path: must not contain '..': %s", path);
  if (for_each_element(path, element_too_long, NULL))
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "invalid path: filenames must be less than or equal to %d characters",
                     VOLPATH_NAME_MAX);
  if (strncmp(path, "..", 2) == 0)
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid path: must not start with '..': %s",
                     path);
  cleanup_free char *clean = volpath_clean(path);
  if (clean[0] == '\0')
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid path: must name a file: %s", path);
  return 0;
}

int
volpath_validate_subpath(const char *path, k8c_err *err)
{
  if (path == NULL || path[0] == '\0')
    return 0;
  if (path[0] == '/')
    return k8c_error(err, 422, K8C_REASON_INVALID, "subPath %s: must be a relative path", path);
  if (for_each_element(path, element_is_dotdot, NULL))
    return k8c_error(err, 422, K8C_REASON_INVALID, "subPath %s: must not contain '..'", path);
  if (strlen(path) > VOLPATH_MAX)
    return k8c_error(err, 422, K8C_REASON_INVALID, "subPath: must be at most %d characters",
                     VOLPATH_MAX);
  return 0;
}

struct clean_state {
  buf out;
};

static int
append_element(const char *el, size_t len, void *arg)
{
  struct clean_state *st = arg;
  if (len == 0 || (len == 1 && el[0] == '.'))
    return 0;
  if (st->out.len)
    buf_append(&st->out, "/", 1);
  buf_append(&st->out, el, len);
  return 0;
}

char *
volpath_clean(const char *path)
{
  struct clean_state st = {0};
  (void)for_each_element(path, append_element, &st);
  if (st.out.len == 0)
    return xstrdup("");
  return buf_steal(&st.out, NULL);
}

bool
volpath_within(const char *root, const char *path)
{
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/')
    n--;
  if (strncmp(root, path, n) != 0)
    return false;
  return path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/');
}

/* ---------- resolution on the host ---------- */

struct walk {
  const char *real_root;
  char *cur; /* real path resolved so far */
  bool create;
  k8c_err *err;
  int failed;
};

static int
walk_step(const char *el, size_t len, void *arg)
{
  struct walk *w = arg;
  if (len == 0 || (len == 1 && el[0] == '.'))
    return 0;
  cleanup_free char *name = xstrndup(el, len);
  cleanup_free char *next = xasprintf("%s/%s", w->cur, name);
  struct stat st;
  if (lstat(next, &st) < 0) {
    if (errno != ENOENT || !w->create) {
      w->failed = k8c_error(w->err, errno == ENOENT ? 404 : 500,
                            errno == ENOENT ? K8C_REASON_NOT_FOUND : K8C_REASON_INTERNAL, "%s: %s",
                            next, strerror(errno));
      return 1;
    }
    if (mkdir(next, 0755) < 0 && errno != EEXIST) {
      w->failed =
          k8c_error(w->err, 500, K8C_REASON_INTERNAL, "mkdir %s: %s", next, strerror(errno));
      return 1;
    }
  }
  char *real = realpath(next, NULL);
  if (real == NULL) {
    w->failed = k8c_error(w->err, 422, K8C_REASON_INVALID, "%s: %s", next, strerror(errno));
    return 1;
  }
  if (!volpath_within(w->real_root, real)) {
    w->failed = k8c_error(w->err, 422, K8C_REASON_INVALID,
                          "subpath \"%s\" not within volume path \"%s\"", real, w->real_root);
    free(real);
    return 1;
  }
  free(w->cur);
  w->cur = real;
  return 0;
}

int
volpath_resolve_in(const char *root, const char *rel, bool create, char **out, k8c_err *err)
{
  cleanup_free char *real_root = realpath(root, NULL);
  if (real_root == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "volume path %s: %s", root, strerror(errno));
  struct walk w = {.real_root = real_root, .cur = xstrdup(real_root), .create = create, .err = err};
  (void)for_each_element(rel ? rel : "", walk_step, &w);
  if (w.failed) {
    free(w.cur);
    return -1;
  }
  *out = w.cur;
  return 0;
}
