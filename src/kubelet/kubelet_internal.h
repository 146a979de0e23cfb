/* kubelet_internal.h — what the kubelet's files share: the agent's state, the per-pod
 * record the pod worker keeps between syncs, and the functions each file provides.
 * Not for use outside src/kubelet/.
 *
 * Concurrency: a pod's record (struct kpod) is touched only by the sync of its key, and
 * the work queue never hands one key to two workers, so records need no lock; the maps
 * that find records (by key and by pod UID) are guarded by kl->lock. */
#ifndef K8C_KUBELET_KUBELET_INTERNAL_H
#define K8C_KUBELET_KUBELET_INTERNAL_H

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "kubelet/env.h"
#include "kubelet/images/images.h"
#include "kubelet/kubelet.h"
#include "kubelet/nodestatus.h"
#include "kubelet/probes/probe.h"
#include "kubelet/runtime/runtime.h"
#include "kubelet/server/server.h"
#include "kubelet/volumes/volumes.h"
#include "lib/hashmap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* One container of the pod spec (init containers first). */
struct kcontainer {
  char *name;
  bool init;
  bool sidecar;             /* init container with restartPolicy Always */
  char *id;                 /* current runtime container, or NULL */
  char *prev_id;            /* the previous (exited) run, kept for lastState and logs -p */
  int restart_count;        /* runs so far minus one (the current run's index) */
  bool has_run;             /* id was ever set (restart_count is meaningful) */
  int64_t backoff_until_ms; /* crash loop: no restart before this (monotonic) */
  int64_t pull_backoff_until_ms;
  int pull_failures;
  char *waiting_reason; /* when no container runs: ContainerCreating, ErrImagePull, ... */
  char *waiting_message;
  char *image_id;      /* the image's repo digest reference, for imageID */
  bool probes_started; /* probe states below track the current run */
  struct probe_state liveness, readiness, startup;
  bool killed_by_liveness;
  bool post_start_failed;
  int start_failures;
};

/* What the agent runs for one pod (by UID). */
struct kpod {
  char *uid;
  char *key; /* "ns/name" */
  char *ns, *name;
  bool has_sandbox;
  struct sandbox_info sandbox;
  struct network_job *network; /* CNI ADD running for this sync (podworker.c); else NULL */
  bool volumes_ready;
  struct pod_volumes volumes; /* prepared by podworker_volumes_setup */
  int64_t volumes_refresh_ms; /* next live update of their content (monotonic) */
  char *start_time;           /* RFC 3339, when first seen */
  struct kcontainer *cs;
  size_t n_cs;
  json_t *last_status; /* the status last written (or read), for change detection */
  bool released;       /* terminal: containers and sandbox are gone */
};

struct kevent;
struct network_job;

struct kubelet {
  struct kubelet_config cfg; /* strings owned (copied) */
  k8c_client *client;
  const struct api_resource *pods_res, *nodes_res, *leases_res, *configmaps_res, *secrets_res;
  struct event_recorder *events;

  struct node_facts facts;
  char *pod_cidr;
  char *node_uid;
  json_t *allocatable; /* for resourceFieldRef */

  struct runtime *rt;
  struct image_store *images;
  struct registries_config *registries;

  informer *pod_informer;
  workqueue *queue;
  pthread_t *workers;
  int n_workers;

  pthread_mutex_t lock;
  pthread_cond_t changed;
  hashmap *pods;       /* key -> struct kpod * */
  hashmap *uid_to_key; /* uid -> char * key */
  bool stopping;
  bool ready; /* runtime open, pods being synced */

  pthread_t main_thread; /* registration, then node status + lease loop */
  bool main_started;
  pthread_t pleg_thread;
  bool pleg_started;
  hashmap *pleg_seen; /* container id -> heap "status:finished" string */

  /* Events are written by their own thread (kubelet_events.c) */
  pthread_mutex_t events_lock;
  pthread_cond_t events_cond;
  struct kevent *events_head, **events_tail;
  size_t events_len;
  bool events_stopping, events_ready, events_started;
  pthread_t events_thread;

  struct eviction_manager *eviction; /* eviction.h */
  struct image_gc_policy image_gc;
  int64_t image_gc_next_ms; /* node agent thread only */

  struct stream_backend stream_backend;
  struct streaming_server *stream; /* logs/exec/port-forward; NULL without certificates */
  int kubelet_port;                /* its port, reported in daemonEndpoints */
};

/* ---------- kubelet.c ---------- */
int64_t kubelet_now_ms(void);
/* RFC 3339 now; caller frees. */
char *kubelet_now_rfc3339(void);
/* Sleeps up to ms; false when the kubelet is stopping. */
bool kubelet_sleep(struct kubelet *kl, int64_t ms);
/* Queues the pod whose UID is uid (if known). */
void kubelet_queue_uid(struct kubelet *kl, const char *uid);

