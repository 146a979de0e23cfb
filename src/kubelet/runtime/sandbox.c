/* sandbox.c — pod sandboxes without a pause process: namespaces held by bind mounts
 * (cni/netns.h), the pod network from CNI, the pod cgroup, and the three files every
 * container of the pod bind-mounts (hostname, hosts, resolv.conf). sandbox.json records
 * what was made so removal and a restarted agent need nothing else. The network can be
 * connected after the rest, so that CNI runs while the first containers are created. */
#include "kubelet/runtime/runtime_internal.h"

#include "kubelet/cni/netns.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int add_ip_to_hosts(const char *dir, const char *ip, const char *hostname, k8c_err *err);
static int write_pod_files(const struct sandbox_spec *spec, const char *dir, const char *ip,
                           const char *hostname, k8c_err *err);
static json_t *ports_json(const struct cni_port_mapping *ports, size_t n);
static struct cni_port_mapping *ports_from_json(json_t *list, size_t *n);

int
runtime_sandbox_prepare(struct runtime *rt, const struct sandbox_spec *spec,
                        struct sandbox_info *info, k8c_err *err)
{
  if (!runtime_valid_id(spec->id))
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid sandbox id \"%s\"",
                     spec->id ? spec->id : "");
  cleanup_free char *dir = xasprintf("%s/sandboxes/%s", rt->run_dir, spec->id);
  cleanup_free char *record_path = xasprintf("%s/sandbox.json", dir);
  if (access(record_path, F_OK) == 0)
    return k8c_error(err, 409, K8C_REASON_ALREADY_EXISTS, "sandbox %s already exists", spec->id);
  if (fs_mkdir_p(dir, 0755, err) < 0)
    return -1;

  char host_name[256] = "";
  if (spec->host_network && gethostname(host_name, sizeof host_name - 1) < 0)
    host_name[0] = '\0';
  const char *hostname = spec->host_network                  ? host_name
                         : spec->hostname && *spec->hostname ? spec->hostname
                                                             : spec->pod_name;
  cleanup_free char *cgroup_path =
      cgroup_pod_path(rt->cgroup_parent, spec->qos, spec->pod_uid ? spec->pod_uid : spec->id);
  cleanup_free char *netns =
      spec->host_network ? NULL : xasprintf("%s/netns/%s", rt->run_dir, spec->id);
  cleanup_free char *uts = spec->host_network ? NULL : xasprintf("%s/uts", dir);
  cleanup_free char *ipc = spec->host_ipc ? NULL : xasprintf("%s/ipc", dir);
  cleanup_json json_t *record = NULL;

  /* Write the record first, so a failure half-way is undone by the ordinary removal. */
  record = json_pack(
      "{s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:o}", "id", spec->id, "cgroupPath", cgroup_path,
      "hostNetwork", spec->host_network, "hostname", hostname ? hostname : "", "netns",
      netns ? json_string(netns) : json_null(), "uts", uts ? json_string(uts) : json_null(), "ipc",
      ipc ? json_string(ipc) : json_null(), "ports", ports_json(spec->ports, spec->n_ports));
  if (runtime_save_json(record_path, record, err) < 0)
    goto fail;
  if (cgroup_create(rt->cgroup_mode, cgroup_path, err) < 0)
    goto fail;
  if ((netns || uts || ipc) &&
      ns_create_bound(netns, uts, ipc, spec->host_network ? NULL : hostname, err) < 0)
    goto fail;
  if (write_pod_files(spec, dir, NULL, hostname, err) < 0)
    goto fail;
  return runtime_sandbox_get(rt, spec->id, info, err);

fail:;
  k8c_err ignored = {0};
  if (runtime_sandbox_remove(rt, spec->id, &ignored) < 0)
    k8c_err_clear(&ignored);
  return k8c_err_prefix(err, "creating sandbox %s: ", spec->id);
}

