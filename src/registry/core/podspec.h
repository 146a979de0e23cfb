/* podspec.h — what every kind carrying a PodSpec shares (Pod, Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, CronJob): upstream's PodSpec/Container/Volume defaults,
 * the PodSpec validation users trip over most, and the Containers/Images table cells. */
#ifndef K8C_REGISTRY_CORE_PODSPEC_H
#define K8C_REGISTRY_CORE_PODSPEC_H

#include "lib/err.h"

#include <jansson.h>

/* SetDefaults_PodSpec and everything nested (containers, probes, ports, volumes...). */
void podspec_defaults(json_t *spec);
/* Defaults of a PodTemplateSpec ({metadata, spec}); no-op when template is NULL. */
void pod_template_defaults(json_t *template);

/* Validates a PodSpec at path ("spec", "spec.template.spec"); returns problems found. */
int podspec_validate(k8c_err *err, const char *path, const json_t *spec);
/* Validates a PodTemplateSpec at path ("spec.template"): labels, annotations, spec. */
int pod_template_validate(k8c_err *err, const char *path, const json_t *template);

/* "nginx,sidecar" / "nginx:1.27,busybox" for a PodSpec's containers; malloc'd. */
char *podspec_container_names(const json_t *spec);
char *podspec_images(const json_t *spec);

#endif
