/* endpointslice.c — the EndpointSlice controller, as upstream's: for every Service with a
 * selector, discovery.k8s.io/v1 EndpointSlices (IPv4) listing the selected pods with
 * ready/serving/terminating conditions, node, zone and targetRef. Pods are grouped by the
 * port numbers the Service's targetPorts resolve to on them, each group cut into slices
 * of at most 100 endpoints; existing slices are reused (unchanged ones untouched),
 * missing ones created with generateName, extra ones deleted. Expectations hold a sync
 * back until the controller's own creates and deletes have reached its informer. */
#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/endpoints_util.h"
#include "controllers/keyed_controller.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ENDPOINTS_PER_SLICE 100
#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MANAGED_BY_LABEL "endpointslice.kubernetes.io/managed-by"
#define MANAGED_BY "endpointslice-controller.k8s.io"
#define HEADLESS_LABEL "service.kubernetes.io/headless"
#define ZONE_LABEL "topology.kubernetes.io/zone"
#define SERVICE_INDEX "service"

struct es_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *slice_res;
  informer *svc_inf;
  informer *pod_inf;
  informer *slice_inf;
  informer *node_inf;
  struct ep_pod_router pod_router;
  expectations *creations;
  expectations *deletions;
};

static void *es_start(struct controller_context *ctx, k8c_err *err);
static void es_stop(void *state);

const struct controller_def endpointslice_controller_def = {
    .name = "endpointslice",
    .start = es_start,
    .stop = es_stop,
};

/* ---------- slices and their service ---------- */

static bool
managed_by_us(const json_t *slice)
{
  const char *by = json_string_value(json_object_get(meta_labels(slice), MANAGED_BY_LABEL));
  return by && strcmp(by, MANAGED_BY) == 0;
}

/* "ns/service" of a slice this controller manages (caller frees), or NULL. */
static char *
service_key_of_slice(const json_t *slice)
{
  const char *svc = json_string_value(json_object_get(meta_labels(slice), SERVICE_NAME_LABEL));
  if (!managed_by_us(slice) || svc == NULL)
    return NULL;
  return xasprintf("%s/%s", meta_namespace(slice), svc);
}

static json_t *
index_by_service(void *ctx, json_t *slice)
{
  (void)ctx;
  char *key = service_key_of_slice(slice);
  if (key == NULL)
    return NULL;
  json_t *v = json_string(key);
  free(key);
  return v;
}

/* ---------- event handlers ---------- */

static void
on_slice_add(void *ctx, json_t *slice)
{
  struct es_controller *c = ctx;
  cleanup_free char *key = service_key_of_slice(slice);
  if (key == NULL)
    return;
  expectations_creation_observed(c->creations, key);
  workqueue_add(c->kc.queue, key);
}

static void
on_slice_update(void *ctx, json_t *old_slice, json_t *new_slice)
{
  struct es_controller *c = ctx;
  if (old_slice == new_slice)
    return;
  cleanup_free char *old_key = service_key_of_slice(old_slice);
  cleanup_free char *new_key = service_key_of_slice(new_slice);
  if (old_key)
    workqueue_add(c->kc.queue, old_key);
  if (new_key && (old_key == NULL || strcmp(old_key, new_key) != 0))
    workqueue_add(c->kc.queue, new_key);
}

static void
on_slice_delete(void *ctx, json_t *slice)
{
  struct es_controller *c = ctx;
  cleanup_free char *key = service_key_of_slice(slice);
  if (key == NULL)
    return;
  cleanup_free char *slice_key = cu_key(slice);
  expectations_deletion_observed(c->deletions, key, slice_key);
  workqueue_add(c->kc.queue, key);
}

/* A node's zone changed: every service may have endpoints there. */
static void
on_node_update(void *ctx, json_t *old_node, json_t *new_node)
{
  struct es_controller *c = ctx;
  if (old_node == new_node || json_equal(json_object_get(meta_labels(old_node), ZONE_LABEL),
                                         json_object_get(meta_labels(new_node), ZONE_LABEL)))
    return;
  json_t **svcs = NULL;
  size_t n = 0;
  informer_list(c->svc_inf, &svcs, &n);
  for (size_t i = 0; i < n; i++)
    keyed_controller_enqueue(c, svcs[i]);
  informer_objs_free(svcs, n);
}

/* ---------- desired state ---------- */

