/* deployment_rolling.c — the RollingUpdate strategy (upstream's rolling.go): scale the
 * new ReplicaSet up as far as maxSurge allows, then scale old ones down as far as
 * maxUnavailable allows — first their unhealthy pods, then oldest RS first — one step
 * per sync; each write re-triggers a sync through the informers. */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

long long
dep_new_rs_replicas(struct dsync *s, const json_t *new_rs)
{
  long long want = dep_replicas(s->d);
  if (!dep_is_rolling(s->d))
    return want;
  /* Old RSes count with the larger of spec and status replicas: pods an old RS is still
   * deleting are not yet gone, so the surge is never exceeded in actual pods. */
  long long current = rs_replicas(new_rs);
  for (size_t i = 0; i < s->nold; i++) {
    long long spec = rs_replicas(s->old[i]), actual = rs_status_int(s->old[i], "replicas");
    current += spec > actual ? spec : actual;
  }
  long long max_total = want + dep_max_surge(s->d);
  if (current >= max_total)
    return rs_replicas(new_rs);
  long long up = max_total - current;
  if (up > want - rs_replicas(new_rs))
    up = want - rs_replicas(new_rs);
  return rs_replicas(new_rs) + up;
}

static int
reconcile_new(struct dsync *s, bool *scaled, k8c_err *err)
{
  *scaled = false;
  if (s->new_rs == NULL)
    return 0;
  long long want = dep_replicas(s->d);
  long long have = rs_replicas(s->new_rs);
  if (have == want)
    return 0;
  long long target = have > want ? want : dep_new_rs_replicas(s, s->new_rs);
  return dep_scale_rs(s, &s->new_rs, target, scaled, err);
}

/* Old RSes with replicas, oldest first: slots into s->old. */
static size_t
active_old_by_age(struct dsync *s, json_t ***slots)
{
  dep_sort_by_creation(s->old, s->nold, false);
  size_t n = 0;
  for (size_t i = 0; i < s->nold; i++)
    if (rs_replicas(s->old[i]) > 0)
      slots[n++] = &s->old[i];
  return n;
}

/* Scales old RSes down by their unavailable pods, at most max_cleanup in all. */
static int
cleanup_unhealthy(struct dsync *s, long long max_cleanup, long long *done, k8c_err *err)
{
  json_t **slots[s->nold + 1];
  size_t n = active_old_by_age(s, slots);
  *done = 0;
  for (size_t i = 0; i < n && *done < max_cleanup; i++) {
    json_t *rs = *slots[i];
    long long unhealthy = rs_replicas(rs) - rs_status_int(rs, "availableReplicas");
    if (unhealthy <= 0)
      continue;
    long long down = max_cleanup - *done < unhealthy ? max_cleanup - *done : unhealthy;
    bool scaled;
    if (dep_scale_rs(s, slots[i], rs_replicas(rs) - down, &scaled, err) < 0)
      return -1;
    *done += down;
  }
  return 0;
}

/* Scales old RSes down while more than minAvailable pods are available. */
static int
scale_down_old(struct dsync *s, long long *done, k8c_err *err)
{
  *done = 0;
  long long min_available = dep_replicas(s->d) - dep_max_unavailable(s->d);
  long long available = dep_sum(s->old, s->nold, "status.availableReplicas") +
                        rs_status_int(s->new_rs, "availableReplicas");
  if (available <= min_available)
    return 0;
  long long total_down = available - min_available;
  json_t **slots[s->nold + 1];
  size_t n = active_old_by_age(s, slots);
  for (size_t i = 0; i < n && *done < total_down; i++) {
    long long have = rs_replicas(*slots[i]);
    long long down = have < total_down - *done ? have : total_down - *done;
    bool scaled;
    if (dep_scale_rs(s, slots[i], have - down, &scaled, err) < 0)
      return -1;
    *done += down;
  }
  return 0;
}

static int
reconcile_old(struct dsync *s, bool *scaled, k8c_err *err)
{
  *scaled = false;
  if (dep_sum(s->old, s->nold, "spec.replicas") == 0)
    return 0;
  long long all = dep_sum(s->old, s->nold, "spec.replicas") + rs_replicas(s->new_rs);
  long long min_available = dep_replicas(s->d) - dep_max_unavailable(s->d);
  long long new_unavailable =
      rs_replicas(s->new_rs) - rs_status_int(s->new_rs, "availableReplicas");
  long long max_down = all - min_available - new_unavailable;
  if (max_down <= 0)
    return 0;
  long long cleaned = 0, down = 0;
  if (cleanup_unhealthy(s, max_down, &cleaned, err) < 0)
    return -1;
  if (scale_down_old(s, &down, err) < 0)
    return -1;
  *scaled = cleaned + down > 0;
  return 0;
}

int
dep_rollout_rolling(struct dsync *s, k8c_err *err)
{
  if (dep_get_all_rs(s, true, err) < 0)
    return -1;
  bool scaled;
  if (reconcile_new(s, &scaled, err) < 0)
    return -1;
  if (scaled)
    return dep_sync_rollout_status(s, err);
  if (reconcile_old(s, &scaled, err) < 0)
    return -1;
  if (scaled)
    return dep_sync_rollout_status(s, err);
  if (dep_complete(s->d, json_object_get(s->d, "status")) && dep_cleanup(s, err) < 0)
    return -1;
  return dep_sync_rollout_status(s, err);
}
