/* scale.h — the scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets
 * and StatefulSets, as `kubectl scale` and HPAs use it. */
#ifndef K8C_APISERVER_SCALE_H
#define K8C_APISERVER_SCALE_H

#include "apiserver/server_internal.h"

int handle_scale(struct apiserver *s, struct api_request *r, const struct negotiated *n);

#endif