/* The slice ports pod serves for svc, in the service's order (new array). */
static json_t *
endpoint_ports(const json_t *svc, const json_t *pod)
{
  json_t *ports = json_array();
  size_t i;
  json_t *sp;
  json_array_foreach (json_object_get(json_object_get(svc, "spec"), "ports"), i, sp) {
    long long num;
    if (ep_find_port(pod, sp, &num) < 0)
      continue;
    const char *name = cu_str(sp, "name");
    const char *proto = cu_str(sp, "protocol");
    json_t *p = json_pack("{s:s, s:I, s:s}", "name", name ? name : "", "port", (json_int_t)num,
                          "protocol", proto && *proto ? proto : "TCP");
    json_t *app = json_object_get(sp, "appProtocol");
    if (json_is_string(app))
      json_object_set(p, "appProtocol", app);
    json_array_append_new(ports, p);
  }
  return ports;
}

static json_t *
pod_endpoint(struct es_controller *c, const json_t *svc, const json_t *pod)
{
  bool serving = pod_is_ready(pod);
  bool terminating = json_object_get(meta_get((json_t *)pod), "deletionTimestamp") != NULL;
  bool ready = ep_publish_not_ready(svc) || (serving && !terminating);
  json_t *ep = json_pack("{s:[s], s:{s:b, s:b, s:b}, s:o}", "addresses",
                         cu_str(pod, "status.podIP"), "conditions", "ready", ready, "serving",
                         serving, "terminating", terminating, "targetRef", ep_pod_target_ref(pod));
  const char *host = ep_pod_hostname(pod, svc);
  if (host)
    json_object_set_new(ep, "hostname", json_string(host));
  const char *node_name = cu_str(pod, "spec.nodeName");
  if (node_name && *node_name) {
    json_object_set_new(ep, "nodeName", json_string(node_name));
    json_t *node = informer_get(c->node_inf, node_name);
    const char *zone = json_string_value(json_object_get(meta_labels(node), ZONE_LABEL));
    if (zone)
      json_object_set_new(ep, "zone", json_string(zone));
    json_decref(node);
  }
  return ep;
}

/* The slices svc should have, as {ports, endpoints} pairs (a new array): endpoints grouped
 * by their ports, at most MAX_ENDPOINTS_PER_SLICE each; one empty slice when there are
 * no endpoints at all. */
static json_t *
desired_slices(struct es_controller *c, const json_t *svc, k8c_err *err)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(svc), &pods, &n, err) < 0)
    return NULL;
  json_t *groups = json_object(); /* ports text -> {ports, endpoints} */
  json_t *order = json_array();   /* ports texts in order of first appearance */
  for (size_t i = 0; i < n; i++) {
    const json_t *pod = pods[i];
    if (!ep_service_selects(svc, pod) || !ep_pod_should_be_in_endpoints(pod, true))
      continue;
    if (strchr(cu_str(pod, "status.podIP"), ':'))
      continue; /* IPv4 slices only */
    json_t *ports = endpoint_ports(svc, pod);
    cleanup_free char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *group = json_object_get(groups, key);
    if (group == NULL) {
      group = json_pack("{s:O, s:[]}", "ports", ports, "endpoints");
      json_object_set_new(groups, key, group);
      json_array_append_new(order, json_string(key));
    }
    json_array_append_new(json_object_get(group, "endpoints"), pod_endpoint(c, svc, pod));
    json_decref(ports);
  }
  informer_objs_free(pods, n);
  json_t *slices = json_array();
  size_t i;
  json_t *k;
  json_array_foreach (order, i, k) {
    json_t *group = json_object_get(groups, json_string_value(k));
    json_t *eps = json_object_get(group, "endpoints");
    for (size_t start = 0; start < json_array_size(eps); start += MAX_ENDPOINTS_PER_SLICE) {
      json_t *chunk = json_array();
      for (size_t j = start; j < json_array_size(eps) && j < start + MAX_ENDPOINTS_PER_SLICE; j++)
        json_array_append(chunk, json_array_get(eps, j));
      json_array_append_new(slices, json_pack("{s:O, s:o}", "ports",
                                              json_object_get(group, "ports"), "endpoints", chunk));
    }
  }
  if (json_array_size(slices) == 0)
    json_array_append_new(slices, json_pack("{s:[], s:[]}", "ports", "endpoints"));
  json_decref(order);
  json_decref(groups);
  return slices;
}

static json_t *
slice_labels(const json_t *svc)
{
  json_t *labels = json_deep_copy(meta_labels(svc));
  if (labels == NULL)
    labels = json_object();
  json_object_set_new(labels, SERVICE_NAME_LABEL, json_string(meta_name(svc)));
  json_object_set_new(labels, MANAGED_BY_LABEL, json_string(MANAGED_BY));
  if (ep_service_is_headless(svc))
    json_object_set_new(labels, HEADLESS_LABEL, json_string(""));
  else
    json_object_del(labels, HEADLESS_LABEL);
  return labels;
}

