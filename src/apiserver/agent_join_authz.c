/* agent_join_authz.c — the node-agent identity's permissions as one table of rules
 * (upstream's system:node role plus the node authorizer's lease and event rights, and
 * the reads of the service proxy, cluster DNS and NetworkPolicy enforcer every node
 * runs). Anything the table does not name stays 403. */
#include "apiserver/agent_join.h"

#include <string.h>

#define V(verb) (1u << (verb))
#define READ (V(VERB_GET) | V(VERB_LIST) | V(VERB_WATCH))
#define WRITE (V(VERB_CREATE) | V(VERB_UPDATE) | V(VERB_PATCH))

struct agent_rule {
  const char *group;
  const char *resource;
  const char *subresource; /* "" = the object itself */
  const char *namespace_;  /* NULL = any */
  unsigned verbs;
};

static const struct agent_rule agent_rules[] = {
    {"", "nodes", "", NULL, READ | WRITE},
    {"", "nodes", "status", NULL, V(VERB_GET) | V(VERB_UPDATE) | V(VERB_PATCH)},
    {"", "pods", "", NULL, READ | V(VERB_CREATE) | V(VERB_DELETE)},
    {"", "pods", "status", NULL, V(VERB_GET) | V(VERB_UPDATE) | V(VERB_PATCH)},
    {"", "pods", "eviction", NULL, V(VERB_CREATE)},
    {"", "services", "", NULL, READ},
    {"", "endpoints", "", NULL, READ},
    {"", "configmaps", "", NULL, READ},
    {"", "secrets", "", NULL, READ},
    {"", "persistentvolumeclaims", "", NULL, READ},
    {"", "persistentvolumes", "", NULL, READ},
    {"", "serviceaccounts", "", NULL, V(VERB_GET)},
    {"", "serviceaccounts", "token", NULL, V(VERB_CREATE)},
    {"", "events", "", NULL, WRITE},
    {"events.k8s.io", "events", "", NULL, WRITE},
    {"coordination.k8s.io", "leases", "", "kube-node-lease", READ | WRITE | V(VERB_DELETE)},
    {"discovery.k8s.io", "endpointslices", "", NULL, READ},
    {"node.k8s.io", "runtimeclasses", "", NULL, READ},
    /* the NetworkPolicy enforcer every node runs */
    {"", "namespaces", "", NULL, READ},
    {"networking.k8s.io", "networkpolicies", "", NULL, READ},
};

static bool
is_agent(const struct identity *who)
{
  if (strcmp(who->user, AGENT_JOIN_USER) != 0)
    return false;
  for (int i = 0; i < who->group_count; i++)
    if (strcmp(who->groups[i], AGENT_JOIN_GROUP) == 0)
      return true;
  return false;
}

bool
agent_join_authorized(const struct identity *who, const struct request_info *ri)
{
  if (!who->authenticated || !is_agent(who) || !ri->is_resource)
    return false;
  for (size_t i = 0; i < sizeof agent_rules / sizeof agent_rules[0]; i++) {
    const struct agent_rule *r = &agent_rules[i];
    if (strcmp(r->group, ri->group) != 0 || strcmp(r->resource, ri->resource) != 0 ||
        strcmp(r->subresource, ri->subresource) != 0)
      continue;
    if (r->namespace_ && strcmp(r->namespace_, ri->namespace_) != 0)
      continue;
    return (r->verbs & V(ri->verb)) != 0;
  }
  return false;
}
