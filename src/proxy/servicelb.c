/* servicelb.c — the LoadBalancer status controller (k3s's servicelb idea, run by the
 * controller manager in `k8c server`): every Service of type LoadBalancer without a
 * loadBalancerClass gets status.loadBalancer.ingress = the addresses of the Ready nodes
 * (ExternalIP if a node has one, else InternalIP), and the service proxy on every node
 * balances traffic to those addresses and the Service's ports. A port (with protocol)
 * belongs to the oldest LoadBalancer Service that asks for it; a younger one stays
 * pending (no ingress) until the port is free, as k3s does. */
#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/controller.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct servicelb {
  k8c_client *client;
  const struct api_resource *services_res;
  informer *services;
  informer *nodes;
  workqueue *queue;
  pthread_t worker;
};

static void *servicelb_start(struct controller_context *ctx, k8c_err *err);
static void servicelb_stop(void *state);

const struct controller_def servicelb_controller_def = {
    .name = "servicelb",
    .start = servicelb_start,
    .stop = servicelb_stop,
};

static const char *
spec_str(const json_t *svc, const char *field)
{
  return json_string_value(json_object_get(json_object_get(svc, "spec"), field));
}

static bool
is_our_load_balancer(const json_t *svc)
{
  const char *type = spec_str(svc, "type");
  return type && strcmp(type, "LoadBalancer") == 0 && spec_str(svc, "loadBalancerClass") == NULL;
}

/* ---------- desired ingress ---------- */

static bool
node_is_ready(const json_t *node)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(json_object_get(node, "status"), "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type && strcmp(type, "Ready") == 0)
      return strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True") == 0;
  }
  return false;
}

static const char *
node_address(const json_t *node)
{
  const char *internal = NULL;
  size_t i;
  json_t *a;
  json_array_foreach (json_object_get(json_object_get(node, "status"), "addresses"), i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    const char *addr = json_string_value(json_object_get(a, "address"));
    if (type && addr && strcmp(type, "ExternalIP") == 0)
      return addr;
    if (type && addr && strcmp(type, "InternalIP") == 0 && internal == NULL)
      internal = addr;
  }
  return internal;
}

/* true if an older LoadBalancer Service (creationTimestamp, then key) uses one of svc's
 * ports with the same protocol. */
static bool
port_taken(struct servicelb *lb, const json_t *svc)
{
  json_t **all;
  size_t n;
  informer_list(lb->services, &all, &n);
  const char *my_ts = meta_string(svc, "creationTimestamp") ?: "";
  char *my_key = client_object_key(svc);
  bool taken = false;
  for (size_t i = 0; i < n && !taken; i++) {
    if (!is_our_load_balancer(all[i]))
      continue;
    char *key = client_object_key(all[i]);
    const char *ts = meta_string(all[i], "creationTimestamp") ?: "";
    int age = strcmp(ts, my_ts);
    bool older = age < 0 || (age == 0 && key && my_key && strcmp(key, my_key) < 0);
    free(key);
    if (!older)
      continue;
    size_t a, b;
    json_t *mine, *theirs;
    json_array_foreach (json_object_get(json_object_get(svc, "spec"), "ports"), a, mine) {
      json_array_foreach (json_object_get(json_object_get(all[i], "spec"), "ports"), b, theirs) {
        const char *p1 = json_string_value(json_object_get(mine, "protocol")) ?: "TCP";
        const char *p2 = json_string_value(json_object_get(theirs, "protocol")) ?: "TCP";
        if (json_integer_value(json_object_get(mine, "port")) ==
                json_integer_value(json_object_get(theirs, "port")) &&
            strcmp(p1, p2) == 0)
          taken = true;
      }
    }
  }
  free(my_key);
  informer_objs_free(all, n);
  return taken;
}

/* The ingress list svc should have (new reference). */
static json_t *
desired_ingress(struct servicelb *lb, const json_t *svc)
{
  json_t *ingress = json_array();
  if (!is_our_load_balancer(svc) || port_taken(lb, svc))
    return ingress;
  json_t **nodes;
  size_t n;
  informer_list(lb->nodes, &nodes, &n); /* sorted by name: a stable order */
  for (size_t i = 0; i < n; i++) {
    const char *addr = node_address(nodes[i]);
    if (addr && node_is_ready(nodes[i]))
      json_array_append_new(ingress, json_pack("{s:s}", "ip", addr));
  }
  informer_objs_free(nodes, n);
  return ingress;
}

/* ---------- sync ---------- */

