/* cgroups.c — pod cgroup directories on cgroup v1 and v2 (see cgroups.h). Everything is
 * plain file I/O under /sys/fs/cgroup; the hierarchies to clean are read from mountinfo
 * so the hybrid layout's unified mount and named hierarchies are covered too. */
#include "kubelet/cgroups/cgroups.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

static const char *const v1_pod_controllers[] = {"cpu", "cpuacct", "memory", "pids", NULL};

static char **hierarchy_mounts(void);
static int rmdir_tree(const char *dir);
static int read_keyed_counter(const char *file, const char *key, uint64_t *value, k8c_err *err);

int
cgroup_detect(enum cgroup_mode *mode, k8c_err *err)
{
  struct statfs st;
  if (statfs(CGROUP_ROOT, &st) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "statfs %s: %s", CGROUP_ROOT, strerror(errno));
  if (st.f_type == CGROUP2_SUPER_MAGIC) {
    *mode = CGROUP_MODE_V2;
    return 0;
  }
  if (st.f_type == TMPFS_MAGIC) {
    *mode = CGROUP_MODE_V1;
    return 0;
  }
  return k8c_error(err, 500, K8C_REASON_INTERNAL,
                   "%s is neither cgroup2 nor a tmpfs of v1 "
                   "hierarchies (f_type 0x%lx)",
                   CGROUP_ROOT, (unsigned long)st.f_type);
}

char *
cgroup_pod_path(const char *parent, enum pod_qos qos, const char *pod_uid)
{
  const char *qos_dir = qos == POD_QOS_BURSTABLE    ? "/burstable"
                        : qos == POD_QOS_BESTEFFORT ? "/besteffort"
                                                    : "";
  while (*parent == '/')
    parent++;
  return xasprintf("/%s%skubepods%s/pod%s", parent, *parent ? "/" : "", qos_dir, pod_uid);
}

/* Creates each ancestor of path and enables the controllers pods need in its
 * subtree_control (v2). A controller the host lacks cannot be enabled; that is left to
 * show up when the runtime sets a limit on it. */
static void
v2_prepare_ancestors(const char *path)
{
  static const char *const controllers[] = {"+cpu", "+memory", "+pids", "+io", "+cpuset", NULL};
  cleanup_free char *walk = xstrdup(path);
  size_t len = strlen(walk);
  for (size_t i = 0; i < len; i++) {
    if (walk[i] != '/')
      continue;
    walk[i] = '\0';
    cleanup_free char *dir = xasprintf("%s%s", CGROUP_ROOT, walk);
    if (i > 0 && mkdir(dir, 0755) < 0 && errno != EEXIST)
      break;
    cleanup_free char *file = xasprintf("%s/cgroup.subtree_control", dir);
    for (size_t c = 0; controllers[c]; c++) {
      int fd = open(file, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        break;
      ssize_t n = write(fd, controllers[c], strlen(controllers[c]));
      (void)n; /* unavailable controller: nothing to enable */
      close(fd);
    }
    walk[i] = '/';
  }
}

int
cgroup_create(enum cgroup_mode mode, const char *path, k8c_err *err)
{
  if (mode == CGROUP_MODE_V2) {
    cleanup_free char *dir = xasprintf("%s%s", CGROUP_ROOT, path);
    v2_prepare_ancestors(path);
    if (fs_mkdir_p(dir, 0755, err) < 0)
      return k8c_err_prefix(err, "creating cgroup %s: ", path);
    return 0;
  }
  for (size_t i = 0; v1_pod_controllers[i]; i++) {
    cleanup_free char *dir = xasprintf("%s/%s%s", CGROUP_ROOT, v1_pod_controllers[i], path);
    if (fs_mkdir_p(dir, 0755, err) < 0)
      return k8c_err_prefix(err, "creating cgroup %s: ", path);
  }
  return 0;
}

int
cgroup_remove(const char *path, k8c_err *err)
{
  char **mounts = hierarchy_mounts();
  int rc = 0;
  for (char **m = mounts; *m && rc == 0; m++) {
    cleanup_free char *dir = xasprintf("%s%s", *m, path);
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int attempt = 0;; attempt++) {
      if (rmdir_tree(dir) == 0)
        break;
      if (errno != EBUSY || attempt >= 100) {
        rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "removing cgroup %s: %s", dir,
                       strerror(errno));
        break;
      }
      nanosleep(&pause, NULL); /* the last task is still exiting */
    }
  }
  fs_strv_free(mounts);
  return rc;
}

