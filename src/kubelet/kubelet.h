/* kubelet.h — the node agent: registers its Node and keeps it and its Lease fresh, and
 * runs the pods bound to it with real containers (sandbox, images, init containers,
 * containers, probes, hooks, restarts, deletion), reporting their status.
 *
 * One design idea: level-triggered sync. Every change (a watch event, a container that
 * changed state, a back-off or probe timer) only queues the pod's key; a worker then
 * compares the pod's spec with what the runtime has and acts, one sync per pod at a
 * time. Everything the agent needs survives a restart in the runtime's files. */
#ifndef K8C_KUBELET_KUBELET_H
#define K8C_KUBELET_KUBELET_H

#include "client/client.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>

struct kubelet_config {
  const char *node_name;       /* required */
  const char *data_dir;        /* <data-dir>/agent: images, pods, containers, cni */
  const char *run_dir;         /* default /run/k8c */
  const char *pod_log_dir;     /* default /var/log/pods */
  const char *node_ip;         /* NULL: the first non-loopback IPv4 address */
  const char *oci_runtime;     /* NULL: /usr/bin/crun; or /usr/bin/runc */
  const char *registries_file; /* registries.yaml (k3s format); NULL or missing: none */
  const char *cluster_dns;     /* default 10.43.0.10 */
  const char *cluster_domain;  /* default cluster.local */
  const char *cgroup_parent;   /* default "k8c" */
  const char *bridge;          /* CNI bridge, default "k8c0" */
  int64_t pids_limit;          /* per container; 0 = unlimited; default 0 */
  int status_period_ms;        /* node status; 0 = 10000 */
  int lease_period_ms;         /* Lease renewal; 0 = 10000 */
  int workers;                 /* pod workers; 0 = 8 */
  /* The streaming endpoint (logs, exec, port-forward) the API server proxies to: served
   * only when a serving certificate and the client CA (that signed the API server's
   * kubelet-client certificate) are given. */
  const char *serving_cert_pem;
  const char *serving_key_pem;
  const char *client_ca_pem;
  int port; /* 0 = 10250; -1 = any free port */
  /* Eviction and image GC (upstream's flags and defaults). */
  const char *eviction_hard;           /* e.g. "memory.available<100Mi"; NULL: that */
  const char *image_gc_high_threshold; /* percent of the image disk; NULL: 85 */
  const char *image_gc_low_threshold;  /* percent; NULL: 80 */
  int eviction_interval_ms;            /* monitoring interval; 0 = 10000 */
  int image_gc_period_ms;              /* 0 = 10000 */
};

struct kubelet;

/* Starts the agent in the background: it registers the Node, waits for its pod CIDR,
 * opens the runtime, re-adopts what is running and watches its pods. The client must
 * outlive the kubelet; cfg strings are copied. NULL with err if it cannot start at all
 * (bad config, unusable directories). Free with kubelet_stop. */
struct kubelet *kubelet_start(k8c_client *client, const struct kubelet_config *cfg, k8c_err *err);

/* Waits up to timeout_ms until the node is registered and the runtime is open (pods can
 * run). */
bool kubelet_wait_ready(struct kubelet *kl, int timeout_ms);

/* Stops the agent's threads. Containers keep running (a restarted agent re-adopts them).
 * NULL is fine. */
void kubelet_stop(struct kubelet *kl);

#endif
