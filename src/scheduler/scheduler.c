/* scheduler.c — the scheduler's threads and its conversation with the API (see
 * scheduler.h): informer handlers feed the cache and the queue; one scheduling thread
 * runs the framework and assumes the pod onto its node; worker threads bind, record the
 * Scheduled / FailedScheduling events and set the PodScheduled=False condition. */
#include "scheduler/scheduler.h"

#include "apimachinery/meta.h"
#include "client/events.h"
#include "client/informer.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "scheduler/cache.h"
#include "scheduler/framework.h"
#include "scheduler/preemption.h"
#include "scheduler/queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LATENCY_RING 16384

enum job_kind { JOB_BIND, JOB_UNSCHEDULABLE, JOB_PREEMPT, JOB_SCHEDULED_EVENT };

struct job {
  enum job_kind kind;
  struct pod_info *pi;       /* NULL for JOB_SCHEDULED_EVENT */
  json_t *ref;               /* JOB_SCHEDULED_EVENT: the pod's identity, for the event */
  char *node;                /* JOB_BIND */
  char *message;             /* JOB_UNSCHEDULABLE */
  struct pod_info **victims; /* JOB_PREEMPT (node = the nominated node) */
  size_t nvictims;
  struct job *next;
};

struct latency_ring {
  double v[LATENCY_RING];
  size_t n, next;
};

struct scheduler {
  char *name;
  k8c_client *client;
  bool own_client;
  informer_factory *informers;
  bool own_informers;
  informer *pods, *nodes, *priority_classes, *pdbs;
  /* Under the cache lock: the parsed PDBs (rebuilt when pdbs_dirty), and the pods that
   * preempted and wait for their nominated node (key -> struct nomination). */
  struct sched_pdb *pdb_list;
  size_t npdbs;
  bool pdbs_dirty;
  struct hashmap *nominations;
  struct sched_cache *cache;
  struct sched_queue *queue;
  struct sched_framework fw;
  struct event_recorder *events;
  pthread_t loop;
  bool loop_started;
  pthread_t *workers;
  int nworkers;
  pthread_mutex_t jobs_mu;
  pthread_cond_t jobs_cv;
  /* Two FIFOs: [0] bindings and the other work a pod waits for, [1] Scheduled events,
   * written mostly when no binding waits (upstream's recorder writes them apart, too),
   * so that a burst's bindings do not queue behind the events of those before them. */
  struct job *jobs_head[2], *jobs_tail[2];
  unsigned long long job_picks;
  bool jobs_shutdown;
  pthread_mutex_t stats_mu;
  struct scheduler_stats stats;
  struct latency_ring cycle, e2e;
  struct latency_ring cycle_cpu;            /* the loop thread's CPU time per cycle: the cycle's own
                                               cost, without waits for the cache lock or a CPU */
  unsigned long long burst_scheduled;       /* bound since the last stats line */
  unsigned long long burst_attempts_before; /* stats.attempts at the last stats line */
};

