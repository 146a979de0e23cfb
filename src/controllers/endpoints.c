/* endpoints.c — the Endpoints controller, as upstream's: for every Service with a
 * selector, an Endpoints object of the same name whose subsets list the selected pods'
 * IPs (ready ones in addresses, the others in notReadyAddresses) grouped by the ports
 * their targetPorts resolve to. It is rebuilt from the informers' caches on every sync and
 * written only when it changed. Endpoints without a selector-driven Service (the
 * kubernetes one, anything labelled skip-mirror) are never touched. */
#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/controller.h"
#include "controllers/controller_util.h"
#include "controllers/endpoints_util.h"
#include "controllers/keyed_controller.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define SKIP_MIRROR_LABEL "endpointslice.kubernetes.io/skip-mirror"
#define HEADLESS_LABEL "service.kubernetes.io/headless"

struct ep_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  const struct api_resource *ep_res;
  informer *svc_inf;
  informer *pod_inf;
  informer *ep_inf;
  struct ep_pod_router pod_router;
};

static void *ep_start(struct controller_context *ctx, k8c_err *err);
static void ep_stop(void *state);

const struct controller_def endpoints_controller_def = {
    .name = "endpoints",
    .start = ep_start,
    .stop = ep_stop,
};

/* ---------- building the subsets ---------- */

static int
compare_ports(const void *a, const void *b)
{
  const json_t *pa = *(json_t *const *)a, *pb = *(json_t *const *)b;
  const char *na = cu_str(pa, "name"), *nb = cu_str(pb, "name");
  int r = strcmp(na ? na : "", nb ? nb : "");
  if (r != 0)
    return r;
  long long x = cu_int(pa, "port", 0), y = cu_int(pb, "port", 0);
  return x < y ? -1 : x > y;
}

/* The ports pod serves for svc, sorted by name (a new array; empty when none resolves). */
static json_t *
pod_ports(const json_t *svc, const json_t *pod)
{
  json_t *svc_ports = json_object_get(json_object_get(svc, "spec"), "ports");
  size_t n = json_array_size(svc_ports), i;
  json_t **ports = xcalloc(n ? n : 1, sizeof *ports);
  size_t np = 0;
  json_t *sp;
  json_array_foreach (svc_ports, i, sp) {
    long long num;
    if (ep_find_port(pod, sp, &num) < 0)
      continue;
    json_t *p = json_pack("{s:I, s:s}", "port", (json_int_t)num, "protocol",
                          cu_str(sp, "protocol") ? cu_str(sp, "protocol") : "TCP");
    const char *name = cu_str(sp, "name");
    if (name && *name)
      json_object_set_new(p, "name", json_string(name));
    json_t *app = json_object_get(sp, "appProtocol");
    if (json_is_string(app))
      json_object_set(p, "appProtocol", app);
    ports[np++] = p;
  }
  qsort(ports, np, sizeof *ports, compare_ports);
  json_t *arr = json_array();
  for (i = 0; i < np; i++)
    json_array_append_new(arr, ports[i]);
  free(ports);
  return arr;
}

static json_t *
pod_address(const json_t *pod, const json_t *svc)
{
  json_t *addr = json_pack("{s:s, s:o}", "ip", cu_str(pod, "status.podIP"), "targetRef",
                           ep_pod_target_ref(pod));
  const char *node = cu_str(pod, "spec.nodeName");
  if (node && *node)
    json_object_set_new(addr, "nodeName", json_string(node));
  const char *host = ep_pod_hostname(pod, svc);
  if (host)
    json_object_set_new(addr, "hostname", json_string(host));
  return addr;
}

/* The subset in subsets (keyed by its ports' text in index) for ports, created if new. */
static json_t *
subset_for(json_t *subsets, json_t *index, json_t *ports)
{
  cleanup_free char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
  json_t *s = json_object_get(index, key);
  if (s)
    return s;
  s = json_pack("{s:O, s:[], s:[]}", "ports", ports, "addresses", "notReadyAddresses");
  json_object_set_new(index, key, s);
  json_array_append(subsets, s);
  return s;
}

static int
compare_ip(const char *a, const char *b)
{
  unsigned char x[16] = {0}, y[16] = {0};
  int fa = strchr(a, ':') ? AF_INET6 : AF_INET, fb = strchr(b, ':') ? AF_INET6 : AF_INET;
  if (fa != fb || inet_pton(fa, a, x) != 1 || inet_pton(fb, b, y) != 1)
    return strcmp(a, b);
  return memcmp(x, y, sizeof x);
}

