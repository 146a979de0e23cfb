/* agent_join.h — what the API server offers node agents that join with the server token
 * (as k3s agents do): the server CA at /cacerts for them to check against the token's
 * CA hash, authentication of the token as the node-agent identity, and the kubelet's
 * permissions for that identity (until RBAC serves them through roles). */
#ifndef K8C_APISERVER_AGENT_JOIN_H
#define K8C_APISERVER_AGENT_JOIN_H

#include "apiserver/request.h"

#include <stdbool.h>

struct apiserver;

/* The user and group a join-token bearer is. */
#define AGENT_JOIN_USER "system:k8c:node-agent"
#define AGENT_JOIN_GROUP "system:nodes"

/* Whether presented (a bearer token) is the server's join token. Either may be a full
 * "K10<ca-hash>::server:<secret>" token or the bare secret: only the secrets are
 * compared, in constant time. false if server_token is NULL. */
bool agent_join_token_matches(const char *server_token, const char *presented);

/* Fills who (zeroed first) with the node-agent identity. */
void agent_join_identity(struct identity *who);

/* Whether who (the node-agent identity) may do what ri asks: what a kubelet and service
 * proxy need (nodes and their status, pods and pods/status, leases in kube-node-lease,
 * events, reading services, endpoints, configmaps, secrets ...). false for anyone else. */
bool agent_join_authorized(const struct identity *who, const struct request_info *ri);

/* Serves GET /cacerts (the server CA bundle, no authentication needed: it is public and
 * the agent checks its hash) when path is /cacerts: returns 1 with *ret the MHD result;
 * 0 for any other path. */
int agent_join_handle_cacerts(struct apiserver *s, struct api_request *r, const char *path,
                              int *ret);

/* The headers a joining agent names its node with (k3s sends k3s-Node-Name/-IP). */
#define AGENT_JOIN_NODE_NAME_HEADER "k8c-Node-Name"
#define AGENT_JOIN_NODE_IP_HEADER "k8c-Node-IP"
#define AGENT_JOIN_SERVING_CERT_PATH "/v1-k8c/serving-kubelet.crt"

/* Serves GET /v1-k8c/serving-kubelet.crt (k3s's /v1-k3s/serving-kubelet.crt) to who,
 * the join-token bearer (or a system:masters user): a kubelet serving certificate signed
 * by the server CA for the node named in the k8c-Node-Name header, with that name and
 * the k8c-Node-IP address(es, comma-separated) as SANs, its key, and the CA that signs
 * the API server's kubelet client certificate, as JSON {"cert", "key", "clientCA"} (PEM
 * strings). Returns 1 with *ret the MHD result when path is that path; 0 otherwise. */
int agent_join_handle_serving_cert(struct apiserver *s, struct api_request *r, const char *path,
                                   const struct identity *who, int *ret);

#endif
