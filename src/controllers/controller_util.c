/* controller_util.c — helpers shared by the ReplicaSet and Deployment controllers (see
 * controller_util.h). Expectations are a locked string map of small records; the pod
 * deletion order is one comparator applied with qsort_r over precomputed ranks. */
#include "controllers/controller_util.h"

#include "apimachinery/meta.h"
#include "lib/hashmap.h"
#include "lib/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECTATIONS_TTL_MS (5LL * 60 * 1000)

/* ---------- time ---------- */

time_t
cu_parse_time(const char *s)
{
  if (s == NULL)
    return 0;
  struct tm tm = {0};
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == NULL)
    return 0;
  return timegm(&tm);
}

time_t
cu_now(void)
{
  return time(NULL);
}

long long
cu_monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- objects ---------- */

static const json_t *
path_get(const json_t *obj, const char *path)
{
  char part[64];
  const json_t *cur = obj;
  while (cur && *path) {
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    if (len >= sizeof part)
      return NULL;
    memcpy(part, path, len);
    part[len] = 0;
    cur = json_object_get(cur, part);
    path += len + (dot ? 1 : 0);
  }
  return cur;
}

long long
cu_int(const json_t *obj, const char *path, long long dflt)
{
  const json_t *v = path_get(obj, path);
  return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

const char *
cu_str(const json_t *obj, const char *path)
{
  return json_string_value(path_get(obj, path));
}

char *
cu_key(const json_t *obj)
{
  const char *ns = meta_namespace(obj);
  const char *name = meta_name(obj);
  return xasprintf("%s/%s", ns ? ns : "", name ? name : "");
}

void
cu_add_namespace_index(informer *inf)
{
  /* Shared informers: the index may already exist (-1 then), which is fine. */
  (void)!informer_add_index(inf, "namespace", informer_index_by_path, (void *)"metadata.namespace");
}

/* ---------- pods ---------- */

bool
pod_is_active(const json_t *pod)
{
  const char *phase = cu_str(pod, "status.phase");
  if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
    return false;
  return path_get(pod, "metadata.deletionTimestamp") == NULL;
}

static const json_t *
ready_condition(const json_t *pod)
{
  const json_t *conds = path_get(pod, "status.conditions");
  size_t i;
  const json_t *c;
  json_array_foreach (conds, i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type && strcmp(type, "Ready") == 0)
      return c;
  }
  return NULL;
}

bool
pod_is_ready(const json_t *pod)
{
  const char *status = json_string_value(json_object_get(ready_condition(pod), "status"));
  return status && strcmp(status, "True") == 0;
}

time_t
pod_ready_since(const json_t *pod)
{
  if (!pod_is_ready(pod))
    return 0;
  return cu_parse_time(
      json_string_value(json_object_get(ready_condition(pod), "lastTransitionTime")));
}

bool
pod_is_available(const json_t *pod, long long min_ready_seconds, time_t now)
{
  if (!pod_is_ready(pod))
    return false;
  if (min_ready_seconds <= 0)
    return true;
  time_t since = pod_ready_since(pod);
  return since != 0 && since + min_ready_seconds <= now;
}

/* ---------- owner references ---------- */

json_t *
cu_controller_ref(const json_t *obj)
{
  const json_t *refs = path_get(obj, "metadata.ownerReferences");
  size_t i;
  json_t *r;
  json_array_foreach (refs, i, r)
    if (json_is_true(json_object_get(r, "controller")))
      return r;
  return NULL;
}

json_t *
cu_controller_ref_new(const char *api_version, const char *kind, const json_t *owner)
{
  return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api_version, "kind", kind,
                   "name", meta_name(owner) ? meta_name(owner) : "", "uid",
                   meta_uid(owner) ? meta_uid(owner) : "", "controller", 1, "blockOwnerDeletion",
                   1);
}

