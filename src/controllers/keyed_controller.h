/* keyed_controller.h — the frame every queue-driven controller shares (client-go's
 * controller loop): a work queue of keys, the informer handlers that feed it (remembered
 * so that stop takes them off the shared informers), and worker threads that hand each
 * key to the controller's sync, then forget it or retry it with back-off. The
 * controller decides; this owns the queue and the threads. */
#ifndef K8C_CONTROLLERS_KEYED_CONTROLLER_H
#define K8C_CONTROLLERS_KEYED_CONTROLLER_H

#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/controller.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#define KEYED_CONTROLLER_MAX_WATCHES 8
#define KEYED_CONTROLLER_MAX_WAIT 4

struct keyed_controller_spec {
  const char *name;   /* for logs: "statefulset" */
  const char *thread; /* worker thread name (at most 15 characters); NULL: unnamed */
  /* One key's turn: 0 when done (its failures are forgotten), -1 with err to retry it
   * with back-off. arg is the spec's. */
  int (*sync)(void *arg, const char *key, k8c_err *err);
  void *arg; /* borrowed; outlives the controller */
  /* > 0: a key that failed this many times in a row is given up (forgotten, warned)
   * until its next event; 0: retried for ever. */
  int max_retries;
  /* Informers (NULL-terminated; borrowed) whose initial list the workers wait for before
   * their first sync (upstream's WaitForCacheSync): a sync on a partial list would act
   * twice. */
  informer *wait_for[KEYED_CONTROLLER_MAX_WAIT + 1];
};

struct keyed_controller_watch {
  informer *inf;
  const void *ctx;
};

/* Embed it in the controller's state; as the FIRST member when the controller's
 * handlers get the state as ctx and use keyed_controller_enqueue*, which read ctx as a
 * struct keyed_controller. */
struct keyed_controller {
  struct keyed_controller_spec spec;
  workqueue *queue; /* owned; handlers and syncs may add to it */
  struct keyed_controller_watch watches[KEYED_CONTROLLER_MAX_WATCHES];
  size_t nwatches;
  pthread_t *threads;
  int nthreads;
};

/* Makes the queue; spec is copied. */
void keyed_controller_init(struct keyed_controller *kc, const struct keyed_controller_spec *spec);
/* informer_add_handlers(inf, h), remembered so that keyed_controller_stop removes them. */
void keyed_controller_watch(struct keyed_controller *kc, informer *inf,
                            const struct informer_handlers *h);
/* Starts workers threads. 0, or -1 with err (the threads started so far keep running
 * until keyed_controller_stop). */
int keyed_controller_run(struct keyed_controller *kc, int workers, k8c_err *err);
/* Removes every watched handler, shuts the queue down, joins the workers and frees the
 * queue. Does nothing for a zeroed kc (never initialised). */
void keyed_controller_stop(struct keyed_controller *kc);

/* ctx->cfg.workers when set, else fallback. */
int keyed_controller_workers(const struct controller_context *ctx, int fallback);

/* Handlers that queue obj's "namespace/name" key; ctx is the struct keyed_controller.
 * keyed_controller_enqueue serves as on_add and on_delete. */
void keyed_controller_enqueue(void *ctx, json_t *obj);
void keyed_controller_enqueue_update(void *ctx, json_t *old_obj, json_t *new_obj);
/* {on_add, on_update, on_delete} all queuing the object's key, with ctx. */
struct informer_handlers keyed_controller_key_handlers(void *ctx);

#endif
