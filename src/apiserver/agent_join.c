/* agent_join.c — the join token as a credential and the CA bundle endpoint. The token
 * comparison looks only at the secret part, so a server started with a bare --token and
 * an agent given the full K10 token (or the reverse) still agree. */
#include "apiserver/agent_join.h"

#include "apiserver/server_internal.h"
#include "apiserver/token.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

bool
agent_join_token_matches(const char *server_token, const char *presented)
{
  if (server_token == NULL || presented == NULL)
    return false;
  struct token_parts mine, theirs;
  k8c_err err = {0};
  bool ok = token_parse(server_token, &mine, &err) == 0 &&
            token_parse(presented, &theirs, &err) == 0 && token_equal(mine.secret, theirs.secret);
  k8c_err_clear(&err);
  explicit_bzero(&mine, sizeof mine);
  explicit_bzero(&theirs, sizeof theirs);
  return ok;
}

void
agent_join_identity(struct identity *who)
{
  memset(who, 0, sizeof *who);
  who->authenticated = true;
  snprintf(who->user, sizeof who->user, "%s", AGENT_JOIN_USER);
  snprintf(who->groups[0], sizeof who->groups[0], "%s", AGENT_JOIN_GROUP);
  snprintf(who->groups[1], sizeof who->groups[1], "system:authenticated");
  who->group_count = 2;
}

int
agent_join_handle_cacerts(struct apiserver *s, struct api_request *r, const char *path, int *ret)
{
  if (strcmp(path, "/cacerts") != 0)
    return 0;
  const char *pem = s->cfg.server_ca_pem;
  if (pem == NULL || strcmp(r->method, "GET") != 0) {
    k8c_err err = {0};
    k8c_error(&err, 404, K8C_REASON_NOT_FOUND, "the server could not find the requested resource");
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  *ret = response_send(r, 200, "text/plain; charset=utf-8", xstrdup(pem), strlen(pem), NULL);
  return 1;
}
