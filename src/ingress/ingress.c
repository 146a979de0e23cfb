/* ingress.c — the ingress controller: informer handlers only mark the world dirty; one
 * sync thread waits for a quiet moment (debounce), builds the model from the caches,
 * renders nginx.conf and hands it to nginx only when the text changed. When nginx
 * rejects a config, the Ingress that owns the offending line is left out (a Warning
 * Event says why) and the rest is applied, so one bad Ingress never blocks the others;
 * it is tried again when it changes. */
#include "ingress/ingress.h"

#include "apimachinery/meta.h"
#include "client/events.h"
#include "ingress/ingress_internal.h"
#include "ingress/ingress_model.h"
#include "ingress/ingress_nginx.h"
#include "ingress/ingress_render.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EXCLUSIONS_PER_SYNC 8

struct ingress_controller {
  k8c_client *client;
  informer_factory *own_factory; /* NULL when the caller's is used */
  informer *ingresses, *classes, *services, *slices, *secrets;
  struct nginx_process *nginx;
  struct event_recorder *events;
  char *state_dir, *class_name, *publish_address, *worker_user;
  char *http_listen, *https_listen;
  int https_port;
  int debounce_ms;

  /* Only the sync thread touches these. */
  char *running_config; /* what nginx was last told to load */
  hashmap *excluded;    /* Ingress key → resourceVersion nginx rejected (owned string) */
  hashmap *reported;    /* problem texts already sent as Events */

  pthread_mutex_t mu; /* guards below */
  pthread_cond_t wake, synced;
  bool dirty, stopping;
  unsigned started_syncs, done_syncs;
  struct ingress_stats stats;
  pthread_t thread;
};

/* ---------- informer handlers ---------- */

static void
mark_dirty(struct ingress_controller *ic)
{
  pthread_mutex_lock(&ic->mu);
  ic->dirty = true;
  pthread_cond_signal(&ic->wake);
  pthread_mutex_unlock(&ic->mu);
}

static void
on_object(void *ctx, json_t *obj)
{
  (void)obj;
  mark_dirty(ctx);
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (old_obj != new_obj)
    mark_dirty(ctx);
}

/* ---------- one sync ---------- */

static double
ms_since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* An object with apiVersion and kind, as events need (list items may lack them). */
static json_t *
with_kind(json_t *obj, const char *api_version, const char *kind)
{
  if (json_object_get(obj, "kind"))
    return json_incref(obj);
  json_t *copy = json_copy(obj);
  json_object_set_new(copy, "apiVersion", json_string(api_version));
  json_object_set_new(copy, "kind", json_string(kind));
  return copy;
}

static void
ingress_event(struct ingress_controller *ic, json_t *ing, const char *type, const char *reason,
              const char *message)
{
  json_t *obj = with_kind(ing, "networking.k8s.io/v1", "Ingress");
  event_record(ic->events, obj, type, reason, "%s", message);
  json_decref(obj);
}

/* Sends an Event for each problem not reported before; forgets solved ones. */
static void
report_problems(struct ingress_controller *ic, const struct ingress_model *m)
{
  hashmap *now = hashmap_new();
  for (size_t i = 0; i < m->n_problems; i++) {
    const struct ingress_problem *p = &m->problems[i];
    char *k =
        xasprintf("%s/%s|%s|%s", meta_namespace(p->obj), meta_name(p->obj), p->reason, p->message);
    if (hashmap_get(ic->reported, k) == NULL) {
      log_warn("ingress: %s/%s: %s", meta_namespace(p->obj), meta_name(p->obj), p->message);
      ingress_event(ic, p->obj, "Warning", p->reason, p->message);
    }
    hashmap_put(now, k, (void *)1);
    free(k);
  }
  hashmap_free(ic->reported, NULL);
  ic->reported = now;
}

