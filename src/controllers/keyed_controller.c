/* keyed_controller.c — the queue, handlers and worker threads of a keyed controller (see
 * keyed_controller.h). A key is handed to one worker at a time (the work queue's
 * guarantee), so a controller's sync never races itself on one object. */
#include "controllers/keyed_controller.h"

#include "controllers/controller_util.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
keyed_controller_init(struct keyed_controller *kc, const struct keyed_controller_spec *spec)
{
  memset(kc, 0, sizeof *kc);
  kc->spec = *spec;
  kc->queue = workqueue_new(NULL);
}

void
keyed_controller_watch(struct keyed_controller *kc, informer *inf,
                       const struct informer_handlers *h)
{
  if (kc->nwatches == KEYED_CONTROLLER_MAX_WATCHES) { /* a programming error */
    log_error("%s controller: more than %d informer handlers", kc->spec.name,
              KEYED_CONTROLLER_MAX_WATCHES);
    abort();
  }
  kc->watches[kc->nwatches++] = (struct keyed_controller_watch){.inf = inf, .ctx = h->ctx};
  informer_add_handlers(inf, h);
}

static bool
caches_synced(const struct keyed_controller *kc)
{
  for (informer *const *inf = kc->spec.wait_for; *inf; inf++)
    if (!informer_has_synced(*inf))
      return false;
  return true;
}

static void
process(struct keyed_controller *kc, const char *key)
{
  k8c_err err = {0};
  if (kc->spec.sync(kc->spec.arg, key, &err) == 0) {
    workqueue_forget(kc->queue, key);
  } else if (kc->spec.max_retries <= 0 ||
             workqueue_num_requeues(kc->queue, key) < kc->spec.max_retries) {
    log_debug("%s %s: %s (retrying)", kc->spec.name, key, err.message);
    workqueue_add_rate_limited(kc->queue, key);
  } else {
    log_warn("%s controller: giving up on %s for now: %s", kc->spec.name, key, err.message);
    workqueue_forget(kc->queue, key);
  }
  k8c_err_clear(&err);
}

static void *
worker(void *arg)
{
  struct keyed_controller *kc = arg;
  if (kc->spec.thread)
    pthread_setname_np(pthread_self(), kc->spec.thread);
  while (!caches_synced(kc) && !workqueue_shutting_down(kc->queue))
    usleep(10000);
  char *key = NULL;
  while (workqueue_get(kc->queue, &key)) {
    process(kc, key);
    workqueue_done(kc->queue, key);
    free(key);
  }
  return NULL;
}

int
keyed_controller_run(struct keyed_controller *kc, int workers, k8c_err *err)
{
  kc->threads = xcalloc((size_t)(workers > 0 ? workers : 1), sizeof *kc->threads);
  for (int i = 0; i < workers; i++) {
    if (pthread_create(&kc->threads[i], NULL, worker, kc) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s controller: cannot start workers",
                       kc->spec.name);
    kc->nthreads++;
  }
  return 0;
}

void
keyed_controller_stop(struct keyed_controller *kc)
{
  if (kc->queue == NULL)
    return;
  /* The informers are shared (with other components too): take our handlers off them
   * first so that none runs against freed state. */
  for (size_t i = 0; i < kc->nwatches; i++)
    informer_remove_handlers(kc->watches[i].inf, kc->watches[i].ctx);
  workqueue_shutdown(kc->queue);
  for (int i = 0; i < kc->nthreads; i++)
    pthread_join(kc->threads[i], NULL);
  free(kc->threads);
  workqueue_free(kc->queue);
  kc->queue = NULL;
}

int
keyed_controller_workers(const struct controller_context *ctx, int fallback)
{
  return ctx->cfg.workers > 0 ? ctx->cfg.workers : fallback;
}

void
keyed_controller_enqueue(void *ctx, json_t *obj)
{
  struct keyed_controller *kc = ctx;
  cleanup_free char *key = cu_key(obj);
  workqueue_add(kc->queue, key);
}

void
keyed_controller_enqueue_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  keyed_controller_enqueue(ctx, new_obj);
}

struct informer_handlers
keyed_controller_key_handlers(void *ctx)
{
  return (struct informer_handlers){.on_add = keyed_controller_enqueue,
                                    .on_update = keyed_controller_enqueue_update,
                                    .on_delete = keyed_controller_enqueue,
                                    .ctx = ctx};
}
