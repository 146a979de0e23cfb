/* controller_endpoints_test.c — the EndpointSlice and Endpoints controllers against a
 * real registry, with the test playing the kubelet (it writes pod status itself): ready
 * and unready pods, publishNotReadyAddresses, named targetPorts resolving to different
 * numbers, headless services, terminating pods, selectorless services left alone, and
 * cleanup on service deletion. State is compared as short summaries, polled until the
 * controllers converge. */
#include "apimachinery/meta.h"
#include "client/informer.h"
#include "client_fixture.h"
#include "controllers/controller.h"
#include "lib/buf.h"

#include <unistd.h>

extern const struct controller_def endpointslice_controller_def, endpoints_controller_def;

struct ep_fixture {
  struct client_fixture f;
  informer_factory *inf;
  void *slices_state, *endpoints_state;
  const struct api_resource *pods, *svcs, *eps, *slices, *nodes;
};

static void
ep_fixture_open(struct ep_fixture *x)
{
  CHECK_INT(client_fixture_open(&x->f), 0);
  x->pods = api_resource_find("", "v1", "pods");
  x->svcs = api_resource_find("", "v1", "services");
  x->eps = api_resource_find("", "v1", "endpoints");
  x->nodes = api_resource_find("", "v1", "nodes");
  x->slices = api_resource_find("discovery.k8s.io", "v1", "endpointslices");
  x->inf = informer_factory_new(x->f.client, 0);
  struct controller_context ctx = {
      .client = x->f.client, .informers = x->inf, .cfg = {.workers = 2}};
  k8c_err err = {0};
  x->slices_state = endpointslice_controller_def.start(&ctx, &err);
  CHECK(x->slices_state != NULL);
  x->endpoints_state = endpoints_controller_def.start(&ctx, &err);
  CHECK(x->endpoints_state != NULL);
  CHECK_INT(informer_factory_start(x->inf, &err), 0);
  CHECK(informer_factory_wait_synced(x->inf, 5000));
}

static void
ep_fixture_close(struct ep_fixture *x)
{
  endpointslice_controller_def.stop(x->slices_state);
  endpoints_controller_def.stop(x->endpoints_state);
  informer_factory_free(x->inf);
  client_fixture_close(&x->f);
}

static void
create(struct ep_fixture *x, const struct api_resource *res, const char *ns, const char *text)
{
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(x->f.client, res, ns, obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
create_pod(struct ep_fixture *x, const char *name, const char *labels, const char *ports)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"labels\":%s,\"finalizers\":[\"test/hold\"]},"
           "\"spec\":{\"nodeName\":\"node-a\",\"containers\":[{\"name\":\"c\",\"image\":\"i\","
           "\"ports\":%s}]}}",
           name, labels, ports ? ports : "[]");
  create(x, x->pods, "default", text);
}

/* Writes the pod's status as a kubelet would: Running with podIP, Ready or not. */
static void
set_pod_status(struct ep_fixture *x, const char *name, const char *ip, bool ready)
{
  json_t *pod = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x->f.client, x->pods, "default", name, &pod, &err), 0);
  json_t *status = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "phase", "Running", "podIP", ip,
                             "conditions", "type", "Ready", "status", ready ? "True" : "False");
  json_object_set_new(pod, "status", status);
  int rc = client_update_status(x->f.client, x->pods, "default", name, pod, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "update_status: %s\n", err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(pod);
}

static void
delete_obj(struct ep_fixture *x, const struct api_resource *res, const char *name)
{
  k8c_err err = {0};
  CHECK_INT(client_delete(x->f.client, res, "default", name, NULL, NULL, NULL, &err), 0);
  k8c_err_clear(&err);
}

static void
add_port_summary(buf *b, const json_t *ports)
{
  size_t i;
  json_t *p;
  buf_puts(b, "[");
  json_array_foreach ((json_t *)ports, i, p) {
    const char *name = json_string_value(json_object_get(p, "name"));
    buf_printf(b, "%s%s:%lld", i ? "," : "", name && *name ? name : "-",
               (long long)json_integer_value(json_object_get(p, "port")));
  }
  buf_puts(b, "]");
}