static long long
now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
thread_cpu_ns(void)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
ring_add(struct latency_ring *r, double v)
{
  r->v[r->next] = v;
  r->next = (r->next + 1) % LATENCY_RING;
  if (r->n < LATENCY_RING)
    r->n++;
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Percentiles of the newest `last` values (0 = all kept). */
static void
ring_percentiles_last(const struct latency_ring *r, size_t last, double *p50, double *p99)
{
  *p50 = *p99 = 0;
  size_t n = last == 0 || last > r->n ? r->n : last;
  if (n == 0)
    return;
  double *copy = xmalloc(n * sizeof *copy);
  for (size_t i = 0; i < n; i++)
    copy[i] = r->v[(r->next + LATENCY_RING - 1 - i) % LATENCY_RING];
  qsort(copy, n, sizeof *copy, cmp_double);
  *p50 = copy[n / 2];
  *p99 = copy[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
  free(copy);
}

static void
ring_percentiles(const struct latency_ring *r, double *p50, double *p99)
{
  ring_percentiles_last(r, 0, p50, p99);
}

/* ---------- priority ---------- */

static void
resolve_priority(struct scheduler *s, struct pod_info *pi)
{
  if (pi->priority_set)
    return;
  if (pi->priority_class && pi->priority_class[0]) {
    json_t *pc = informer_get(s->priority_classes, pi->priority_class);
    if (pc) {
      pi->priority = (int32_t)json_integer_value(json_object_get(pc, "value"));
      json_decref(pc);
      return;
    }
  }
  json_t **all = NULL;
  size_t n = 0;
  informer_list(s->priority_classes, &all, &n);
  for (size_t i = 0; i < n; i++)
    if (json_is_true(json_object_get(all[i], "globalDefault")))
      pi->priority = (int32_t)json_integer_value(json_object_get(all[i], "value"));
  informer_objs_free(all, n);
}

/* ---------- nominations and PDBs (under the cache lock) ---------- */

struct nomination {
  struct pod_info *pi;
  char *node;
};

static void
nomination_free(void *p)
{
  struct nomination *nm = p;
  pod_info_unref(nm->pi);
  free(nm->node);
  free(nm);
}

static void
forget_nomination(struct scheduler *s, const char *key)
{
  struct nomination *nm = hashmap_remove(s->nominations, key);
  if (nm)
    nomination_free(nm);
}

static void
pdbs_clear(struct scheduler *s)
{
  for (size_t i = 0; i < s->npdbs; i++) {
    free(s->pdb_list[i].ns);
    label_selector_free(s->pdb_list[i].sel);
    json_decref(s->pdb_list[i].disrupted_pods);
  }
  free(s->pdb_list);
  s->pdb_list = NULL;
  s->npdbs = 0;
}

static void
pdbs_refresh(struct scheduler *s)
{
  if (!s->pdbs_dirty)
    return;
  s->pdbs_dirty = false;
  pdbs_clear(s);
  json_t **all = NULL;
  size_t n = 0;
  informer_list(s->pdbs, &all, &n);
  s->pdb_list = xcalloc(n + 1, sizeof *s->pdb_list);
  for (size_t i = 0; i < n; i++) {
    const char *ns =
        json_string_value(json_object_get(json_object_get(all[i], "metadata"), "namespace"));
    const json_t *st = json_object_get(all[i], "status");
    struct sched_pdb *p = &s->pdb_list[s->npdbs];
    p->sel = label_selector_from_json(json_object_get(json_object_get(all[i], "spec"), "selector"),
                                      NULL);
    if (p->sel == NULL)
      continue;
    p->ns = xstrdup(ns ? ns : "");
    p->disruptions_allowed = (int)json_integer_value(json_object_get(st, "disruptionsAllowed"));
    p->disrupted_pods = json_incref(json_object_get(st, "disruptedPods"));
    s->npdbs++;
  }
  informer_objs_free(all, n);
}

static void
on_pdb_change(void *ctx, json_t *obj)
{
  struct scheduler *s = ctx;
  (void)obj;
  sched_cache_lock(s->cache);
  s->pdbs_dirty = true;
  sched_cache_unlock(s->cache);
}

static void
on_pdb_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  on_pdb_change(ctx, new_obj);
}

/* Upstream's RunFilterPluginsWithNominatedPods, simply: pods nominated elsewhere with at
 * least pi's priority are assumed onto their nodes for pi's cycle. Returns how many. */
static size_t
reserve_nominated(struct scheduler *s, const struct pod_info *pi, struct pod_info ***added)
{
  size_t n = 0, cap = hashmap_count(s->nominations);
  if (cap == 0)
    return 0;
  *added = xcalloc(cap, sizeof **added);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(s->nominations, &it, &k, &v)) {
    struct nomination *nm = v;
    if (strcmp(nm->pi->key, pi->key) == 0 || nm->pi->priority < pi->priority ||
        sched_cache_has_pod(s->cache, nm->pi->key))
      continue;
    sched_cache_add_pod(s->cache, nm->pi, nm->node, true);
    (*added)[n++] = nm->pi;
  }
  return n;
}