static bool
is_excluded(struct ingress_controller *ic, const json_t *ing)
{
  char *key = client_object_key(ing);
  const char *rv = hashmap_get(ic->excluded, key);
  bool ex = rv && strcmp(rv, meta_resource_version(ing) ? meta_resource_version(ing) : "") == 0;
  if (rv && !ex)
    free(hashmap_remove(ic->excluded, key)); /* changed since: try it again */
  free(key);
  return ex;
}

static bool
is_served_key(const struct ingress_model *m, const char *key)
{
  for (size_t i = 0; i < m->n_served; i++)
    if (strcmp(m->served[i], key) == 0)
      return true;
  return false;
}

static void
write_statuses(struct ingress_controller *ic, json_t **ings, size_t n,
               const struct ingress_model *m)
{
  for (size_t i = 0; i < n; i++) {
    char *key = client_object_key(ings[i]);
    k8c_err err = {0};
    if (ingress_status_sync(ic->client, ings[i], ic->publish_address, is_served_key(m, key), &err) <
            0 &&
        err.status != 404 && err.status != 409)
      log_warn("ingress: status of %s: %s", key, err.message);
    k8c_err_clear(&err);
    free(key);
  }
}

/* Builds, renders and applies; returns true when it should run again at once (an
 * Ingress was just excluded). */
static bool
sync_once(struct ingress_controller *ic)
{
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  json_t *cls = informer_get(ic->classes, ic->class_name);
  bool is_default = cls && ingress_class_is_default(cls);
  json_decref(cls);
  struct ingress_inputs in = {0};
  json_t **all;
  size_t n_all;
  informer_list(ic->ingresses, &all, &n_all);
  in.ingresses = xcalloc(n_all + 1, sizeof *in.ingresses);
  for (size_t i = 0; i < n_all; i++)
    if (ingress_is_served(all[i], ic->class_name, is_default) && !is_excluded(ic, all[i]))
      in.ingresses[in.n_ingresses++] = all[i];
  informer_list(ic->services, &in.services, &in.n_services);
  informer_list(ic->slices, &in.slices, &in.n_slices);
  informer_list(ic->secrets, &in.secrets, &in.n_secrets);
  struct ingress_model m = {0};
  ingress_model_build(&in, &m);
  struct ingress_render_config rcfg = {.state_dir = ic->state_dir,
                                       .http_listen = ic->http_listen,
                                       .https_listen = ic->https_listen,
                                       .https_port = ic->https_port,
                                       .worker_user = ic->worker_user};
  char *config = ingress_render(&m, &rcfg);
  double render_ms = ms_since(&t0);
  report_problems(ic, &m);

  bool again = false, applied = false, rejected = false;
  double apply_ms = 0;
  if (ic->running_config == NULL || strcmp(config, ic->running_config) != 0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    k8c_err err = {0};
    int bad_line = 0;
    if (ingress_files_certs(ic->state_dir, &m, &err) < 0 ||
        nginx_process_apply(ic->nginx, config, &bad_line, &err) < 0) {
      rejected = true;
      char *owner = bad_line ? ingress_render_owner_of_line(config, bad_line) : NULL;
      json_t *ing = owner ? informer_get(ic->ingresses, owner) : NULL;
      if (ing && hashmap_count(ic->excluded) < MAX_EXCLUSIONS_PER_SYNC * 16) {
        const char *rv = meta_resource_version(ing);
        free(hashmap_put(ic->excluded, owner, xstrdup(rv ? rv : "")));
        ingress_event(ic, ing, "Warning", "RejectedByNginx", err.message);
        log_warn("ingress: %s left out: %s", owner, err.message);
        again = true;
      } else {
        log_error("ingress: nginx rejected the configuration (the running one stays): %s",
                  err.message);
      }
      json_decref(ing);
      free(owner);
    } else {
      applied = true;
      free(ic->running_config);
      ic->running_config = steal_ptr(config);
      ingress_files_prune(ic->state_dir, &m);
      apply_ms = ms_since(&t1);
    }
    k8c_err_clear(&err);
  }
  if (!again)
    write_statuses(ic, all, n_all, &m);

  pthread_mutex_lock(&ic->mu);
  ic->stats.syncs++;
  ic->stats.last_render_ms = render_ms;
  if (applied) {
    ic->stats.reloads++;
    ic->stats.last_apply_ms = apply_ms;
  }
  if (rejected)
    ic->stats.rejected++;
  pthread_mutex_unlock(&ic->mu);
  if (applied)
    log_debug("ingress: config rendered in %.2f ms, applied in %.2f ms", render_ms, apply_ms);

  free(config);
  ingress_model_clear(&m);
  free(in.ingresses);
  informer_objs_free(all, n_all);
  informer_objs_free(in.services, in.n_services);
  informer_objs_free(in.slices, in.n_slices);
  informer_objs_free(in.secrets, in.n_secrets);
  return again;
}

