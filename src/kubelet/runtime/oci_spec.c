/* oci_spec.c — a container_spec becomes an OCI runtime config.json. The defaults follow
 * what CRI runtimes give Kubernetes containers (capability set, masked paths, /dev and
 * /dev/shm sizes); the pod's namespaces are joined by the paths the sandbox bound. */
#include "kubelet/runtime/runtime_internal.h"

#include "lib/mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The capability set containers get unless they add or drop some (as containerd/CRI-O). */
static const char *const default_caps[] = {"CAP_CHOWN",
                                           "CAP_DAC_OVERRIDE",
                                           "CAP_FSETID",
                                           "CAP_FOWNER",
                                           "CAP_MKNOD",
                                           "CAP_NET_RAW",
                                           "CAP_SETGID",
                                           "CAP_SETUID",
                                           "CAP_SETFCAP",
                                           "CAP_SETPCAP",
                                           "CAP_NET_BIND_SERVICE",
                                           "CAP_SYS_CHROOT",
                                           "CAP_KILL",
                                           "CAP_AUDIT_WRITE",
                                           NULL};

static const char *const all_caps[] = {"CAP_CHOWN",
                                       "CAP_DAC_OVERRIDE",
                                       "CAP_DAC_READ_SEARCH",
                                       "CAP_FOWNER",
                                       "CAP_FSETID",
                                       "CAP_KILL",
                                       "CAP_SETGID",
                                       "CAP_SETUID",
                                       "CAP_SETPCAP",
                                       "CAP_LINUX_IMMUTABLE",
                                       "CAP_NET_BIND_SERVICE",
                                       "CAP_NET_BROADCAST",
                                       "CAP_NET_ADMIN",
                                       "CAP_NET_RAW",
                                       "CAP_IPC_LOCK",
                                       "CAP_IPC_OWNER",
                                       "CAP_SYS_MODULE",
                                       "CAP_SYS_RAWIO",
                                       "CAP_SYS_CHROOT",
                                       "CAP_SYS_PTRACE",
                                       "CAP_SYS_PACCT",
                                       "CAP_SYS_ADMIN",
                                       "CAP_SYS_BOOT",
                                       "CAP_SYS_NICE",
                                       "CAP_SYS_RESOURCE",
                                       "CAP_SYS_TIME",
                                       "CAP_SYS_TTY_CONFIG",
                                       "CAP_MKNOD",
                                       "CAP_LEASE",
                                       "CAP_AUDIT_WRITE",
                                       "CAP_AUDIT_CONTROL",
                                       "CAP_SETFCAP",
                                       "CAP_MAC_OVERRIDE",
                                       "CAP_MAC_ADMIN",
                                       "CAP_SYSLOG",
                                       "CAP_WAKE_ALARM",
                                       "CAP_BLOCK_SUSPEND",
                                       "CAP_AUDIT_READ",
                                       "CAP_PERFMON",
                                       "CAP_BPF",
                                       "CAP_CHECKPOINT_RESTORE",
                                       NULL};

static const char *const masked_paths[] = {"/proc/acpi",
                                           "/proc/asound",
                                           "/proc/kcore",
                                           "/proc/keys",
                                           "/proc/latency_stats",
                                           "/proc/timer_list",
                                           "/proc/timer_stats",
                                           "/proc/sched_debug",
                                           "/proc/scsi",
                                           "/sys/firmware",
                                           "/sys/devices/virtual/powercap",
                                           NULL};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static json_t *
string_array(const char *const *items)
{
  json_t *a = json_array();
  for (size_t i = 0; items && items[i]; i++)
    json_array_append_new(a, json_string(items[i]));
  return a;
}

/* "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN. */
static char *
canonical_cap(const char *name)
{
  char *c = strncasecmp(name, "CAP_", 4) == 0 ? xstrdup(name) : xasprintf("CAP_%s", name);
  for (char *p = c; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  return c;
}

static bool
list_has(const char *const *list, const char *item)
{
  for (size_t i = 0; list && list[i]; i++)
    if (strcasecmp(list[i], "ALL") == 0 || strcasecmp(list[i], item) == 0 ||
        (strncasecmp(item, "CAP_", 4) == 0 && strcasecmp(list[i], item + 4) == 0))
      return true;
  return false;
}

static int
capabilities(const struct container_spec *spec, json_t **out, k8c_err *err)
{
  json_t *caps = json_array();
  for (size_t i = 0; all_caps[i]; i++) {
    bool in_default = false;
    for (size_t j = 0; default_caps[j] && !in_default; j++)
      in_default = strcmp(default_caps[j], all_caps[i]) == 0;
    /* As containerd: drops apply to the default set, adds win over drops (drop ALL +
     * add NET_BIND_SERVICE keeps exactly that one). */
    bool keep = spec->privileged || list_has(spec->cap_add, all_caps[i]) ||
                (in_default && !list_has(spec->cap_drop, all_caps[i]));
    if (keep)
      json_array_append_new(caps, json_string(all_caps[i]));
  }
  for (size_t i = 0; spec->cap_add && spec->cap_add[i]; i++) {
    if (strcasecmp(spec->cap_add[i], "ALL") == 0)
      continue;
    cleanup_free char *name = canonical_cap(spec->cap_add[i]);
    if (!list_has(all_caps, name)) {
      json_decref(caps);
      return k8c_error(err, 422, K8C_REASON_INVALID, "unknown capability %s", spec->cap_add[i]);
    }
  }
  *out = json_pack("{s:O, s:O, s:o}", "bounding", caps, "effective", caps, "permitted", caps);
  return 0;
}

static json_t *
mount_entry(const char *dest, const char *type, const char *source, const char *const *options)
{
  return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source,
                   "options", string_array(options));
}

