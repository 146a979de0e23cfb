/* cni.c — runs a CNI conflist (see cni.h). The conflist is built as JSON, then each
 * plugin's stdin is its own object plus name, cniVersion, prevResult and the
 * runtimeConfig its declared capabilities ask for (portMappings). Two plugin runs are
 * skipped because each costs a process start on every pod: the loopback interface is
 * brought up in-process (all the loopback plugin does), and portmap only runs for pods
 * that have host ports (without mappings it has nothing to add or remove). */
#include "kubelet/cni/cni.h"

#include "kubelet/runtime/spawn.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CNI_VERSION "1.0.0"
#define CNI_TIMEOUT_MS 30000

static json_t *build_conflist(const struct cni_network *net, size_t n_ports);
static int loopback_up(const char *netns_path, k8c_err *err);
static int run_plugin(const struct cni_network *net, const char *command, const char *id,
                      const char *netns, const char *ifname, json_t *conf, char **out,
                      k8c_err *err);
static int run_list(const struct cni_network *net, const char *command, const char *id,
                    const char *netns, const struct cni_port_mapping *ports, size_t n_ports,
                    const char *prev_result, char **result, k8c_err *err);

char *
cni_conflist(const struct cni_network *net)
{
  cleanup_json json_t *list = build_conflist(net, 1);
  return json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

int
cni_add(const struct cni_network *net, const char *container_id, const char *netns_path,
        const struct cni_port_mapping *ports, size_t n_ports, char **result_json, char **pod_ip,
        k8c_err *err)
{
  if (loopback_up(netns_path, err) < 0)
    return -1;
  char *result = NULL;
  if (run_list(net, "ADD", container_id, netns_path, ports, n_ports, NULL, &result, err) < 0) {
    k8c_err ignored = {0};
    if (cni_del(net, container_id, netns_path, ports, n_ports, NULL, &ignored) < 0)
      k8c_err_clear(&ignored);
    return -1;
  }
  char *ip = cni_result_ipv4(result);
  if (ip == NULL) {
    k8c_err ignored = {0};
    if (cni_del(net, container_id, netns_path, ports, n_ports, result, &ignored) < 0)
      k8c_err_clear(&ignored);
    free(result);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "CNI result has no IPv4 address");
  }
  *result_json = result;
  *pod_ip = ip;
  return 0;
}

int
cni_del(const struct cni_network *net, const char *container_id, const char *netns_path,
        const struct cni_port_mapping *ports, size_t n_ports, const char *prev_result, k8c_err *err)
{
  return run_list(net, "DEL", container_id, netns_path, ports, n_ports, prev_result, NULL, err);
}

int
cni_check(const struct cni_network *net, const char *container_id, const char *netns_path,
          const struct cni_port_mapping *ports, size_t n_ports, const char *prev_result,
          k8c_err *err)
{
  return run_list(net, "CHECK", container_id, netns_path, ports, n_ports, prev_result, NULL, err);
}

char *
cni_result_ipv4(const char *result_json)
{
  cleanup_json json_t *result = json_loads(result_json, 0, NULL);
  json_t *ips = json_object_get(result, "ips");
  size_t i;
  json_t *entry;
  json_array_foreach (ips, i, entry) {
    const char *address = json_string_value(json_object_get(entry, "address"));
    if (address == NULL || strchr(address, ':') != NULL)
      continue;
    const char *slash = strchr(address, '/');
    return slash ? xstrndup(address, (size_t)(slash - address)) : xstrdup(address);
  }
  return NULL;
}

/* ipMasq is off: the plugin would masquerade everything outside this node's pod CIDR,
 * other nodes' pods included; the node's network (src/nodenet/podnet.h) masquerades only
 * what leaves the cluster CIDR. */
static json_t *
build_conflist(const struct cni_network *net, size_t n_ports)
{
  json_t *bridge = json_pack(
      "{s:s, s:s, s:b, s:b, s:b, s:{s:s, s:[[{s:s}]], s:[{s:s}], s:s}}", "type", "bridge", "bridge",
      net->bridge, "isGateway", 1, "ipMasq", 0, "hairpinMode", 1, "ipam", "type", "host-local",
      "ranges", "subnet", net->subnet, "routes", "dst", "0.0.0.0/0", "dataDir", net->ipam_data_dir);
  json_t *list = json_pack("{s:s, s:s, s:[o]}", "cniVersion", CNI_VERSION, "name", net->name,
                           "plugins", bridge);
  if (n_ports > 0)
    json_array_append_new(json_object_get(list, "plugins"),
                          json_pack("{s:s, s:{s:b}, s:b}", "type", "portmap", "capabilities",
                                    "portMappings", 1, "snat", 1));
  return list;
}

/* Sets "lo" up inside the namespace, from a short-lived child (setns changes the calling
 * thread's namespace; a child keeps the agent's threads out of it). */