/* ---------- the sync thread ---------- */

static bool
wait_for_change(struct ingress_controller *ic)
{
  pthread_mutex_lock(&ic->mu);
  while (!ic->dirty && !ic->stopping)
    pthread_cond_wait(&ic->wake, &ic->mu);
  bool go = !ic->stopping;
  pthread_mutex_unlock(&ic->mu);
  if (!go)
    return false;
  struct timespec ts = {0, (long)ic->debounce_ms * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
  pthread_mutex_lock(&ic->mu);
  ic->dirty = false;
  ic->started_syncs++;
  go = !ic->stopping;
  pthread_mutex_unlock(&ic->mu);
  return go;
}

static void *
sync_main(void *arg)
{
  struct ingress_controller *ic = arg;
  informer *all[] = {ic->ingresses, ic->classes, ic->services, ic->slices, ic->secrets};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    while (!informer_wait_synced(all[i], 100)) {
      pthread_mutex_lock(&ic->mu);
      bool stop = ic->stopping;
      pthread_mutex_unlock(&ic->mu);
      if (stop)
        return NULL;
    }
  mark_dirty(ic);
  while (wait_for_change(ic)) {
    for (int i = 0; i < MAX_EXCLUSIONS_PER_SYNC && sync_once(ic); i++)
      ;
    pthread_mutex_lock(&ic->mu);
    ic->done_syncs = ic->started_syncs;
    pthread_cond_broadcast(&ic->synced);
    pthread_mutex_unlock(&ic->mu);
  }
  return NULL;
}

/* ---------- start / stop ---------- */

static char *
listen_text(const char *address, int port)
{
  if (address == NULL || *address == '\0')
    return xasprintf("%d", port);
  if (strchr(address, ':'))
    return xasprintf("[%s]:%d", address, port);
  return xasprintf("%s:%d", address, port);
}

static void
free_controller(struct ingress_controller *ic)
{
  if (ic->own_factory) {
    informer_factory_stop(ic->own_factory);
    informer_factory_free(ic->own_factory);
  }
  nginx_process_free(ic->nginx);
  if (ic->events)
    event_recorder_free(ic->events);
  hashmap_free(ic->excluded, free);
  hashmap_free(ic->reported, NULL);
  pthread_mutex_destroy(&ic->mu);
  pthread_cond_destroy(&ic->wake);
  pthread_cond_destroy(&ic->synced);
  free(ic->running_config);
  free(ic->state_dir);
  free(ic->class_name);
  free(ic->publish_address);
  free(ic->worker_user);
  free(ic->http_listen);
  free(ic->https_listen);
  free(ic);
}

static informer *
watch(struct ingress_controller *ic, informer_factory *f, const char *group, const char *plural)
{
  informer *inf = informer_factory_get(f, api_resource_find(group, "v1", plural), "", NULL, NULL);
  informer_add_handlers(inf, &(struct informer_handlers){.on_add = on_object,
                                                         .on_update = on_update,
                                                         .on_delete = on_object,
                                                         .ctx = ic,
                                                         .resync_period_ms = -1});
  return inf;
}

struct ingress_controller *
ingress_start(k8c_client *client, informer_factory *informers, const struct ingress_config *cfg,
              k8c_err *err)
{
  if (cfg->state_dir == NULL || cfg->state_dir[0] != '/') {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "ingress: the state dir must be absolute");
    return NULL;
  }
  struct ingress_controller *ic = xcalloc(1, sizeof *ic);
  ic->client = client;
  ic->state_dir = xstrdup(cfg->state_dir);
  ic->class_name = xstrdup(cfg->class_name ? cfg->class_name : "nginx");
  ic->publish_address = cfg->publish_address ? xstrdup(cfg->publish_address) : NULL;
  int http_port = cfg->http_port ? cfg->http_port : 80;
  ic->https_port = cfg->https_port ? cfg->https_port : 443;
  ic->http_listen = listen_text(cfg->http_address, http_port);
  ic->https_listen =
      listen_text(cfg->https_address ? cfg->https_address : cfg->http_address, ic->https_port);
  ic->debounce_ms = cfg->debounce_ms > 0 ? cfg->debounce_ms : 20;
  ic->excluded = hashmap_new();
  ic->reported = hashmap_new();
  pthread_mutex_init(&ic->mu, NULL);
  pthread_cond_init(&ic->wake, NULL);
  pthread_cond_init(&ic->synced, NULL);
  ic->nginx = nginx_process_new(cfg->nginx_bin ? cfg->nginx_bin : "/usr/sbin/nginx", ic->state_dir);
  if (ingress_files_prepare(ic->state_dir, &ic->worker_user, err) < 0 ||
      ingress_files_default_cert(ic->state_dir, err) < 0 ||
      ingress_class_ensure(client, ic->class_name, err) < 0) {
    free_controller(ic);
    return NULL;
  }
  ic->events = event_recorder_new(client, "nginx-ingress-controller", NULL);
  informer_factory *f = informers;
  if (f == NULL)
    f = ic->own_factory = informer_factory_new(client, 0);
  ic->ingresses = watch(ic, f, "networking.k8s.io", "ingresses");
  ic->classes = watch(ic, f, "networking.k8s.io", "ingressclasses");
  ic->services = watch(ic, f, "", "services");
  ic->slices = watch(ic, f, "discovery.k8s.io", "endpointslices");
  ic->secrets = watch(ic, f, "", "secrets");
  if (ic->own_factory && informer_factory_start(ic->own_factory, err) < 0) {
    free_controller(ic);
    return NULL;
  }
  int rc = pthread_create(&ic->thread, NULL, sync_main, ic);
  if (rc != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "ingress: starting the sync thread: %s", strerror(rc));
    free_controller(ic);
    return NULL;
  }
  return ic;
}