/* The Endpoints `name` as "[ports] ip,ip | notready ip;..." or "none". Caller frees. */
static char *
endpoints_summary(struct ep_fixture *x, const char *name)
{
  json_t *ep = NULL;
  k8c_err err = {0};
  if (client_get(x->f.client, x->eps, "default", name, &ep, &err) < 0) {
    k8c_err_clear(&err);
    return xstrdup("none");
  }
  buf b;
  buf_init(&b);
  size_t i, j;
  json_t *s, *a;
  json_array_foreach (json_object_get(ep, "subsets"), i, s) {
    if (i)
      buf_puts(&b, "; ");
    add_port_summary(&b, json_object_get(s, "ports"));
    json_array_foreach (json_object_get(s, "addresses"), j, a) {
      buf_printf(&b, " %s", json_string_value(json_object_get(a, "ip")));
    }
    if (json_array_size(json_object_get(s, "notReadyAddresses")) > 0)
      buf_puts(&b, " | notready");
    json_array_foreach (json_object_get(s, "notReadyAddresses"), j, a) {
      buf_printf(&b, " %s", json_string_value(json_object_get(a, "ip")));
    }
  }
  json_decref(ep);
  char *out = xstrdup(buf_cstr(&b));
  buf_free(&b);
  return out;
}

static int
compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* svc's slices (sorted) as "[ports] ip(rst) ...; ..." where r/s/t are the ready, serving
 * and terminating conditions as 1/0, or "none". Caller frees. */
static char *
slices_summary(struct ep_fixture *x, const char *svc)
{
  char sel[128];
  snprintf(sel, sizeof sel, "kubernetes.io/service-name=%s", svc);
  struct client_list_opts o = {.label_selector = sel};
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->slices, "default", &o, &list, &err), 0);
  json_t *items = json_object_get(list, "items");
  size_t n = json_array_size(items);
  if (n == 0) {
    json_decref(list);
    return xstrdup("none");
  }
  char **parts = xcalloc(n, sizeof *parts);
  for (size_t i = 0; i < n; i++) {
    json_t *slice = json_array_get(items, i);
    buf b;
    buf_init(&b);
    add_port_summary(&b, json_object_get(slice, "ports"));
    size_t j;
    json_t *e;
    json_array_foreach (json_object_get(slice, "endpoints"), j, e) {
      json_t *cond = json_object_get(e, "conditions");
      buf_printf(&b, " %s(%d%d%d)",
                 json_string_value(json_array_get(json_object_get(e, "addresses"), 0)),
                 json_is_true(json_object_get(cond, "ready")),
                 json_is_true(json_object_get(cond, "serving")),
                 json_is_true(json_object_get(cond, "terminating")));
    }
    parts[i] = xstrdup(buf_cstr(&b));
    buf_free(&b);
  }
  qsort(parts, n, sizeof *parts, compare_strings);
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    buf_printf(&b, "%s%s", i ? "; " : "", parts[i]);
    free(parts[i]);
  }
  free(parts);
  json_decref(list);
  char *out = xstrdup(buf_cstr(&b));
  buf_free(&b);
  return out;
}