static void
release_nominated(struct scheduler *s, struct pod_info **added, size_t n)
{
  for (size_t i = 0; i < n; i++)
    sched_cache_remove_pod(s->cache, added[i]->key);
  free(added);
}

/* ---------- informer handlers ---------- */

/* json_equal, with two missing values equal. */
static bool
same_json(const json_t *a, const json_t *b)
{
  return (a == NULL && b == NULL) || (a && b && json_equal((json_t *)a, (json_t *)b));
}

static bool
responsible_for(const struct scheduler *s, const struct pod_info *pi)
{
  return strcmp(pi->scheduler_name, s->name) == 0;
}

static void
pod_seen(struct scheduler *s, json_t *old_obj, json_t *obj)
{
  /* Every version of a bound pod replaces the cached one (the kubelet's status writes
   * too, so that the cache holds no superseded objects): in place, when it counts the
   * same (see sched_cache_add_pod), so the cache lock is held only briefly. */
  struct pod_info *pi = pod_info_new(obj);
  if (pi->node_name) {
    sched_cache_lock(s->cache);
    forget_nomination(s, pi->key);
    sched_cache_add_pod(s->cache, pi, pi->node_name, false);
    sched_cache_unlock(s->cache);
    sched_queue_delete(s->queue, pi->key);
  } else if (responsible_for(s, pi) && !pi->terminating) {
    resolve_priority(s, pi);
    bool changed = true;
    if (old_obj) { /* status-only updates (ours included) do not retry the pod */
      const json_t *om = json_object_get(old_obj, "metadata"),
                   *nm = json_object_get(obj, "metadata");
      changed = !same_json(json_object_get(old_obj, "spec"), json_object_get(obj, "spec")) ||
                !same_json(json_object_get(om, "labels"), json_object_get(nm, "labels"));
    }
    sched_queue_add(s->queue, pi, changed);
  } else if (pi->terminating) {
    sched_queue_delete(s->queue, pi->key);
  }
  pod_info_unref(pi);
}

static void
on_pod_add(void *ctx, json_t *obj)
{
  pod_seen(ctx, NULL, obj);
}

static void
on_pod_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (old_obj == new_obj)
    return;
  pod_seen(ctx, old_obj, new_obj);
}

static void
on_pod_delete(void *ctx, json_t *obj)
{
  struct scheduler *s = ctx;
  const json_t *md = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *name = json_string_value(json_object_get(md, "name"));
  if (name == NULL)
    return;
  cleanup_free char *full = xasprintf("%s/%s", ns ? ns : "", name); /* pod_info's key form */
  sched_cache_lock(s->cache);
  bool had = sched_cache_has_pod(s->cache, full);
  sched_cache_remove_pod(s->cache, full);
  forget_nomination(s, full);
  sched_cache_unlock(s->cache);
  sched_queue_delete(s->queue, full);
  if (had) /* its resources, ports and topology counts are free now */
    sched_queue_move_all(s->queue);
}

static void
on_node_add(void *ctx, json_t *obj)
{
  struct scheduler *s = ctx;
  sched_cache_lock(s->cache);
  bool changed = sched_cache_upsert_node(s->cache, obj);
  sched_cache_unlock(s->cache);
  if (changed)
    sched_queue_move_all(s->queue);
}

static void
on_node_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (old_obj != new_obj)
    on_node_add(ctx, new_obj);
}

static void
on_node_delete(void *ctx, json_t *obj)
{
  struct scheduler *s = ctx;
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  if (name == NULL)
    return;
  sched_cache_lock(s->cache);
  sched_cache_remove_node(s->cache, name);
  sched_cache_unlock(s->cache);
}

/* ---------- jobs for the workers ---------- */

