/* compactor.c — the compaction thread (see compactor.h). It remembers the revision at
 * the previous tick and compacts to it at the next, so recent history stays resumable. */
#include "storage/compactor.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct compactor {
  storage *store;
  int interval;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;
};

static void *
compactor_run(void *arg)
{
  struct compactor *c = arg;
  int64_t previous = 0;
  pthread_mutex_lock(&c->lock);
  while (!c->stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += c->interval;
    int rc = 0;
    while (!c->stopping && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&c->wake, &c->lock, &until);
    if (c->stopping)
      break;
    pthread_mutex_unlock(&c->lock);
    if (previous > 0 && previous > c->store->ops->compacted_revision(c->store)) {
      k8c_err err = {0};
      if (c->store->ops->compact(c->store, previous, &err) < 0)
        log_warn("compactor: compacting to revision %lld: %s", (long long)previous, err.message);
      else
        log_debug("compactor: compacted to revision %lld", (long long)previous);
      k8c_err_clear(&err);
    }
    previous = c->store->ops->current_revision(c->store);
    pthread_mutex_lock(&c->lock);
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

struct compactor *
compactor_start(storage *s, int interval_seconds, k8c_err *err)
{
  struct compactor *c = xcalloc(1, sizeof *c);
  c->store = s;
  c->interval = interval_seconds > 0 ? interval_seconds : 300;
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->wake, NULL);
  int rc = pthread_create(&c->thread, NULL, compactor_run, c);
  if (rc != 0) {
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "starting the compactor: error %d", rc);
    return NULL;
  }
  return c;
}

void
compactor_stop(struct compactor *c)
{
  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  pthread_join(c->thread, NULL);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->wake);
  free(c);
}