static json_t *
build_mounts(const struct container_spec *spec)
{
  const char *const proc_opts[] = {"nosuid", "noexec", "nodev", NULL};
  const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
  const char *const pts_opts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                  "mode=0620", "gid=5",  NULL};
  const char *const shm_opts[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL};
  const char *const sys_ro[] = {"nosuid", "noexec", "nodev", "ro", NULL};
  const char *const sys_rw[] = {"nosuid", "noexec", "nodev", "rw", NULL};
  const char *const cg_opts[] = {
      "nosuid", "noexec", "nodev", "relatime", spec->privileged ? "rw" : "ro", NULL};
  json_t *m = json_array();
  json_array_append_new(m, mount_entry("/proc", "proc", "proc", proc_opts));
  json_array_append_new(m, mount_entry("/dev", "tmpfs", "tmpfs", dev_opts));
  json_array_append_new(m, mount_entry("/dev/pts", "devpts", "devpts", pts_opts));
  json_array_append_new(m, mount_entry("/dev/shm", "tmpfs", "shm", shm_opts));
  json_array_append_new(m, mount_entry("/dev/mqueue", "mqueue", "mqueue", proc_opts));
  json_array_append_new(m,
                        mount_entry("/sys", "sysfs", "sysfs", spec->privileged ? sys_rw : sys_ro));
  json_array_append_new(m, mount_entry("/sys/fs/cgroup", "cgroup", "cgroup", cg_opts));
  if (spec->sandbox && spec->sandbox->dir) {
    static const char *const files[] = {"hosts", "resolv.conf", "hostname", NULL};
    const char *const bind_opts[] = {"rbind", "rprivate", NULL};
    for (size_t i = 0; files[i]; i++) {
      cleanup_free char *src = xasprintf("%s/%s", spec->sandbox->dir, files[i]);
      cleanup_free char *dst = xasprintf("/etc/%s", files[i]);
      json_array_append_new(m, mount_entry(dst, "bind", src, bind_opts));
    }
  }
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct mount_spec *ms = &spec->mounts[i];
    if (ms->kind == MOUNT_TMPFS) {
      cleanup_free char *size =
          ms->tmpfs_size ? xasprintf("size=%llu", (unsigned long long)ms->tmpfs_size) : NULL;
      const char *const opts[] = {"nosuid", "nodev", "mode=1777", ms->readonly ? "ro" : "rw",
                                  size,     NULL};
      json_array_append_new(m, mount_entry(ms->destination, "tmpfs", "tmpfs", opts));
    } else {
      const char *const opts[] = {"rbind", "rprivate", ms->readonly ? "ro" : "rw", NULL};
      json_array_append_new(m, mount_entry(ms->destination, "bind", ms->source, opts));
    }
  }
  return m;
}

static json_t *
build_resources(const struct container_spec *spec)
{
  const struct container_resources *r = &spec->resources;
  json_t *res = json_object();
  if (spec->privileged) {
    json_object_set_new(res, "devices", json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm"));
  } else {
    /* Deny all, then the devices every container has (null, zero, full, random, urandom,
     * tty, ptmx and its pts). */
    json_t *devices = json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm");
    static const int char_devices[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}};
    for (size_t i = 0; i < sizeof char_devices / sizeof char_devices[0]; i++)
      json_array_append_new(devices, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", "c",
                                               "major", (json_int_t)char_devices[i][0], "minor",
                                               (json_int_t)char_devices[i][1], "access", "rwm"));
    json_array_append_new(devices, json_pack("{s:b, s:s, s:I, s:s}", "allow", 1, "type", "c",
                                             "major", (json_int_t)136, "access", "rwm"));
    json_object_set_new(res, "devices", devices);
  }
  json_t *cpu = json_object();
  if (r->cpu_shares)
    json_object_set_new(cpu, "shares", json_integer((json_int_t)r->cpu_shares));
  if (r->cpu_quota > 0) {
    json_object_set_new(cpu, "quota", json_integer(r->cpu_quota));
    json_object_set_new(cpu, "period",
                        json_integer((json_int_t)(r->cpu_period ? r->cpu_period : 100000)));
  }
  if (json_object_size(cpu))
    json_object_set_new(res, "cpu", cpu);
  else
    json_decref(cpu);
  if (r->memory_limit > 0)
    json_object_set_new(res, "memory",
                        json_pack("{s:I, s:I}", "limit", (json_int_t)r->memory_limit, "swap",
                                  (json_int_t)r->memory_limit));
  if (r->pids_limit > 0)
    json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)r->pids_limit));
  return res;
}