static void
job_enqueue(struct scheduler *s, struct job *j)
{
  pthread_mutex_lock(&s->jobs_mu);
  int lane = j->kind == JOB_SCHEDULED_EVENT;
  if (s->jobs_tail[lane])
    s->jobs_tail[lane]->next = j;
  else
    s->jobs_head[lane] = j;
  s->jobs_tail[lane] = j;
  pthread_cond_signal(&s->jobs_cv);
  pthread_mutex_unlock(&s->jobs_mu);
}

static struct job *
job_new(enum job_kind kind, struct pod_info *pi, const char *node, char *message)
{
  struct job *j = xcalloc(1, sizeof *j);
  j->kind = kind;
  j->pi = pi ? pod_info_ref(pi) : NULL;
  j->node = node ? xstrdup(node) : NULL;
  j->message = message;
  return j;
}

static void
job_push(struct scheduler *s, enum job_kind kind, struct pod_info *pi, const char *node,
         char *message)
{
  job_enqueue(s, job_new(kind, pi, node, message));
}

static void
job_free(struct job *j)
{
  pod_info_unref(j->pi);
  json_decref(j->ref);
  for (size_t i = 0; i < j->nvictims; i++)
    pod_info_unref(j->victims[i]);
  free(j->victims);
  free(j->node);
  free(j->message);
  free(j);
}

/* What an event about pod needs of it (kind, apiVersion, namespace, name, uid,
 * resourceVersion): a burst's queued Scheduled events then hold a few strings each,
 * not every pod's whole (by now superseded) object. */
static json_t *
pod_ref(const json_t *pod)
{
  const json_t *md = json_object_get(pod, "metadata");
  json_t *ref_md = json_object();
  static const char *const keys[] = {"namespace", "name", "uid", "resourceVersion", NULL};
  for (int i = 0; keys[i]; i++) {
    json_t *v = json_object_get(md, keys[i]);
    if (v)
      json_object_set(ref_md, keys[i], v);
  }
  return json_pack("{s:s,s:s,s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", ref_md);
}

static bool
condition_already(const json_t *pod, const char *message)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type && strcmp(type, "PodScheduled") == 0) {
      const char *st = json_string_value(json_object_get(c, "status"));
      const char *reason = json_string_value(json_object_get(c, "reason"));
      const char *msg = json_string_value(json_object_get(c, "message"));
      return st && strcmp(st, "False") == 0 && reason && strcmp(reason, "Unschedulable") == 0 &&
             msg && strcmp(msg, message) == 0;
    }
  }
  return false;
}

static void
set_unschedulable_condition(struct scheduler *s, const struct pod_info *pi, const char *message)
{
  if (condition_already(pi->obj, message))
    return;
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  cleanup_free char *now = meta_now_rfc3339();
  json_t *patch = json_pack("{s:{s:[{s:s,s:s,s:s,s:s,s:s,s:n}]}}", "status", "conditions", "type",
                            "PodScheduled", "status", "False", "reason", "Unschedulable", "message",
                            message, "lastTransitionTime", now, "lastProbeTime");
  struct client_write_opts o = {.subresource = "status"};
  k8c_err err = {0};
  if (client_patch(s->client, pods, pi->ns, pi->name, "application/strategic-merge-patch+json",
                   patch, &o, NULL, &err) < 0 &&
      err.status != 404)
    log_debug("scheduler: setting PodScheduled on %s: %s", pi->key, err.message);
  k8c_err_clear(&err);
  json_decref(patch);
}

/* Once a burst of scheduling is over (nothing queued, nothing to bind), one log line
 * with its latency figures; the rings start afresh for the next burst. bench/scheduler.sh
 * reads these lines. */
