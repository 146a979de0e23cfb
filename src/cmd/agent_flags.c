/* agent_flags.c — parsing of the node agent's flags shared by `k8c server` and
 * `k8c agent`; defaults are the kubelet's own (kubelet_start fills them). */
#include "cmd/agent_flags.h"

#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

bool
agent_flag_set(struct kubelet_config *cfg, int ch, const char *arg, int *bad)
{
  switch (ch) {
  case AGENT_FLAG_RUN_DIR:
    cfg->run_dir = arg;
    return true;
  case AGENT_FLAG_POD_LOG_DIR:
    cfg->pod_log_dir = arg;
    return true;
  case AGENT_FLAG_NODE_IP:
    cfg->node_ip = arg;
    return true;
  case AGENT_FLAG_RUNTIME:
    if (strcmp(arg, "crun") == 0)
      cfg->oci_runtime = "/usr/bin/crun";
    else if (strcmp(arg, "runc") == 0)
      cfg->oci_runtime = "/usr/bin/runc";
    else if (arg[0] == '/')
      cfg->oci_runtime = arg;
    else
      *bad = -1;
    return true;
  case AGENT_FLAG_PRIVATE_REGISTRY:
    cfg->registries_file = arg;
    return true;
  case AGENT_FLAG_CLUSTER_DNS:
    cfg->cluster_dns = arg;
    return true;
  case AGENT_FLAG_CLUSTER_DOMAIN:
    cfg->cluster_domain = arg;
    return true;
  case AGENT_FLAG_PIDS_LIMIT:
    cfg->pids_limit = atoll(arg);
    return true;
  case AGENT_FLAG_CGROUP_PARENT:
    cfg->cgroup_parent = arg;
    return true;
  case AGENT_FLAG_BRIDGE:
    cfg->bridge = arg;
    return true;
  case AGENT_FLAG_KUBELET_PORT:
    cfg->port = atoi(arg);
    if (cfg->port == 0) /* "0": any free port */
      cfg->port = -1;
    if (cfg->port > 65535)
      *bad = -1;
    return true;
  case AGENT_FLAG_EVICTION_HARD:
    cfg->eviction_hard = arg;
    return true;
  case AGENT_FLAG_IMAGE_GC_HIGH:
    cfg->image_gc_high_threshold = arg;
    return true;
  case AGENT_FLAG_IMAGE_GC_LOW:
    cfg->image_gc_low_threshold = arg;
    return true;
  default:
    return false;
  }
}

bool
agent_net_flag_set(struct nodenet_config *net, int ch, const char *arg)
{
  switch (ch) {
  case AGENT_FLAG_DISABLE_KUBE_PROXY:
    net->disable_kube_proxy = true;
    return true;
  case AGENT_FLAG_DISABLE_NETWORK_POLICY:
    net->disable_network_policy = true;
    return true;
  case AGENT_FLAG_DISABLE_CLUSTER_DNS:
    net->disable_cluster_dns = true;
    return true;
  case AGENT_FLAG_RESOLV_CONF:
    net->resolv_conf = arg;
    return true;
  default:
    return false;
  }
}

void
agent_flags_usage(FILE *out)
{
  fputs("  node agent:\n"
        "  --node-ip IP                 the node's InternalIP (default: first non-loopback IPv4)\n"
        "  --run-dir DIR                runtime state (default /run/k8c)\n"
        "  --pod-log-dir DIR            container logs (default /var/log/pods)\n"
        "  --runtime crun|runc|PATH     OCI runtime (default crun)\n"
        "  --private-registry FILE      registries.yaml in k3s's format (mirrors, auth, TLS)\n"
        "  --cluster-dns IP             nameserver for ClusterFirst pods (default 10.43.0.10)\n"
        "  --cluster-domain DOMAIN      cluster domain (default cluster.local)\n"
        "  --pids-limit N               per-container PID limit (default unlimited)\n"
        "  --cgroup-parent NAME         cgroup that holds the pods (default k8c)\n"
        "  --bridge NAME                the pod network's bridge (default k8c0)\n"
        "  --kubelet-port PORT          logs/exec/port-forward endpoint (default 10250; 0: any)\n"
        "  --eviction-hard LIST         hard eviction thresholds, e.g. memory.available<100Mi\n"
        "                               (the default; '=' works for '<' too)\n"
        "  --image-gc-high-threshold N  image GC starts above N% disk use (default 85)\n"
        "  --image-gc-low-threshold N   and removes unused images down to N% (default 80)\n"
        "  node networking (started once the Node has its pod CIDR):\n"
        "  --disable-kube-proxy         do not run the service proxy (nftables table k8c)\n"
        "  --disable-network-policy     do not enforce NetworkPolicies (table k8c-netpol)\n"
        "  --disable-cluster-dns        do not serve cluster DNS on --cluster-dns (interface\n"
        "                               k8c-dns)\n"
        "  --resolv-conf FILE           resolvers cluster DNS forwards other names to\n"
        "                               (default /etc/resolv.conf)\n",
        out);
}

void
agent_net_flags_finish(struct nodenet_config *net, const struct kubelet_config *cfg)
{
  net->node_name = cfg->node_name;
  net->cluster_dns = cfg->cluster_dns;
  net->cluster_domain = cfg->cluster_domain;
}

void
agent_flags_finish(struct kubelet_config *cfg, const char *data_dir, char **data_dir_storage)
{
  *data_dir_storage = xasprintf("%s/agent", data_dir);
  if (cfg->data_dir == NULL)
    cfg->data_dir = *data_dir_storage;
}
