/* namespace.h — the namespace lifecycle controller (namespace.c): empties a terminating
 * namespace of every namespaced object, reports progress in upstream's conditions, then
 * lifts the "kubernetes" finalizer through namespaces/finalize so the namespace goes. */
#ifndef K8C_CONTROLLERS_NAMESPACE_H
#define K8C_CONTROLLERS_NAMESPACE_H

#include "controllers/controller.h"

extern const struct controller_def namespace_controller;

#endif
