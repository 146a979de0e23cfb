/* cronjob_internal.h — the CronJob controller's state, shared by cronjob.c (informers,
 * queue, workers) and cronjob_sync.c (one sync of one CronJob). */
#ifndef K8C_CONTROLLERS_CRONJOB_INTERNAL_H
#define K8C_CONTROLLERS_CRONJOB_INTERNAL_H

#include "client/workqueue.h"
#include "controllers/controller_util.h"
#include "controllers/cronjob.h"
#include "controllers/keyed_controller.h"

#include <pthread.h>

#define CRONJOB_SCHEDULED_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"

struct cronjob_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *cj_res, *job_res;
  informer *cj_inf, *job_inf;
  struct event_recorder *rec;
  struct cronjob_controller_opts opts;
};

int cronjob_sync(struct cronjob_controller *c, const char *key, k8c_err *err);

#endif
