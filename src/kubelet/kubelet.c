/* kubelet.c — the agent's life cycle: configuration defaults, the start-up sequence
 * (register the Node, wait for its pod CIDR, open the runtime, list+watch the node's
 * pods, re-adopt what runs, then sync), the pod workers draining the keyed work queue,
 * and the orderly stop. The design idea: nothing is synced until the re-adoption has
 * matched the runtime's containers with the pods, so a restart never duplicates one. */
#include "kubelet/kubelet_internal.h"

#include "apimachinery/meta.h"
#include "kubelet/eviction.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
kubelet_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
kubelet_now_rfc3339(void)
{
  return meta_now_rfc3339();
}

bool
kubelet_sleep(struct kubelet *kl, int64_t ms)
{
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&kl->lock);
  while (!kl->stopping) {
    if (pthread_cond_timedwait(&kl->changed, &kl->lock, &deadline) == ETIMEDOUT)
      break;
  }
  bool stop = kl->stopping;
  pthread_mutex_unlock(&kl->lock);
  return !stop;
}

void
kubelet_queue_uid(struct kubelet *kl, const char *uid)
{
  pthread_mutex_lock(&kl->lock);
  const char *key = hashmap_get(kl->uid_to_key, uid);
  char *copy = key ? xstrdup(key) : NULL;
  pthread_mutex_unlock(&kl->lock);
  if (copy)
    workqueue_add(kl->queue, copy);
  free(copy);
}

/* ---------- informer handlers: queue the pod's key ---------- */

static void
queue_obj(struct kubelet *kl, json_t *obj)
{
  cleanup_free char *key = client_object_key(obj);
  if (key)
    workqueue_add(kl->queue, key);
}

static void
on_add(void *ctx, json_t *obj)
{
  queue_obj(ctx, obj);
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  queue_obj(ctx, new_obj);
}

static void
on_delete(void *ctx, json_t *obj)
{
  queue_obj(ctx, obj);
}

/* ---------- workers ---------- */

static void *
worker_main(void *arg)
{
  struct kubelet *kl = arg;
  char *key = NULL;
  while (workqueue_get(kl->queue, &key)) {
    int64_t t0 = kubelet_now_ms();
    int64_t again = podworker_sync(kl, key);
    log_debug("kubelet: sync %s took %lld ms (again %lld)", key, (long long)(kubelet_now_ms() - t0),
              (long long)again);
    if (again >= 0)
      workqueue_add_after(kl->queue, key, again);
    workqueue_done(kl->queue, key);
    free(key);
    key = NULL;
  }
  return NULL;
}

/* ---------- start-up ---------- */

static int
open_runtime(struct kubelet *kl, k8c_err *err)
{
  struct runtime_config rcfg = {
      .run_dir = kl->cfg.run_dir,
      .data_dir = kl->cfg.data_dir,
      .oci_runtime = kl->cfg.oci_runtime,
      .cgroup_parent = kl->cfg.cgroup_parent,
      .bridge = kl->cfg.bridge,
      .pod_cidr = kl->pod_cidr,
  };
  kl->rt = runtime_open(&rcfg, err);
  return kl->rt ? 0 : -1;
}

static int
start_pods(struct kubelet *kl, k8c_err *err)
{
  cleanup_free char *selector = xasprintf("spec.nodeName=%s", kl->cfg.node_name);
  struct informer_config icfg = {.field_selector = selector, .resync_period_ms = 60000};
  kl->pod_informer = informer_new(kl->client, kl->pods_res, "", &icfg);
  struct informer_handlers h = {
      .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = kl};
  informer_add_handlers(kl->pod_informer, &h);
  if (informer_start(kl->pod_informer, err) < 0)
    return -1;
  while (!informer_wait_synced(kl->pod_informer, 1000)) {
    pthread_mutex_lock(&kl->lock);
    bool stop = kl->stopping;
    pthread_mutex_unlock(&kl->lock);
    if (stop)
      return k8c_error(err, 503, K8C_REASON_UNAVAILABLE, "stopping");
  }
  readopt_run(kl);
  if (pleg_start(kl, err) < 0)
    return -1;
  kl->workers = xcalloc((size_t)kl->cfg.workers, sizeof *kl->workers);
  for (int i = 0; i < kl->cfg.workers; i++) {
    if (pthread_create(&kl->workers[i], NULL, worker_main, kl) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "kubelet: cannot start pod workers");
    kl->n_workers++;
  }
  return 0;
}