void
ingress_stop(struct ingress_controller *ic)
{
  if (ic == NULL)
    return;
  pthread_mutex_lock(&ic->mu);
  ic->stopping = true;
  pthread_cond_broadcast(&ic->wake);
  pthread_cond_broadcast(&ic->synced);
  pthread_mutex_unlock(&ic->mu);
  pthread_join(ic->thread, NULL);
  free_controller(ic);
}

bool
ingress_wait_sync(struct ingress_controller *ic, int timeout_ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&ic->mu);
  unsigned target = ic->started_syncs + 1;
  ic->dirty = true;
  pthread_cond_signal(&ic->wake);
  bool ok = true;
  while (ic->done_syncs < target && !ic->stopping)
    if (pthread_cond_timedwait(&ic->synced, &ic->mu, &ts) == ETIMEDOUT) {
      ok = ic->done_syncs >= target;
      break;
    }
  pthread_mutex_unlock(&ic->mu);
  return ok && !ic->stopping;
}

void
ingress_stats(struct ingress_controller *ic, struct ingress_stats *out)
{
  pthread_mutex_lock(&ic->mu);
  *out = ic->stats;
  pthread_mutex_unlock(&ic->mu);
  out->nginx_starts = nginx_process_starts(ic->nginx);
  out->nginx_pid = (int)nginx_process_pid(ic->nginx);
}
