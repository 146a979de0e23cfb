/* container_spec.h — one container of a PodSpec translated into what the runtime runs
 * (struct container_spec): argv, environment, working dir, user and groups, resources,
 * security settings, log path. Pure: everything it needs (the image's config, the
 * resolved environment, the image's /etc/passwd and /etc/group text) is handed in. */
#ifndef K8C_KUBELET_CONTAINER_SPEC_H
#define K8C_KUBELET_CONTAINER_SPEC_H

#include "kubelet/env.h"
#include "kubelet/images/images.h"
#include "kubelet/runtime/runtime.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdint.h>

struct container_spec_input {
  const json_t *pod;
  const json_t *container;        /* an element of spec.containers or initContainers */
  const struct image_info *image; /* the pulled image */
  const char *const *lowerdirs;   /* its layers, top first */
  const struct env_list *env;     /* env_resolve's result */
  const char *passwd;             /* the image's /etc/passwd text, or NULL */
  const char *group;              /* the image's /etc/group text, or NULL */
  const char *id;                 /* runtime container id */
  const struct sandbox_info *sandbox;
  const char *pod_log_dir; /* /var/log/pods */
  int restart_count;
  int64_t pids_limit;              /* 0 = unlimited */
  int64_t memory_capacity;         /* the node's, for oom_score_adj */
  bool clamp_oom_score_adj;        /* the node cannot set any oom_score_adj: */
  int oom_score_adj_floor;         /* ... the lowest it can set */
  const struct mount_spec *mounts; /* volume mounts (borrowed) */
  size_t n_mounts;
};

/* A translated container: spec points into the owned arrays beside it. */
struct built_container {
  struct container_spec spec;
  char **argv;
  char **env;
  char *cwd;
  uint32_t *gids;
  char **cap_add;
  char **cap_drop;
  char *log_path;
};

/* Fills out (release with built_container_free, also after a failure). -1 with err on
 * what the kubelet reports as CreateContainerConfigError, e.g. upstream's
 * "container has runAsNonRoot and image will run as root ...". */
int container_spec_build(const struct container_spec_input *in, struct built_container *out,
                         k8c_err *err);
void built_container_free(struct built_container *b);

/* <pod_log_dir>/<ns>_<name>_<uid>: the pod's log directory. Caller frees. */
char *container_pod_log_dir(const char *pod_log_dir, const json_t *pod);

/* The user a USER string ("name", "uid", "uid:gid", "name:group") means, looked up in
 * passwd/group text (may be NULL). -1 with err if a name is unknown. */
int container_resolve_user(const char *user, const char *passwd, const char *group, uint32_t *uid,
                           uint32_t *gid, k8c_err *err);

/* CPU shares for a request in millicores (upstream: milli*1024/1000, at least 2; 2 when
 * there is no request), the CFS quota for a limit (milli*100 per 100000 us, 0 = none). */
uint64_t container_cpu_shares(int64_t request_milli);
int64_t container_cpu_quota(int64_t limit_milli);

#endif
