/* netns.c — bind-mounted namespaces (see netns.h). The unshare happens in a forked child
 * so the agent's own namespaces never change; the child is in the agent's mount namespace,
 * so its bind mounts are the agent's. */
#include "kubelet/cni/netns.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int
touch(const char *path, k8c_err *err)
{
  int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "create %s: %s", path, strerror(errno));
  close(fd);
  return 0;
}

int
ns_create_bound(const char *net_path, const char *uts_path, const char *ipc_path,
                const char *hostname, k8c_err *err)
{
  const char *paths[3] = {net_path, uts_path, ipc_path};
  static const char *const sources[3] = {"/proc/self/ns/net", "/proc/self/ns/uts",
                                         "/proc/self/ns/ipc"};
  static const int flags[3] = {CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC};
  int clone_flags = 0;
  for (int i = 0; i < 3; i++) {
    if (paths[i] == NULL)
      continue;
    if (touch(paths[i], err) < 0)
      return -1;
    clone_flags |= flags[i];
  }
  size_t host_len = hostname ? strlen(hostname) : 0;
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid == 0) {
    int failure = 0;
    if (unshare(clone_flags) < 0)
      failure = errno;
    if (failure == 0 && uts_path && hostname && sethostname(hostname, host_len) < 0)
      failure = errno;
    for (int i = 0; i < 3 && failure == 0; i++)
      if (paths[i] && mount(sources[i], paths[i], NULL, MS_BIND, NULL) < 0)
        failure = errno;
    ssize_t n = write(status_pipe[1], &failure, sizeof failure);
    _exit(n == sizeof failure && failure == 0 ? 0 : 1);
  }
  close(status_pipe[1]);
  if (pid < 0) {
    close(status_pipe[0]);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "fork: %s", strerror(errno));
  }
  int failure = EIO;
  ssize_t n;
  do
    n = read(status_pipe[0], &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (n != sizeof failure || failure != 0) {
    for (int i = 0; i < 3; i++) {
      k8c_err ignored = {0};
      if (paths[i] && ns_remove_bound(paths[i], &ignored) < 0)
        k8c_err_clear(&ignored);
    }
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating namespaces: %s",
                     strerror(n == sizeof failure ? failure : EIO));
  }
  return 0;
}

int
ns_remove_bound(const char *path, k8c_err *err)
{
  if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "unmount %s: %s", path, strerror(errno));
  if (unlink(path) < 0 && errno != ENOENT)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "unlink %s: %s", path, strerror(errno));
  return 0;
}

int
netns_create(const char *dir, const char *name, char **path_out, k8c_err *err)
{
  if (fs_make_shared_mount(dir, err) < 0)
    return -1;
  char *path = xasprintf("%s/%s", dir, name);
  if (ns_create_bound(path, NULL, NULL, NULL, err) < 0) {
    free(path);
    return -1;
  }
  *path_out = path;
  return 0;
}
