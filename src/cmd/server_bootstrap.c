/* server_bootstrap.c — creates default, kube-system, kube-public and kube-node-lease
 * through the registry (so they get defaults, uid and timestamps like any object). */
#include "cmd/server_bootstrap.h"

#include <string.h>

int
server_bootstrap(struct registry *reg, k8c_err *err)
{
  static const char *const namespaces[] = {"default", "kube-system", "kube-public",
                                           "kube-node-lease", NULL};
  const struct api_resource *ns_res = api_resource_find("", "v1", "namespaces");
  if (ns_res == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "namespaces are not served");
  for (int i = 0; namespaces[i]; i++) {
    json_t *obj = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                            "metadata", "name", namespaces[i]);
    struct registry_target t = {ns_res, "", "", ""};
    struct write_opts o = {.field_validation = FIELD_VALIDATION_STRICT, .field_manager = "k8c"};
    json_t *out = NULL;
    int status = 0;
    k8c_err cerr = {0};
    int rc = registry_create(reg, &t, obj, &o, &out, &status, &cerr);
    json_decref(obj);
    json_decref(out);
    if (rc < 0 && cerr.status != 409) {
      k8c_err_move(err, &cerr);
      return -1;
    }
    k8c_err_clear(&cerr);
  }
  return 0;
}