json_t *
cu_resolve_controller_ref(informer *owners, const char *kind, const char *ns, const json_t *ref)
{
  const char *ref_kind = json_string_value(json_object_get(ref, "kind"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  if (ref_kind == NULL || name == NULL || uid == NULL || strcmp(ref_kind, kind) != 0)
    return NULL;
  cleanup_free char *key = xasprintf("%s/%s", ns ? ns : "", name);
  json_t *owner = informer_get(owners, key);
  if (owner && (meta_uid(owner) == NULL || strcmp(meta_uid(owner), uid) != 0)) {
    json_decref(owner);
    return NULL;
  }
  return owner;
}

int
cu_adopt(k8c_client *c, const struct api_resource *res, const json_t *obj,
         const char *owner_api_version, const char *owner_kind, const json_t *owner, json_t **out,
         k8c_err *err)
{
  cleanup_json json_t *copy = json_deep_copy(obj);
  json_t *meta = meta_get(copy);
  json_t *refs = json_object_get(meta, "ownerReferences");
  if (!json_is_array(refs)) {
    refs = json_array();
    json_object_set_new(meta, "ownerReferences", refs);
  }
  json_array_append_new(refs, cu_controller_ref_new(owner_api_version, owner_kind, owner));
  return client_update(c, res, meta_namespace(obj), meta_name(obj), copy, NULL, out, err);
}

int
cu_release(k8c_client *c, const struct api_resource *res, const json_t *obj, const char *owner_uid,
           k8c_err *err)
{
  cleanup_json json_t *copy = json_deep_copy(obj);
  json_t *refs = json_object_get(meta_get(copy), "ownerReferences");
  for (size_t i = json_array_size(refs); i > 0; i--) {
    const char *uid = json_string_value(json_object_get(json_array_get(refs, i - 1), "uid"));
    if (uid && strcmp(uid, owner_uid) == 0)
      json_array_remove(refs, i - 1);
  }
  k8c_err uerr = {0};
  if (client_update(c, res, meta_namespace(obj), meta_name(obj), copy, NULL, NULL, &uerr) < 0) {
    if (uerr.status == 404) {
      k8c_err_clear(&uerr);
      return 0;
    }
    k8c_err_move(err, &uerr);
    return -1;
  }
  return 0;
}

/* ---------- IntOrString ---------- */

int
cu_scaled_int_or_percent(const json_t *v, long long total, bool round_up, long long *out)
{
  *out = 0;
  if (v == NULL || json_is_null(v))
    return 0;
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return 0;
  }
  const char *s = json_string_value(v);
  if (s == NULL)
    return -1;
  char *end = NULL;
  long long pct = strtoll(s, &end, 10);
  if (end == s || (*end != '%' && *end != 0) || (*end == '%' && end[1] != 0))
    return -1;
  if (*end == 0) { /* a plain number in a string */
    *out = pct;
    return 0;
  }
  long long scaled = pct * total;
  *out = round_up ? (scaled + 99) / 100 : scaled / 100;
  return 0;
}

/* ---------- pod deletion ranking ---------- */

struct ranked_pod {
  json_t *pod;
  int assigned;      /* 0 unassigned */
  int phase_rank;    /* Pending 0 < Unknown 1 < Running 2 */
  int ready;         /* 0/1 */
  long long cost;    /* pod-deletion-cost */
  int doubled_up;    /* pods of the same owner on this pod's node */
  time_t ready_time; /* 0 when not ready */
  long long restarts;
  time_t created;
  const char *uid;
};

static int
phase_rank(const char *phase)
{
  if (phase == NULL || strcmp(phase, "Pending") == 0 || phase[0] == 0)
    return 0;
  if (strcmp(phase, "Unknown") == 0)
    return 1;
  if (strcmp(phase, "Running") == 0)
    return 2;
  return 3;
}

static long long
max_restarts(const json_t *pod)
{
  long long best = 0;
  const char *lists[] = {"status.containerStatuses", "status.initContainerStatuses"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *cs;
    json_array_foreach ((json_t *)path_get(pod, lists[l]), i, cs) {
      long long r = cu_int(cs, "restartCount", 0);
      if (r > best)
        best = r;
    }
  }
  return best;
}

/* floor(log2(age in ns)) as upstream's logarithmic scale-down buckets. */
static int
age_bucket(time_t t, time_t now)
{
  double ns = (double)(now - t) * 1e9;
  if (ns <= 0)
    return -1;
  return (int)floor(log2(ns));
}

static int
uid_cmp(const struct ranked_pod *a, const struct ranked_pod *b)
{
  return strcmp(a->uid ? a->uid : "", b->uid ? b->uid : "");
}

static int
compare_for_deletion(const void *pa, const void *pb, void *ctx)
{
  const struct ranked_pod *a = pa, *b = pb;
  time_t now = *(const time_t *)ctx;
  if (a->assigned != b->assigned)
    return a->assigned - b->assigned;
  if (a->phase_rank != b->phase_rank)
    return a->phase_rank - b->phase_rank;
  if (a->ready != b->ready)
    return a->ready - b->ready;
  if (a->cost != b->cost)
    return a->cost < b->cost ? -1 : 1;
  if (a->doubled_up != b->doubled_up)
    return b->doubled_up - a->doubled_up;
  if (a->ready && b->ready && a->ready_time != b->ready_time) {
    int d = age_bucket(a->ready_time, now) - age_bucket(b->ready_time, now);
    return d != 0 ? d : uid_cmp(a, b);
  }
  if (a->restarts != b->restarts)
    return a->restarts > b->restarts ? -1 : 1;
  if (a->created != b->created) {
    int d = age_bucket(a->created, now) - age_bucket(b->created, now);
    return d != 0 ? d : uid_cmp(a, b);
  }
  return 0;
}

void
cu_sort_pods_for_deletion(json_t **pods, size_t n, time_t now)
{
  if (n < 2)
    return;
  struct ranked_pod *r = xcalloc(n, sizeof *r);
  for (size_t i = 0; i < n; i++) {
    json_t *p = pods[i];
    const char *node = cu_str(p, "spec.nodeName");
    r[i].pod = p;
    r[i].assigned = node && node[0];
    r[i].phase_rank = phase_rank(cu_str(p, "status.phase"));
    r[i].ready = pod_is_ready(p);
    const char *cost = json_string_value(
        json_object_get(meta_annotations(p), "controller.kubernetes.io/pod-deletion-cost"));
    r[i].cost = cost ? strtoll(cost, NULL, 10) : 0;
    r[i].ready_time = pod_ready_since(p);
    r[i].restarts = max_restarts(p);
    r[i].created = cu_parse_time(meta_string(p, "creationTimestamp"));
    r[i].uid = meta_uid(p);
    if (r[i].assigned)
      for (size_t j = 0; j < n; j++) {
        const char *other = cu_str(pods[j], "spec.nodeName");
        if (other && strcmp(other, node) == 0)
          r[i].doubled_up++;
      }
  }
  qsort_r(r, n, sizeof *r, compare_for_deletion, &now);
  for (size_t i = 0; i < n; i++)
    pods[i] = r[i].pod;
  free(r);
}

/* ---------- expectations ---------- */

struct expectation {
  int adds;
  hashmap *dels; /* pod key → (void *)1 */
  long long stamp_ms;
};

struct expectations {
  pthread_mutex_t mu;
  hashmap *records; /* controller key → struct expectation */
};

static void
expectation_free(void *v)
{
  struct expectation *x = v;
  if (x == NULL)
    return;
  hashmap_free(x->dels, NULL);
  free(x);
}

expectations *
expectations_new(void)
{
  expectations *e = xcalloc(1, sizeof *e);
  pthread_mutex_init(&e->mu, NULL);
  e->records = hashmap_new();
  return e;
}

void
expectations_free(expectations *e)
{
  if (e == NULL)
    return;
  hashmap_free(e->records, expectation_free);
  pthread_mutex_destroy(&e->mu);
  free(e);
}

bool
expectations_satisfied(expectations *e, const char *key)
{
  pthread_mutex_lock(&e->mu);
  struct expectation *x = hashmap_get(e->records, key);
  bool ok = x == NULL || (x->adds <= 0 && hashmap_count(x->dels) == 0) ||
            cu_monotonic_ms() - x->stamp_ms > EXPECTATIONS_TTL_MS;
  pthread_mutex_unlock(&e->mu);
  return ok;
}

static struct expectation *
fresh_record(expectations *e, const char *key)
{
  struct expectation *x = xcalloc(1, sizeof *x);
  x->dels = hashmap_new();
  x->stamp_ms = cu_monotonic_ms();
  expectation_free(hashmap_put(e->records, key, x));
  return x;
}

void
expectations_expect_creations(expectations *e, const char *key, int adds)
{
  pthread_mutex_lock(&e->mu);
  fresh_record(e, key)->adds = adds;
  pthread_mutex_unlock(&e->mu);
}

void
expectations_expect_deletions(expectations *e, const char *key, char *const *pod_keys, size_t n)
{
  pthread_mutex_lock(&e->mu);
  struct expectation *x = fresh_record(e, key);
  for (size_t i = 0; i < n; i++)
    hashmap_put(x->dels, pod_keys[i], (void *)1);
  pthread_mutex_unlock(&e->mu);
}

void
expectations_creation_observed(expectations *e, const char *key)
{
  pthread_mutex_lock(&e->mu);
  struct expectation *x = hashmap_get(e->records, key);
  if (x)
    x->adds--;
  pthread_mutex_unlock(&e->mu);
}

void
expectations_deletion_observed(expectations *e, const char *key, const char *pod_key)
{
  pthread_mutex_lock(&e->mu);
  struct expectation *x = hashmap_get(e->records, key);
  if (x)
    hashmap_remove(x->dels, pod_key);
  pthread_mutex_unlock(&e->mu);
}

void
expectations_delete(expectations *e, const char *key)
{
  pthread_mutex_lock(&e->mu);
  expectation_free(hashmap_remove(e->records, key));
  pthread_mutex_unlock(&e->mu);
}