static void
report_if_idle(struct scheduler *s)
{
  struct sched_queue_counts qc;
  sched_queue_counts(s->queue, &qc);
  pthread_mutex_lock(&s->jobs_mu);
  bool idle = s->jobs_head[0] == NULL && qc.active == 0 && qc.in_flight == 0; /* events may
                                                                               * follow */
  pthread_mutex_unlock(&s->jobs_mu);
  if (!idle)
    return;
  double c50, c99, e50, e99, u50, u99;
  pthread_mutex_lock(&s->stats_mu);
  unsigned long long n = s->burst_scheduled;
  unsigned long long cycles = s->stats.attempts - s->burst_attempts_before;
  ring_percentiles_last(&s->cycle, (size_t)cycles, &c50, &c99);
  ring_percentiles_last(&s->cycle_cpu, (size_t)cycles, &u50, &u99);
  ring_percentiles_last(&s->e2e, (size_t)n, &e50, &e99);
  s->burst_scheduled = 0;
  s->burst_attempts_before = s->stats.attempts;
  pthread_mutex_unlock(&s->stats_mu);
  if (n)
    log_info("scheduler stats: %llu pods bound (%llu cycles); scheduling cycle p50 %.3f ms "
             "p99 %.3f ms; queued to bound p50 %.3f ms p99 %.3f ms; cycle CPU time p50 %.3f ms "
             "p99 %.3f ms",
             n, cycles, c50, c99, e50, e99, u50, u99);
}

static void
run_bind(struct scheduler *s, struct job *j)
{
  k8c_err err = {0};
  long long t0 = now_us();
  int rc = client_bind(s->client, j->pi->ns, j->pi->name, j->pi->uid, j->node, &err);
  if (rc == 0) {
    sched_queue_done(s->queue, j->pi->key);
    /* The event is written by whichever worker is free next, as upstream's recorder writes
     * asynchronously: the next binding does not wait for it. */
    struct job *ev = job_new(JOB_SCHEDULED_EVENT, NULL, j->node, NULL);
    ev->ref = pod_ref(j->pi->obj);
    job_enqueue(s, ev);
    pthread_mutex_lock(&s->stats_mu);
    s->stats.scheduled++;
    s->burst_scheduled++;
    ring_add(&s->e2e, (double)(t0 / 1000 - j->pi->queued_ms) + (double)(now_us() - t0) / 1000.0);
    pthread_mutex_unlock(&s->stats_mu);
    report_if_idle(s);
    return;
  }
  sched_cache_lock(s->cache);
  if (sched_cache_pod_assumed(s->cache, j->pi->key))
    sched_cache_remove_pod(s->cache, j->pi->key);
  sched_cache_unlock(s->cache);
  pthread_mutex_lock(&s->stats_mu);
  s->stats.bind_errors++;
  pthread_mutex_unlock(&s->stats_mu);
  if (err.status == 404 || err.status == 409) { /* gone, or bound by someone else */
    sched_queue_delete(s->queue, j->pi->key);
    sched_queue_done(s->queue, j->pi->key);
  } else {
    log_warn("scheduler: binding %s to %s: %s", j->pi->key, j->node, err.message);
    event_record(s->events, j->pi->obj, "Warning", "FailedScheduling", "Binding rejected: %s",
                 err.message);
    sched_queue_requeue(s->queue, j->pi->key, false);
  }
  k8c_err_clear(&err);
}

/* Upstream's prepareCandidate: each victim gets a DisruptionTarget condition, is deleted
 * and told why in a Preempted event; then the preemptor's status.nominatedNodeName. */
