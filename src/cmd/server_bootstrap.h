/* server_bootstrap.h — objects every cluster has from its first start. */
#ifndef K8C_CMD_SERVER_BOOTSTRAP_H
#define K8C_CMD_SERVER_BOOTSTRAP_H

#include "registry/registry.h"

/* Creates the system namespaces if missing (idempotent). */
int server_bootstrap(struct registry *reg, k8c_err *err);

#endif
