/* hostpath.c — the hostPath volume: a path of the node bound in as it is, after the
 * check its type asks for (DirectoryOrCreate makes a 0755 directory, FileOrCreate an
 * empty 0644 file); failures use upstream's "hostPath type check failed" words. */
#include "kubelet/volumes/volumes_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct type_check {
  const char *type;
  mode_t format;    /* S_IFDIR ...; 0: no check */
  const char *what; /* "a directory" */
  bool create;
};

static const struct type_check type_checks[] = {
    {"DirectoryOrCreate", S_IFDIR, "a directory", true},
    {"Directory", S_IFDIR, "a directory", false},
    {"FileOrCreate", S_IFREG, "a file", true},
    {"File", S_IFREG, "a file", false},
    {"Socket", S_IFSOCK, "a socket file", false},
    {"CharDevice", S_IFCHR, "a character device", false},
    {"BlockDevice", S_IFBLK, "a block device", false},
};

static int
create_missing(const char *path, mode_t format, k8c_err *err)
{
  if (format == S_IFDIR) {
    if (fs_mkdir_p(path, 0755, err) < 0)
      return -1;
    return chmod(path, 0755) < 0
               ? k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", path, strerror(errno))
               : 0;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno != EEXIST)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "hostPath type check failed: creating %s: %s",
                     path, strerror(errno));
  if (fd >= 0 && (fchmod(fd, 0644) < 0 || close(fd) < 0))
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", path, strerror(errno));
  return 0;
}

int
host_path_check_type(const char *path, const char *type, k8c_err *err)
{
  struct stat st;
  if (type == NULL || type[0] == '\0') {
    if (stat(path, &st) < 0 && errno == ENOENT)
      return create_missing(path, S_IFDIR, err);
    return 0;
  }
  for (size_t i = 0; i < sizeof type_checks / sizeof type_checks[0]; i++) {
    const struct type_check *c = &type_checks[i];
    if (strcmp(type, c->type) != 0)
      continue;
    if (stat(path, &st) < 0) {
      if (errno == ENOENT && c->create)
        return create_missing(path, c->format, err);
      if (errno != ENOENT)
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "hostPath type check failed: %s: %s", path,
                         strerror(errno));
      return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "hostPath type check failed: %s is not %s",
                       path, c->what);
    }
    if ((st.st_mode & S_IFMT) != c->format)
      return k8c_error(err, 422, K8C_REASON_INVALID, "hostPath type check failed: %s is not %s",
                       path, c->what);
    return 0;
  }
  return k8c_error(err, 422, K8C_REASON_INVALID, "%s is an invalid volume type", type);
}

static int
host_path_setup(const struct volume_ctx *ctx, struct pod_volume *out, k8c_err *err)
{
  const char *path = json_string_value(json_object_get(ctx->source, "path"));
  if (path == NULL || path[0] != '/')
    return k8c_error(err, 422, K8C_REASON_INVALID, "hostPath path must be an absolute path");
  if (host_path_check_type(path, json_string_value(json_object_get(ctx->source, "type")), err) < 0)
    return -1;
  out->path = xstrdup(path);
  return 0;
}

const struct volume_plugin volume_plugin_host_path = {
    .field = "hostPath",
    .subpath_create = true,
    .setup = host_path_setup,
};
