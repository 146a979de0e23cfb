/* sa_authn.h — the ServiceAccount token authenticator: a bearer JWT the registry's
 * issuer signed, still valid and still bound to live objects, makes the request
 * system:serviceaccount:NS:NAME in the groups system:serviceaccounts,
 * system:serviceaccounts:NS and system:authenticated (upstream's identity). */
#ifndef K8C_APISERVER_SA_AUTHN_H
#define K8C_APISERVER_SA_AUTHN_H

#include "apiserver/request.h"

#include <stdbool.h>

struct registry;

/* True and *out filled if token authenticates; false otherwise (the reason is logged at
 * at info level, never the token). */
bool sa_authn_bearer(struct registry *reg, const char *token, struct identity *out);

#endif
