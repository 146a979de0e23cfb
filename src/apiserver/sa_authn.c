/* sa_authn.c — ServiceAccount bearer tokens to identities (see sa_authn.h). */
#include "apiserver/sa_authn.h"

#include "auth/jwt.h"
#include "lib/log.h"
#include "registry/core/serviceaccount_token.h"
#include "registry/registry.h"

#include <stdio.h>
#include <string.h>

bool
sa_authn_bearer(struct registry *reg, const char *token, struct identity *out)
{
  memset(out, 0, sizeof *out);
  if (reg == NULL || reg->token_issuer == NULL || !jwt_looks_like(token))
    return false;
  struct satoken_subject who;
  k8c_err err = {0};
  if (registry_token_authenticate(reg, token, &who, &err) < 0) {
    log_info("service account token refused: %s", err.message);
    k8c_err_clear(&err);
    return false;
  }
  int n = snprintf(out->user, sizeof out->user, "system:serviceaccount:%s:%s", who.ns, who.sa_name);
  int m = snprintf(out->groups[1], sizeof out->groups[1], "system:serviceaccounts:%s", who.ns);
  if (n < 0 || (size_t)n >= sizeof out->user || m < 0 || (size_t)m >= sizeof out->groups[1]) {
    memset(out, 0, sizeof *out);
    return false;
  }
  snprintf(out->groups[0], sizeof out->groups[0], "system:serviceaccounts");
  snprintf(out->groups[2], sizeof out->groups[2], "system:authenticated");
  out->group_count = 3;
  out->authenticated = true;
  return true;
}
