/* manager.c — starts and stops the controllers of controllers_table (see manager.h). */
#include "controllers/manager.h"

#include "lib/log.h"
#include "lib/mem.h"

struct controller_manager {
  struct controller_context ctx;
  size_t count;
  void **states;
};

struct controller_manager *
controller_manager_start(struct registry *reg, const struct controller_config *cfg, k8c_err *err)
{
  struct controller_manager *m = xcalloc(1, sizeof *m);
  m->ctx.client = client_inprocess_new(reg, "kube-controller-manager");
  m->ctx.informers =
      cfg->shared_informers ? cfg->shared_informers : informer_factory_new(m->ctx.client, 0);
  m->ctx.cfg = *cfg;
  if (m->ctx.cfg.workers <= 0)
    m->ctx.cfg.workers = 2;
  if (m->ctx.cfg.node_monitor_grace_seconds <= 0)
    m->ctx.cfg.node_monitor_grace_seconds = 40;
  if (m->ctx.cfg.pod_eviction_timeout_seconds <= 0)
    m->ctx.cfg.pod_eviction_timeout_seconds = 300;
  for (const struct controller_def *const *d = controllers_table; *d; d++)
    m->count++;
  m->states = xcalloc(m->count ? m->count : 1, sizeof *m->states);
  for (size_t i = 0; i < m->count; i++) {
    const struct controller_def *d = controllers_table[i];
    m->states[i] = d->start(&m->ctx, err);
    if (m->states[i] == NULL) {
      k8c_err_prefix(err, "starting the %s controller", d->name);
      controller_manager_stop(m);
      return NULL;
    }
    log_debug("controller manager: started %s", d->name);
  }
  if (informer_factory_start(m->ctx.informers, err) < 0) {
    controller_manager_stop(m);
    return NULL;
  }
  if (!informer_factory_wait_synced(m->ctx.informers, 10000))
    log_warn("controller manager: informers not synced after 10 s; continuing");
  return m;
}

void
controller_manager_stop(struct controller_manager *m)
{
  if (m == NULL)
    return;
  /* No handler may run on a controller that is being freed: our own informers stop
   * first; shared ones keep running, and each controller takes its handlers off them. */
  bool own = m->ctx.informers != m->ctx.cfg.shared_informers;
  if (own)
    informer_factory_stop(m->ctx.informers);
  for (size_t i = m->count; i > 0; i--)
    if (m->states[i - 1])
      controllers_table[i - 1]->stop(m->states[i - 1]);
  if (own)
    informer_factory_free(m->ctx.informers);
  client_free(m->ctx.client);
  free(m->states);
  free(m);
}