static void
run_preempt(struct scheduler *s, struct job *j)
{
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  struct client_write_opts so = {.subresource = "status"};
  cleanup_free char *now = meta_now_rfc3339();
  for (size_t i = 0; i < j->nvictims; i++) {
    const struct pod_info *v = j->victims[i];
    k8c_err err = {0};
    cleanup_free char *why =
        xasprintf("%s: preempting to accommodate a higher priority pod", s->name);
    json_t *patch = json_pack("{s:{s:[{s:s,s:s,s:s,s:s,s:s}]}}", "status", "conditions", "type",
                              "DisruptionTarget", "status", "True", "reason",
                              "PreemptionByScheduler", "message", why, "lastTransitionTime", now);
    if (client_patch(s->client, pods, v->ns, v->name, "application/strategic-merge-patch+json",
                     patch, &so, NULL, &err) < 0)
      log_debug("scheduler: DisruptionTarget on %s: %s", v->key, err.message);
    json_decref(patch);
    k8c_err_clear(&err);
    json_t *opts = json_pack("{s:{s:s}}", "preconditions", "uid", v->uid ? v->uid : "");
    if (client_delete(s->client, pods, v->ns, v->name, opts, NULL, NULL, &err) < 0 &&
        err.status != 404)
      log_warn("scheduler: preempting %s: %s", v->key, err.message);
    json_decref(opts);
    k8c_err_clear(&err);
    event_record(s->events, v->obj, "Normal", "Preempted", "Preempted by pod %s on node %s",
                 j->pi->uid ? j->pi->uid : "", j->node);
  }
  json_t *patch = json_pack("{s:{s:s}}", "status", "nominatedNodeName", j->node);
  k8c_err err = {0};
  if (client_patch(s->client, pods, j->pi->ns, j->pi->name, "application/merge-patch+json", patch,
                   &so, NULL, &err) < 0 &&
      err.status != 404)
    log_debug("scheduler: nominating %s: %s", j->pi->key, err.message);
  json_decref(patch);
  k8c_err_clear(&err);
}

static void *
worker_main(void *arg)
{
  pthread_setname_np(pthread_self(), "sched-worker");
  struct scheduler *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->jobs_mu);
    while (s->jobs_head[0] == NULL && s->jobs_head[1] == NULL && !s->jobs_shutdown)
      pthread_cond_wait(&s->jobs_cv, &s->jobs_mu);
    /* Events wait while bindings do, but take every 8th turn: never starved. */
    bool event_turn = s->jobs_head[1] && (s->job_picks++ % 8 == 7 || !s->jobs_head[0]);
    int lane = event_turn ? 1 : 0;
    struct job *j = s->jobs_head[lane];
    if (j) {
      s->jobs_head[lane] = j->next;
      if (s->jobs_head[lane] == NULL)
        s->jobs_tail[lane] = NULL;
    }
    pthread_mutex_unlock(&s->jobs_mu);
    if (j == NULL)
      return NULL;
    if (j->kind == JOB_BIND) {
      run_bind(s, j);
    } else if (j->kind == JOB_PREEMPT) {
      run_preempt(s, j);
    } else if (j->kind == JOB_SCHEDULED_EVENT) {
      const json_t *md = json_object_get(j->ref, "metadata");
      const char *ns = json_string_value(json_object_get(md, "namespace"));
      const char *name = json_string_value(json_object_get(md, "name"));
      event_record(s->events, j->ref, "Normal", "Scheduled", "Successfully assigned %s/%s to %s",
                   ns ? ns : "", name ? name : "", j->node);
    } else {
      event_record(s->events, j->pi->obj, "Warning", "FailedScheduling", "%s", j->message);
      set_unschedulable_condition(s, j->pi, j->message);
    }
    job_free(j);
  }
}

/* ---------- the scheduling loop ---------- */

