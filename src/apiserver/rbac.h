/* rbac.h — the RBAC authorizer: Roles, ClusterRoles and their bindings read from shared
 * informers over the in-process client, so a decision is a walk over cached objects
 * without touching the store. It only ever allows; a request no rule allows is denied by
 * the caller with upstream's Forbidden message. */
#ifndef K8C_APISERVER_RBAC_H
#define K8C_APISERVER_RBAC_H

#include "apiserver/rbac_match.h"
#include "lib/err.h"

#include <stdbool.h>

struct registry;
struct rbac_authorizer;

/* Starts informers for the four RBAC kinds over reg (which must outlive it) and waits
 * (up to 5 s) for them to sync. Caller frees with rbac_free. */
struct rbac_authorizer *rbac_new(struct registry *reg, k8c_err *err);
void rbac_free(struct rbac_authorizer *rbac);

/* Whether a ClusterRoleBinding, or a RoleBinding in the request's namespace, binds the
 * user to a role with a rule allowing the request. */
bool rbac_allows(struct rbac_authorizer *rbac, const struct rbac_attrs *a);

#endif
