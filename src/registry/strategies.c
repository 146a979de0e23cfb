/* strategies.c — the table of every kind's strategy, and the lookup the generic store
 * uses. Adding a kind means one file under src/registry/<group>/ and one line here. */
#include "registry/strategy.h"

#include <stddef.h>
#include <string.h>

extern const struct resource_strategy pod_strategy;
extern const struct resource_strategy service_strategy;
extern const struct resource_strategy namespace_strategy;
extern const struct resource_strategy endpoints_strategy;
extern const struct resource_strategy configmap_strategy;
extern const struct resource_strategy secret_strategy;
extern const struct resource_strategy serviceaccount_strategy;
extern const struct resource_strategy persistentvolume_strategy;
extern const struct resource_strategy persistentvolumeclaim_strategy;
extern const struct resource_strategy resourcequota_strategy;
extern const struct resource_strategy limitrange_strategy;
extern const struct resource_strategy node_strategy;
extern const struct resource_strategy event_strategy;
extern const struct resource_strategy deployment_strategy;
extern const struct resource_strategy replicaset_strategy;
extern const struct resource_strategy statefulset_strategy;
extern const struct resource_strategy daemonset_strategy;
extern const struct resource_strategy controllerrevision_strategy;
extern const struct resource_strategy job_strategy;
extern const struct resource_strategy cronjob_strategy;
extern const struct resource_strategy endpointslice_strategy;
extern const struct resource_strategy ingress_strategy;
extern const struct resource_strategy ingressclass_strategy;
extern const struct resource_strategy networkpolicy_strategy;
extern const struct resource_strategy storageclass_strategy;
extern const struct resource_strategy horizontalpodautoscaler_strategy;
extern const struct resource_strategy poddisruptionbudget_strategy;
extern const struct resource_strategy role_strategy;
extern const struct resource_strategy clusterrole_strategy;
extern const struct resource_strategy rolebinding_strategy;
extern const struct resource_strategy clusterrolebinding_strategy;
extern const struct resource_strategy priorityclass_strategy;
extern const struct resource_strategy lease_strategy;
extern const struct resource_strategy events_event_strategy;
extern const struct resource_strategy customresourcedefinition_strategy;

static const struct resource_strategy *const strategies[] = {
    &pod_strategy,
    &service_strategy,
    &namespace_strategy,
    &endpoints_strategy,
    &configmap_strategy,
    &secret_strategy,
    &serviceaccount_strategy,
    &persistentvolume_strategy,
    &persistentvolumeclaim_strategy,
    &resourcequota_strategy,
    &limitrange_strategy,
    &node_strategy,
    &event_strategy,
    &deployment_strategy,
    &replicaset_strategy,
    &statefulset_strategy,
    &daemonset_strategy,
    &controllerrevision_strategy,
    &job_strategy,
    &cronjob_strategy,
    &endpointslice_strategy,
    &ingress_strategy,
    &ingressclass_strategy,
    &networkpolicy_strategy,
    &storageclass_strategy,
    &horizontalpodautoscaler_strategy,
    &poddisruptionbudget_strategy,
    &role_strategy,
    &clusterrole_strategy,
    &rolebinding_strategy,
    &clusterrolebinding_strategy,
    &priorityclass_strategy,
    &lease_strategy,
    &events_event_strategy,
    &customresourcedefinition_strategy,
};

/* What a resource without its own strategy gets: generic behaviour everywhere. */
static const struct resource_strategy generic_strategy = {0};

const struct resource_strategy *
strategy_for(const char *group, const char *plural)
{
  if (group == NULL)
    group = "";
  if (plural == NULL)
    return &generic_strategy;
  for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++) {
    const struct resource_strategy *s = strategies[i];
    if (strcmp(s->group, group) == 0 && strcmp(s->plural, plural) == 0)
      return s;
  }
  return &generic_strategy;
}