static void
schedule_pod(struct scheduler *s, struct pod_info *pi)
{
  long long t0 = now_us(), cpu0 = thread_cpu_ns();
  struct sched_result res;
  char *node = NULL;
  sched_cache_lock(s->cache);
  if (sched_cache_has_pod(s->cache, pi->key)) { /* already bound or assumed */
    sched_cache_unlock(s->cache);
    sched_queue_done(s->queue, pi->key);
    return;
  }
  pdbs_refresh(s);
  s->fw.pdbs = s->pdb_list;
  s->fw.npdbs = s->npdbs;
  struct nomination *mine = hashmap_get(s->nominations, pi->key);
  const char *status_nominated =
      json_string_value(json_object_get(json_object_get(pi->obj, "status"), "nominatedNodeName"));
  s->fw.nominated_node = mine ? mine->node : status_nominated;
  struct pod_info **reserved = NULL;
  size_t nreserved = reserve_nominated(s, pi, &reserved);
  sched_schedule_one(&s->fw, s->cache, pi, &res);
  release_nominated(s, reserved, nreserved);
  s->fw.nominated_node = NULL;
  struct job *preempt = NULL;
  if (res.node) {
    node = xstrdup(res.node->name);
    forget_nomination(s, pi->key);
    sched_cache_add_pod(s->cache, pi, node, true); /* assume: later pods see it at once */
  } else if (res.nominated) {
    struct nomination *nm = xcalloc(1, sizeof *nm);
    nm->pi = pod_info_ref(pi);
    nm->node = xstrdup(res.nominated->name);
    forget_nomination(s, pi->key);
    hashmap_put(s->nominations, pi->key, nm);
    preempt = job_new(JOB_PREEMPT, pi, res.nominated->name, NULL);
    preempt->victims = res.victims;
    preempt->nvictims = res.nvictims;
    res.victims = NULL;
  }
  sched_cache_unlock(s->cache);
  if (preempt)
    job_enqueue(s, preempt);
  double ms = (double)(now_us() - t0) / 1000.0;
  double cpu_ms = (double)(thread_cpu_ns() - cpu0) / 1e6;
  pthread_mutex_lock(&s->stats_mu);
  s->stats.attempts++;
  if (node == NULL)
    s->stats.unschedulable++;
  ring_add(&s->cycle, ms);
  ring_add(&s->cycle_cpu, cpu_ms);
  pthread_mutex_unlock(&s->stats_mu);
  if (node) {
    job_push(s, JOB_BIND, pi, node, NULL);
    free(node);
    return;
  }
  log_debug("scheduler: %s: %s", pi->key, res.message);
  sched_queue_requeue(s->queue, pi->key, true);
  job_push(s, JOB_UNSCHEDULABLE, pi, NULL, res.message);
}

static void *
loop_main(void *arg)
{
  pthread_setname_np(pthread_self(), "sched-loop");
  struct scheduler *s = arg;
  struct pod_info *pi;
  while ((pi = sched_queue_pop(s->queue)) != NULL) {
    if (pi->terminating)
      sched_queue_done(s->queue, pi->key);
    else
      schedule_pod(s, pi);
    pod_info_unref(pi);
  }
  return NULL;
}

/* ---------- start / stop ---------- */

struct scheduler *
scheduler_start(struct registry *reg, const struct scheduler_config *cfg, k8c_err *err)
{
  const char *name = cfg && cfg->scheduler_name ? cfg->scheduler_name : "default-scheduler";
  k8c_client *client = client_inprocess_new(reg, name);
  struct scheduler *s = scheduler_start_with_client(client, cfg, err);
  if (s == NULL) {
    client_free(client);
    return NULL;
  }
  s->own_client = true;
  return s;
}

