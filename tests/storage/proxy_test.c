/* proxy_test.c — the service proxy against a real registry and the real kernel: the
 * whole test runs in a network namespace of its own (unshare at start; the host's
 * interfaces and nftables tables are never seen), with a private table name. It checks
 * the rules (`nft -j list table`) after creates, updates and deletes, and real traffic
 * from the node and from pods: balance over ready endpoints, NodePort, session affinity,
 * reject without endpoints, hairpin. Needs root (fails loudly without it). */
#include "client_fixture.h"
#include "proxy/proxy.h"
#include "proxy_netns.h"

#include <sched.h>

#define TABLE "k8ctest"
#define NODE_IP "192.168.77.1"
#define N_PODS 4

static struct test_pod pods[N_PODS];

/* `nft -j list map` of one map or set of the table: its JSON text (caller frees), or NULL. */
static char *
nft_list(const char *kind, const char *name)
{
  char cmd[256];
  snprintf(cmd, sizeof cmd, "nft -j list %s ip %s %s", kind, TABLE, name);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return NULL;
  json_error_t jerr;
  json_t *j = json_loadf(p, 0, &jerr);
  pclose(p);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return text;
}

/* Waits up to 5 s until `nft -j list` of the map contains (or, want false, lacks) needle. */
static bool
wait_nft(const char *map, const char *needle, bool want)
{
  for (int i = 0; i < 100; i++) {
    char *text = nft_list("map", map);
    bool has = text && strstr(text, needle) != NULL;
    free(text);
    if (has == want)
      return true;
    usleep(50 * 1000);
  }
  return false;
}

static json_t *
create(struct client_fixture *f, const char *plural, const char *group, const char *text)
{
  const struct api_resource *res = api_resource_find(group, "v1", plural);
  json_t *obj = json_of(text), *out = NULL;
  k8c_err err = {0};
  if (client_create(f->client, res, "default", obj, NULL, &out, &err) < 0)
    fprintf(stderr, "create %s: %s\n", plural, err.message);
  k8c_err_clear(&err);
  json_decref(obj);
  return out;
}

static json_t *
update(struct client_fixture *f, const char *plural, const char *group, json_t *obj)
{
  const struct api_resource *res = api_resource_find(group, "v1", plural);
  json_t *out = NULL;
  k8c_err err = {0};
  if (client_update(f->client, res, "default", NULL, obj, NULL, &out, &err) < 0)
    fprintf(stderr, "update %s: %s\n", plural, err.message);
  k8c_err_clear(&err);
  return out;
}

/* A slice for service svc with pods [first, first+n) on port 8080; unready: bit mask. */
static char *
slice_text(const char *name, const char *svc, int first, int n, unsigned unready)
{
  buf b;
  buf_init(&b);
  buf_printf(&b,
             "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{"
             "\"name\":\"%s\",\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},"
             "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":%d,\"protocol\":"
             "\"TCP\"}],\"endpoints\":[",
             name, svc, POD_PORT);
  for (int i = first; i < first + n; i++)
    buf_printf(&b,
               "%s{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":%s},\"nodeName\":\"node-a\"}",
               i > first ? "," : "", pods[i].ip, (unready >> i) & 1 ? "false" : "true");
  buf_puts(&b, "]}");
  return buf_steal(&b, NULL);
}

static const char *
str_path(const json_t *obj, const char *a, const char *b)
{
  return json_string_value(json_object_get(json_object_get(obj, a), b));
}

/* Connects n times from the node; per-pod counts and errors. */
static void
spread(const char *ip, int port, int n, int *counts, int *errors)
{
  memset(counts, 0, sizeof(int) * NETNS_MAX_PODS);
  *errors = 0;
  for (int i = 0; i < n; i++) {
    char reply[64];
    int k;
    if (netns_connect(ip, port, 2000, reply, sizeof reply) == 0 &&
        sscanf(reply, "pod-%d", &k) == 1 && k >= 0 && k < NETNS_MAX_PODS)
      counts[k]++;
    else
      (*errors)++;
  }
}

static bool
wait_applied(struct service_proxy *p, const json_t *obj)
{
  char key[300];
  snprintf(key, sizeof key, "default/%s", name_of(obj));
  const char *svc_label = json_string_value(json_object_get(
      json_object_get(json_object_get(obj, "metadata"), "labels"), "kubernetes.io/service-name"));
  if (svc_label)
    snprintf(key, sizeof key, "default/%s", svc_label);
  return proxy_wait_applied(p, key, str_path(obj, "metadata", "resourceVersion"), 5000);
}

