/* deployment_scale.c — scaling a Deployment (upstream's sync.go scale()): with one active
 * ReplicaSet it simply takes spec.replicas; mid-rollout the replicas added or removed are
 * spread over the active RSes in proportion to their size (using each RS's max-replicas
 * annotation), with the rounding leftover going to the largest one. Paused deployments
 * and plain scale changes take this path instead of a rollout. */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static long long
annotation_int(const json_t *rs, const char *key, bool *ok)
{
  const char *v = json_string_value(json_object_get(meta_annotations(rs), key));
  *ok = false;
  if (v == NULL)
    return 0;
  char *end = NULL;
  long long n = strtoll(v, &end, 10);
  *ok = end != v && *end == 0;
  return n;
}

bool
dep_is_scaling_event(struct dsync *s)
{
  long long want = dep_replicas(s->d);
  for (size_t i = 0; i < s->nrs; i++) {
    if (rs_replicas(s->rs[i]) <= 0)
      continue;
    bool ok;
    long long desired = annotation_int(s->rs[i], DEP_ANN_DESIRED_REPLICAS, &ok);
    if (ok && desired != want)
      return true;
  }
  return false;
}

/* Slots (pointers into s->old and &s->new_rs) of RSes with spec.replicas > 0. */
static size_t
active_slots(struct dsync *s, json_t ***slots, bool with_new)
{
  size_t n = 0;
  for (size_t i = 0; i < s->nold; i++)
    if (rs_replicas(s->old[i]) > 0)
      slots[n++] = &s->old[i];
  if (with_new && s->new_rs && rs_replicas(s->new_rs) > 0)
    slots[n++] = &s->new_rs;
  return n;
}

static bool
saturated(struct dsync *s)
{
  if (s->new_rs == NULL)
    return false;
  bool ok;
  long long want = dep_replicas(s->d);
  long long desired = annotation_int(s->new_rs, DEP_ANN_DESIRED_REPLICAS, &ok);
  return rs_replicas(s->new_rs) == want && ok && desired == want &&
         rs_status_int(s->new_rs, "availableReplicas") == want;
}

static long long
proportion(struct dsync *s, const json_t *rs, long long to_add, long long added)
{
  if (rs == NULL || rs_replicas(rs) == 0 || to_add == 0 || to_add == added)
    return 0;
  long long fraction;
  if (dep_replicas(s->d) == 0) {
    fraction = -rs_replicas(rs);
  } else {
    long long deployment_max = dep_replicas(s->d) + dep_max_surge(s->d);
    bool ok;
    long long annotated = annotation_int(rs, DEP_ANN_MAX_REPLICAS, &ok);
    if (!ok)
      annotated = cu_int(s->d, "status.replicas", 0);
    if (annotated <= 0)
      return 0;
    double size = (double)(rs_replicas(rs) * deployment_max) / (double)annotated;
    fraction = (long long)llround(size) - rs_replicas(rs);
  }
  long long allowed = to_add - added;
  if (to_add > 0)
    return fraction < allowed ? fraction : allowed;
  return fraction > allowed ? fraction : allowed;
}

struct sized_slot {
  json_t **slot;
  bool newer_first;
};

static int
by_size(const void *pa, const void *pb, void *ctx)
{
  json_t *a = **(json_t ***)pa, *b = **(json_t ***)pb;
  bool newer_first = *(bool *)ctx;
  if (rs_replicas(a) != rs_replicas(b))
    return rs_replicas(a) > rs_replicas(b) ? -1 : 1;
  time_t ta = cu_parse_time(meta_string(a, "creationTimestamp"));
  time_t tb = cu_parse_time(meta_string(b, "creationTimestamp"));
  if (ta != tb)
    return (ta > tb) == newer_first ? -1 : 1;
  int c = strcmp(meta_name(a), meta_name(b));
  return newer_first ? -c : c;
}

static int
scale_proportionally(struct dsync *s, k8c_err *err)
{
  json_t **slots[s->nold + 1];
  size_t n = active_slots(s, slots, true);
  long long total = 0;
  for (size_t i = 0; i < n; i++)
    total += rs_replicas(*slots[i]);
  long long allowed = dep_replicas(s->d) > 0 ? dep_replicas(s->d) + dep_max_surge(s->d) : 0;
  long long to_add = allowed - total;
  bool newer_first = to_add > 0;
  if (to_add != 0)
    qsort_r(slots, n, sizeof *slots, by_size, &newer_first);
  long long sizes[n + 1];
  long long added = 0;
  for (size_t i = 0; i < n; i++) {
    long long p = to_add != 0 ? proportion(s, *slots[i], to_add, added) : 0;
    sizes[i] = rs_replicas(*slots[i]) + p;
    added += p;
  }
  if (n > 0 && added != to_add) {
    sizes[0] += to_add - added;
    if (sizes[0] < 0)
      sizes[0] = 0;
  }
  for (size_t i = 0; i < n; i++) {
    bool scaled;
    if (dep_scale_rs(s, slots[i], sizes[i], &scaled, err) < 0)
      return -1;
  }
  return 0;
}

int
dep_scale(struct dsync *s, k8c_err *err)
{
  json_t **slots[s->nold + 1];
  size_t nactive = active_slots(s, slots, true);
  json_t **target = NULL;
  if (nactive == 1) {
    target = slots[0];
  } else if (nactive == 0) {
    if (s->new_rs) {
      target = &s->new_rs;
    } else if (s->nold > 0) {
      size_t newest = 0;
      for (size_t i = 1; i < s->nold; i++) {
        json_t *pair[2] = {s->old[newest], s->old[i]};
        dep_sort_by_creation(pair, 2, true);
        if (pair[0] == s->old[i])
          newest = i;
      }
      target = &s->old[newest];
    }
  }
  bool scaled;
  if (target)
    return rs_replicas(*target) == dep_replicas(s->d)
               ? 0
               : dep_scale_rs(s, target, dep_replicas(s->d), &scaled, err);
  if (saturated(s)) {
    size_t n = active_slots(s, slots, false);
    for (size_t i = 0; i < n; i++)
      if (dep_scale_rs(s, slots[i], 0, &scaled, err) < 0)
        return -1;
    return 0;
  }
  if (dep_is_rolling(s->d))
    return scale_proportionally(s, err);
  return 0;
}

int
dep_sync_scale(struct dsync *s, k8c_err *err)
{
  if (dep_get_all_rs(s, false, err) < 0)
    return -1;
  if (dep_scale(s, err) < 0)
    return -1;
  if (json_is_true(json_object_get(json_object_get(s->d, "spec"), "paused")) &&
      dep_cleanup(s, err) < 0)
    return -1;
  return dep_sync_status(s, err);
}
