/* manager.h — the controller manager inside `k8c server`: one in-process client, one
 * informer factory, every controller in controllers_table started on it. */
#ifndef K8C_CONTROLLERS_MANAGER_H
#define K8C_CONTROLLERS_MANAGER_H

#include "controllers/controller.h"
#include "registry/registry.h"

struct controller_manager;

/* Starts every controller and waits (up to 10 s) for the informers to sync. */
struct controller_manager *
controller_manager_start(struct registry *reg, const struct controller_config *cfg, k8c_err *err);
void controller_manager_stop(struct controller_manager *m);

#endif
