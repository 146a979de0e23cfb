/* eviction_manager.c — the acting half of eviction: once per monitoring interval the
 * node agent's loop asks whether memory.available (MemAvailable) is below the hard
 * threshold; if so the pods bound here are ranked (eviction.c) and the first one is
 * picked and queued. Its pod worker then kills it and writes the Evicted status, so the
 * pod's record is still touched only by its own sync.
 * Design idea: one pod at a time — nothing new is picked while a pick is pending. */
#include "kubelet/eviction.h"

#include "apimachinery/meta.h"
#include "apimachinery/quantity.h"
#include "kubelet/kubelet_internal.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_INTERVAL_MS 10000
#define SYSTEM_CRITICAL_PRIORITY 2000000000

struct eviction_manager {
  struct eviction_threshold threshold;
  int interval_ms;
  int64_t next_ms;
  pthread_mutex_t lock;
  hashmap *picked; /* pod uid -> message (heap string) */
};

struct eviction_manager *
eviction_manager_new(const struct eviction_threshold *t, int interval_ms)
{
  struct eviction_manager *m = xcalloc(1, sizeof *m);
  m->threshold = *t;
  m->interval_ms = interval_ms > 0 ? interval_ms : DEFAULT_INTERVAL_MS;
  pthread_mutex_init(&m->lock, NULL);
  m->picked = hashmap_new();
  return m;
}

void
eviction_manager_free(struct eviction_manager *m)
{
  if (m == NULL)
    return;
  hashmap_free(m->picked, free);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

int64_t
eviction_manager_threshold_bytes(struct kubelet *kl)
{
  struct eviction_threshold def = {.bytes = 100LL * 1024 * 1024};
  const struct eviction_threshold *t = kl->eviction ? &kl->eviction->threshold : &def;
  return eviction_threshold_bytes(t, kl->facts.memory_bytes);
}

/* MemAvailable in bytes, or -1. */
static int64_t
memory_available(void)
{
  FILE *f = fopen("/proc/meminfo", "r");
  if (f == NULL)
    return -1;
  char line[256];
  long long kb = -1, v;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %lld kB", &v) == 1)
      kb = v;
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

static int64_t
memory_request(const json_t *container)
{
  const char *text = json_string_value(json_object_get(
      json_object_get(json_object_get(container, "resources"), "requests"), "memory"));
  quantity q;
  k8c_err err = {0};
  if (text == NULL || quantity_parse(text, &q, &err) < 0) {
    k8c_err_clear(&err);
    return 0;
  }
  return quantity_value(&q);
}

/* The memory the current run of container name of pod uid uses (0 if none). */
static int64_t
container_usage(struct kubelet *kl, char **ids, const char *uid, const char *name)
{
  int best = -1;
  const char *best_id = NULL;
  for (size_t i = 0; ids[i]; i++) {
    char u[64], n[128];
    int restart;
    if (podworker_parse_container_id(ids[i], u, n, &restart) && strcmp(u, uid) == 0 &&
        strcmp(n, name) == 0 && restart > best) {
      best = restart;
      best_id = ids[i];
    }
  }
  if (best_id == NULL)
    return 0;
  uint64_t usage = 0, kills = 0;
  k8c_err err = {0};
  if (runtime_container_memory(kl->rt, best_id, &usage, &kills, &err) < 0) {
    k8c_err_clear(&err);
    return 0;
  }
  return (int64_t)usage;
}

static bool
evictable(const json_t *pod)
{
  const char *phase =
      json_string_value(json_object_get(json_object_get(pod, "status"), "phase")) ?: "";
  if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)
    return false;
  if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
    return false;
  json_t *prio = json_object_get(json_object_get(pod, "spec"), "priority");
  return json_integer_value(prio) < SYSTEM_CRITICAL_PRIORITY;
}

/* Per pod: its containers' usage and requests (for the message). */
struct pod_usage {
  struct eviction_container_usage *cs;
  size_t n;
};

static void
pick_and_queue(struct kubelet *kl, int64_t available, int64_t threshold)
{
  json_t **pods = NULL;
  size_t n = 0;
  informer_list(kl->pod_informer, &pods, &n);
  char **ids = runtime_container_list(kl->rt);
  struct eviction_candidate *cands = xcalloc(n + 1, sizeof *cands);
  struct pod_usage *usage = xcalloc(n + 1, sizeof *usage);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!evictable(pods[i]))
      continue;
    const char *uid = meta_uid(pods[i]) ?: "";
    json_t *containers = json_object_get(json_object_get(pods[i], "spec"), "containers");
    struct pod_usage *u = &usage[k];
    u->cs = xcalloc(json_array_size(containers) + 1, sizeof *u->cs);
    struct eviction_candidate *c = &cands[k];
    c->id = uid;
    c->priority =
        (int32_t)json_integer_value(json_object_get(json_object_get(pods[i], "spec"), "priority"));
    size_t j;
    json_t *ctr;
    json_array_foreach (containers, j, ctr) {
      const char *name = json_string_value(json_object_get(ctr, "name")) ?: "";
      struct eviction_container_usage *cu = &u->cs[u->n++];
      cu->name = name;
      cu->request = memory_request(ctr);
      cu->usage = container_usage(kl, ids, uid, name);
      c->usage += cu->usage;
      c->request += cu->request;
    }
    k++;
  }
  /* the ranking reorders candidates: remember each one's pod by uid */
  eviction_rank(cands, k);
  if (k > 0) {
    const char *victim = cands[0].id;
    size_t pi = 0, ui = 0;
    for (size_t i = 0; i < n; i++) {
      if (!evictable(pods[i]))
        continue;
      if (strcmp(meta_uid(pods[i]) ?: "", victim) == 0) {
        pi = i;
        break;
      }
      ui++;
    }
    struct eviction_manager *m = kl->eviction;
    cleanup_free char *threshold_text =
        eviction_threshold_text(&m->threshold, kl->facts.memory_bytes);
    char *message = eviction_message(threshold_text, available, usage[ui].cs, usage[ui].n);
    log_info("kubelet: evicting pod %s/%s (memory available %lld < %lld): %s",
             meta_namespace(pods[pi]), meta_name(pods[pi]), (long long)available,
             (long long)threshold, message);
    pthread_mutex_lock(&m->lock);
    free(hashmap_put(m->picked, victim, message));
    pthread_mutex_unlock(&m->lock);
    kubelet_queue_uid(kl, victim);
  }
  for (size_t i = 0; i < k; i++)
    free(usage[i].cs);
  free(usage);
  free(cands);
  fs_strv_free(ids);
  informer_objs_free(pods, n);
}

