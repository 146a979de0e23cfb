/* informer_factory.c — shares informers between controllers: one per (resource,
 * namespace, label selector, field selector), found by a key built from the four, so
 * every controller that watches pods on a node shares one list+watch and one cache. */
#include "client/informer.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <pthread.h>
#include <time.h>

struct informer_factory {
  k8c_client *client;
  long long default_resync_ms;
  pthread_mutex_t mu;
  hashmap *informers; /* collection key -> informer */
  bool started;
};

informer_factory *
informer_factory_new(k8c_client *client, long long default_resync_ms)
{
  informer_factory *f = xcalloc(1, sizeof *f);
  f->client = client;
  f->default_resync_ms = default_resync_ms;
  pthread_mutex_init(&f->mu, NULL);
  f->informers = hashmap_new();
  return f;
}

informer *
informer_factory_get(informer_factory *f, const struct api_resource *res, const char *ns,
                     const char *label_sel, const char *field_sel)
{
  /* Newlines cannot occur in any of the parts, so they separate them unambiguously. */
  cleanup_free char *key =
      xasprintf("%s\n%s\n%s\n%s\n%s\n%s", res->group, res->version, res->plural, ns ? ns : "",
                label_sel ? label_sel : "", field_sel ? field_sel : "");
  pthread_mutex_lock(&f->mu);
  informer *inf = hashmap_get(f->informers, key);
  if (inf == NULL) {
    struct informer_config cfg = {
        .label_selector = label_sel,
        .field_selector = field_sel,
        .resync_period_ms = f->default_resync_ms,
    };
    inf = informer_new(f->client, res, ns, &cfg);
    hashmap_put(f->informers, key, inf);
    if (f->started) {
      k8c_err err = {0};
      if (informer_start(inf, &err) < 0)
        k8c_err_clear(&err); /* only fails when threads cannot be made; the caller's
                              * informer_wait_synced reports it as never syncing */
    }
  }
  pthread_mutex_unlock(&f->mu);
  return inf;
}

int
informer_factory_start(informer_factory *f, k8c_err *err)
{
  pthread_mutex_lock(&f->mu);
  f->started = true;
  hashmap_iter it = {0};
  const char *key;
  void *value;
  int rc = 0;
  while (rc == 0 && hashmap_next(f->informers, &it, &key, &value))
    rc = informer_start(value, err);
  pthread_mutex_unlock(&f->mu);
  return rc;
}

bool
informer_factory_wait_synced(informer_factory *f, int timeout_ms)
{
  /* Collect the informers first: waiting must not hold the lock others need. */
  pthread_mutex_lock(&f->mu);
  size_t n = hashmap_count(f->informers);
  informer **all = xcalloc(n + 1, sizeof *all);
  hashmap_iter it = {0};
  const char *key;
  void *value;
  size_t i = 0;
  while (hashmap_next(f->informers, &it, &key, &value))
    all[i++] = value;
  pthread_mutex_unlock(&f->mu);
  /* One deadline for all of them. */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool synced = true;
  for (size_t j = 0; j < i && synced; j++) {
    int left = timeout_ms;
    if (timeout_ms >= 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long spent =
          (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
      left = spent >= timeout_ms ? 0 : (int)(timeout_ms - spent);
    }
    synced = informer_wait_synced(all[j], left);
  }
  free(all);
  return synced;
}

static void
free_informer(void *inf)
{
  informer_free(inf);
}

void
informer_factory_stop(informer_factory *f)
{
  if (f == NULL)
    return;
  /* Collected under the lock, stopped outside it: a handler finishing its last call may
   * still ask the factory for an informer. */
  pthread_mutex_lock(&f->mu);
  size_t n = hashmap_count(f->informers), i = 0;
  informer **all = xcalloc(n ? n : 1, sizeof *all);
  hashmap_iter it = {0};
  const char *key;
  void *value;
  while (hashmap_next(f->informers, &it, &key, &value) && i < n)
    all[i++] = value;
  pthread_mutex_unlock(&f->mu);
  for (size_t k = 0; k < i; k++)
    informer_stop(all[k]);
  free(all);
}

void
informer_factory_free(informer_factory *f)
{
  if (f == NULL)
    return;
  hashmap_free(f->informers, free_informer);
  pthread_mutex_destroy(&f->mu);
  free(f);
}