int
runtime_sandbox_connect(struct runtime *rt, const char *id, char **ip_out, k8c_err *err)
{
  *ip_out = NULL;
  if (!runtime_valid_id(id))
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid sandbox id \"%s\"", id ? id : "");
  cleanup_free char *dir = xasprintf("%s/sandboxes/%s", rt->run_dir, id);
  cleanup_free char *record_path = xasprintf("%s/sandbox.json", dir);
  cleanup_json json_t *record = runtime_load_json(record_path, err);
  if (record == NULL)
    return k8c_err_prefix(err, "creating sandbox %s: ", id);
  const char *netns = json_string_value(json_object_get(record, "netns"));
  if (netns == NULL)
    return 0; /* hostNetwork: nothing to connect */
  size_t n_ports = 0;
  cleanup_free struct cni_port_mapping *ports =
      ports_from_json(json_object_get(record, "ports"), &n_ports);
  cleanup_free char *ip = NULL;
  cleanup_free char *cni_result = NULL;
  if (cni_add(&rt->net, id, netns, ports, n_ports, &cni_result, &ip, err) < 0)
    goto fail;
  json_object_set_new(record, "ip", json_string(ip));
  json_object_set_new(record, "cniResult", json_string(cni_result));
  if (runtime_save_json(record_path, record, err) < 0 ||
      add_ip_to_hosts(dir, ip, json_string_value(json_object_get(record, "hostname")), err) < 0)
    goto fail;
  *ip_out = steal_ptr(ip);
  return 0;

fail:
  return k8c_err_prefix(err, "creating sandbox %s: ", id);
}

int
runtime_sandbox_create(struct runtime *rt, const struct sandbox_spec *spec,
                       struct sandbox_info *info, k8c_err *err)
{
  if (runtime_sandbox_prepare(rt, spec, info, err) < 0)
    return -1;
  cleanup_free char *ip = NULL;
  if (runtime_sandbox_connect(rt, spec->id, &ip, err) < 0) {
    sandbox_info_free(info);
    k8c_err ignored = {0};
    if (runtime_sandbox_remove(rt, spec->id, &ignored) < 0)
      k8c_err_clear(&ignored);
    return -1;
  }
  info->ip = steal_ptr(ip);
  return 0;
}

int
runtime_sandbox_get(struct runtime *rt, const char *id, struct sandbox_info *info, k8c_err *err)
{
  if (!runtime_valid_id(id))
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "sandbox \"%s\" not found", id);
  cleanup_free char *dir = xasprintf("%s/sandboxes/%s", rt->run_dir, id);
  cleanup_free char *record_path = xasprintf("%s/sandbox.json", dir);
  cleanup_json json_t *record = runtime_load_json(record_path, err);
  if (record == NULL)
    return -1;
  const char *ip = json_string_value(json_object_get(record, "ip"));
  const char *netns = json_string_value(json_object_get(record, "netns"));
  const char *uts = json_string_value(json_object_get(record, "uts"));
  const char *ipc = json_string_value(json_object_get(record, "ipc"));
  *info = (struct sandbox_info){
      .id = xstrdup(id),
      .ip = ip ? xstrdup(ip) : NULL,
      .netns_path = netns ? xstrdup(netns) : NULL,
      .uts_path = uts ? xstrdup(uts) : NULL,
      .ipc_path = ipc ? xstrdup(ipc) : NULL,
      .dir = steal_ptr(dir),
      .cgroup_path = xstrdup(json_string_value(json_object_get(record, "cgroupPath"))),
      .hostname = xstrdup(json_string_value(json_object_get(record, "hostname"))),
      .host_network = json_is_true(json_object_get(record, "hostNetwork")),
  };
  return 0;
}