/* Polls until the summary equals want (up to 5 s); prints the last one on failure. */
#define EXPECT_SUMMARY(fn, x, name, want)                                                          \
  do {                                                                                             \
    char *got_ = NULL;                                                                             \
    bool sok_ = WAIT_UNTIL_STR(got_, fn(x, name), want);                                           \
    if (!sok_)                                                                                     \
      fprintf(stderr, "%s(%s): got \"%s\", want \"%s\"\n", #fn, name, got_, want);                 \
    free(got_);                                                                                    \
    CHECK(sok_);                                                                                   \
  } while (0)

#define WAIT_UNTIL_STR(var, expr, want)                                                            \
  ({                                                                                               \
    long long deadline_ = fixture_now_ms() + 5000;                                                 \
    bool ok_ = false;                                                                              \
    for (;;) {                                                                                     \
      free(var);                                                                                   \
      var = (expr);                                                                                \
      if ((ok_ = strcmp(var, want) == 0) || fixture_now_ms() > deadline_)                          \
        break;                                                                                     \
      usleep(10000);                                                                               \
    }                                                                                              \
    ok_;                                                                                           \
  })

static const char *web_svc =
    "{\"metadata\":{\"name\":\"web\",\"labels\":{\"tier\":\"front\"}},\"spec\":{\"selector\":"
    "{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080}]}}";

TEST(ready_and_unready_pods)
{
  struct ep_fixture x;
  ep_fixture_open(&x);
  create(
      &x, x.nodes, "",
      "{\"metadata\":{\"name\":\"node-a\",\"labels\":{\"topology.kubernetes.io/zone\":\"z1\"}}}");
  create(&x, x.svcs, "default", web_svc);
  EXPECT_SUMMARY(endpoints_summary, &x, "web", "");
  EXPECT_SUMMARY(slices_summary, &x, "web", "[]");
  create_pod(&x, "p1", "{\"app\":\"web\"}", NULL);
  create_pod(&x, "p2", "{\"app\":\"web\"}", NULL);
  create_pod(&x, "other", "{\"app\":\"db\"}", NULL);
  set_pod_status(&x, "p1", "10.1.0.1", true);
  set_pod_status(&x, "p2", "10.1.0.2", false);
  set_pod_status(&x, "other", "10.1.0.9", true);
  EXPECT_SUMMARY(endpoints_summary, &x, "web", "[http:8080] 10.1.0.1 | notready 10.1.0.2");
  EXPECT_SUMMARY(slices_summary, &x, "web", "[http:8080] 10.1.0.1(110) 10.1.0.2(000)");

  /* The slice's metadata and the endpoint details. */
  struct client_list_opts o = {.label_selector = "kubernetes.io/service-name=web"};
  json_t *list = NULL, *svc = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x.f.client, x.slices, "default", &o, &list, &err), 0);
  CHECK_INT(client_get(x.f.client, x.svcs, "default", "web", &svc, &err), 0);
  json_t *slice = json_array_get(json_object_get(list, "items"), 0);
  CHECK(strncmp(meta_name(slice), "web-", 4) == 0 && strlen(meta_name(slice)) == 9);
  CHECK_STR(json_string_value(json_object_get(slice, "addressType")), "IPv4");
  CHECK_JSON(meta_labels(slice),
             "{\"tier\":\"front\",\"kubernetes.io/service-name\":\"web\","
             "\"endpointslice.kubernetes.io/managed-by\":\"endpointslice-controller.k8s.io\"}");
  json_t *ref = json_array_get(json_object_get(meta_get(slice), "ownerReferences"), 0);
  CHECK_STR(json_string_value(json_object_get(ref, "kind")), "Service");
  CHECK_STR(json_string_value(json_object_get(ref, "uid")), meta_uid(svc));
  json_t *ep0 = json_array_get(json_object_get(slice, "endpoints"), 0);
  CHECK_STR(json_string_value(json_object_get(ep0, "nodeName")), "node-a");
  CHECK_STR(json_string_value(json_object_get(ep0, "zone")), "z1");
  CHECK_STR(json_string_value(json_object_get(json_object_get(ep0, "targetRef"), "name")), "p1");
  CHECK_STR(json_string_value(json_object_get(json_object_get(ep0, "targetRef"), "kind")), "Pod");
  json_decref(list);
  json_decref(svc);

  /* Readiness flips move the addresses; a resourceVersion that stays put shows no
   * needless writes. */
  set_pod_status(&x, "p2", "10.1.0.2", true);
  set_pod_status(&x, "p1", "10.1.0.1", false);
  EXPECT_SUMMARY(endpoints_summary, &x, "web", "[http:8080] 10.1.0.2 | notready 10.1.0.1");
  EXPECT_SUMMARY(slices_summary, &x, "web", "[http:8080] 10.1.0.1(000) 10.1.0.2(110)");
  json_t *before = NULL, *after = NULL, *slices_before = NULL, *slices_after = NULL;
  CHECK_INT(client_get(x.f.client, x.eps, "default", "web", &before, &err), 0);
  CHECK_INT(client_list(x.f.client, x.slices, "default", &o, &slices_before, &err), 0);
  set_pod_status(&x, "other", "10.1.0.10", true);
  usleep(300000);
  CHECK_INT(client_get(x.f.client, x.eps, "default", "web", &after, &err), 0);
  CHECK_INT(client_list(x.f.client, x.slices, "default", &o, &slices_after, &err), 0);
  CHECK_STR(meta_resource_version(after), meta_resource_version(before));
  json_t *s0 = json_array_get(json_object_get(slices_before, "items"), 0);
  json_t *s1 = json_array_get(json_object_get(slices_after, "items"), 0);
  CHECK_STR(meta_resource_version(s1), meta_resource_version(s0));
  json_decref(before);
  json_decref(after);
  json_decref(slices_before);
  json_decref(slices_after);

  /* A terminating pod: in the slice as terminating, out of Endpoints. */
  delete_obj(&x, x.pods, "p2");
  EXPECT_SUMMARY(endpoints_summary, &x, "web", "[http:8080] | notready 10.1.0.1");
  EXPECT_SUMMARY(slices_summary, &x, "web", "[http:8080] 10.1.0.1(000) 10.1.0.2(011)");

  /* Deleting the service removes both. */
  delete_obj(&x, x.svcs, "web");
  EXPECT_SUMMARY(endpoints_summary, &x, "web", "none");
  EXPECT_SUMMARY(slices_summary, &x, "web", "none");
  ep_fixture_close(&x);
}