static void
run_scenarios(struct client_fixture *f, struct service_proxy *p)
{
  int counts[NETNS_MAX_PODS], errors;
  CHECK(proxy_wait_synced(p, 10000));

  /* ---------- ClusterIP + NodePort over pods 0..2, pod 3 unready ---------- */
  json_t *web = create(f, "services", "",
                       "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"type\":\"NodePort\","
                       "\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,"
                       "\"targetPort\":8080}]}}");
  char *text = slice_text("web-1", "web", 0, 4, 1u << 3);
  json_t *web_slice = create(f, "endpointslices", "discovery.k8s.io", text);
  free(text);
  CHECK(web && web_slice);
  if (!web || !web_slice)
    return;
  CHECK(wait_applied(p, web_slice));
  const char *cip = str_path(web, "spec", "clusterIP");
  int node_port = (int)json_integer_value(json_object_get(
      json_array_get(json_object_get(json_object_get(web, "spec"), "ports"), 0), "nodePort"));
  char needle[128];
  snprintf(needle, sizeof needle,
           "{\"concat\":[\"%s\",\"tcp\",80]},{\"goto\":{\"target\":\"dnat-3\"}}", cip);
  char *listing = nft_list("map", "service-ips");
  CHECK(listing && strstr(listing, needle));
  free(listing);
  listing = nft_list("map", "cluster-endpoints");
  CHECK(listing && strstr(listing, "\"10.42.0.11\",8080") && !strstr(listing, "10.42.0.14"));
  free(listing);

  /* Random choice per connection: over 300 connections a share lands outside ±15% of even
   * about one time in six by chance alone (binomial sd 8.2 against a margin of 15), so
   * the test draws 1,500: the same ±15% margin is then 4 sd, and a miss means a bias. */
  spread(cip, 80, 1500, counts, &errors);
  CHECK_INT(errors, 0);
  for (int i = 0; i < 3; i++)
    CHECK(counts[i] >= 425 && counts[i] <= 575); /* ±15% of an even 500 */
  CHECK_INT(counts[3], 0);
  fprintf(stderr, "clusterIP spread: %d %d %d %d\n", counts[0], counts[1], counts[2], counts[3]);

  spread(NODE_IP, node_port, 30, counts, &errors);
  CHECK_INT(errors, 0);
  CHECK(counts[0] > 0 && counts[1] > 0 && counts[2] > 0 && counts[3] == 0);

  /* Hairpin: pod 1 reaches the Service, and so itself, without a failure. */
  int pod_counts[NETNS_MAX_PODS] = {0}, pod_errors = 0;
  CHECK_INT(netns_pod_connect(&pods[1], cip, 80, 30, pod_counts, &pod_errors), 0);
  fprintf(stderr, "from pod-1: %d %d %d %d, %d errors\n", pod_counts[0], pod_counts[1],
          pod_counts[2], pod_counts[3], pod_errors);
  if (pod_errors || !pod_counts[1])
    CHECK_INT(system("nft list table ip " TABLE " >&2; nft list set ip " TABLE " hairpin >&2"), 0);
  CHECK_INT(pod_errors, 0);
  CHECK(pod_counts[1] > 0);

  /* ---------- an update: pod 0 unready → it gets nothing ---------- */
  text = slice_text("web-1", "web", 0, 4, (1u << 3) | 1u);
  json_t *changed = json_of(text);
  free(text);
  json_object_set(json_object_get(changed, "metadata"), "resourceVersion",
                  json_object_get(json_object_get(web_slice, "metadata"), "resourceVersion"));
  json_t *updated = update(f, "endpointslices", "discovery.k8s.io", changed);
  json_decref(changed);
  CHECK(updated && wait_applied(p, updated));
  json_decref(updated);
  spread(cip, 80, 60, counts, &errors);
  CHECK_INT(errors, 0);
  CHECK(counts[0] == 0 && counts[1] > 0 && counts[2] > 0 && counts[3] == 0);

  /* End to end (API write → informer → nft commit): 20 endpoint flips, each bounded. */
  json_t *last = NULL;
  CHECK(client_get(f->client, api_resource_find("discovery.k8s.io", "v1", "endpointslices"),
                   "default", "web-1", &last, &(k8c_err){0}) == 0);
  long long worst = 0;
  for (int i = 0; i < 20 && last; i++) {
    text = slice_text("web-1", "web", 0, 4, (1u << 3) | (i % 2 ? 1u : 0u));
    changed = json_of(text);
    free(text);
    json_object_set(json_object_get(changed, "metadata"), "resourceVersion",
                    json_object_get(json_object_get(last, "metadata"), "resourceVersion"));
    long long t0 = fixture_now_ms();
    json_t *next = update(f, "endpointslices", "discovery.k8s.io", changed);
    json_decref(changed);
    CHECK(next && wait_applied(p, next));
    long long took = fixture_now_ms() - t0;
    worst = took > worst ? took : worst;
    json_decref(last);
    last = next;
  }
  json_decref(last);
  fprintf(stderr, "endpoint change, API write to rules applied: worst of 20 = %lld ms\n", worst);
  CHECK(worst < 1000);

  /* ---------- sessionAffinity: every connection of a client sticks ---------- */
  json_t *sticky = create(f, "services", "",
                          "{\"metadata\":{\"name\":\"sticky\"},\"spec\":{\"selector\":{\"app\":"
                          "\"web\"},\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"name\":"
                          "\"http\",\"port\":81,\"targetPort\":8080}]}}");
  text = slice_text("sticky-1", "sticky", 0, 3, 0);
  json_t *sticky_slice = create(f, "endpointslices", "discovery.k8s.io", text);
  free(text);
  CHECK(sticky && sticky_slice && wait_applied(p, sticky_slice));
  if (sticky) {
    spread(str_path(sticky, "spec", "clusterIP"), 81, 20, counts, &errors);
    CHECK_INT(errors, 0);
    CHECK((counts[0] == 20) + (counts[1] == 20) + (counts[2] == 20) == 1);
  }

  /* ---------- no endpoints: rejected at once ---------- */
  json_t *empty = create(f, "services", "",
                         "{\"metadata\":{\"name\":\"empty\"},\"spec\":{\"selector\":{\"app\":"
                         "\"none\"},\"ports\":[{\"port\":82}]}}");
  CHECK(empty && wait_applied(p, empty));
  if (empty) {
    long long t0 = fixture_now_ms();
    char reply[16];
    CHECK_INT(netns_connect(str_path(empty, "spec", "clusterIP"), 82, 3000, reply, sizeof reply),
              -ECONNREFUSED);
    fprintf(stderr, "rejected after %lld ms\n", fixture_now_ms() - t0);
    CHECK(fixture_now_ms() - t0 < 1000);
  }

  /* ---------- delete: the Service's elements go ---------- */
  k8c_err err = {0};
  CHECK_INT(client_delete(f->client, api_resource_find("", "v1", "services"), "default", "web",
                          NULL, NULL, NULL, &err),
            0);
  k8c_err_clear(&err);
  snprintf(needle, sizeof needle, "\"%s\",\"tcp\",80", cip);
  CHECK(wait_nft("service-ips", needle, false));
  CHECK(wait_nft("cluster-endpoints", needle, false));
  char port_needle[32];
  snprintf(port_needle, sizeof port_needle, "\"tcp\",%d", node_port);
  CHECK(wait_nft("service-nodeports", port_needle, false));
  /* the others stay */
  CHECK(wait_nft("service-ips", "\"tcp\",81", true));

  /* ---------- idle: the nft context is let go, and the next change opens one ---------- */
  struct proxy_sync_stats st = {.nft_open = true};
  for (int i = 0; i < 100 && st.nft_open; i++) {
    usleep(50 * 1000);
    proxy_stats(p, &st);
  }
  CHECK(!st.nft_open);
  json_t *late = create(f, "services", "",
                        "{\"metadata\":{\"name\":\"late\"},\"spec\":{\"selector\":{\"app\":"
                        "\"none\"},\"ports\":[{\"port\":83}]}}");
  CHECK(late && wait_applied(p, late));
  CHECK(wait_nft("no-endpoint-services", "\"tcp\",83", true));
  json_decref(late);

  json_decref(web);
  json_decref(web_slice);
  json_decref(sticky);
  json_decref(sticky_slice);
  json_decref(empty);
}