/* ---------- kubelet_events.c ---------- */
/* Queues an Event about pod (written in the background; repeats folded). */
void kubelet_event(struct kubelet *kl, const json_t *pod, const char *type, const char *reason,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int kubelet_events_start(struct kubelet *kl, k8c_err *err);
/* Writes what is queued, then stops the thread. */
void kubelet_events_stop(struct kubelet *kl);

/* ---------- node_agent.c ---------- */
/* Registers the Node and waits for its pod CIDR (kl->pod_cidr). -1 when stopping. */
int node_agent_register(struct kubelet *kl);
/* The status/lease loop, until stopping. */
void node_agent_loop(struct kubelet *kl);

/* ---------- podworker.c ---------- */
/* Syncs the pod under key (level-triggered). Returns the delay in ms after which the
 * pod wants another sync (probes, back-off), or -1 for none. */
int64_t podworker_sync(struct kubelet *kl, const char *key);
void kpod_free(struct kpod *p);
/* A fresh record for pod (containers from its spec, image IDs from its status). */
struct kpod *kpod_new_for_readopt(const json_t *pod, const char *key);
/* The runtime container id of run `restart` of container name of pod uid. Caller frees. */
char *podworker_container_id(const char *uid, const char *name, int restart);
/* Parses a container id back; false if it is not one of ours. */
bool podworker_parse_container_id(const char *id, char uid[64], char name[128], int *restart);

/* ---------- podworker_start.c ---------- */
/* Ensures container c runs (image, config, create, start, postStart). Returns 0 when it
 * was started, -1 when it could not be (c's waiting reason says why). */
int podworker_start_container(struct kubelet *kl, struct kpod *p, const json_t *pod,
                              const json_t *container, struct kcontainer *c);
/* Runs a lifecycle handler (postStart/preStop) in/against the container. */
int podworker_run_hook(struct kubelet *kl, struct kpod *p, const json_t *container,
                       const char *container_id, const json_t *handler, int timeout_s,
                       char **message);

/* ---------- podworker_kill.c ---------- */
/* Waits for the pod network being connected in the background (nothing to wait for:
 * 0). On failure the sandbox is gone (has_sandbox false), the failure is reported as an
 * event, and -1 returned: no container of the pod may start. */
int podworker_network_wait(struct kubelet *kl, struct kpod *p, const json_t *pod);

/* Stops and removes every container (preStop, SIGTERM, grace, SIGKILL) and the sandbox
 * and volumes. pod may be NULL (orphan). */
int podworker_kill_pod(struct kubelet *kl, struct kpod *p, const json_t *pod, int grace_seconds);
/* Removes a container run (ignoring errors that mean it is already gone). */
void podworker_remove_container(struct kubelet *kl, const char *id);
/* Removes every container the runtime holds for the pod with this uid (ids "<uid>_..."). */
void podworker_remove_pod_containers(struct kubelet *kl, const char *uid);

/* ---------- podworker_volumes.c ---------- */
/* <data>/pods/<uid>. Caller frees. */
char *podworker_pod_dir(struct kubelet *kl, const char *uid);
/* Prepares the pod's volumes once; on later calls refreshes their content (at most
 * every 10 s). */
int podworker_volumes_setup(struct kubelet *kl, struct kpod *p, const json_t *pod, k8c_err *err);
int podworker_volume_mounts(struct kubelet *kl, struct kpod *p, const json_t *pod,
                            const json_t *container, const struct env_list *env,
                            struct mount_spec **mounts, size_t *n, k8c_err *err);
void podworker_volume_mounts_free(struct mount_spec *mounts, size_t n);
void podworker_volumes_teardown(struct kubelet *kl, const char *uid);
/* The env_sources the kubelet resolves env and volumes with. */
void podworker_env_sources(struct kubelet *kl, struct env_sources *src);

/* ---------- image_gc_manager.c ---------- */
/* Called about once a second by the node agent: image GC when the disk passes the high
 * threshold (at most once per period). */
void image_gc_manager_tick(struct kubelet *kl);

/* ---------- status_manager.c ---------- */
/* Writes status as the pod's status (conflicts retried on a fresh copy). */
int status_manager_write(struct kubelet *kl, const json_t *pod, json_t *status);
/* Computes the pod's status from the record and the runtime and writes it when it
 * changed (conflicts retried). */
void status_manager_sync(struct kubelet *kl, struct kpod *p, const json_t *pod);

/* ---------- pleg.c ---------- */
int pleg_start(struct kubelet *kl, k8c_err *err);
void pleg_stop(struct kubelet *kl);

/* ---------- streaming.c ---------- */
/* The backend the streaming server calls for logs, exec and port-forward. */
void streaming_backend_init(struct kubelet *kl, struct stream_backend *b);

/* ---------- readopt.c ---------- */
/* Matches the runtime's sandboxes and containers with the informer's pods (records for
 * the live ones) and removes the orphans'. */
void readopt_run(struct kubelet *kl);
/* Removes <pod_log_dir>/<ns>_<name>_<uid> knowing only the UID. */
void readopt_remove_logs(struct kubelet *kl, const char *uid);

#endif