bool
cgroup_exists(const char *path)
{
  char **mounts = hierarchy_mounts();
  bool found = false;
  for (char **m = mounts; *m && !found; m++) {
    cleanup_free char *dir = xasprintf("%s%s", *m, path);
    found = access(dir, F_OK) == 0;
  }
  fs_strv_free(mounts);
  return found;
}

int
cgroup_memory_usage(enum cgroup_mode mode, const char *path, uint64_t *bytes, k8c_err *err)
{
  cleanup_free char *file = mode == CGROUP_MODE_V2
                                ? xasprintf("%s%s/memory.current", CGROUP_ROOT, path)
                                : xasprintf("%s/memory%s/memory.usage_in_bytes", CGROUP_ROOT, path);
  cleanup_free char *text = fs_read_file(file, NULL, err);
  if (text == NULL)
    return -1;
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (end == text)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s: not a number", file);
  *bytes = v;
  return 0;
}

int
cgroup_oom_kills(enum cgroup_mode mode, const char *path, uint64_t *count, k8c_err *err)
{
  cleanup_free char *file = mode == CGROUP_MODE_V2
                                ? xasprintf("%s%s/memory.events", CGROUP_ROOT, path)
                                : xasprintf("%s/memory%s/memory.oom_control", CGROUP_ROOT, path);
  return read_keyed_counter(file, "oom_kill", count, err);
}

int
cgroup_write(enum cgroup_mode mode, const char *controller, const char *path, const char *file,
             const char *value, k8c_err *err)
{
  cleanup_free char *name = mode == CGROUP_MODE_V2
                                ? xasprintf("%s%s/%s", CGROUP_ROOT, path, file)
                                : xasprintf("%s/%s%s/%s", CGROUP_ROOT, controller, path, file);
  int fd = open(name, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "open %s: %s", name, strerror(errno));
  ssize_t n = write(fd, value, strlen(value));
  int saved = errno;
  close(fd);
  if (n < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "write %s to %s: %s", value, name,
                     strerror(saved));
  return 0;
}

/* Mount points of every cgroup (v1) and cgroup2 filesystem, e.g. /sys/fs/cgroup/memory. */
static char **
hierarchy_mounts(void)
{
  char **list = xcalloc(1, sizeof *list);
  size_t n = 0;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return list;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char point[1024], fstype[64];
    const char *sep = strstr(line, " - ");
    if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %1023s", point) != 1 ||
        sscanf(sep + 3, "%63s", fstype) != 1)
      continue;
    if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
      continue;
    list = xrealloc(list, (n + 2) * sizeof *list);
    list[n++] = xstrdup(point);
    list[n] = NULL;
  }
  free(line);
  fclose(f);
  return list;
}

/* rmdir of a cgroup directory and its child cgroups (cgroup files cannot be unlinked and
 * vanish with the directory). Returns -1 with errno set. */
static int
rmdir_tree(const char *dir)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : -1;
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = xasprintf("%s/%s", dir, de->d_name);
    if (rmdir_tree(child) < 0) {
      rc = -1;
      break;
    }
  }
  int saved = errno;
  closedir(d);
  if (rc < 0) {
    errno = saved;
    return -1;
  }
  if (rmdir(dir) < 0 && errno != ENOENT)
    return -1;
  return 0;
}

static int
read_keyed_counter(const char *file, const char *key, uint64_t *value, k8c_err *err)
{
  cleanup_free char *text = fs_read_file(file, NULL, err);
  if (text == NULL)
    return -1;
  size_t key_len = strlen(key);
  for (char *line = text; line && *line;
       line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, key_len) == 0 && line[key_len] == ' ') {
      *value = strtoull(line + key_len + 1, NULL, 10);
      return 0;
    }
  }
  *value = 0; /* kernels before 4.13 do not count OOM kills */
  return 0;
}