TEST(proxy_programs_rules_and_carries_traffic)
{
  if (geteuid() != 0) {
    testlib_fail(__FILE__, __LINE__, "the proxy test needs root (network namespaces, nftables)");
    return;
  }
  /* Before any thread exists: this process (and every thread it starts) gets a network of
   * its own; pods are forked now, while forking is still safe. */
  CHECK_INT(unshare(CLONE_NEWNET), 0);
  CHECK_INT(netns_node_setup(NODE_IP), 0);
  int started = 0;
  for (; started < N_PODS; started++)
    if (netns_pod_start(&pods[started], started) != 0)
      break;
  CHECK_INT(started, N_PODS);

  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  const char *node_ips[] = {NODE_IP, NULL};
  struct proxy_config cfg = {.node_name = "node-a",
                             .node_ips = node_ips,
                             .cluster_cidr = "10.42.0.0/16",
                             .service_cidr = "10.43.0.0/16",
                             .table = TABLE};
  k8c_err err = {0};
  struct service_proxy *p = started == N_PODS ? proxy_start(f.client, NULL, &cfg, &err) : NULL;
  CHECK(p != NULL);
  if (p)
    run_scenarios(&f, p);
  proxy_stop(p);
  k8c_err_clear(&err);
  client_fixture_close(&f);
  for (int i = 0; i < started; i++)
    netns_pod_stop(&pods[i]);
  CHECK_INT(system("nft delete table ip " TABLE), 0);
}

TEST_MAIN()
