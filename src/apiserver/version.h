/* version.h — the version k8c reports on /version and `k8c version`. */
#ifndef K8C_APISERVER_VERSION_H
#define K8C_APISERVER_VERSION_H

#include <jansson.h>

#define K8C_VERSION "0.1.0"
#define K8C_KUBE_MAJOR "1"
#define K8C_KUBE_MINOR "31"
#define K8C_GIT_VERSION "v1.31.0+k8c." K8C_VERSION

/* The /version body (kubernetes version.Info). New reference. */
json_t *version_json(void);

#endif
