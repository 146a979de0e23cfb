/* podstatus.h — the PodStatus a kubelet reports, computed from what the pod worker
 * observed of its containers: phase (upstream's getPhase rules), the conditions
 * PodReadyToStartContainers / Initialized / Ready / ContainersReady / PodScheduled with
 * upstream's reasons and messages, and container statuses (state, lastState, ready,
 * started, restartCount). Also the numbers derived from the QoS class: oom_score_adj and
 * the crash-loop back-off. Pure functions: no I/O, no runtime knowledge. */
#ifndef K8C_KUBELET_PODSTATUS_H
#define K8C_KUBELET_PODSTATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cstate { CSTATE_WAITING, CSTATE_RUNNING, CSTATE_TERMINATED };

/* One terminated run of a container. */
struct container_run {
  int exit_code;
  int signal;
  const char *reason; /* "Completed", "Error", "OOMKilled", "ContainerCannotRun" ... */
  const char *message;
  const char *started_at; /* RFC 3339 */
  const char *finished_at;
  const char *container_id; /* "<runtime>://<id>" */
};

/* What the pod worker knows about one container. Strings are borrowed. */
struct container_observed {
  const char *name;
  const char *image;    /* as in the spec */
  const char *image_id; /* the resolved digest reference, "" before the pull */
  const char *container_id;
  enum cstate phase;
  const char *reason; /* waiting: ContainerCreating, PodInitializing, ErrImagePull,
                         ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError … */
  const char *message;
  const char *started_at;   /* running or terminated */
  struct container_run run; /* terminated: this run */
  bool ready;               /* readiness probe (or none) passed */
  bool started;             /* startup probe (or none) passed */
  int restart_count;
  bool has_last;
  struct container_run last; /* the previous terminated run (lastState) */
};

struct pod_observed {
  const char *now; /* RFC 3339: lastTransitionTime of changed conditions */
  const char *host_ip;
  const char *pod_ip;     /* NULL before the sandbox has one */
  const char *start_time; /* when the kubelet first saw the pod */
  bool sandbox_ready;     /* network namespace and IP in place */
  const struct container_observed *init;
  size_t n_init;
  const struct container_observed *containers;
  size_t n_containers;
};

/* The new pod.status (new reference), keeping lastTransitionTime of conditions whose
 * status did not change and every condition the kubelet does not own (PodScheduled,
 * DisruptionTarget, readiness gates) from the pod's current status. */
json_t *podstatus_build(const json_t *pod, const struct pod_observed *obs);

/* upstream's getPhase: "Pending", "Running", "Succeeded" or "Failed". */
const char *podstatus_phase(const json_t *pod, const struct pod_observed *obs);

/* The oom_score_adj for a container of pod (upstream's policy: Guaranteed -997,
 * BestEffort 1000, Burstable scaled by its memory request against the node's memory
 * capacity in bytes, kept within 3..999; node-critical pods -997). */
int podstatus_oom_score_adj(const json_t *pod, const json_t *container, int64_t memory_capacity);

/* The crash-loop back-off (milliseconds) before restarting a container that has already
 * been restarted `restarts` times: none after the first crash, then 10 s doubling per
 * restart, capped at 300 s (upstream's documented behaviour). */
int64_t podstatus_crash_backoff_ms(int restarts);

#endif
