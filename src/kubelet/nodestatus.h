/* nodestatus.h — what a real node reports about itself: facts read from the machine
 * (/proc, statvfs, /etc/machine-id, uname, os-release), capacity and allocatable after
 * the eviction thresholds the kubelet reserves by default, addresses, nodeInfo, images,
 * and the four conditions with upstream's reasons and messages. Building the JSON is
 * pure; only node_facts_read touches the system. */
#ifndef K8C_KUBELET_NODESTATUS_H
#define K8C_KUBELET_NODESTATUS_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct node_facts {
  int cpus;
  int64_t memory_bytes;    /* MemTotal */
  int64_t ephemeral_bytes; /* size of the filesystem holding the data dir */
  int64_t hugepages_2mi_bytes;
  int64_t hugepages_1gi_bytes;
  int64_t max_pods; /* 110 */
  char hostname[256];
  char internal_ip[64];
  char machine_id[64];
  char system_uuid[64];
  char boot_id[64];
  char kernel_version[128];
  char os_image[128];
  char architecture[16];    /* GOARCH spelling: amd64, arm64 */
  char runtime_version[64]; /* e.g. "crun://1.8.1" */
  /* The lowest oom_score_adj containers can be given: -1000 with CAP_SYS_RESOURCE, else
   * the agent's own value (the kernel refuses to lower it further without the
   * capability, as in many containers and VMs). */
  int oom_score_adj_floor;
};

/* Reads the machine's facts. data_dir decides the ephemeral-storage filesystem;
 * internal_ip (may be NULL: the first non-loopback IPv4 address) is the node's
 * InternalIP. */
/* The node's default InternalIP: the first IPv4 address of an up, non-loopback
 * interface, "127.0.0.1" if none, into dst. */
void node_first_ipv4(char *dst, size_t cap);
int node_facts_read(const char *data_dir, const char *internal_ip, struct node_facts *f,
                    k8c_err *err);

/* Sets f->runtime_version to "<name>://<version>" from `runtime_path --version` (first
 * line "crun version 1.8.1" → "crun://1.8.1"); keeps the current value if it cannot run. */
void node_facts_set_runtime(struct node_facts *f, const char *runtime_path);

/* What the node is short of; each turns its condition True. */
struct node_pressure {
  bool memory, disk, pid;
  const char *not_ready_message; /* NULL: Ready; else the reason the node is not ready */
};

/* status.capacity and status.allocatable (new references). Allocatable keeps back the
 * kubelet's default hard eviction thresholds: 100Mi of memory and 10% of the disk. */
json_t *node_capacity_json(const struct node_facts *f);
json_t *node_allocatable_json(const struct node_facts *f);

/* The whole node status (new reference). old_status (may be NULL) keeps the transition
 * times of conditions that did not change; images (may be NULL, borrowed) is the
 * status.images list; now is RFC 3339. */
json_t *node_status_build(const struct node_facts *f, const struct node_pressure *p,
                          const json_t *old_status, const json_t *images, const char *now);

/* A new Node object named name with the kubelet's well-known labels, spec.podCIDR(s)
 * and a fresh status. */
json_t *node_object_new(const char *name, const struct node_facts *f, const char *pod_cidr,
                        const char *now);

#endif