void
eviction_manager_tick(struct kubelet *kl)
{
  struct eviction_manager *m = kl->eviction;
  if (m == NULL || kl->rt == NULL || kl->pod_informer == NULL)
    return;
  int64_t now = kubelet_now_ms();
  if (m->next_ms == 0)
    m->next_ms = now + m->interval_ms; /* the first look after one interval */
  if (now < m->next_ms)
    return;
  m->next_ms = now + m->interval_ms;
  pthread_mutex_lock(&m->lock);
  size_t pending = hashmap_count(m->picked);
  pthread_mutex_unlock(&m->lock);
  if (pending > 0)
    return; /* one pod at a time */
  int64_t available = memory_available();
  int64_t threshold = eviction_threshold_bytes(&m->threshold, kl->facts.memory_bytes);
  if (available < 0 || available >= threshold)
    return;
  pick_and_queue(kl, available, threshold);
}

bool
eviction_manager_sync(struct kubelet *kl, struct kpod *p, const json_t *pod)
{
  struct eviction_manager *m = kl->eviction;
  if (m == NULL)
    return false;
  pthread_mutex_lock(&m->lock);
  const char *picked = hashmap_get(m->picked, p->uid);
  char *message = picked ? xstrdup(picked) : NULL;
  pthread_mutex_unlock(&m->lock);
  if (message == NULL)
    return false;
  if (podworker_kill_pod(kl, p, pod, 0) < 0)
    log_warn("kubelet: evicting %s: not everything could be removed", p->key);
  cleanup_free char *now = kubelet_now_rfc3339();
  const json_t *base = p->last_status ? p->last_status : json_object_get(pod, "status");
  json_t *status = eviction_pod_status(base, message, now);
  if (status_manager_write(kl, pod, status) < 0)
    log_warn("kubelet: could not write the Evicted status of %s", p->key);
  kubelet_event(kl, pod, "Warning", "Evicted", "%s", message);
  json_decref(p->last_status);
  p->last_status = status;
  p->released = true;
  pthread_mutex_lock(&m->lock);
  free(hashmap_remove(m->picked, p->uid));
  pthread_mutex_unlock(&m->lock);
  free(message);
  return true;
}
