/* rootcacert.c — the root CA publisher (upstream's root-ca-cert-publisher): a
 * kube-root-ca.crt ConfigMap in every active namespace holding the CA that signed the
 * API server's certificate, so pods verify https://kubernetes.default.svc through their
 * kube-api-access volume. Edits to the ConfigMap's ca.crt are put back. */
#include "controllers/rootcacert.h"

#include "controllers/namespace_object.h"
#include "lib/mem.h"

#include <string.h>

#define ROOT_CA_NAME "kube-root-ca.crt"
#define DESCRIPTION_KEY "kubernetes.io/description"
#define DESCRIPTION                                                                                \
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "        \
  "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "        \
  "guaranteed across distributions of Kubernetes clusters."

struct rootca_state {
  void *inner; /* NULL when the server has no CA to publish (tests without PKI) */
};

static json_t *
desired_configmap(const void *arg, const char *ns)
{
  (void)ns;
  return json_pack("{s:{s:s,s:{s:s}},s:{s:s}}", "metadata", "name", ROOT_CA_NAME, "annotations",
                   DESCRIPTION_KEY, DESCRIPTION, "data", "ca.crt", (const char *)arg);
}

static bool
reconcile_configmap(const void *arg, json_t *have, const json_t *want)
{
  (void)want;
  const char *ca = arg;
  json_t *data = json_object_get(have, "data");
  const char *now = json_string_value(json_object_get(data, "ca.crt"));
  if (now && strcmp(now, ca) == 0)
    return false;
  if (!json_is_object(data)) {
    data = json_object();
    json_object_set_new(have, "data", data);
  }
  json_object_set_new(data, "ca.crt", json_string(ca));
  return true;
}

static void *
rootca_start(struct controller_context *ctx, k8c_err *err)
{
  struct rootca_state *st = xcalloc(1, sizeof *st);
  if (ctx->cfg.root_ca_pem == NULL)
    return st;
  struct namespace_object_spec spec = {.controller = "root-ca-cert-publisher",
                                       .thread = "ctl-rootca",
                                       .group = "",
                                       .version = "v1",
                                       .plural = "configmaps",
                                       .name = ROOT_CA_NAME,
                                       .desired = desired_configmap,
                                       .reconcile = reconcile_configmap,
                                       .arg = ctx->cfg.root_ca_pem};
  st->inner = namespace_object_start(ctx, &spec, err);
  if (st->inner == NULL) {
    free(st);
    return NULL;
  }
  return st;
}

static void
rootca_stop(void *state)
{
  struct rootca_state *st = state;
  if (st->inner)
    namespace_object_stop(st->inner);
  free(st);
}

const struct controller_def rootcacert_controller = {
    .name = "root-ca-cert-publisher",
    .start = rootca_start,
    .stop = rootca_stop,
};