struct scheduler *
scheduler_start_with_client(k8c_client *client, const struct scheduler_config *cfg, k8c_err *err)
{
  struct scheduler_config c = cfg ? *cfg : (struct scheduler_config){0};
  struct scheduler *s = xcalloc(1, sizeof *s);
  s->name = xstrdup(c.scheduler_name ? c.scheduler_name : "default-scheduler");
  s->client = client;
  s->cache = sched_cache_new();
  s->nominations = hashmap_new();
  s->queue = sched_queue_new(c.initial_backoff_ms, c.max_backoff_ms);
  s->fw.plugins = sched_default_plugins;
  s->fw.percentage_of_nodes_to_score = c.percentage_of_nodes_to_score;
  s->fw.rng = c.seed ? c.seed : (unsigned)now_us();
  s->events = event_recorder_new(client, s->name, NULL);
  pthread_mutex_init(&s->jobs_mu, NULL);
  pthread_cond_init(&s->jobs_cv, NULL);
  pthread_mutex_init(&s->stats_mu, NULL);
  s->own_informers = c.informers == NULL;
  s->informers = c.informers ? c.informers : informer_factory_new(client, 0);
  s->pods = informer_factory_get(s->informers, api_resource_find("", "v1", "pods"), "", NULL, NULL);
  s->nodes =
      informer_factory_get(s->informers, api_resource_find("", "v1", "nodes"), "", NULL, NULL);
  s->priority_classes = informer_factory_get(
      s->informers, api_resource_find("scheduling.k8s.io", "v1", "priorityclasses"), "", NULL,
      NULL);
  struct informer_handlers nh = {.on_add = on_node_add,
                                 .on_update = on_node_update,
                                 .on_delete = on_node_delete,
                                 .ctx = s,
                                 .resync_period_ms = -1};
  struct informer_handlers ph = {.on_add = on_pod_add,
                                 .on_update = on_pod_update,
                                 .on_delete = on_pod_delete,
                                 .ctx = s,
                                 .resync_period_ms = -1};
  s->pdbs = informer_factory_get(
      s->informers, api_resource_find("policy", "v1", "poddisruptionbudgets"), "", NULL, NULL);
  struct informer_handlers bh = {.on_add = on_pdb_change,
                                 .on_update = on_pdb_update,
                                 .on_delete = on_pdb_change,
                                 .ctx = s,
                                 .resync_period_ms = -1};
  informer_add_handlers(s->pdbs, &bh);
  informer_add_handlers(s->nodes, &nh);
  informer_add_handlers(s->pods, &ph);
  if (informer_factory_start(s->informers, err) < 0) {
    scheduler_stop(s);
    return NULL;
  }
  if (!informer_factory_wait_synced(s->informers, 10000))
    log_warn("scheduler: informers not synced after 10 s; continuing");
  s->nworkers = c.bind_workers > 0 ? c.bind_workers : 16;
  s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
  for (int i = 0; i < s->nworkers; i++)
    if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) {
      s->nworkers = i;
      scheduler_stop(s);
      k8c_error(err, 500, K8C_REASON_INTERNAL, "scheduler: cannot start a worker thread");
      return NULL;
    }
  if (pthread_create(&s->loop, NULL, loop_main, s) != 0) {
    scheduler_stop(s);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "scheduler: cannot start its thread");
    return NULL;
  }
  s->loop_started = true;
  log_info("scheduler %s started", s->name);
  return s;
}

void
scheduler_stop(struct scheduler *s)
{
  if (s == NULL)
    return;
  sched_queue_shutdown(s->queue);
  if (s->loop_started)
    pthread_join(s->loop, NULL);
  pthread_mutex_lock(&s->jobs_mu);
  s->jobs_shutdown = true;
  pthread_cond_broadcast(&s->jobs_cv);
  pthread_mutex_unlock(&s->jobs_mu);
  for (int i = 0; i < s->nworkers; i++)
    pthread_join(s->workers[i], NULL);
  free(s->workers);
  for (int lane = 0; lane < 2; lane++)
    while (s->jobs_head[lane]) {
      struct job *j = s->jobs_head[lane];
      s->jobs_head[lane] = j->next;
      job_free(j);
    }
  if (s->own_informers) {
    informer_factory_free(s->informers);
  } else { /* shared: they run on, without us */
    informer_remove_handlers(s->pods, s);
    informer_remove_handlers(s->nodes, s);
    informer_remove_handlers(s->pdbs, s);
  }
  sched_queue_free(s->queue);
  sched_cache_free(s->cache);
  hashmap_free(s->nominations, nomination_free);
  pdbs_clear(s);
  event_recorder_free(s->events);
  if (s->own_client)
    client_free(s->client);
  pthread_mutex_destroy(&s->jobs_mu);
  pthread_cond_destroy(&s->jobs_cv);
  pthread_mutex_destroy(&s->stats_mu);
  free(s->name);
  free(s);
}

void
scheduler_get_stats(struct scheduler *s, struct scheduler_stats *out)
{
  pthread_mutex_lock(&s->stats_mu);
  *out = s->stats;
  ring_percentiles(&s->cycle, &out->cycle_p50_ms, &out->cycle_p99_ms);
  ring_percentiles(&s->e2e, &out->e2e_p50_ms, &out->e2e_p99_ms);
  pthread_mutex_unlock(&s->stats_mu);
}
