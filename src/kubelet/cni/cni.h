/* cni.h — the pod network through the standard CNI plugins: a conflist of bridge
 * (with host-local IPAM over the node's pod CIDR) and portmap, plus loopback for "lo".
 *
 * Plugins are executed as the CNI spec says (CNI_COMMAND/CNI_CONTAINERID/CNI_NETNS/
 * CNI_IFNAME/CNI_PATH in the environment, the network config on stdin), chained as libcni
 * chains a conflist: each plugin gets the previous one's result as prevResult, DEL runs in
 * reverse. The ADD result is returned for the caller to keep; DEL and CHECK take it back. */
#ifndef K8C_KUBELET_CNI_CNI_H
#define K8C_KUBELET_CNI_CNI_H

#include "lib/err.h"

#include <stddef.h>

struct cni_network {
  const char *bin_dir;       /* plugins, e.g. /usr/lib/cni */
  const char *name;          /* network name, e.g. "k8c" */
  const char *bridge;        /* bridge device, e.g. "k8c0" (at most 15 characters) */
  const char *subnet;        /* the node's pod CIDR, e.g. "10.42.0.0/24" */
  const char *ipam_data_dir; /* host-local's lease directory */
};

struct cni_port_mapping {
  int host_port;
  int container_port;
  const char *protocol; /* "tcp" (default when NULL), "udp", "sctp" */
  const char *host_ip;  /* NULL or "" for all addresses */
};

/* The conflist this network uses; caller frees. */
char *cni_conflist(const struct cni_network *net);

/* ADD: loopback up in the namespace, then the conflist. *result_json (caller frees) is the
 * final result to keep for DEL/CHECK; *pod_ip (caller frees) the first IPv4 address
 * without prefix length. On failure the partial ADD is undone with DEL. */
int cni_add(const struct cni_network *net, const char *container_id, const char *netns_path,
            const struct cni_port_mapping *ports, size_t n_ports, char **result_json, char **pod_ip,
            k8c_err *err);

/* DEL: releases the IP, veth and port mappings. prev_result may be NULL; netns_path may
 * name a namespace that no longer exists. Repeating a DEL succeeds. */
int cni_del(const struct cni_network *net, const char *container_id, const char *netns_path,
            const struct cni_port_mapping *ports, size_t n_ports, const char *prev_result,
            k8c_err *err);

/* CHECK: asks every plugin to verify the network is still as ADD left it. */
int cni_check(const struct cni_network *net, const char *container_id, const char *netns_path,
              const struct cni_port_mapping *ports, size_t n_ports, const char *prev_result,
              k8c_err *err);

/* The first IPv4 address (without prefix length) in a CNI result; caller frees; NULL if none. */
char *cni_result_ipv4(const char *result_json);

#endif
