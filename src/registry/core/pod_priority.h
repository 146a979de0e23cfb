/* pod_priority.h — upstream's Priority admission for pods, run when a pod is created:
 * spec.priority (and preemptionPolicy) resolved from spec.priorityClassName, or from the
 * globalDefault PriorityClass when the pod names none. */
#ifndef K8C_REGISTRY_CORE_POD_PRIORITY_H
#define K8C_REGISTRY_CORE_POD_PRIORITY_H

#include "lib/err.h"

#include <jansson.h>

struct registry;

/* Fills pod's spec.priority, spec.priorityClassName (the default class's name when the
 * pod names none) and spec.preemptionPolicy. 403 Forbidden (upstream's wording) for an
 * unknown class, or a priority / preemptionPolicy in the spec that differs from the
 * class's. The built-in system-node-critical and system-cluster-critical classes resolve
 * even when their objects are not stored. */
int pod_priority_admit(struct registry *reg, json_t *pod, k8c_err *err);

#endif
