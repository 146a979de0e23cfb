/* nodestatus.c — the node's own facts and the Node status built from them. Quantities are
 * written the way upstream's kubelet writes them (memory in Ki, storage in bytes, hugepages
 * with binary suffixes) so `kubectl describe node` reads as on any cluster. */
#include "kubelet/nodestatus.h"

#include "apiserver/version.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------- reading the machine ---------- */

/* The first line of path, trimmed, into dst; "" when unreadable. */
static void
read_line(const char *path, char *dst, size_t cap)
{
  dst[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  if (fgets(dst, (int)cap, f) == NULL)
    dst[0] = '\0';
  fclose(f);
  dst[strcspn(dst, "\r\n")] = '\0';
}

static int64_t
meminfo_kib(const char *key)
{
  FILE *f = fopen("/proc/meminfo", "r");
  if (f == NULL)
    return 0;
  char line[256];
  long long v = 0;
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      if (sscanf(line + klen + 1, "%lld", &v) != 1)
        v = 0;
      break;
    }
  }
  fclose(f);
  return v;
}

static void
os_image(char *dst, size_t cap)
{
  snprintf(dst, cap, "Linux");
  FILE *f = fopen("/etc/os-release", "r");
  if (f == NULL)
    return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "PRETTY_NAME=", 12) != 0)
      continue;
    char *v = line + 12;
    v[strcspn(v, "\r\n")] = '\0';
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
      v[n - 1] = '\0';
      v++;
    }
    snprintf(dst, cap, "%s", v);
    break;
  }
  fclose(f);
}

void
node_first_ipv4(char *dst, size_t cap)
{
  struct ifaddrs *ifs = NULL;
  snprintf(dst, cap, "127.0.0.1");
  if (getifaddrs(&ifs) < 0)
    return;
  for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
    if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
        !(i->ifa_flags & IFF_UP))
      continue;
    if (inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, dst, (socklen_t)cap))
      break;
  }
  freeifaddrs(ifs);
}

/* CAP_SYS_RESOURCE in the effective set: lowering oom_score_adj is allowed. */
static bool
can_lower_oom_score(void)
{
  char line[64];
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return true;
  unsigned long long caps = ~0ULL;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "CapEff: %llx", &caps) == 1)
      break;
  fclose(f);
  return (caps >> 24) & 1; /* CAP_SYS_RESOURCE */
}

static int
oom_score_adj_floor(void)
{
  if (can_lower_oom_score())
    return -1000;
  char text[16] = "";
  read_line("/proc/self/oom_score_adj", text, sizeof text);
  return text[0] ? atoi(text) : 0;
}

int
node_facts_read(const char *data_dir, const char *internal_ip, struct node_facts *f, k8c_err *err)
{
  memset(f, 0, sizeof *f);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  f->cpus = cpus > 0 ? (int)cpus : 1;
  f->memory_bytes = meminfo_kib("MemTotal") * 1024;
  if (f->memory_bytes <= 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "cannot read MemTotal from /proc/meminfo");
  struct statvfs vfs;
  if (statvfs(data_dir, &vfs) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "statvfs %s: %m", data_dir);
  f->ephemeral_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
  f->hugepages_2mi_bytes = 0;
  f->hugepages_1gi_bytes = 0;
  int64_t huge_kib = meminfo_kib("Hugepagesize");
  int64_t huge_total = meminfo_kib("HugePages_Total");
  if (huge_kib == 2048)
    f->hugepages_2mi_bytes = huge_total * 2048 * 1024;
  else if (huge_kib == 1048576)
    f->hugepages_1gi_bytes = huge_total * 1048576 * 1024;
  f->max_pods = 110;
  if (gethostname(f->hostname, sizeof f->hostname) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "gethostname: %m");
  for (char *c = f->hostname; *c; c++) /* node names are lower case */
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c - 'A' + 'a');
  if (internal_ip && internal_ip[0])
    snprintf(f->internal_ip, sizeof f->internal_ip, "%s", internal_ip);
  else
    node_first_ipv4(f->internal_ip, sizeof f->internal_ip);
  read_line("/etc/machine-id", f->machine_id, sizeof f->machine_id);
  read_line("/sys/class/dmi/id/product_uuid", f->system_uuid, sizeof f->system_uuid);
  if (f->system_uuid[0] == '\0')
    snprintf(f->system_uuid, sizeof f->system_uuid, "%s", f->machine_id);
  read_line("/proc/sys/kernel/random/boot_id", f->boot_id, sizeof f->boot_id);
  struct utsname u;
  if (uname(&u) < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "uname: %m");
  snprintf(f->kernel_version, sizeof f->kernel_version, "%s", u.release);
  snprintf(f->architecture, sizeof f->architecture, "%s",
           strcmp(u.machine, "x86_64") == 0    ? "amd64"
           : strcmp(u.machine, "aarch64") == 0 ? "arm64"
                                               : u.machine);
  os_image(f->os_image, sizeof f->os_image);
  snprintf(f->runtime_version, sizeof f->runtime_version, "crun://unknown");
  f->oom_score_adj_floor = oom_score_adj_floor();
  return 0;
}

