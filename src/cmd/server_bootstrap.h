/* server_bootstrap.h — objects every cluster has from its first start. */
#ifndef K8C_CMD_SERVER_BOOTSTRAP_H
#define K8C_CMD_SERVER_BOOTSTRAP_H

#include "registry/registry.h"

struct bootstrap_config {
  const char *advertise_address; /* where clients reach the API server */
  int port;
  const char *service_cidr;
};

/* Creates, if missing, the system namespaces and the `kubernetes` Service (first address
 * of the service CIDR, port 443) with its Endpoints pointing at the API server, and
 * keeps those Endpoints current on later starts. Idempotent. */
int server_bootstrap(struct registry *reg, const struct bootstrap_config *cfg, k8c_err *err);

#endif
