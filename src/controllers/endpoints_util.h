/* endpoints_util.h — what the EndpointSlice and Endpoints controllers share (upstream's
 * endpointslice util and podutil pieces): which pods a Service selects, which of them
 * belong in its endpoints, how a Service port's targetPort resolves against a pod, and
 * the pod -> Service fan-out for event handlers. All readers borrow their arguments. */
#ifndef K8C_CONTROLLERS_ENDPOINTS_UTIL_H
#define K8C_CONTROLLERS_ENDPOINTS_UTIL_H

#include "client/informer.h"
#include "client/workqueue.h"

#include <jansson.h>
#include <stdbool.h>

/* spec.selector is a non-empty map (services without one are managed by someone else). */
bool ep_service_has_selector(const json_t *svc);
/* svc has a selector and every key=value of it is among pod's labels. */
bool ep_service_selects(const json_t *svc, const json_t *pod);
/* spec.clusterIP is "None". */
bool ep_service_is_headless(const json_t *svc);
/* spec.publishNotReadyAddresses is true. */
bool ep_publish_not_ready(const json_t *svc);
/* Upstream's ShouldPodBeInEndpoints: has a podIP, is not Succeeded or Failed, and, unless
 * include_terminating, is not being deleted. */
bool ep_pod_should_be_in_endpoints(const json_t *pod, bool include_terminating);
/* The pod port a Service port's targetPort names: an integer as is (the port itself when
 * targetPort is unset), a name looked up among the pod's container ports of the same
 * protocol. 0 with *out, or -1 when a name matches no port. */
int ep_find_port(const json_t *pod, const json_t *svc_port, long long *out);
/* {kind: Pod, namespace, name, uid} naming pod (caller owns it). */
json_t *ep_pod_target_ref(const json_t *pod);
/* pod's spec.hostname when its spec.subdomain is svc's name (borrowed), else NULL. */
const char *ep_pod_hostname(const json_t *pod, const json_t *svc);
/* Queues the key of every Service of pod's namespace (svc_inf needs a "namespace" index)
 * that selects pod. */
void ep_enqueue_services_for_pod(informer *svc_inf, workqueue *q, const json_t *pod);

/* Pod handlers that queue the Services selecting the pod (before and after a label
 * change); ctx is the router, which must stay valid until its handlers are removed. */
struct ep_pod_router {
  informer *services; /* with a "namespace" index (borrowed) */
  workqueue *queue;   /* borrowed */
};
struct informer_handlers ep_pod_router_handlers(struct ep_pod_router *r);

#endif
