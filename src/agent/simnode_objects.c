/* simnode_objects.c — the API objects a simulated kubelet writes about its node: the
 * Node it registers, the status it posts and the Lease it renews. Pure builders: all
 * they read is the node's immutable record and the clock. */
#include "agent/simnodes_internal.h"
#include "apiserver/version.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const zones[] = {"zone-a", "zone-b", "zone-c"};

void
simnodes_rfc3339(time_t t, char out[32])
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
simnodes_micro_now(char out[40])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%06ldZ", secs, ts.tv_nsec / 1000);
}

void
simnodes_ipv4(uint32_t addr, char out[16])
{
  snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
}

json_t *
simnode_object(const simnodes *s, int i)
{
  const struct simnode *n = &s->nodes[i];
  char cidr[24], net[16];
  simnodes_ipv4(n->pod_block, net);
  snprintf(cidr, sizeof cidr, "%s/%d", net, s->block_prefix);
  int global = s->cfg.first_index + i;
  return json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s},s:{s:s,s:s}},s:{s:s,s:[s]}}",
                   "apiVersion", "v1", "kind", "Node", "metadata", "name", n->name, "labels",
                   "kubernetes.io/hostname", n->name, "kubernetes.io/os", "linux",
                   "kubernetes.io/arch", "amd64", "topology.kubernetes.io/zone", zones[global % 3],
                   "topology.kubernetes.io/region", "k8c-simulated", "type", "k8c-simulated",
                   "annotations", "node.alpha.kubernetes.io/ttl", "0", "k8c.io/simulated", "true",
                   "spec", "podCIDR", cidr, "podCIDRs", cidr);
}

static json_t *
condition(const char *type, const char *status, const char *reason, const char *message,
          const char *heartbeat, const char *transition)
{
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status, "lastHeartbeatTime",
                   heartbeat, "lastTransitionTime", transition, "reason", reason, "message",
                   message);
}

static json_t *
resources(unsigned pods)
{
  char pods_text[16];
  snprintf(pods_text, sizeof pods_text, "%u", pods);
  return json_pack("{s:s,s:s,s:s,s:s}", "cpu", "8", "memory", "32Gi", "ephemeral-storage", "100Gi",
                   "pods", pods_text);
}

json_t *
simnode_status(const simnodes *s, int i, time_t ready_since)
{
  const struct simnode *n = &s->nodes[i];
  char now[32], since[32], ip[16], id[40];
  simnodes_rfc3339(time(NULL), now);
  simnodes_rfc3339(ready_since, since);
  simnodes_ipv4(n->internal_ip, ip);
  snprintf(id, sizeof id, "%032x", (unsigned)(s->cfg.first_index + i) + 0x5e0000u);
  /* Two addresses of each block are never handed out (network, gateway) and one more
   * (broadcast): what is left bounds how many pods fit, at most a kubelet's 110. */
  unsigned usable = s->block_size - 3;
  json_t *conds = json_pack(
      "[o,o,o,o]",
      condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available", now, since),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
                now, since),
      condition("PIDPressure", "False", "KubeletHasSufficientPID",
                "kubelet has sufficient PID available", now, since),
      condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now, since));
  json_t *info = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "machineID", id,
                           "systemUUID", id, "bootID", id, "kernelVersion", "simulated", "osImage",
                           "k8c simulated node", "containerRuntimeVersion", "sim://" K8C_VERSION,
                           "kubeletVersion", K8C_GIT_VERSION, "kubeProxyVersion", K8C_GIT_VERSION,
                           "operatingSystem", "linux", "architecture", "amd64");
  return json_pack("{s:o,s:o,s:o,s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:i}},s:o}", "capacity",
                   resources(usable < 110 ? usable : 110), "allocatable",
                   resources(usable < 110 ? usable : 110), "conditions", conds, "addresses", "type",
                   "InternalIP", "address", ip, "type", "Hostname", "address", n->name,
                   "daemonEndpoints", "kubeletEndpoint", "Port", 10250, "nodeInfo", info);
}

json_t *
simnode_lease(const simnodes *s, int i, const char *node_uid)
{
  char now[40];
  simnodes_micro_now(now);
  const char *name = s->nodes[i].name;
  json_t *lease = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:i,s:s}}", "apiVersion",
                            "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name,
                            "namespace", "kube-node-lease", "spec", "holderIdentity", name,
                            "leaseDurationSeconds", s->cfg.lease_duration_s, "renewTime", now);
  if (node_uid) /* as the kubelet: the Lease goes when its Node goes */
    json_object_set_new(json_object_get(lease, "metadata"), "ownerReferences",
                        json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "v1", "kind", "Node", "name",
                                  name, "uid", node_uid));
  return lease;
}