void
node_facts_set_runtime(struct node_facts *f, const char *runtime_path)
{
  int fds[2];
  if (runtime_path == NULL || pipe2(fds, O_CLOEXEC) < 0)
    return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execl(runtime_path, runtime_path, "--version", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char line[256] = "";
  ssize_t n = pid > 0 ? read(fds[0], line, sizeof line - 1) : -1;
  close(fds[0]);
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  if (n <= 0)
    return;
  line[n] = '\0';
  line[strcspn(line, "\n")] = '\0';
  char name[64], version[64];
  if (sscanf(line, "%63s version %63s", name, version) == 2)
    snprintf(f->runtime_version, sizeof f->runtime_version, "%s://%s", name, version);
}

/* ---------- capacity and allocatable ---------- */

static json_t *
resources_json(const struct node_facts *f, int64_t memory, int64_t ephemeral)
{
  json_t *r = json_object();
  json_object_set_new(r, "cpu", json_sprintf("%d", f->cpus));
  json_object_set_new(r, "memory", json_sprintf("%lldKi", (long long)(memory / 1024)));
  json_object_set_new(r, "ephemeral-storage", json_sprintf("%lld", (long long)ephemeral));
  /* Zero is plain "0", as a Quantity of zero prints. */
  long long gi = f->hugepages_1gi_bytes >> 30, mi = f->hugepages_2mi_bytes >> 20;
  json_object_set_new(r, "hugepages-1Gi", gi ? json_sprintf("%lldGi", gi) : json_string("0"));
  json_object_set_new(r, "hugepages-2Mi", mi ? json_sprintf("%lldMi", mi) : json_string("0"));
  json_object_set_new(r, "pods", json_sprintf("%lld", (long long)f->max_pods));
  return r;
}

json_t *
node_capacity_json(const struct node_facts *f)
{
  return resources_json(f, f->memory_bytes, f->ephemeral_bytes);
}

json_t *
node_allocatable_json(const struct node_facts *f)
{
  int64_t memory =
      f->memory_bytes - f->hugepages_1gi_bytes - f->hugepages_2mi_bytes - (100LL << 20);
  int64_t ephemeral = f->ephemeral_bytes - f->ephemeral_bytes / 10;
  return resources_json(f, memory > 0 ? memory : 0, ephemeral);
}

/* ---------- conditions ---------- */

static const json_t *
old_condition(const json_t *old_status, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(old_status, "conditions"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", type) == 0)
      return c;
  }
  return NULL;
}

static json_t *
condition(const json_t *old_status, const char *now, const char *type, bool status,
          const char *reason, const char *message)
{
  const char *st = status ? "True" : "False";
  const json_t *old = old_condition(old_status, type);
  const char *since = now;
  if (old && strcmp(json_string_value(json_object_get(old, "status")) ?: "", st) == 0 &&
      json_string_value(json_object_get(old, "lastTransitionTime")))
    since = json_string_value(json_object_get(old, "lastTransitionTime"));
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", st, "lastHeartbeatTime",
                   now, "lastTransitionTime", since, "reason", reason, "message", message);
}

static json_t *
conditions_json(const struct node_pressure *p, const json_t *old_status, const char *now)
{
  json_t *c = json_array();
  json_array_append_new(
      c, condition(old_status, now, "MemoryPressure", p->memory,
                   p->memory ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                   p->memory ? "kubelet has insufficient memory available"
                             : "kubelet has sufficient memory available"));
  json_array_append_new(
      c, condition(old_status, now, "DiskPressure", p->disk,
                   p->disk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                   p->disk ? "kubelet has disk pressure" : "kubelet has no disk pressure"));
  json_array_append_new(c,
                        condition(old_status, now, "PIDPressure", p->pid,
                                  p->pid ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                                  p->pid ? "kubelet has insufficient PID available"
                                         : "kubelet has sufficient PID available"));
  bool ready = p->not_ready_message == NULL;
  json_array_append_new(
      c, condition(old_status, now, "Ready", ready, ready ? "KubeletReady" : "KubeletNotReady",
                   ready ? "kubelet is posting ready status" : p->not_ready_message));
  return c;
}

/* ---------- status and object ---------- */

json_t *
node_status_build(const struct node_facts *f, const struct node_pressure *p,
                  const json_t *old_status, const json_t *images, const char *now)
{
  json_t *info =
      json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "machineID", f->machine_id,
                "systemUUID", f->system_uuid, "bootID", f->boot_id, "kernelVersion",
                f->kernel_version, "osImage", f->os_image, "containerRuntimeVersion",
                f->runtime_version, "kubeletVersion", K8C_GIT_VERSION, "kubeProxyVersion",
                K8C_GIT_VERSION, "operatingSystem", "linux", "architecture", f->architecture);
  json_t *st = json_pack(
      "{s:o,s:o,s:o,s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:i}},s:o}", "capacity", node_capacity_json(f),
      "allocatable", node_allocatable_json(f), "conditions", conditions_json(p, old_status, now),
      "addresses", "type", "InternalIP", "address", f->internal_ip, "type", "Hostname", "address",
      f->hostname, "daemonEndpoints", "kubeletEndpoint", "Port", 10250, "nodeInfo", info);
  if (images)
    json_object_set(st, "images", (json_t *)images);
  return st;
}

json_t *
node_object_new(const char *name, const struct node_facts *f, const char *pod_cidr, const char *now)
{
  json_t *labels =
      json_pack("{s:s,s:s,s:s,s:s,s:s}", "beta.kubernetes.io/arch", f->architecture,
                "beta.kubernetes.io/os", "linux", "kubernetes.io/arch", f->architecture,
                "kubernetes.io/hostname", name, "kubernetes.io/os", "linux");
  json_t *spec = json_object();
  if (pod_cidr && pod_cidr[0]) {
    json_object_set_new(spec, "podCIDR", json_string(pod_cidr));
    json_object_set_new(spec, "podCIDRs", json_pack("[s]", pod_cidr));
  }
  struct node_pressure none = {0};
  return json_pack("{s:s,s:s,s:{s:s,s:o},s:o,s:o}", "apiVersion", "v1", "kind", "Node", "metadata",
                   "name", name, "labels", labels, "spec", spec, "status",
                   node_status_build(f, &none, NULL, NULL, now));
}
