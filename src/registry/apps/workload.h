/* workload.h — what the controllers' kinds (Deployment, ReplicaSet, StatefulSet,
 * DaemonSet, Job) share: selector-vs-template validation with upstream's messages and
 * the Containers/Images/Selector table cells. */
#ifndef K8C_REGISTRY_APPS_WORKLOAD_H
#define K8C_REGISTRY_APPS_WORKLOAD_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

/* True if the metav1.LabelSelector matches the labels map (an empty selector matches
 * everything; a NULL selector matches nothing). */
bool workload_selector_matches(const json_t *selector, const json_t *labels);

/* Validates spec.selector (required, valid, non-empty: "empty selector is invalid for
 * <kind_word>") and that it matches spec.template.metadata.labels, then the template.
 * require_always: template restartPolicy must be Always and activeDeadlineSeconds unset
 * (every controller except Job). Returns problems found. */
int workload_validate_selector_template(k8c_err *err, const json_t *spec, const char *kind_word,
                                        bool require_always);

/* On update: spec.selector may not change ("field is immutable"). */
int workload_validate_selector_immutable(k8c_err *err, const json_t *spec, const json_t *old_spec);

/* Appends the Containers and Images cells of a pod template. */
void cells_template_containers(json_t *cells, const json_t *template);

#endif
