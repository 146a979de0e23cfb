/* eviction.h — the kubelet's eviction under memory pressure, as upstream does it: when
 * memory.available falls below the hard threshold (--eviction-hard, default
 * memory.available<100Mi), one pod per monitoring interval is evicted — pods using more
 * memory than they request first (so BestEffort before Burstable), then lower priority,
 * then the largest use above the request — its containers killed, its status Failed /
 * Evicted with upstream's message, and an Event.
 * The threshold parsing, the ranking and the message are pure (unit-tested); the manager
 * part reads the machine and acts through the pod worker. */
#ifndef K8C_KUBELET_EVICTION_H
#define K8C_KUBELET_EVICTION_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* memory.available's hard threshold: an absolute quantity or a percentage of capacity. */
struct eviction_threshold {
  int64_t bytes; /* when percent is 0 */
  int percent;   /* 1..100, of the node's memory capacity; 0: bytes applies */
};

/* Parses an --eviction-hard value: comma-separated "signal<quantity" (upstream's form;
 * "signal=quantity" too), e.g. "memory.available<100Mi,nodefs.available<10%". Only
 * memory.available is acted on; other known signals are accepted and ignored. NULL or ""
 * gives upstream's default (100Mi). 400 for anything unparsable. */
int eviction_threshold_parse(const char *spec, struct eviction_threshold *t, k8c_err *err);

/* The threshold in bytes for a node of capacity_bytes of memory. */
int64_t eviction_threshold_bytes(const struct eviction_threshold *t, int64_t capacity_bytes);

/* The threshold as upstream prints it ("100Mi", or the percentage's bytes). Caller frees. */
char *eviction_threshold_text(const struct eviction_threshold *t, int64_t capacity_bytes);

/* A pod that may be evicted. */
struct eviction_candidate {
  const char *id;   /* borrowed; the tie-breaker (by byte order) */
  int64_t usage;    /* bytes of memory its containers use */
  int64_t request;  /* sum of its containers' memory requests */
  int32_t priority; /* spec.priority (0 when unset) */
};

/* Orders candidates first to evict first (upstream's rankMemoryPressure): usage above
 * request before not, then lower priority, then larger usage minus request. */
void eviction_rank(struct eviction_candidate *c, size_t n);

/* One container's share in the message. */
struct eviction_container_usage {
  const char *name;
  int64_t usage, request;
};

/* Upstream's eviction message: "The node was low on resource: memory. Threshold
 * quantity: 100Mi, available: 51200Ki. " followed by "Container c was using 2048Ki,
 * request is 0, has larger consumption of memory. " for each container above its
 * request. Caller frees. */
char *eviction_message(const char *threshold_text, int64_t available_bytes,
                       const struct eviction_container_usage *cs, size_t n);

/* The status an evicted pod ends with (new reference): old_status (borrowed, may be NULL)
 * with phase Failed, reason Evicted, message, the DisruptionTarget condition, Ready and
 * ContainersReady False, and running containers terminated (exit code 137). */
json_t *eviction_pod_status(const json_t *old_status, const char *message, const char *now);

/* ---- the manager (eviction_manager.c) ---- */
struct kubelet;
struct kpod;
struct eviction_manager;

/* interval_ms: the monitoring interval (0: 10 s). Caller frees with
 * eviction_manager_free. */
struct eviction_manager *eviction_manager_new(const struct eviction_threshold *t, int interval_ms);
void eviction_manager_free(struct eviction_manager *m);
/* The hard threshold in bytes for this node (for the MemoryPressure condition). */
int64_t eviction_manager_threshold_bytes(struct kubelet *kl);
/* Called about once a second by the node agent: once per interval, if memory.available is
 * below the threshold, picks the pod to evict and queues it. */
void eviction_manager_tick(struct kubelet *kl);
/* Called by the pod worker at the start of a sync: if the pod was picked, kills it,
 * writes its Failed/Evicted status and the Event, and returns true (the pod is done). */
bool eviction_manager_sync(struct kubelet *kl, struct kpod *p, const json_t *pod);

#endif