static int
compare_addresses(const void *a, const void *b)
{
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  int r = compare_ip(cu_str(x, "ip"), cu_str(y, "ip"));
  if (r != 0)
    return r;
  const char *ux = cu_str(x, "targetRef.uid"), *uy = cu_str(y, "targetRef.uid");
  return strcmp(ux ? ux : "", uy ? uy : "");
}

/* Sorts an array of addresses by IP in place; drops it from subset when empty. */
static void
sort_addresses(json_t *subset, const char *field)
{
  json_t *arr = json_object_get(subset, field);
  size_t n = json_array_size(arr);
  if (n == 0) {
    json_object_del(subset, field);
    return;
  }
  json_t **items = xcalloc(n, sizeof *items);
  for (size_t i = 0; i < n; i++)
    items[i] = json_incref(json_array_get(arr, i));
  qsort(items, n, sizeof *items, compare_addresses);
  json_array_clear(arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, items[i]);
  free(items);
}

static int
compare_subsets(const void *a, const void *b)
{
  cleanup_free char *x = json_dumps(json_object_get(*(json_t *const *)a, "ports"), JSON_SORT_KEYS);
  cleanup_free char *y = json_dumps(json_object_get(*(json_t *const *)b, "ports"), JSON_SORT_KEYS);
  return strcmp(x ? x : "", y ? y : "");
}

/* The subsets svc's selected pods make (a new array, sorted). */
static json_t *
compute_subsets(struct ep_controller *c, const json_t *svc, k8c_err *err)
{
  json_t **pods = NULL;
  size_t n = 0;
  if (informer_by_index(c->pod_inf, "namespace", meta_namespace(svc), &pods, &n, err) < 0)
    return NULL;
  bool publish = ep_publish_not_ready(svc);
  bool svc_has_ports = json_array_size(json_object_get(json_object_get(svc, "spec"), "ports")) > 0;
  json_t *subsets = json_array(), *index = json_object();
  for (size_t i = 0; i < n; i++) {
    const json_t *pod = pods[i];
    if (!ep_service_selects(svc, pod) || !ep_pod_should_be_in_endpoints(pod, publish))
      continue;
    json_t *ports = pod_ports(svc, pod);
    if (svc_has_ports && json_array_size(ports) == 0) {
      json_decref(ports);
      continue;
    }
    json_t *subset = subset_for(subsets, index, ports);
    bool ready = publish || pod_is_ready(pod);
    json_array_append_new(json_object_get(subset, ready ? "addresses" : "notReadyAddresses"),
                          pod_address(pod, svc));
    json_decref(ports);
  }
  informer_objs_free(pods, n);
  json_decref(index);
  size_t ns = json_array_size(subsets);
  json_t **items = xcalloc(ns ? ns : 1, sizeof *items);
  for (size_t i = 0; i < ns; i++) {
    items[i] = json_incref(json_array_get(subsets, i));
    sort_addresses(items[i], "addresses");
    sort_addresses(items[i], "notReadyAddresses");
    if (json_array_size(json_object_get(items[i], "ports")) == 0)
      json_object_del(items[i], "ports");
  }
  qsort(items, ns, sizeof *items, compare_subsets);
  json_array_clear(subsets);
  for (size_t i = 0; i < ns; i++)
    json_array_append_new(subsets, items[i]);
  free(items);
  return subsets;
}

/* svc's labels, plus the headless label for a headless service. */
static json_t *
endpoints_labels(const json_t *svc)
{
  json_t *labels = json_deep_copy(meta_labels(svc));
  if (labels == NULL)
    labels = json_object();
  if (ep_service_is_headless(svc))
    json_object_set_new(labels, HEADLESS_LABEL, json_string(""));
  else
    json_object_del(labels, HEADLESS_LABEL);
  return labels;
}

static bool
subsets_equal(const json_t *a, const json_t *b)
{
  if (json_array_size(a) == 0 && json_array_size(b) == 0)
    return true;
  return json_equal(a, b);
}

static bool
labels_equal(const json_t *a, const json_t *b)
{
  if (json_object_size(a) == 0 && json_object_size(b) == 0)
    return true;
  return json_equal(a, b);
}

/* ---------- sync ---------- */