static int
loopback_up(const char *netns_path, k8c_err *err)
{
  pid_t pid = fork();
  if (pid < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "CNI loopback: fork: %m");
  if (pid == 0) {
    int fd = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
      _exit(2);
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
      _exit(3);
    ifr.ifr_flags |= IFF_UP;
    _exit(ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? 4 : 0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "CNI loopback: waitpid: %m");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL,
                     "CNI loopback: cannot bring lo up in %s (step %d)", netns_path,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}

static json_t *
port_mappings_json(const struct cni_port_mapping *ports, size_t n_ports)
{
  json_t *list = json_array();
  for (size_t i = 0; i < n_ports; i++) {
    json_t *m = json_pack("{s:i, s:i, s:s}", "hostPort", ports[i].host_port, "containerPort",
                          ports[i].container_port, "protocol",
                          ports[i].protocol && *ports[i].protocol ? ports[i].protocol : "tcp");
    if (ports[i].host_ip && *ports[i].host_ip)
      json_object_set_new(m, "hostIP", json_string(ports[i].host_ip));
    json_array_append_new(list, m);
  }
  return list;
}

/* One plugin invocation of a conflist: the plugin's object with the list's name and
 * version, the capability arguments it declares, and the previous result. */
static json_t *
plugin_config(const char *name, json_t *plugin, const json_t *prev_result,
              const struct cni_port_mapping *ports, size_t n_ports)
{
  json_t *conf = json_deep_copy(plugin);
  json_object_set_new(conf, "cniVersion", json_string(CNI_VERSION));
  json_object_set_new(conf, "name", json_string(name));
  json_t *caps = json_object_get(plugin, "capabilities");
  if (json_is_true(json_object_get(caps, "portMappings")))
    json_object_set_new(conf, "runtimeConfig",
                        json_pack("{s:o}", "portMappings", port_mappings_json(ports, n_ports)));
  if (prev_result)
    json_object_set(conf, "prevResult", (json_t *)prev_result);
  return conf;
}

static int
run_list(const struct cni_network *net, const char *command, const char *id, const char *netns,
         const struct cni_port_mapping *ports, size_t n_ports, const char *prev_result,
         char **result, k8c_err *err)
{
  cleanup_json json_t *list = build_conflist(net, n_ports);
  json_t *plugins = json_object_get(list, "plugins");
  cleanup_json json_t *prev = prev_result ? json_loads(prev_result, 0, NULL) : NULL;
  bool del = strcmp(command, "DEL") == 0;
  size_t n = json_array_size(plugins);
  int first_failure = 0;
  for (size_t k = 0; k < n; k++) {
    json_t *plugin = json_array_get(plugins, del ? n - 1 - k : k);
    cleanup_json json_t *conf = plugin_config(net->name, plugin, prev, ports, n_ports);
    cleanup_free char *out = NULL;
    k8c_err step = {0};
    if (run_plugin(net, command, id, netns, "eth0", conf, &out, &step) < 0) {
      if (!del) {
        k8c_err_move(err, &step);
        return -1;
      }
      /* DEL goes on through the list so one failing plugin does not leak the others. */
      if (first_failure == 0) {
        k8c_err_move(err, &step);
        first_failure = -1;
      } else {
        k8c_err_clear(&step);
      }
      continue;
    }
    if (strcmp(command, "ADD") == 0) {
      json_t *next = json_loads(out, 0, NULL);
      if (next == NULL)
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "CNI %s returned no JSON result",
                         json_string_value(json_object_get(plugin, "type")));
      json_decref(prev);
      prev = next;
    }
  }
  if (first_failure < 0)
    return -1;
  if (result)
    *result = prev ? json_dumps(prev, JSON_COMPACT) : xstrdup("{}");
  return 0;
}

static int
run_plugin(const struct cni_network *net, const char *command, const char *id, const char *netns,
           const char *ifname, json_t *conf, char **out, k8c_err *err)
{
  const char *type = json_string_value(json_object_get(conf, "type"));
  cleanup_free char *program = xasprintf("%s/%s", net->bin_dir, type);
  cleanup_free char *e_cmd = xasprintf("CNI_COMMAND=%s", command);
  cleanup_free char *e_id = xasprintf("CNI_CONTAINERID=%s", id);
  cleanup_free char *e_ns = xasprintf("CNI_NETNS=%s", netns);
  cleanup_free char *e_if = xasprintf("CNI_IFNAME=%s", ifname);
  cleanup_free char *e_path = xasprintf("CNI_PATH=%s", net->bin_dir);
  const char *env[] = {e_cmd, e_id, e_ns, e_if, e_path, "CNI_ARGS=", NULL};
  const char *argv[] = {program, NULL};
  cleanup_free char *input = json_dumps(conf, JSON_COMPACT);
  struct spawn_opts opts = {.argv = argv, .extra_env = env, .stdin_data = input, .stdin_fd = -1};
  char *output = NULL;
  int code = spawn_run(&opts, CNI_TIMEOUT_MS, &output, err);
  if (code < 0)
    return k8c_err_prefix(err, "CNI %s %s: ", type, command);
  if (code != 0) {
    /* The spec's error object: {"code": N, "msg": "...", "details": "..."}. */
    cleanup_json json_t *e = json_loads(output, 0, NULL);
    const char *msg = json_string_value(json_object_get(e, "msg"));
    const char *details = json_string_value(json_object_get(e, "details"));
    k8c_error(err, 500, K8C_REASON_INTERNAL, "CNI %s %s failed: %s%s%s", type, command,
              msg ? msg : output, details && *details ? ": " : "", details ? details : "");
    free(output);
    return -1;
  }
  *out = output;
  return 0;
}
