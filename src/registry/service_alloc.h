/* service_alloc.h — ClusterIP and NodePort allocation for Services, as upstream's
 * ipallocator and portallocator: from --service-cidr and 30000-32767, checked against
 * every stored Service. Callers hold registry.alloc_lock from allocation until the
 * write commits, so two creates never take the same address. */
#ifndef K8C_REGISTRY_SERVICE_ALLOC_H
#define K8C_REGISTRY_SERVICE_ALLOC_H

#include "registry/registry.h"

/* Fills spec.clusterIP/clusterIPs and missing nodePorts of svc (old: the stored object on
 * update, or NULL); 422 Invalid if a requested address or port is taken or out of range. */
int service_allocate(struct registry *r, json_t *svc, const json_t *old, k8c_err *err);

/* The first usable address of an IPv4 CIDR ("10.43.0.0/16" → "10.43.0.1"), which
 * belongs to the `kubernetes` service. -1 if the CIDR is not valid IPv4. */
int service_cidr_first_ip(const char *cidr, char out[16]);

/* true for core/v1 services. */
bool service_is_service(const struct api_resource *res);

#endif
