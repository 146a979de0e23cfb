/* serviceaccount.h — the ServiceAccount controller (serviceaccount.c): a "default"
 * ServiceAccount in every active namespace. */
#ifndef K8C_CONTROLLERS_SERVICEACCOUNT_H
#define K8C_CONTROLLERS_SERVICEACCOUNT_H

#include "controllers/controller.h"

extern const struct controller_def serviceaccount_controller;

#endif