static bool
is_protected(const json_t *ep)
{
  return json_object_get(meta_labels(ep), SKIP_MIRROR_LABEL) != NULL;
}

static int
delete_endpoints(struct ep_controller *c, const char *key, k8c_err *err)
{
  json_t *ep = informer_get(c->ep_inf, key);
  if (ep == NULL)
    return 0;
  int rc = 0;
  if (!is_protected(ep)) {
    k8c_err derr = {0};
    rc = client_delete(c->client, c->ep_res, meta_namespace(ep), meta_name(ep), NULL, NULL, NULL,
                       &derr);
    if (rc < 0 && derr.status == 404)
      rc = 0;
    if (rc < 0)
      k8c_err_move(err, &derr);
    k8c_err_clear(&derr);
  }
  json_decref(ep);
  return rc;
}

static int
sync_service(void *arg, const char *key, k8c_err *err)
{
  struct ep_controller *c = arg;
  if (strcmp(key, "default/kubernetes") == 0)
    return 0;
  json_t *svc = informer_get(c->svc_inf, key);
  if (svc == NULL)
    return delete_endpoints(c, key, err);
  if (!ep_service_has_selector(svc)) {
    json_decref(svc);
    return 0;
  }
  json_t *subsets = compute_subsets(c, svc, err);
  if (subsets == NULL) {
    json_decref(svc);
    return -1;
  }
  json_t *labels = endpoints_labels(svc);
  json_t *current = informer_get(c->ep_inf, key);
  int rc = 0;
  if (current && is_protected(current)) {
    rc = 0;
  } else if (current == NULL) {
    json_t *ep = json_pack("{s:s, s:s, s:{s:s, s:s, s:O}, s:O}", "apiVersion", "v1", "kind",
                           "Endpoints", "metadata", "name", meta_name(svc), "namespace",
                           meta_namespace(svc), "labels", labels, "subsets", subsets);
    k8c_err cerr = {0};
    rc = client_create(c->client, c->ep_res, meta_namespace(svc), ep, NULL, NULL, &cerr);
    json_decref(ep);
    if (rc < 0)
      k8c_err_move(err, &cerr);
    k8c_err_clear(&cerr);
  } else if (!subsets_equal(json_object_get(current, "subsets"), subsets) ||
             !labels_equal(meta_labels(current), labels)) {
    json_t *ep = json_deep_copy(current);
    json_object_set(meta_get(ep), "labels", labels);
    json_object_set(ep, "subsets", subsets);
    rc = client_update(c->client, c->ep_res, meta_namespace(svc), meta_name(svc), ep, NULL, NULL,
                       err);
    json_decref(ep);
  }
  json_decref(current);
  json_decref(labels);
  json_decref(subsets);
  json_decref(svc);
  return rc;
}

/* ---------- start / stop ---------- */

static void *
ep_start(struct controller_context *ctx, k8c_err *err)
{
  struct ep_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  c->ep_res = api_resource_find("", "v1", "endpoints");
  c->svc_inf =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "services"), "", NULL, NULL);
  c->pod_inf =
      informer_factory_get(ctx->informers, api_resource_find("", "v1", "pods"), "", NULL, NULL);
  c->ep_inf = informer_factory_get(ctx->informers, c->ep_res, "", NULL, NULL);
  cu_add_namespace_index(c->svc_inf);
  cu_add_namespace_index(c->pod_inf);
  keyed_controller_init(
      &c->kc, &(struct keyed_controller_spec){
                  .name = "endpoints", .thread = "ctl-endpoints", .sync = sync_service, .arg = c});
  c->pod_router = (struct ep_pod_router){.services = c->svc_inf, .queue = c->kc.queue};
  struct informer_handlers svc_h = keyed_controller_key_handlers(c);
  struct informer_handlers pod_h = ep_pod_router_handlers(&c->pod_router);
  struct informer_handlers ep_h = {.on_delete = keyed_controller_enqueue, .ctx = c};
  keyed_controller_watch(&c->kc, c->svc_inf, &svc_h);
  keyed_controller_watch(&c->kc, c->pod_inf, &pod_h);
  keyed_controller_watch(&c->kc, c->ep_inf, &ep_h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 2), err) < 0) {
    ep_stop(c);
    return NULL;
  }
  return c;
}

static void
ep_stop(void *state)
{
  struct ep_controller *c = state;
  if (c == NULL)
    return;
  keyed_controller_stop(&c->kc);
  free(c);
}