static void *
main_thread(void *arg)
{
  struct kubelet *kl = arg;
  if (node_agent_register(kl) < 0)
    return NULL;
  k8c_err err = {0};
  while (open_runtime(kl, &err) < 0) {
    log_error("kubelet: runtime: %s (retrying)", err.message);
    k8c_err_clear(&err);
    if (!kubelet_sleep(kl, 5000))
      return NULL;
  }
  if (start_pods(kl, &err) < 0) {
    log_error("kubelet: %s", err.message);
    k8c_err_clear(&err);
    return NULL;
  }
  pthread_mutex_lock(&kl->lock);
  kl->ready = true;
  pthread_cond_broadcast(&kl->changed);
  pthread_mutex_unlock(&kl->lock);
  log_info("kubelet: node %s running pods (pod CIDR %s)", kl->cfg.node_name, kl->pod_cidr);
  node_agent_loop(kl);
  return NULL;
}

static const char *
or_default(const char *v, const char *def)
{
  return v && *v ? v : def;
}

static void
copy_config(struct kubelet_config *dst, const struct kubelet_config *src)
{
  *dst = *src;
  dst->node_name = xstrdup(src->node_name);
  dst->data_dir = xstrdup(or_default(src->data_dir, "/var/lib/k8c/agent"));
  dst->run_dir = xstrdup(or_default(src->run_dir, "/run/k8c"));
  dst->pod_log_dir = xstrdup(or_default(src->pod_log_dir, "/var/log/pods"));
  dst->node_ip = src->node_ip && *src->node_ip ? xstrdup(src->node_ip) : NULL;
  dst->oci_runtime = xstrdup(or_default(src->oci_runtime, "/usr/bin/crun"));
  dst->registries_file = src->registries_file ? xstrdup(src->registries_file) : NULL;
  dst->cluster_dns = xstrdup(or_default(src->cluster_dns, "10.43.0.10"));
  dst->cluster_domain = xstrdup(or_default(src->cluster_domain, "cluster.local"));
  dst->cgroup_parent = xstrdup(or_default(src->cgroup_parent, "k8c"));
  dst->bridge = xstrdup(or_default(src->bridge, "k8c0"));
  /* only used during kubelet_start: not copied */
  dst->serving_cert_pem = dst->serving_key_pem = dst->client_ca_pem = NULL;
  dst->eviction_hard = dst->image_gc_high_threshold = dst->image_gc_low_threshold = NULL;
  if (dst->status_period_ms <= 0)
    dst->status_period_ms = 10000;
  if (dst->lease_period_ms <= 0)
    dst->lease_period_ms = 10000;
  if (dst->workers <= 0)
    dst->workers = 8;
}

static void
free_config(struct kubelet_config *c)
{
  free((char *)c->node_name);
  free((char *)c->data_dir);
  free((char *)c->run_dir);
  free((char *)c->pod_log_dir);
  free((char *)c->node_ip);
  free((char *)c->oci_runtime);
  free((char *)c->registries_file);
  free((char *)c->cluster_dns);
  free((char *)c->cluster_domain);
  free((char *)c->cgroup_parent);
  free((char *)c->bridge);
}

static void kubelet_free(struct kubelet *kl);

/* A percentage flag: NULL gives def; else 0..100. */
static int
parse_percent(const char *flag, const char *text, int def, int *out, k8c_err *err)
{
  if (text == NULL || *text == '\0') {
    *out = def;
    return 0;
  }
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > 100)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "--%s: want a percentage 0..100, not \"%s\"",
                     flag, text);
  *out = (int)v;
  return 0;
}

/* The eviction manager and the image GC policy from the flags. */
static int
housekeeping_config(struct kubelet *kl, const struct kubelet_config *cfg, k8c_err *err)
{
  struct eviction_threshold t;
  if (eviction_threshold_parse(cfg->eviction_hard, &t, err) < 0)
    return -1;
  if (parse_percent("image-gc-high-threshold", cfg->image_gc_high_threshold, 85,
                    &kl->image_gc.high_percent, err) < 0 ||
      parse_percent("image-gc-low-threshold", cfg->image_gc_low_threshold, 80,
                    &kl->image_gc.low_percent, err) < 0)
    return -1;
  if (kl->image_gc.low_percent > kl->image_gc.high_percent)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "--image-gc-low-threshold (%d) must not exceed --image-gc-high-threshold (%d)",
                     kl->image_gc.low_percent, kl->image_gc.high_percent);
  kl->eviction = eviction_manager_new(&t, cfg->eviction_interval_ms);
  return 0;
}

