/* serviceaccount.c — the ServiceAccount controller: keeps a "default" ServiceAccount in
 * every active namespace. A namespace is queued when it appears or changes and when its
 * "default" ServiceAccount is deleted; its turn creates the account if the informers do
 * not have it (AlreadyExists and terminating namespaces are fine outcomes). */
#include "controllers/serviceaccount.h"

#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>
#include <string.h>

#define SA_NAME "default"
#define SA_MAX_RETRIES 15

struct sa_controller {
  k8c_client *client;
  const struct api_resource *namespaces_res, *serviceaccounts_res;
  informer *namespaces, *serviceaccounts;
  workqueue *queue;
  pthread_t thread;
  bool started;
};

static void *sa_start(struct controller_context *ctx, k8c_err *err);
static void sa_stop(void *state);

const struct controller_def serviceaccount_controller = {
    .name = "serviceaccount",
    .start = sa_start,
    .stop = sa_stop,
};

static bool
namespace_active(const json_t *ns)
{
  if (json_object_get(json_object_get(ns, "metadata"), "deletionTimestamp"))
    return false;
  const char *phase = json_string_value(json_object_get(json_object_get(ns, "status"), "phase"));
  return phase == NULL || strcmp(phase, "Active") == 0;
}

/* 0 done, -1 retry. */
static int
sync_namespace(struct sa_controller *c, const char *ns, k8c_err *err)
{
  cleanup_json json_t *ns_obj = informer_get(c->namespaces, ns);
  if (ns_obj == NULL || !namespace_active(ns_obj))
    return 0;
  cleanup_free char *key = xasprintf("%s/%s", ns, SA_NAME);
  cleanup_json json_t *have = informer_get(c->serviceaccounts, key);
  if (have)
    return 0;
  cleanup_json json_t *sa = json_pack("{s:{s:s}}", "metadata", "name", SA_NAME);
  k8c_err cerr = {0};
  if (client_create(c->client, c->serviceaccounts_res, ns, sa, NULL, NULL, &cerr) == 0) {
    log_debug("serviceaccount controller: created %s/%s", ns, SA_NAME);
    return 0;
  }
  /* 409: it exists already; 403: the namespace is terminating; 404: it is gone. */
  if (cerr.status == 409 || cerr.status == 403 || cerr.status == 404) {
    k8c_err_clear(&cerr);
    return 0;
  }
  k8c_err_move(err, &cerr);
  return -1;
}

static void
on_namespace(void *ctx, json_t *obj)
{
  struct sa_controller *c = ctx;
  if (meta_name(obj) && namespace_active(obj))
    workqueue_add(c->queue, meta_name(obj));
}

static void
on_namespace_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  on_namespace(ctx, new_obj);
}

static void
on_serviceaccount_delete(void *ctx, json_t *obj)
{
  struct sa_controller *c = ctx;
  const char *name = meta_name(obj);
  const char *ns = meta_namespace(obj);
  if (name && ns && strcmp(name, SA_NAME) == 0)
    workqueue_add(c->queue, ns);
}

static void *
worker(void *arg)
{
  pthread_setname_np(pthread_self(), "ctl-svcaccount");
  struct sa_controller *c = arg;
  char *key = NULL;
  while (workqueue_get(c->queue, &key)) {
    k8c_err err = {0};
    if (sync_namespace(c, key, &err) == 0) {
      workqueue_forget(c->queue, key);
    } else if (workqueue_num_requeues(c->queue, key) < SA_MAX_RETRIES) {
      log_debug("serviceaccount controller: %s: %s; retrying", key, err.message);
      workqueue_add_rate_limited(c->queue, key);
    } else {
      log_warn("serviceaccount controller: giving up on %s for now: %s", key, err.message);
      workqueue_forget(c->queue, key);
    }
    k8c_err_clear(&err);
    workqueue_done(c->queue, key);
    free(key);
  }
  return NULL;
}

static void *
sa_start(struct controller_context *ctx, k8c_err *err)
{
  struct sa_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->queue = workqueue_new(NULL);
  c->namespaces_res = api_resource_find("", "v1", "namespaces");
  c->serviceaccounts_res = api_resource_find("", "v1", "serviceaccounts");
  c->namespaces = informer_factory_get(ctx->informers, c->namespaces_res, "", NULL, NULL);
  c->serviceaccounts = informer_factory_get(ctx->informers, c->serviceaccounts_res, "", NULL, NULL);
  struct informer_handlers nh = {
      .on_add = on_namespace, .on_update = on_namespace_update, .ctx = c, .resync_period_ms = -1};
  informer_add_handlers(c->namespaces, &nh);
  struct informer_handlers sh = {
      .on_delete = on_serviceaccount_delete, .ctx = c, .resync_period_ms = -1};
  informer_add_handlers(c->serviceaccounts, &sh);
  if (pthread_create(&c->thread, NULL, worker, c) != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "cannot start the serviceaccount controller worker");
    sa_stop(c);
    return NULL;
  }
  c->started = true;
  return c;
}

static void
sa_stop(void *state)
{
  struct sa_controller *c = state;
  informer_remove_handlers(c->namespaces, c); /* no handler may run on c once it is freed */
  informer_remove_handlers(c->serviceaccounts, c);
  workqueue_shutdown(c->queue);
  if (c->started)
    pthread_join(c->thread, NULL);
  workqueue_free(c->queue);
  free(c);
}