static int
sync_service(struct servicelb *lb, const char *key, k8c_err *err)
{
  json_t *svc = informer_get(lb->services, key);
  if (svc == NULL)
    return 0;
  json_t *lbstatus = json_object_get(json_object_get(svc, "status"), "loadBalancer");
  json_t *current = json_object_get(lbstatus, "ingress");
  json_t *want = desired_ingress(lb, svc);
  bool ours_to_clear = !is_our_load_balancer(svc) && json_array_size(current) > 0 &&
                       spec_str(svc, "loadBalancerClass") == NULL;
  int rc = 0;
  bool differs = current ? !json_equal(want, current) : json_array_size(want) > 0;
  if ((is_our_load_balancer(svc) && differs) || ours_to_clear) {
    json_t *copy = json_deep_copy(svc);
    json_t *status = json_object_get(copy, "status");
    if (!json_is_object(status)) {
      status = json_object();
      json_object_set_new(copy, "status", status);
    }
    json_object_set_new(status, "loadBalancer",
                        json_array_size(want) ? json_pack("{s:O}", "ingress", want)
                                              : json_object());
    rc = client_update_status(lb->client, lb->services_res, meta_namespace(svc), meta_name(svc),
                              copy, NULL, NULL, err);
    json_decref(copy);
  }
  json_decref(want);
  json_decref(svc);
  return rc;
}

static void *
worker_main(void *arg)
{
  struct servicelb *lb = arg;
  char *key;
  while (workqueue_get(lb->queue, &key)) {
    k8c_err err = {0};
    if (sync_service(lb, key, &err) < 0) {
      if (err.status != 404 && err.status != 409)
        log_warn("servicelb: %s: %s", key, err.message);
      workqueue_add_rate_limited(lb->queue, key);
    } else
      workqueue_forget(lb->queue, key);
    k8c_err_clear(&err);
    workqueue_done(lb->queue, key);
    free(key);
  }
  return NULL;
}

/* ---------- handlers ---------- */

static void
enqueue_all_load_balancers(struct servicelb *lb)
{
  json_t **all;
  size_t n;
  informer_list(lb->services, &all, &n);
  for (size_t i = 0; i < n; i++) {
    char *key = client_object_key(all[i]);
    if (key &&
        (is_our_load_balancer(all[i]) ||
         json_array_size(json_object_get(
             json_object_get(json_object_get(all[i], "status"), "loadBalancer"), "ingress"))))
      workqueue_add(lb->queue, key);
    free(key);
  }
  informer_objs_free(all, n);
}

static void
service_event(void *ctx, json_t *svc)
{
  (void)svc;
  /* A port freed or taken may change any other LoadBalancer's turn. */
  enqueue_all_load_balancers(ctx);
}

static void
service_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  struct servicelb *lb = ctx;
  json_t *a = json_object_get(old_obj, "spec"), *b = json_object_get(new_obj, "spec");
  if (old_obj == new_obj || !json_equal(a, b))
    enqueue_all_load_balancers(lb);
  else if (is_our_load_balancer(new_obj)) {
    char *key = client_object_key(new_obj);
    if (key)
      workqueue_add(lb->queue, key);
    free(key);
  }
}

static void
node_event(void *ctx, json_t *node)
{
  (void)node;
  enqueue_all_load_balancers(ctx);
}

static void
node_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (old_obj != new_obj && node_is_ready(old_obj) == node_is_ready(new_obj) &&
      json_equal(json_object_get(json_object_get(old_obj, "status"), "addresses"),
                 json_object_get(json_object_get(new_obj, "status"), "addresses")))
    return; /* heartbeats */
  enqueue_all_load_balancers(ctx);
}

/* ---------- start / stop ---------- */

static void *
servicelb_start(struct controller_context *ctx, k8c_err *err)
{
  struct servicelb *lb = xcalloc(1, sizeof *lb);
  lb->client = ctx->client;
  lb->services_res = api_resource_find("", "v1", "services");
  lb->services = informer_factory_get(ctx->informers, lb->services_res, "", NULL, NULL);
  lb->nodes =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "nodes"), "", NULL, NULL);
  lb->queue = workqueue_new(NULL);
  int rc = pthread_create(&lb->worker, NULL, worker_main, lb);
  if (rc != 0) {
    workqueue_free(lb->queue);
    free(lb);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "servicelb: starting its worker: %s", strerror(rc));
    return NULL;
  }
  informer_add_handlers(lb->services, &(struct informer_handlers){.on_add = service_event,
                                                                  .on_update = service_updated,
                                                                  .on_delete = service_event,
                                                                  .ctx = lb});
  informer_add_handlers(lb->nodes, &(struct informer_handlers){.on_add = node_event,
                                                               .on_update = node_updated,
                                                               .on_delete = node_event,
                                                               .ctx = lb});
  return lb;
}

static void
servicelb_stop(void *state)
{
  struct servicelb *lb = state;
  if (lb == NULL)
    return;
  /* The informers may be shared with other components and run on: no handler may run
   * on lb once it is freed. */
  informer_remove_handlers(lb->services, lb);
  informer_remove_handlers(lb->nodes, lb);
  workqueue_shutdown(lb->queue);
  pthread_join(lb->worker, NULL);
  workqueue_free(lb->queue);
  free(lb);
}