/* On cgroup v2 every container gets its own cgroup namespace, as containerd and docker do
 * there: /proc/self/cgroup reads "0::/" and /sys/fs/cgroup is the container's own subtree. */
static json_t *
build_namespaces(const struct container_spec *spec, enum cgroup_mode mode)
{
  json_t *ns = json_pack("[{s:s}, {s:s}]", "type", "pid", "type", "mount");
  if (mode == CGROUP_MODE_V2)
    json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
  const struct sandbox_info *sb = spec->sandbox;
  struct {
    const char *type;
    const char *path;
  } joined[] = {{"network", sb ? sb->netns_path : NULL},
                {"uts", sb ? sb->uts_path : NULL},
                {"ipc", sb ? sb->ipc_path : NULL}};
  for (size_t i = 0; i < 3; i++) {
    if (joined[i].path)
      json_array_append_new(
          ns, json_pack("{s:s, s:s}", "type", joined[i].type, "path", joined[i].path));
    else if (sb == NULL)
      json_array_append_new(ns, json_pack("{s:s}", "type", joined[i].type));
    /* else: the sandbox shares the host's namespace of this type */
  }
  return ns;
}

static json_t *
build_env(const struct container_spec *spec)
{
  json_t *env = string_array(spec->env);
  bool has_path = false, has_hostname = false;
  for (size_t i = 0; spec->env && spec->env[i]; i++) {
    has_path |= strncmp(spec->env[i], "PATH=", 5) == 0;
    has_hostname |= strncmp(spec->env[i], "HOSTNAME=", 9) == 0;
  }
  if (!has_path)
    json_array_insert_new(env, 0, json_string(DEFAULT_PATH));
  if (!has_hostname && spec->sandbox && spec->sandbox->hostname)
    json_array_append_new(env, json_sprintf("HOSTNAME=%s", spec->sandbox->hostname));
  return env;
}

json_t *
oci_spec_build(const struct runtime *rt, const struct container_spec *spec,
               const char *cgroups_path, k8c_err *err)
{
  if (spec->argv == NULL || spec->argv[0] == NULL) {
    k8c_error(err, 422, K8C_REASON_INVALID, "container %s has no command", spec->name);
    return NULL;
  }
  json_t *caps = NULL;
  if (capabilities(spec, &caps, err) < 0)
    return NULL;
  json_t *gids = json_array();
  for (size_t i = 0; i < spec->n_additional_gids; i++)
    json_array_append_new(gids, json_integer(spec->additional_gids[i]));
  json_t *process =
      json_pack("{s:b, s:{s:I, s:I, s:o}, s:o, s:o, s:s, s:o, s:b, s:i}", "terminal", spec->tty,
                "user", "uid", (json_int_t)spec->uid, "gid", (json_int_t)spec->gid,
                "additionalGids", gids, "args", string_array(spec->argv), "env", build_env(spec),
                "cwd", spec->cwd && *spec->cwd ? spec->cwd : "/", "capabilities", caps,
                "noNewPrivileges", spec->no_new_privileges, "oomScoreAdj", spec->oom_score_adj);
  json_t *linux_section =
      json_pack("{s:o, s:s, s:o}", "namespaces", build_namespaces(spec, runtime_cgroup_mode(rt)),
                "cgroupsPath", cgroups_path, "resources", build_resources(spec));
  if (!spec->privileged) {
    json_object_set_new(linux_section, "maskedPaths", string_array(masked_paths));
    json_object_set_new(linux_section, "readonlyPaths", string_array(readonly_paths));
    if (spec->seccomp == SECCOMP_RUNTIME_DEFAULT)
      json_object_set_new(linux_section, "seccomp", seccomp_runtime_default());
  }
  return json_pack("{s:s, s:o, s:{s:s, s:b}, s:o, s:o}", "ociVersion", "1.0.2", "process", process,
                   "root", "path", "rootfs", "readonly", spec->readonly_rootfs, "mounts",
                   build_mounts(spec), "linux", linux_section);
}