TEST(publish_not_ready_addresses)
{
  struct ep_fixture x;
  ep_fixture_open(&x);
  create(&x, x.svcs, "default",
         "{\"metadata\":{\"name\":\"pub\"},\"spec\":{\"publishNotReadyAddresses\":true,"
         "\"selector\":{\"app\":\"pub\"},\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}}");
  create_pod(&x, "a", "{\"app\":\"pub\"}", NULL);
  set_pod_status(&x, "a", "10.2.0.1", false);
  EXPECT_SUMMARY(endpoints_summary, &x, "pub", "[-:53] 10.2.0.1");
  EXPECT_SUMMARY(slices_summary, &x, "pub", "[-:53] 10.2.0.1(100)");
  ep_fixture_close(&x);
}

TEST(named_target_ports_split_slices)
{
  struct ep_fixture x;
  ep_fixture_open(&x);
  create(&x, x.svcs, "default",
         "{\"metadata\":{\"name\":\"named\"},\"spec\":{\"selector\":{\"app\":\"n\"},"
         "\"ports\":[{\"name\":\"web\",\"port\":80,\"targetPort\":\"web-port\"}]}}");
  create_pod(&x, "a", "{\"app\":\"n\"}", "[{\"name\":\"web-port\",\"containerPort\":8080}]");
  create_pod(&x, "b", "{\"app\":\"n\"}", "[{\"name\":\"web-port\",\"containerPort\":9090}]");
  create_pod(&x, "c", "{\"app\":\"n\"}", "[{\"name\":\"web-port\",\"containerPort\":8080}]");
  set_pod_status(&x, "a", "10.3.0.1", true);
  set_pod_status(&x, "b", "10.3.0.2", true);
  set_pod_status(&x, "c", "10.3.0.3", true);
  EXPECT_SUMMARY(endpoints_summary, &x, "named",
                 "[web:8080] 10.3.0.1 10.3.0.3; [web:9090] 10.3.0.2");
  EXPECT_SUMMARY(slices_summary, &x, "named",
                 "[web:8080] 10.3.0.1(110) 10.3.0.3(110); [web:9090] 10.3.0.2(110)");
  ep_fixture_close(&x);
}