static bool
array_equal(const json_t *a, const json_t *b)
{
  if (json_array_size(a) == 0 && json_array_size(b) == 0)
    return true;
  return json_equal(a, b);
}

static bool
slice_matches(const json_t *slice, const json_t *want, const json_t *labels)
{
  const char *type = cu_str(slice, "addressType");
  return type && strcmp(type, "IPv4") == 0 &&
         array_equal(json_object_get(slice, "ports"), json_object_get(want, "ports")) &&
         array_equal(json_object_get(slice, "endpoints"), json_object_get(want, "endpoints")) &&
         json_equal(meta_labels(slice), labels);
}

/* ---------- writes ---------- */

static int
create_slice(struct es_controller *c, const json_t *svc, const char *key, const json_t *want,
             const json_t *labels, k8c_err *err)
{
  cleanup_free char *prefix = xasprintf("%s-", meta_name(svc));
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("v1", "Service", svc));
  json_t *slice = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:O, s:o}, s:s, s:O, s:O}", "apiVersion", "discovery.k8s.io/v1",
      "kind", "EndpointSlice", "metadata", "generateName", prefix, "namespace", meta_namespace(svc),
      "labels", labels, "ownerReferences", refs, "addressType", "IPv4", "endpoints",
      json_object_get(want, "endpoints"), "ports", json_object_get(want, "ports"));
  int rc = client_create(c->client, c->slice_res, meta_namespace(svc), slice, NULL, NULL, err);
  json_decref(slice);
  if (rc < 0)
    expectations_creation_observed(c->creations, key);
  return rc;
}

static int
update_slice(struct es_controller *c, const json_t *slice, const json_t *want, json_t *labels,
             k8c_err *err)
{
  json_t *copy = json_deep_copy(slice);
  json_object_set(meta_get(copy), "labels", labels);
  json_object_set_new(copy, "addressType", json_string("IPv4"));
  json_object_set(copy, "endpoints", json_object_get(want, "endpoints"));
  json_object_set(copy, "ports", json_object_get(want, "ports"));
  int rc = client_update(c->client, c->slice_res, meta_namespace(slice), meta_name(slice), copy,
                         NULL, NULL, err);
  json_decref(copy);
  return rc;
}

/* Deletes slices[i] for every i with !used[i]. */
static int
delete_slices(struct es_controller *c, const char *key, json_t **slices, const bool *used, size_t n,
              k8c_err *err)
{
  char **keys = xcalloc(n ? n : 1, sizeof *keys);
  size_t nkeys = 0;
  for (size_t i = 0; i < n; i++)
    if (!used[i])
      keys[nkeys++] = cu_key(slices[i]);
  if (nkeys > 0)
    expectations_expect_deletions(c->deletions, key, keys, nkeys);
  int rc = 0;
  for (size_t i = 0, k = 0; i < n; i++) {
    if (used[i])
      continue;
    k8c_err derr = {0};
    if (client_delete(c->client, c->slice_res, meta_namespace(slices[i]), meta_name(slices[i]),
                      NULL, NULL, NULL, &derr) < 0) {
      expectations_deletion_observed(c->deletions, key, keys[k]);
      if (derr.status != 404 && rc == 0) {
        k8c_err_move(err, &derr);
        rc = -1;
      }
    }
    k8c_err_clear(&derr);
    k++;
  }
  for (size_t i = 0; i < nkeys; i++)
    free(keys[i]);
  free(keys);
  return rc;
}

/* ---------- sync ---------- */

/* Makes svc's slices the wanted ones: equal ones are kept, others reused (same ports
 * first), the rest created or deleted. */
