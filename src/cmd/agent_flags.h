/* agent_flags.h — the node agent's flags, shared by `k8c server` (its in-process agent)
 * and `k8c agent`: one table of long options, one setter, one usage text, so both
 * commands spell them the same way. */
#ifndef K8C_CMD_AGENT_FLAGS_H
#define K8C_CMD_AGENT_FLAGS_H

#include "kubelet/kubelet.h"
#include "nodenet/nodenet.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* getopt values of the agent flags (outside the printable range). */
enum {
  AGENT_FLAG_RUN_DIR = 1000,
  AGENT_FLAG_POD_LOG_DIR,
  AGENT_FLAG_NODE_IP,
  AGENT_FLAG_RUNTIME,
  AGENT_FLAG_PRIVATE_REGISTRY,
  AGENT_FLAG_CLUSTER_DNS,
  AGENT_FLAG_CLUSTER_DOMAIN,
  AGENT_FLAG_PIDS_LIMIT,
  AGENT_FLAG_CGROUP_PARENT,
  AGENT_FLAG_BRIDGE,
  AGENT_FLAG_KUBELET_PORT,
  AGENT_FLAG_EVICTION_HARD,
  AGENT_FLAG_IMAGE_GC_HIGH,
  AGENT_FLAG_IMAGE_GC_LOW,
  AGENT_FLAG_DISABLE_KUBE_PROXY,
  AGENT_FLAG_DISABLE_NETWORK_POLICY,
  AGENT_FLAG_DISABLE_CLUSTER_DNS,
  AGENT_FLAG_RESOLV_CONF,
};

#define AGENT_FLAG_OPTIONS                                                                         \
  {"run-dir", required_argument, NULL, AGENT_FLAG_RUN_DIR},                                        \
      {"pod-log-dir", required_argument, NULL, AGENT_FLAG_POD_LOG_DIR},                            \
      {"node-ip", required_argument, NULL, AGENT_FLAG_NODE_IP},                                    \
      {"runtime", required_argument, NULL, AGENT_FLAG_RUNTIME},                                    \
      {"private-registry", required_argument, NULL, AGENT_FLAG_PRIVATE_REGISTRY},                  \
      {"cluster-dns", required_argument, NULL, AGENT_FLAG_CLUSTER_DNS},                            \
      {"cluster-domain", required_argument, NULL, AGENT_FLAG_CLUSTER_DOMAIN},                      \
      {"pids-limit", required_argument, NULL, AGENT_FLAG_PIDS_LIMIT},                              \
      {"cgroup-parent", required_argument, NULL, AGENT_FLAG_CGROUP_PARENT},                        \
      {"bridge", required_argument, NULL, AGENT_FLAG_BRIDGE},                                      \
      {"eviction-hard", required_argument, NULL, AGENT_FLAG_EVICTION_HARD},                        \
      {"image-gc-high-threshold", required_argument, NULL, AGENT_FLAG_IMAGE_GC_HIGH},              \
      {"image-gc-low-threshold", required_argument, NULL, AGENT_FLAG_IMAGE_GC_LOW},                \
      {"disable-kube-proxy", no_argument, NULL, AGENT_FLAG_DISABLE_KUBE_PROXY},                    \
      {"disable-network-policy", no_argument, NULL, AGENT_FLAG_DISABLE_NETWORK_POLICY},            \
      {"disable-cluster-dns", no_argument, NULL, AGENT_FLAG_DISABLE_CLUSTER_DNS},                  \
      {"resolv-conf", required_argument, NULL, AGENT_FLAG_RESOLV_CONF},                            \
  {                                                                                                \
    "kubelet-port", required_argument, NULL, AGENT_FLAG_KUBELET_PORT                               \
  }

/* Applies flag ch (a getopt result) to cfg; false if ch is not an agent flag. -1 is
 * stored in *bad when the value is invalid. */
bool agent_flag_set(struct kubelet_config *cfg, int ch, const char *arg, int *bad);
/* Applies flag ch to the node's networking configuration; false if ch is not one of
 * its flags. */
bool agent_net_flag_set(struct nodenet_config *net, int ch, const char *arg);
void agent_flags_usage(FILE *out);
/* Sets cfg->data_dir to <data_dir>/agent; *data_dir_storage (caller frees) holds it. */
void agent_flags_finish(struct kubelet_config *cfg, const char *data_dir, char **data_dir_storage);
/* Fills what net takes from the kubelet's flags (node name, cluster DNS and domain). */
void agent_net_flags_finish(struct nodenet_config *net, const struct kubelet_config *cfg);

#endif