TEST(headless_service)
{
  struct ep_fixture x;
  ep_fixture_open(&x);
  create(&x, x.svcs, "default",
         "{\"metadata\":{\"name\":\"hl\"},\"spec\":{\"clusterIP\":\"None\","
         "\"selector\":{\"app\":\"hl\"},\"ports\":[{\"name\":\"p\",\"port\":7000}]}}");
  create_pod(&x, "a", "{\"app\":\"hl\"}", NULL);
  set_pod_status(&x, "a", "10.4.0.1", true);
  EXPECT_SUMMARY(endpoints_summary, &x, "hl", "[p:7000] 10.4.0.1");
  EXPECT_SUMMARY(slices_summary, &x, "hl", "[p:7000] 10.4.0.1(110)");
  json_t *ep = NULL;
  k8c_err err = {0};
  CHECK_INT(client_get(x.f.client, x.eps, "default", "hl", &ep, &err), 0);
  CHECK(json_object_get(meta_labels(ep), "service.kubernetes.io/headless") != NULL);
  json_decref(ep);
  ep_fixture_close(&x);
}

TEST(selectorless_services_left_alone)
{
  struct ep_fixture x;
  ep_fixture_open(&x);
  create(&x, x.svcs, "default",
         "{\"metadata\":{\"name\":\"ext\"},\"spec\":{\"ports\":[{\"port\":80}]}}");
  create(&x, x.eps, "default",
         "{\"metadata\":{\"name\":\"ext\"},\"subsets\":[{\"addresses\":[{\"ip\":\"192.0.2.1\"}],"
         "\"ports\":[{\"port\":80}]}]}");
  /* A selector service synced after it shows the controllers have run. */
  create(&x, x.svcs, "default", web_svc);
  EXPECT_SUMMARY(endpoints_summary, &x, "web", "");
  EXPECT_SUMMARY(slices_summary, &x, "web", "[]");
  EXPECT_SUMMARY(endpoints_summary, &x, "ext", "[-:80] 192.0.2.1");
  EXPECT_SUMMARY(slices_summary, &x, "ext", "none");
  ep_fixture_close(&x);
}

/* svc's slices as their endpoint counts, sorted ("100,20"). Caller frees. */
static char *
slice_sizes(struct ep_fixture *x, const char *svc)
{
  char sel[128];
  snprintf(sel, sizeof sel, "kubernetes.io/service-name=%s", svc);
  struct client_list_opts o = {.label_selector = sel};
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x->f.client, x->slices, "default", &o, &list, &err), 0);
  size_t n = json_array_size(json_object_get(list, "items"));
  char **parts = xcalloc(n ? n : 1, sizeof *parts);
  for (size_t i = 0; i < n; i++) {
    json_t *slice = json_array_get(json_object_get(list, "items"), i);
    parts[i] = xasprintf("%03zu", json_array_size(json_object_get(slice, "endpoints")));
  }
  qsort(parts, n, sizeof *parts, compare_strings);
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    buf_printf(&b, "%s%s", i ? "," : "", parts[i]);
    free(parts[i]);
  }
  free(parts);
  json_decref(list);
  char *out = xstrdup(buf_cstr(&b));
  buf_free(&b);
  return out;
}

TEST(at_most_100_endpoints_per_slice_and_deleted_slices_come_back)
{
  struct ep_fixture x;
  ep_fixture_open(&x);
  create(&x, x.svcs, "default", web_svc);
  for (int i = 0; i < 130; i++) {
    char name[32], ip[32];
    snprintf(name, sizeof name, "p%03d", i);
    snprintf(ip, sizeof ip, "10.5.%d.%d", i / 200, i % 200 + 1);
    create_pod(&x, name, "{\"app\":\"web\"}", NULL);
    set_pod_status(&x, name, ip, true);
  }
  EXPECT_SUMMARY(slice_sizes, &x, "web", "030,100");
  /* A slice deleted behind the controller's back is replaced. */
  struct client_list_opts o = {.label_selector = "kubernetes.io/service-name=web"};
  json_t *list = NULL;
  k8c_err err = {0};
  CHECK_INT(client_list(x.f.client, x.slices, "default", &o, &list, &err), 0);
  delete_obj(&x, x.slices, meta_name(json_array_get(json_object_get(list, "items"), 0)));
  json_decref(list);
  EXPECT_SUMMARY(slice_sizes, &x, "web", "030,100");
  ep_fixture_close(&x);
}

TEST_MAIN()
