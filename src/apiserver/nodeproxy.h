/* nodeproxy.h — the pods/log, pods/exec, pods/attach and pods/portforward subresources:
 * checked here (pod, container, node) and proxied to the kubelet of the pod's node. */
#ifndef K8C_APISERVER_NODEPROXY_H
#define K8C_APISERVER_NODEPROXY_H

#include "apiserver/request.h"

#include <stdbool.h>

struct apiserver;

/* True for a pods subresource this file serves (log, exec, attach, portforward). */
bool nodeproxy_is_pod_stream(const char *resource, const char *group, const char *subresource);
/* Answers the request (MHD result): a streamed log body, a 101 upgrade spliced to the
 * kubelet, or a Status error in upstream's words. */
int nodeproxy_handle(struct apiserver *s, struct api_request *r);

#endif