struct kubelet *
kubelet_start(k8c_client *client, const struct kubelet_config *cfg, k8c_err *err)
{
  if (cfg->node_name == NULL || cfg->node_name[0] == '\0') {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "kubelet: a node name is required");
    return NULL;
  }
  struct kubelet *kl = xcalloc(1, sizeof *kl);
  copy_config(&kl->cfg, cfg);
  kl->client = client;
  kl->pods_res = api_resource_find("", "v1", "pods");
  kl->nodes_res = api_resource_find("", "v1", "nodes");
  kl->leases_res = api_resource_find("coordination.k8s.io", "v1", "leases");
  kl->configmaps_res = api_resource_find("", "v1", "configmaps");
  kl->secrets_res = api_resource_find("", "v1", "secrets");
  pthread_mutex_init(&kl->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&kl->changed, &ca);
  pthread_condattr_destroy(&ca);
  kl->pods = hashmap_new();
  kl->uid_to_key = hashmap_new();
  kl->pleg_seen = hashmap_new();
  kl->queue = workqueue_new(NULL);
  if (housekeeping_config(kl, cfg, err) < 0)
    goto fail;
  if (fs_mkdir_p(kl->cfg.data_dir, 0700, err) < 0 || fs_mkdir_p(kl->cfg.pod_log_dir, 0755, err) < 0)
    goto fail;
  if (node_facts_read(kl->cfg.data_dir, kl->cfg.node_ip, &kl->facts, err) < 0)
    goto fail;
  node_facts_set_runtime(&kl->facts, kl->cfg.oci_runtime);
  kl->allocatable = node_allocatable_json(&kl->facts);
  char *image_root = xasprintf("%s/images", kl->cfg.data_dir);
  kl->images = image_store_open(image_root, err);
  free(image_root);
  if (kl->images == NULL)
    goto fail;
  if (kl->cfg.registries_file) {
    kl->registries = registries_load(kl->cfg.registries_file, err);
    if (kl->registries == NULL)
      goto fail;
  }
  kl->events = event_recorder_new(client, "kubelet", kl->cfg.node_name);
  if (kubelet_events_start(kl, err) < 0)
    goto fail;
  kl->kubelet_port = KUBELET_DEFAULT_PORT;
  if (cfg->serving_cert_pem && cfg->serving_key_pem && cfg->client_ca_pem) {
    streaming_backend_init(kl, &kl->stream_backend);
    struct streaming_server_config scfg = {.bind_address = kl->cfg.node_ip,
                                           .port = cfg->port < 0    ? 0
                                                   : cfg->port == 0 ? KUBELET_DEFAULT_PORT
                                                                    : cfg->port,
                                           .serving_cert_pem = cfg->serving_cert_pem,
                                           .serving_key_pem = cfg->serving_key_pem,
                                           .client_ca_pem = cfg->client_ca_pem,
                                           .backend = &kl->stream_backend};
    kl->stream = streaming_server_start(&scfg, err);
    if (kl->stream == NULL)
      goto fail;
    kl->kubelet_port = streaming_server_port(kl->stream);
  }
  if (pthread_create(&kl->main_thread, NULL, main_thread, kl) != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "kubelet: cannot start its thread");
    goto fail;
  }
  kl->main_started = true;
  return kl;
fail:
  if (kl->stream)
    streaming_server_stop(kl->stream);
  kubelet_events_stop(kl);
  kubelet_free(kl);
  return NULL;
}

bool
kubelet_wait_ready(struct kubelet *kl, int timeout_ms)
{
  int64_t deadline = kubelet_now_ms() + timeout_ms;
  pthread_mutex_lock(&kl->lock);
  while (!kl->ready && !kl->stopping) {
    int64_t left = deadline - kubelet_now_ms();
    if (left <= 0)
      break;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&kl->changed, &kl->lock, &ts);
  }
  bool ready = kl->ready;
  pthread_mutex_unlock(&kl->lock);
  return ready;
}

static void
free_kpod_value(void *v)
{
  kpod_free(v);
}

static void
kubelet_free(struct kubelet *kl)
{
  if (kl->pod_informer)
    informer_free(kl->pod_informer);
  workqueue_free(kl->queue);
  hashmap_free(kl->pods, free_kpod_value);
  hashmap_free(kl->uid_to_key, free);
  hashmap_free(kl->pleg_seen, free);
  if (kl->rt)
    runtime_close(kl->rt);
  if (kl->images)
    image_store_close(kl->images);
  registries_free(kl->registries);
  if (kl->events)
    event_recorder_free(kl->events);
  json_decref(kl->allocatable);
  eviction_manager_free(kl->eviction);
  free(kl->pod_cidr);
  free(kl->node_uid);
  free(kl->workers);
  pthread_mutex_destroy(&kl->lock);
  pthread_cond_destroy(&kl->changed);
  free_config(&kl->cfg);
  free(kl);
}

void
kubelet_stop(struct kubelet *kl)
{
  if (kl == NULL)
    return;
  if (kl->stream)
    streaming_server_stop(kl->stream);
  kl->stream = NULL;
  pthread_mutex_lock(&kl->lock);
  kl->stopping = true;
  pthread_cond_broadcast(&kl->changed);
  pthread_mutex_unlock(&kl->lock);
  if (kl->main_started)
    pthread_join(kl->main_thread, NULL);
  if (kl->pod_informer)
    informer_stop(kl->pod_informer);
  workqueue_shutdown(kl->queue);
  for (int i = 0; i < kl->n_workers; i++)
    pthread_join(kl->workers[i], NULL);
  pleg_stop(kl);
  kubelet_events_stop(kl);
  kubelet_free(kl);
}
