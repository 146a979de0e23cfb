/* serviceaccount.c — the ServiceAccount controller: keeps a "default" ServiceAccount in
 * every active namespace (namespace_object.h does the watching and queueing). An
 * existing account is never changed. */
#include "controllers/serviceaccount.h"

#include "controllers/namespace_object.h"

#define SA_NAME "default"

static json_t *
desired_serviceaccount(const void *arg, const char *ns)
{
  (void)arg;
  (void)ns;
  return json_pack("{s:{s:s}}", "metadata", "name", SA_NAME);
}

static void *
sa_start(struct controller_context *ctx, k8c_err *err)
{
  struct namespace_object_spec spec = {.controller = "serviceaccount",
                                       .thread = "ctl-svcaccount",
                                       .group = "",
                                       .version = "v1",
                                       .plural = "serviceaccounts",
                                       .name = SA_NAME,
                                       .desired = desired_serviceaccount};
  return namespace_object_start(ctx, &spec, err);
}

const struct controller_def serviceaccount_controller = {
    .name = "serviceaccount",
    .start = sa_start,
    .stop = namespace_object_stop,
};
