/* endpoints_util.c — pod selection, readiness and port resolution shared by the
 * EndpointSlice and Endpoints controllers; the one idea is that both controllers see the
 * same pods the same way, so their outputs agree. */
#include "controllers/endpoints_util.h"

#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "lib/mem.h"

#include <string.h>

bool
ep_service_has_selector(const json_t *svc)
{
  json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
  return json_is_object(sel) && json_object_size(sel) > 0;
}

bool
ep_service_selects(const json_t *svc, const json_t *pod)
{
  if (!ep_service_has_selector(svc))
    return false;
  json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
  json_t *labels = meta_labels(pod);
  const char *k;
  json_t *v;
  json_object_foreach (sel, k, v) {
    json_t *have = json_object_get(labels, k);
    if (!json_is_string(have) || !json_is_string(v) ||
        strcmp(json_string_value(have), json_string_value(v)) != 0)
      return false;
  }
  return true;
}

bool
ep_service_is_headless(const json_t *svc)
{
  const char *ip = cu_str(svc, "spec.clusterIP");
  return ip && strcmp(ip, "None") == 0;
}

bool
ep_publish_not_ready(const json_t *svc)
{
  return json_is_true(json_object_get(json_object_get(svc, "spec"), "publishNotReadyAddresses"));
}

bool
ep_pod_should_be_in_endpoints(const json_t *pod, bool include_terminating)
{
  const char *phase = cu_str(pod, "status.phase");
  if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
    return false;
  const char *ip = cu_str(pod, "status.podIP");
  if (ip == NULL || *ip == '\0')
    return false;
  if (!include_terminating && json_object_get(meta_get((json_t *)pod), "deletionTimestamp"))
    return false;
  return true;
}

static const char *
protocol_of(const json_t *port)
{
  const char *p = json_string_value(json_object_get(port, "protocol"));
  return p && *p ? p : "TCP";
}

int
ep_find_port(const json_t *pod, const json_t *svc_port, long long *out)
{
  json_t *target = json_object_get(svc_port, "targetPort");
  if (json_is_integer(target) && json_integer_value(target) > 0) {
    *out = json_integer_value(target);
    return 0;
  }
  const char *name = json_string_value(target);
  if (name == NULL || *name == '\0') {
    json_t *port = json_object_get(svc_port, "port");
    if (!json_is_integer(port))
      return -1;
    *out = json_integer_value(port);
    return 0;
  }
  const char *proto = protocol_of(svc_port);
  size_t i, j;
  json_t *c, *p;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
    json_array_foreach (json_object_get(c, "ports"), j, p) {
      const char *pname = json_string_value(json_object_get(p, "name"));
      json_t *num = json_object_get(p, "containerPort");
      if (pname && strcmp(pname, name) == 0 && strcmp(protocol_of(p), proto) == 0 &&
          json_is_integer(num)) {
        *out = json_integer_value(num);
        return 0;
      }
    }
  }
  return -1;
}

json_t *
ep_pod_target_ref(const json_t *pod)
{
  return json_pack("{s:s, s:s, s:s, s:s}", "kind", "Pod", "namespace", meta_namespace(pod), "name",
                   meta_name(pod), "uid", meta_uid(pod) ? meta_uid(pod) : "");
}

const char *
ep_pod_hostname(const json_t *pod, const json_t *svc)
{
  const char *host = cu_str(pod, "spec.hostname");
  const char *sub = cu_str(pod, "spec.subdomain");
  if (host && *host && sub && strcmp(sub, meta_name(svc)) == 0 &&
      strcmp(meta_namespace(pod), meta_namespace(svc)) == 0)
    return host;
  return NULL;
}

void
ep_enqueue_services_for_pod(informer *svc_inf, workqueue *q, const json_t *pod)
{
  json_t **svcs = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(svc_inf, "namespace", meta_namespace(pod), &svcs, &n, &err) < 0) {
    k8c_err_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (ep_service_selects(svcs[i], pod)) {
      cleanup_free char *key = cu_key(svcs[i]);
      workqueue_add(q, key);
    }
  }
  informer_objs_free(svcs, n);
}

static void
pod_router_add(void *ctx, json_t *pod)
{
  struct ep_pod_router *r = ctx;
  ep_enqueue_services_for_pod(r->services, r->queue, pod);
}

static void
pod_router_update(void *ctx, json_t *old_pod, json_t *new_pod)
{
  struct ep_pod_router *r = ctx;
  if (old_pod == new_pod)
    return;
  ep_enqueue_services_for_pod(r->services, r->queue, new_pod);
  if (!json_equal(meta_labels(old_pod), meta_labels(new_pod)))
    ep_enqueue_services_for_pod(r->services, r->queue, old_pod);
}

struct informer_handlers
ep_pod_router_handlers(struct ep_pod_router *r)
{
  return (struct informer_handlers){.on_add = pod_router_add,
                                    .on_update = pod_router_update,
                                    .on_delete = pod_router_add,
                                    .ctx = r};
}
