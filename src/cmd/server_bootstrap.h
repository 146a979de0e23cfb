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

/* Creates the default RBAC policy (server_bootstrap_rbac.c) where missing. */
int server_bootstrap_rbac(struct registry *reg, k8c_err *err);

/* Creates obj (of group/version/plural, in ns or "" when cluster-scoped) unless an
 * object of its name exists. Takes no reference to obj. */
int bootstrap_create_if_missing(struct registry *reg, const char *group, const char *version,
                                const char *plural, const char *ns, json_t *obj, k8c_err *err);

#endif
