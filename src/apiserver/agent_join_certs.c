/* agent_join_certs.c — the kubelet serving certificate a joining agent asks for, as
 * k3s's /v1-k3s/serving-kubelet.crt: the join token proves membership, the node names
 * itself in headers, and the server signs with its own CA so that it can verify the
 * agent's streaming endpoint later; the reply also carries the client CA the agent
 * must check the API server's kubelet client certificate against. */
#include "apiserver/agent_join.h"

#include "apimachinery/validation.h"
#include "apiserver/pki.h"
#include "apiserver/response.h"
#include "apiserver/secure_file.h"
#include "apiserver/server_internal.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <string.h>

enum { MAX_NODE_IPS = 4 };

static int
fail(struct api_request *r, int status, const char *reason, const char *message)
{
  k8c_err err = {0};
  k8c_error(&err, status, reason, "%s", message);
  int ret = response_error(r, &err);
  k8c_err_clear(&err);
  return ret;
}

static bool
may_request(const struct identity *who)
{
  if (strcmp(who->user, AGENT_JOIN_USER) == 0)
    return true;
  for (int i = 0; i < who->group_count; i++)
    if (strcmp(who->groups[i], "system:masters") == 0)
      return true;
  return false;
}

/* Splits the comma-separated IP header into ips (pointing into scratch); false on a bad one. */
static bool
parse_ips(const char *header, char *scratch, size_t cap, const char **ips)
{
  size_t n = 0;
  ips[0] = NULL;
  if (header == NULL || header[0] == '\0')
    return true;
  snprintf(scratch, cap, "%s", header);
  char *save = NULL;
  for (char *tok = strtok_r(scratch, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
    unsigned char bin[16];
    if (n == MAX_NODE_IPS ||
        (inet_pton(AF_INET, tok, bin) != 1 && inet_pton(AF_INET6, tok, bin) != 1))
      return false;
    ips[n++] = tok;
  }
  ips[n] = NULL;
  return true;
}

int
agent_join_handle_serving_cert(struct apiserver *s, struct api_request *r, const char *path,
                               const struct identity *who, int *ret)
{
  if (strcmp(path, AGENT_JOIN_SERVING_CERT_PATH) != 0)
    return 0;
  if (s->cfg.pki == NULL || strcmp(r->method, "GET") != 0) {
    *ret = fail(r, 404, K8C_REASON_NOT_FOUND, "the server could not find the requested resource");
    return 1;
  }
  if (!may_request(who)) {
    *ret = fail(r, 403, K8C_REASON_FORBIDDEN,
                "only joining node agents may ask for a kubelet serving certificate");
    return 1;
  }
  const char *node = request_header(r, AGENT_JOIN_NODE_NAME_HEADER);
  char ip_buf[256];
  const char *ips[MAX_NODE_IPS + 1];
  if (node == NULL || !validation_is_dns1123_subdomain(node)) {
    *ret = fail(r, 400, K8C_REASON_BAD_REQUEST,
                "header " AGENT_JOIN_NODE_NAME_HEADER " must name the node (a DNS subdomain)");
    return 1;
  }
  if (!parse_ips(request_header(r, AGENT_JOIN_NODE_IP_HEADER), ip_buf, sizeof ip_buf, ips)) {
    *ret = fail(r, 400, K8C_REASON_BAD_REQUEST,
                "header " AGENT_JOIN_NODE_IP_HEADER " must hold up to 4 IP addresses");
    return 1;
  }
  const char *dns[] = {node, NULL};
  char *cert = NULL, *key = NULL;
  k8c_err err = {0};
  if (pki_issue_serving_cert(s->cfg.pki, node, dns, ips, &cert, &key, &err) < 0) {
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  json_t *reply = json_pack("{s:s, s:s, s:s}", "cert", cert, "key", key, "clientCA",
                            s->cfg.client_ca_pem ? s->cfg.client_ca_pem : "");
  free(cert);
  secure_free_secret(key);
  char *body = json_dumps(reply, JSON_COMPACT);
  json_decref(reply);
  if (body == NULL)
    abort();
  *ret = response_send(r, 200, "application/json", body, strlen(body), NULL);
  return 1;
}
