/* controller_fixture.h — what the controller tests share: the client fixture plus one
 * controller started as the manager would (its own in-process client and informer
 * factory), and polling helpers that wait for the controller to converge. */
#ifndef K8C_TESTS_CONTROLLER_FIXTURE_H
#define K8C_TESTS_CONTROLLER_FIXTURE_H

#include "client_fixture.h"
#include "controllers/controller.h"

#include <unistd.h>

struct controller_fixture {
  struct client_fixture f;
  struct controller_context ctx;
  const struct controller_def *def;
  void *state;
};

static inline int
controller_fixture_open(struct controller_fixture *cf, const struct controller_def *def)
{
  memset(cf, 0, sizeof *cf);
  if (client_fixture_open(&cf->f) < 0)
    return -1;
  cf->def = def;
  cf->ctx.client = client_inprocess_new(&cf->f.reg, "kube-controller-manager");
  cf->ctx.informers = informer_factory_new(cf->ctx.client, 0);
  cf->ctx.cfg.workers = 2;
  k8c_err err = {0};
  cf->state = def->start(&cf->ctx, &err);
  if (cf->state == NULL || informer_factory_start(cf->ctx.informers, &err) < 0) {
    fprintf(stderr, "starting %s: %s\n", def->name, err.message);
    k8c_err_clear(&err);
    return -1;
  }
  return informer_factory_wait_synced(cf->ctx.informers, 10000) ? 0 : -1;
}

static inline void
controller_fixture_close(struct controller_fixture *cf)
{
  if (cf->state)
    cf->def->stop(cf->state);
  informer_factory_free(cf->ctx.informers);
  client_free(cf->ctx.client);
  client_fixture_close(&cf->f);
}

/* The object (new reference) or NULL if it does not exist. */
static inline json_t *
fixture_get(struct client_fixture *f, const char *plural, const char *ns, const char *name)
{
  const struct api_resource *res = api_resource_find("", "v1", plural);
  json_t *obj = NULL;
  k8c_err err = {0};
  if (client_get(f->client, res, ns, name, &obj, &err) < 0)
    obj = NULL;
  k8c_err_clear(&err);
  return obj;
}

static inline bool
fixture_exists(struct client_fixture *f, const char *plural, const char *ns, const char *name)
{
  json_t *obj = fixture_get(f, plural, ns, name);
  json_decref(obj);
  return obj != NULL;
}

/* Polls cond every 10 ms for up to timeout_ms. */
#define WAIT_UNTIL(cond, timeout_ms)                                                               \
  ({                                                                                               \
    long long deadline_ = fixture_now_ms() + (timeout_ms);                                         \
    bool ok_ = false;                                                                              \
    while (!(ok_ = (cond)) && fixture_now_ms() < deadline_)                                        \
      usleep(10000);                                                                               \
    ok_;                                                                                           \
  })

#endif
