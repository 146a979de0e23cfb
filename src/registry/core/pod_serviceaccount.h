/* pod_serviceaccount.h — upstream's ServiceAccount admission for pods, run when a pod is
 * created: spec.serviceAccountName defaults to "default", and unless automounting is
 * switched off (on the pod or its ServiceAccount) every container gets the
 * kube-api-access-XXXXX projected volume (XXXXX a function of the account's uid, so
 * pods of one account share the name; a bound token, the cluster CA from the
 * kube-root-ca.crt ConfigMap, the namespace) at /var/run/secrets/kubernetes.io/serviceaccount. */
#ifndef K8C_REGISTRY_CORE_POD_SERVICEACCOUNT_H
#define K8C_REGISTRY_CORE_POD_SERVICEACCOUNT_H

#include "lib/err.h"

#include <jansson.h>

struct registry;

#define SA_TOKEN_MOUNT_PATH "/var/run/secrets/kubernetes.io/serviceaccount"
#define ROOT_CA_CONFIGMAP "kube-root-ca.crt"

/* Admits pod (modified in place). A pod naming a ServiceAccount that does not exist is
 * refused with upstream's 403; the "default" one is let through while it is still being
 * created by the ServiceAccount controller (the kubelet retries the token until it
 * exists), where upstream would refuse it too. */
int pod_serviceaccount_admit(struct registry *reg, json_t *pod, k8c_err *err);

#endif
