/* ingress_status.c — what the controller writes to the API: its IngressClass (once, if
 * missing) and status.loadBalancer.ingress of the Ingresses it serves, written only
 * when it differs from what is there. */
#include "ingress/ingress_internal.h"

#include "apimachinery/meta.h"
#include "apiserver/pki_cert.h"
#include "lib/mem.h"

#include <string.h>

static const struct api_resource *
ingresses_res(void)
{
  return api_resource_find("networking.k8s.io", "v1", "ingresses");
}

int
ingress_class_ensure(k8c_client *client, const char *class_name, k8c_err *err)
{
  const struct api_resource *res = api_resource_find("networking.k8s.io", "v1", "ingressclasses");
  json_t *existing = NULL;
  k8c_err gerr = {0};
  if (client_get(client, res, "", class_name, &existing, &gerr) == 0) {
    json_decref(existing);
    return 0;
  }
  if (gerr.status != 404) {
    k8c_err_move(err, &gerr);
    return k8c_err_prefix(err, "reading IngressClass %s: ", class_name);
  }
  k8c_err_clear(&gerr);
  json_t *cls = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion",
                          "networking.k8s.io/v1", "kind", "IngressClass", "metadata", "name",
                          class_name, "annotations", INGRESS_DEFAULT_CLASS_ANNOTATION, "true",
                          "spec", "controller", INGRESS_CONTROLLER_NAME);
  int rc = client_create(client, res, "", cls, NULL, NULL, err);
  json_decref(cls);
  if (rc < 0 && err->status == 409) { /* created meanwhile by someone else */
    k8c_err_clear(err);
    return 0;
  }
  return rc < 0 ? k8c_err_prefix(err, "creating IngressClass %s: ", class_name) : 0;
}

bool
ingress_class_is_default(const json_t *cls)
{
  const char *v =
      json_string_value(json_object_get(meta_annotations(cls), INGRESS_DEFAULT_CLASS_ANNOTATION));
  return v && strcmp(v, "true") == 0;
}

/* The loadBalancer.ingress entry for address: {"ip": ...} or {"hostname": ...}. */
static json_t *
lb_entry(const char *address)
{
  unsigned char bytes[16];
  return json_pack("{s:s}", pki_parse_ip(address, bytes) ? "ip" : "hostname", address);
}

int
ingress_status_sync(k8c_client *client, const json_t *ing, const char *address, bool served,
                    k8c_err *err)
{
  json_t *current =
      json_object_get(json_object_get(json_object_get(ing, "status"), "loadBalancer"), "ingress");
  json_t *want;
  if (served && address) {
    want = json_pack("[o]", lb_entry(address));
  } else {
    if (address == NULL || current == NULL)
      return 0;
    json_t *ours = lb_entry(address);
    want = json_array();
    size_t i;
    json_t *e;
    json_array_foreach (current, i, e)
      if (!json_equal(e, ours))
        json_array_append(want, e);
    json_decref(ours);
  }
  bool same = current ? json_equal(current, want) : json_array_size(want) == 0;
  if (same) {
    json_decref(want);
    return 0;
  }
  json_t *patch = json_pack("{s:{s:{s:o}}}", "status", "loadBalancer", "ingress", want);
  struct client_write_opts o = {.subresource = "status"};
  int rc = client_patch(client, ingresses_res(), meta_namespace(ing), meta_name(ing),
                        "application/merge-patch+json", patch, &o, NULL, err);
  json_decref(patch);
  return rc;
}
