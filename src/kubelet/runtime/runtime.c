/* runtime.c — opening the runtime: its directory layout (see runtime.h), cgroup mode
 * detection, and the wrapper every OCI runtime command goes through. */
#include "kubelet/runtime/runtime_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "kubelet/runtime/spawn.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>

#define OCI_TIMEOUT_MS 30000

static char *
dup_or(const char *value, const char *fallback)
{
  return xstrdup(value && *value ? value : fallback);
}

struct runtime *
runtime_open(const struct runtime_config *config, k8c_err *err)
{
  if (config->run_dir == NULL || config->data_dir == NULL) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "runtime: run_dir and data_dir are required");
    return NULL;
  }
  struct runtime *rt = xcalloc(1, sizeof *rt);
  rt->run_dir = xstrdup(config->run_dir);
  rt->data_dir = xstrdup(config->data_dir);
  rt->oci_runtime = dup_or(config->oci_runtime, "/usr/bin/crun");
  rt->conmon = dup_or(config->conmon, "/usr/bin/conmon");
  rt->cni_bin_dir = dup_or(config->cni_bin_dir, "/usr/lib/cni");
  rt->cgroup_parent = dup_or(config->cgroup_parent, "k8c");
  rt->bridge = dup_or(config->bridge, "k8c0");
  rt->pod_cidr = dup_or(config->pod_cidr, "10.42.0.0/24");
  const char *base = strrchr(rt->oci_runtime, '/');
  rt->oci_state_dir = xasprintf("%s/oci/%s", rt->run_dir, base ? base + 1 : rt->oci_runtime);
  rt->ipam_dir = xasprintf("%s/cni/ipam", rt->data_dir);
  rt->net = (struct cni_network){.bin_dir = rt->cni_bin_dir,
                                 .name = "k8c",
                                 .bridge = rt->bridge,
                                 .subnet = rt->pod_cidr,
                                 .ipam_data_dir = rt->ipam_dir};
  if (strlen(rt->bridge) > 15) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bridge name %s is longer than 15", rt->bridge);
    runtime_close(rt);
    return NULL;
  }
  if (cgroup_detect(&rt->cgroup_mode, err) < 0) {
    runtime_close(rt);
    return NULL;
  }
  /* Only the hybrid layout needs the private mount namespace (see spawn.h). */
  rt->hybrid_cgroups =
      rt->cgroup_mode == CGROUP_MODE_V1 && fs_is_mount_point(CGROUP_ROOT "/unified");
  static const char *const run_subdirs[] = {"netns", "sandboxes", "containers", NULL};
  for (size_t i = 0; run_subdirs[i]; i++) {
    cleanup_free char *dir = xasprintf("%s/%s", rt->run_dir, run_subdirs[i]);
    if (fs_make_shared_mount(dir, err) < 0) {
      runtime_close(rt);
      return NULL;
    }
  }
  cleanup_free char *data_containers = xasprintf("%s/containers", rt->data_dir);
  if (fs_mkdir_p(rt->oci_state_dir, 0700, err) < 0 || fs_mkdir_p(rt->ipam_dir, 0700, err) < 0 ||
      fs_mkdir_p(data_containers, 0700, err) < 0) {
    runtime_close(rt);
    return NULL;
  }
  return rt;
}

void
runtime_close(struct runtime *rt)
{
  if (rt == NULL)
    return;
  free(rt->run_dir);
  free(rt->data_dir);
  free(rt->oci_runtime);
  free(rt->conmon);
  free(rt->cni_bin_dir);
  free(rt->cgroup_parent);
  free(rt->bridge);
  free(rt->pod_cidr);
  free(rt->oci_state_dir);
  free(rt->ipam_dir);
  free(rt);
}

enum cgroup_mode
runtime_cgroup_mode(const struct runtime *rt)
{
  return rt->cgroup_mode;
}

int
runtime_unmount_run_dirs(const struct runtime_config *config, k8c_err *err)
{
  static const char *const run_subdirs[] = {"netns", "sandboxes", "containers", NULL};
  for (size_t i = 0; run_subdirs[i]; i++) {
    cleanup_free char *dir = xasprintf("%s/%s", config->run_dir, run_subdirs[i]);
    while (fs_is_mount_point(dir))
      if (umount2(dir, MNT_DETACH) < 0)
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "unmount %s: %s", dir, strerror(errno));
  }
  return 0;
}

bool
runtime_valid_id(const char *id)
{
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

int
runtime_oci_run(struct runtime *rt, const char *const *args, char **output, k8c_err *err)
{
  size_t n = fs_strv_len(args);
  const char **argv = xcalloc(n + 4, sizeof *argv);
  argv[0] = rt->oci_runtime;
  argv[1] = "--root";
  argv[2] = rt->oci_state_dir;
  for (size_t i = 0; i < n; i++)
    argv[3 + i] = args[i];
  struct spawn_opts opts = {.argv = argv,
                            .stdin_fd = -1,
                            .stdout_fd = -1,
                            .stderr_fd = -1,
                            .cgroup_view = rt->hybrid_cgroups,
                            .merge_stderr = true};
  int code = spawn_run(&opts, OCI_TIMEOUT_MS, output, err);
  free(argv);
  return code;
}

int64_t
runtime_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

json_t *
runtime_load_json(const char *path, k8c_err *err)
{
  cleanup_free char *text = fs_read_file(path, NULL, err);
  if (text == NULL)
    return NULL;
  json_error_t jerr;
  json_t *record = json_loads(text, 0, &jerr);
  if (record == NULL)
    k8c_error(err, 500, K8C_REASON_INTERNAL, "%s: %s", path, jerr.text);
  return record;
}

int
runtime_save_json(const char *path, json_t *record, k8c_err *err)
{
  cleanup_free char *text = json_dumps(record, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  return fs_write_file(path, text, strlen(text), 0600, err);
}
