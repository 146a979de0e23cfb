/* podworker_kill.c — taking a pod down: preStop hooks, then every container stopped with
 * the grace period (SIGTERM, then SIGKILL) in parallel-safe order (containers first, init
 * sidecars last, as upstream), then containers removed, volumes torn down and the sandbox
 * (network, namespaces, cgroup) removed. Works from the record alone when the pod object
 * is gone (pod NULL) and from the runtime's listing for orphans. */
#include "kubelet/kubelet_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

void
podworker_remove_container(struct kubelet *kl, const char *id)
{
  k8c_err err = {0};
  if (runtime_container_remove(kl->rt, id, &err) < 0 && err.status != 404)
    log_warn("kubelet: removing container %s: %s", id, err.message);
  k8c_err_clear(&err);
}

static const json_t *
find_container(const json_t *pod, const char *name)
{
  static const char *const lists[] = {"containers", "initContainers"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    const json_t *c;
    json_array_foreach (json_object_get(json_object_get(pod, "spec"), lists[l]), i, c) {
      const char *n = json_string_value(json_object_get(c, "name"));
      if (n && strcmp(n, name) == 0)
        return c;
    }
  }
  return NULL;
}

static bool
running(struct kubelet *kl, const char *id)
{
  struct container_state st;
  k8c_err err = {0};
  if (runtime_container_state(kl->rt, id, &st, &err) < 0) {
    k8c_err_clear(&err);
    return false;
  }
  bool r = st.status == CONTAINER_RUNNING || st.status == CONTAINER_CREATED;
  container_state_free(&st);
  return r;
}

int
podworker_kill_pod(struct kubelet *kl, struct kpod *p, const json_t *pod, int grace_seconds)
{
  k8c_err err = {0};
  /* preStop hooks of running containers (regular ones first) */
  for (int pass = 0; pass < 2 && pod; pass++) {
    for (size_t i = 0; i < p->n_cs; i++) {
      struct kcontainer *c = &p->cs[i];
      if (c->id == NULL || (pass == 0) == c->init || !running(kl, c->id))
        continue;
      const json_t *cj = find_container(pod, c->name);
      const json_t *pre = json_object_get(json_object_get(cj, "lifecycle"), "preStop");
      if (pre == NULL)
        continue;
      char *msg = NULL;
      if (podworker_run_hook(kl, p, cj, c->id, pre, grace_seconds > 0 ? grace_seconds : 2, &msg) <
          0)
        kubelet_event(kl, pod, "Warning", "FailedPreStopHook", "%s", msg ? msg : "");
      free(msg);
    }
  }
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < p->n_cs; i++) {
      struct kcontainer *c = &p->cs[i];
      if (c->id == NULL || (pass == 0) == c->init)
        continue;
      if (pod && running(kl, c->id))
        kubelet_event(kl, pod, "Normal", "Killing", "Stopping container %s", c->name);
      if (runtime_container_stop(kl->rt, c->id, grace_seconds, &err) < 0) {
        log_warn("kubelet: stopping %s: %s", c->id, err.message);
        k8c_err_clear(&err);
      }
    }
  }
  for (size_t i = 0; i < p->n_cs; i++) {
    struct kcontainer *c = &p->cs[i];
    if (c->id)
      podworker_remove_container(kl, c->id);
    if (c->prev_id)
      podworker_remove_container(kl, c->prev_id);
  }
  /* anything else of this pod the runtime still has (older runs, interrupted starts) */
  podworker_remove_pod_containers(kl, p->uid);
  podworker_volumes_teardown(kl, p->uid);
  int rc = 0;
  if (runtime_sandbox_remove(kl->rt, p->uid, &err) < 0) {
    log_warn("kubelet: removing the sandbox of %s: %s", p->key, err.message);
    k8c_err_clear(&err);
    rc = -1;
  }
  if (p->has_sandbox)
    sandbox_info_free(&p->sandbox);
  p->has_sandbox = false;
  p->volumes_ready = false;
  pod_volumes_clear(&p->volumes);
  return rc;
}

void
podworker_remove_pod_containers(struct kubelet *kl, const char *uid)
{
  char **ids = runtime_container_list(kl->rt);
  size_t ulen = strlen(uid);
  for (size_t i = 0; ids[i]; i++)
    if (strncmp(ids[i], uid, ulen) == 0 && ids[i][ulen] == '_')
      podworker_remove_container(kl, ids[i]);
  fs_strv_free(ids);
}