int
runtime_sandbox_remove(struct runtime *rt, const char *id, k8c_err *err)
{
  if (!runtime_valid_id(id))
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid sandbox id \"%s\"", id ? id : "");
  cleanup_free char *dir = xasprintf("%s/sandboxes/%s", rt->run_dir, id);
  cleanup_free char *record_path = xasprintf("%s/sandbox.json", dir);
  cleanup_free char *netns = xasprintf("%s/netns/%s", rt->run_dir, id);
  k8c_err load_err = {0};
  cleanup_json json_t *record = runtime_load_json(record_path, &load_err);
  k8c_err_clear(&load_err);
  if (record && json_is_string(json_object_get(record, "netns"))) {
    size_t n_ports = 0;
    struct cni_port_mapping *ports = ports_from_json(json_object_get(record, "ports"), &n_ports);
    int rc = cni_del(&rt->net, id, netns, ports, n_ports,
                     json_string_value(json_object_get(record, "cniResult")), err);
    free(ports);
    if (rc < 0)
      return k8c_err_prefix(err, "removing sandbox %s: ", id);
  }
  cleanup_free char *uts = xasprintf("%s/uts", dir);
  cleanup_free char *ipc = xasprintf("%s/ipc", dir);
  if (ns_remove_bound(netns, err) < 0 || ns_remove_bound(uts, err) < 0 ||
      ns_remove_bound(ipc, err) < 0)
    return k8c_err_prefix(err, "removing sandbox %s: ", id);
  const char *cgroup_path = json_string_value(json_object_get(record, "cgroupPath"));
  if (cgroup_path && cgroup_remove(cgroup_path, err) < 0)
    return k8c_err_prefix(err, "removing sandbox %s: ", id);
  if (fs_remove_tree(dir, err) < 0)
    return k8c_err_prefix(err, "removing sandbox %s: ", id);
  return 0;
}

char **
runtime_sandbox_list(struct runtime *rt)
{
  cleanup_free char *root = xasprintf("%s/sandboxes", rt->run_dir);
  char **ids = xcalloc(1, sizeof *ids);
  size_t n = 0;
  DIR *d = opendir(root);
  if (d == NULL)
    return ids;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!runtime_valid_id(de->d_name))
      continue;
    cleanup_free char *record = xasprintf("%s/%s/sandbox.json", root, de->d_name);
    if (access(record, F_OK) != 0)
      continue;
    ids = xrealloc(ids, (n + 2) * sizeof *ids);
    ids[n++] = xstrdup(de->d_name);
    ids[n] = NULL;
  }
  closedir(d);
  return ids;
}

void
sandbox_info_free(struct sandbox_info *info)
{
  if (info == NULL)
    return;
  free(info->id);
  free(info->ip);
  free(info->netns_path);
  free(info->uts_path);
  free(info->ipc_path);
  free(info->dir);
  free(info->cgroup_path);
  free(info->hostname);
  *info = (struct sandbox_info){0};
}

static int
copy_host_file(const char *from, const char *to, k8c_err *err)
{
  size_t len = 0;
  k8c_err read_err = {0};
  cleanup_free char *text = fs_read_file(from, &len, &read_err);
  k8c_err_clear(&read_err);
  return fs_write_file(to, text ? text : "", text ? len : 0, 0644, err);
}

/* Adds "IP<TAB>hostname" to the pod's hosts file after the managed lines (before any
 * HostAliases), rewriting the file in place: containers created before the pod had its
 * IP bind-mounted this inode. */
static int
add_ip_to_hosts(const char *dir, const char *ip, const char *hostname, k8c_err *err)
{
  cleanup_free char *path = xasprintf("%s/hosts", dir);
  size_t len = 0;
  cleanup_free char *text = fs_read_file(path, &len, err);
  if (text == NULL)
    return -1;
  const char *aliases = strstr(text, "\n# Entries added by HostAliases.");
  size_t head = aliases ? (size_t)(aliases - text) : len;
  buf out;
  buf_init(&out);
  buf_append(&out, text, head);
  buf_printf(&out, "%s\t%s\n", ip, hostname ? hostname : "");
  buf_append(&out, text + head, len - head);
  int rc = 0;
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "open %s: %s", path, strerror(errno));
  for (size_t off = 0; rc == 0 && off < out.len;) {
    ssize_t n = write(fd, buf_cstr(&out) + off, out.len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "write %s: %s", path, strerror(errno));
    else
      off += (size_t)n;
  }
  if (fd >= 0 && close(fd) < 0 && rc == 0)
    rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "close %s: %s", path, strerror(errno));
  buf_free(&out);
  return rc;
}