static int
reconcile(struct es_controller *c, const json_t *svc, const char *key, json_t *want,
          json_t **slices, size_t n, k8c_err *err)
{
  json_t *labels = slice_labels(svc);
  size_t nwant = json_array_size(want);
  bool *used = xcalloc(n ? n : 1, sizeof *used);
  bool *done = xcalloc(nwant ? nwant : 1, sizeof *done);
  int *target = xcalloc(nwant ? nwant : 1, sizeof *target);
  for (size_t w = 0; w < nwant; w++) {
    target[w] = -1;
    for (size_t i = 0; i < n && !done[w]; i++) {
      if (!used[i] && slice_matches(slices[i], json_array_get(want, w), labels)) {
        used[i] = done[w] = true;
      }
    }
  }
  /* Reuse: same ports first, then any left. */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t w = 0; w < nwant; w++) {
      if (done[w] || target[w] >= 0)
        continue;
      for (size_t i = 0; i < n; i++) {
        if (used[i] ||
            (pass == 0 && !array_equal(json_object_get(slices[i], "ports"),
                                       json_object_get(json_array_get(want, w), "ports"))))
          continue;
        used[i] = true;
        target[w] = (int)i;
        break;
      }
    }
  }
  int creates = 0;
  for (size_t w = 0; w < nwant; w++)
    if (!done[w] && target[w] < 0)
      creates++;
  if (creates > 0)
    expectations_expect_creations(c->creations, key, creates);
  int rc = 0;
  for (size_t w = 0; w < nwant; w++) {
    if (done[w])
      continue;
    k8c_err werr = {0};
    int wrc = target[w] >= 0
                  ? update_slice(c, slices[target[w]], json_array_get(want, w), labels, &werr)
                  : create_slice(c, svc, key, json_array_get(want, w), labels, &werr);
    if (wrc < 0 && rc == 0) {
      k8c_err_move(err, &werr);
      rc = -1;
    }
    k8c_err_clear(&werr);
  }
  k8c_err derr = {0};
  if (delete_slices(c, key, slices, used, n, &derr) < 0 && rc == 0) {
    k8c_err_move(err, &derr);
    rc = -1;
  }
  k8c_err_clear(&derr);
  free(target);
  free(done);
  free(used);
  json_decref(labels);
  return rc;
}

static bool
is_external_name(const json_t *svc)
{
  const char *type = cu_str(svc, "spec.type");
  return type && strcmp(type, "ExternalName") == 0;
}

static int
sync_service(void *arg, const char *key, k8c_err *err)
{
  struct es_controller *c = arg;
  if (!expectations_satisfied(c->creations, key) || !expectations_satisfied(c->deletions, key)) {
    workqueue_add_after(c->kc.queue, key, 50);
    return 0;
  }
  json_t **slices = NULL;
  size_t n = 0;
  if (informer_by_index(c->slice_inf, SERVICE_INDEX, key, &slices, &n, err) < 0)
    return -1;
  json_t *svc = informer_get(c->svc_inf, key);
  int rc = 0;
  if (svc == NULL) {
    /* Deleted: its slices go (the garbage collector would also remove them). */
    bool *keep = xcalloc(n ? n : 1, sizeof *keep);
    rc = delete_slices(c, key, slices, keep, n, err);
    free(keep);
    expectations_delete(c->creations, key);
  } else if (ep_service_has_selector(svc) && !is_external_name(svc) &&
             !json_object_get(meta_get(svc), "deletionTimestamp")) {
    json_t *want = desired_slices(c, svc, err);
    if (want == NULL)
      rc = -1;
    else
      rc = reconcile(c, svc, key, want, slices, n, err);
    json_decref(want);
  }
  json_decref(svc);
  informer_objs_free(slices, n);
  return rc;
}

/* ---------- start / stop ---------- */

static void *
es_start(struct controller_context *ctx, k8c_err *err)
{
  struct es_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->slice_res = api_resource_find("discovery.k8s.io", "v1", "endpointslices");
  c->svc_inf =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "services"), "", NULL, NULL);
  c->pod_inf =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "pods"), "", NULL, NULL);
  c->node_inf =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "nodes"), "", NULL, NULL);
  c->slice_inf = informer_factory_get(ctx->informers, c->slice_res, "", NULL, NULL);
  cu_add_namespace_index(c->svc_inf);
  cu_add_namespace_index(c->pod_inf);
  (void)!informer_add_index(c->slice_inf, SERVICE_INDEX, index_by_service, NULL);
  keyed_controller_init(&c->kc, &(struct keyed_controller_spec){.name = "endpointslice",
                                                                .thread = "ctl-epslice",
                                                                .sync = sync_service,
                                                                .arg = c});
  c->pod_router = (struct ep_pod_router){.services = c->svc_inf, .queue = c->kc.queue};
  c->creations = expectations_new();
  c->deletions = expectations_new();
  struct informer_handlers svc_h = keyed_controller_key_handlers(c);
  struct informer_handlers pod_h = ep_pod_router_handlers(&c->pod_router);
  struct informer_handlers slice_h = {
      .on_add = on_slice_add, .on_update = on_slice_update, .on_delete = on_slice_delete, .ctx = c};
  struct informer_handlers node_h = {.on_update = on_node_update, .ctx = c};
  keyed_controller_watch(&c->kc, c->svc_inf, &svc_h);
  keyed_controller_watch(&c->kc, c->pod_inf, &pod_h);
  keyed_controller_watch(&c->kc, c->slice_inf, &slice_h);
  keyed_controller_watch(&c->kc, c->node_inf, &node_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    es_stop(c);
    return NULL;
  }
  return c;
}

static void
es_stop(void *state)
{
  struct es_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  expectations_free(c->creations);
  expectations_free(c->deletions);
  free(c);
}
