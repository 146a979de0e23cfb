/* deployment_recreate.c — the Recreate strategy (upstream's recreate.go): scale every
 * old ReplicaSet to zero, wait until none of their pods is left running (terminal pods
 * do not count), and only then create or scale up the new ReplicaSet. */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

#include <string.h>

static bool
old_pods_running(struct dsync *s)
{
  if (dep_sum(s->old, s->nold, "status.replicas") > 0)
    return true;
  json_t **pods = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(s->dc->pod_inf, "namespace", meta_namespace(s->d), &pods, &n, &err) < 0) {
    k8c_err_clear(&err);
    return true;
  }
  bool running = false;
  for (size_t i = 0; i < n && !running; i++) {
    const char *uid = json_string_value(json_object_get(cu_controller_ref(pods[i]), "uid"));
    if (uid == NULL)
      continue;
    const char *phase = cu_str(pods[i], "status.phase");
    if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0))
      continue;
    for (size_t j = 0; j < s->nold; j++)
      if (meta_uid(s->old[j]) && strcmp(meta_uid(s->old[j]), uid) == 0)
        running = true;
  }
  informer_objs_free(pods, n);
  return running;
}

int
dep_rollout_recreate(struct dsync *s, k8c_err *err)
{
  if (dep_get_all_rs(s, false, err) < 0)
    return -1;
  bool scaled_down = false;
  for (size_t i = 0; i < s->nold; i++) {
    if (rs_replicas(s->old[i]) == 0)
      continue;
    bool scaled;
    if (dep_scale_rs(s, &s->old[i], 0, &scaled, err) < 0)
      return -1;
    scaled_down |= scaled;
  }
  if (scaled_down || old_pods_running(s))
    return dep_sync_rollout_status(s, err);
  if (s->new_rs == NULL) {
    dep_refresh_rs_list(s);
    if (dep_get_all_rs(s, true, err) < 0)
      return -1;
  }
  if (s->new_rs && rs_replicas(s->new_rs) != dep_replicas(s->d)) {
    bool scaled;
    if (dep_scale_rs(s, &s->new_rs, dep_replicas(s->d), &scaled, err) < 0)
      return -1;
  }
  if (dep_complete(s->d, json_object_get(s->d, "status")) && dep_cleanup(s, err) < 0)
    return -1;
  return dep_sync_rollout_status(s, err);
}