static int
write_pod_files(const struct sandbox_spec *spec, const char *dir, const char *ip,
                const char *hostname, k8c_err *err)
{
  cleanup_free char *hostname_path = xasprintf("%s/hostname", dir);
  cleanup_free char *hosts_path = xasprintf("%s/hosts", dir);
  cleanup_free char *resolv_path = xasprintf("%s/resolv.conf", dir);
  cleanup_free char *hostname_line = xasprintf("%s\n", hostname ? hostname : "");
  if (fs_write_file(hostname_path, hostname_line, strlen(hostname_line), 0644, err) < 0)
    return -1;

  if (spec->host_network) {
    /* hostNetwork pods see the node's own hosts file, as the kubelet gives them. */
    if (copy_host_file("/etc/hosts", hosts_path, err) < 0)
      return -1;
  } else {
    buf hosts;
    buf_init(&hosts);
    buf_puts(&hosts, "# Kubernetes-managed hosts file.\n"
                     "127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\n"
                     "fe00::0\tip6-mcastprefix\n"
                     "fe00::1\tip6-allnodes\n"
                     "fe00::2\tip6-allrouters\n");
    if (ip)
      buf_printf(&hosts, "%s\t%s\n", ip, hostname);
    if (spec->host_aliases && spec->host_aliases[0]) {
      buf_puts(&hosts, "\n# Entries added by HostAliases.\n");
      for (size_t i = 0; spec->host_aliases[i]; i++)
        buf_printf(&hosts, "%s\n", spec->host_aliases[i]);
    }
    int rc = fs_write_file(hosts_path, buf_cstr(&hosts), hosts.len, 0644, err);
    buf_free(&hosts);
    if (rc < 0)
      return -1;
  }

  if (spec->dns_nameservers == NULL)
    return copy_host_file("/etc/resolv.conf", resolv_path, err); /* dnsPolicy Default */
  buf resolv;
  buf_init(&resolv);
  if (spec->dns_searches && spec->dns_searches[0]) {
    buf_puts(&resolv, "search");
    for (size_t i = 0; spec->dns_searches[i]; i++)
      buf_printf(&resolv, " %s", spec->dns_searches[i]);
    buf_puts(&resolv, "\n");
  }
  for (size_t i = 0; spec->dns_nameservers[i]; i++)
    buf_printf(&resolv, "nameserver %s\n", spec->dns_nameservers[i]);
  if (spec->dns_options && spec->dns_options[0]) {
    buf_puts(&resolv, "options");
    for (size_t i = 0; spec->dns_options[i]; i++)
      buf_printf(&resolv, " %s", spec->dns_options[i]);
    buf_puts(&resolv, "\n");
  }
  int rc = fs_write_file(resolv_path, buf_cstr(&resolv), resolv.len, 0644, err);
  buf_free(&resolv);
  return rc;
}

static json_t *
ports_json(const struct cni_port_mapping *ports, size_t n)
{
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(list, json_pack("{s:i, s:i, s:s, s:s}", "hostPort", ports[i].host_port,
                                          "containerPort", ports[i].container_port, "protocol",
                                          ports[i].protocol ? ports[i].protocol : "tcp", "hostIP",
                                          ports[i].host_ip ? ports[i].host_ip : ""));
  return list;
}

/* The mappings point into list's strings; the caller frees the array only. */
static struct cni_port_mapping *
ports_from_json(json_t *list, size_t *n)
{
  *n = json_array_size(list);
  struct cni_port_mapping *ports = xcalloc(*n ? *n : 1, sizeof *ports);
  for (size_t i = 0; i < *n; i++) {
    json_t *p = json_array_get(list, i);
    ports[i] = (struct cni_port_mapping){
        .host_port = (int)json_integer_value(json_object_get(p, "hostPort")),
        .container_port = (int)json_integer_value(json_object_get(p, "containerPort")),
        .protocol = json_string_value(json_object_get(p, "protocol")),
        .host_ip = json_string_value(json_object_get(p, "hostIP")),
    };
  }
  return ports;
}
