/* proxy_render_test.c — the service proxy's model (Service + EndpointSlices → ports and
 * endpoints), its renderer (golden nft text for typical Services) and the syncer's
 * incremental diffs, all without touching the kernel (the syncer runs with apply off). */
#include "lib/mem.h"
#include "proxy/proxy_model.h"
#include "proxy/proxy_render.h"
#include "proxy/proxy_sync.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static json_t *
json_of(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL) {
    fprintf(stderr, "bad JSON in test: %s: %s\n", jerr.text, text);
    abort();
  }
  return j;
}

static const char *const node_ips[] = {"192.168.1.10", NULL};
static const struct proxy_render_config cfg = {.table = "t",
                                               .cluster_cidr = "10.42.0.0/16",
                                               .service_cidr = "10.43.0.0/16",
                                               .masquerade_mark = 0x4000,
                                               .node_ips = node_ips};

#define WEB_SLICE                                                                                  \
  "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-1\",\"labels\":{\"kubernetes.io/"       \
  "service-name\":\"web\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080," \
  "\"protocol\":\"TCP\"}],\"endpoints\":["                                                         \
  "{\"addresses\":[\"10.42.1.7\"],\"conditions\":{\"ready\":true},\"nodeName\":\"n2\"},"           \
  "{\"addresses\":[\"10.42.0.5\"],\"conditions\":{\"ready\":true},\"nodeName\":\"n1\"},"           \
  "{\"addresses\":[\"10.42.0.6\"],\"conditions\":{\"ready\":false},\"nodeName\":\"n1\"}]}"

/* WEB_SLICE after 10.42.1.7 became unready. */
#define WEB_SLICE_ONE_LEFT                                                                         \
  "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-1\",\"labels\":{\"kubernetes.io/"       \
  "service-name\":\"web\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080," \
  "\"protocol\":\"TCP\"}],\"endpoints\":["                                                         \
  "{\"addresses\":[\"10.42.1.7\"],\"conditions\":{\"ready\":false},\"nodeName\":\"n2\"},"          \
  "{\"addresses\":[\"10.42.0.5\"],\"conditions\":{\"ready\":true},\"nodeName\":\"n1\"},"           \
  "{\"addresses\":[\"10.42.0.6\"],\"conditions\":{\"ready\":false},\"nodeName\":\"n1\"}]}"

/* Builds the model of a Service text with up to one slice text. */
static void
build(const char *svc_text, const char *slice_text, struct proxy_service *out)
{
  json_t *svc = json_of(svc_text);
  json_t *slice = slice_text ? json_of(slice_text) : NULL;
  proxy_service_build(svc, slice ? &slice : NULL, slice ? 1 : 0, "n1", out);
  json_decref(svc);
  json_decref(slice);
}

/* The fragment of a Service as the commands that create it in an empty table. */
static char *
render_text(const char *svc_text, const char *slice_text)
{
  struct proxy_service s;
  build(svc_text, slice_text, &s);
  struct proxy_fragment f;
  proxy_fragment_init(&f);
  proxy_render_service(&s, &cfg, NULL, NULL, &f);
  struct proxy_batch b;
  proxy_batch_init(&b);
  hashmap *shared = hashmap_new(), *refs = hashmap_new();
  proxy_batch_diff(&b, "t", NULL, &f, shared, refs);
  buf out;
  buf_init(&out);
  proxy_batch_text(&b, "t", &out);
  proxy_batch_free(&b);
  hashmap_free(shared, NULL);
  hashmap_free(refs, NULL);
  proxy_fragment_clear(&f);
  proxy_service_clear(&s);
  return buf_steal(&out, NULL);
}

/* ---------- model ---------- */

TEST(model_merges_slices_sorts_and_marks_local)
{
  struct proxy_service s;
  build("{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":"
        "\"10.43.0.20\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}",
        WEB_SLICE, &s);
  CHECK_STR(s.key, "default/web");
  CHECK_INT(s.n_ports, 1);
  struct proxy_service_port *p = &s.ports[0];
  CHECK_STR(p->name, "default/web/tcp/80");
  CHECK_STR(p->protocol, "tcp");
  CHECK_INT(p->n_endpoints, 3);
  CHECK_STR(p->endpoints[0].ip, "10.42.0.5");
  CHECK_STR(p->endpoints[2].ip, "10.42.1.7");
  CHECK_INT(p->endpoints[0].port, 8080);
  CHECK(p->endpoints[0].local && !p->endpoints[2].local);
  size_t idx[3];
  CHECK_INT(proxy_pick_endpoints(p, false, idx), 2); /* the unready one is left out */
  CHECK_INT(proxy_pick_endpoints(p, true, idx), 1);
  CHECK_INT(idx[0], 0);
  proxy_service_clear(&s);
}

TEST(model_uses_terminating_endpoints_only_without_ready_ones)
{
  struct proxy_service s;
  build("{\"metadata\":{\"namespace\":\"a\",\"name\":\"b\"},\"spec\":{\"clusterIP\":\"10.43.0.2\","
        "\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}}",
        "{\"addressType\":\"IPv4\",\"ports\":[{\"port\":5353,\"protocol\":\"UDP\"}],\"endpoints\":["
        "{\"addresses\":[\"10.42.0.9\"],\"conditions\":{\"ready\":false,\"serving\":true,"
        "\"terminating\":true}},"
        "{\"addresses\":[\"10.42.0.8\"],\"conditions\":{\"ready\":false,\"serving\":false,"
        "\"terminating\":true}}]}",
        &s);
  size_t idx[2];
  CHECK_INT(s.ports[0].n_endpoints, 2);
  CHECK_INT(proxy_pick_endpoints(&s.ports[0], false, idx), 1);
  CHECK_STR(s.ports[0].endpoints[idx[0]].ip, "10.42.0.9");
  CHECK_STR(s.ports[0].protocol, "udp");
  proxy_service_clear(&s);
}

TEST(model_ignores_headless_externalname_and_foreign_proxies)
{
  const char *texts[] = {
      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"h\"},\"spec\":{\"clusterIP\":\"None\","
      "\"ports\":[{\"port\":80}]}}",
      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"x\"},\"spec\":{\"type\":\"ExternalName\","
      "\"externalName\":\"example.com\"}}",
      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"o\",\"labels\":{\"service.kubernetes.io/"
      "service-proxy-name\":\"other\"}},\"spec\":{\"clusterIP\":\"10.43.0.3\",\"ports\":[{"
      "\"port\":80}]}}",
      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"bad\"},\"spec\":{\"clusterIP\":\"10.43.0.4\","
      "\"ports\":[{\"port\":70000},{\"port\":80,\"protocol\":\"ICMP\"},{\"port\":81}]}}",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    char *text = render_text(texts[i], NULL);
    CHECK_STR(text, i < 3 ? ""
                          : "add element ip t no-endpoint-services { 10.43.0.4 . tcp . 81 : goto "
                            "reject-chain }\nadd element ip t cluster-ips { 10.43.0.4 }\n");
    free(text);
  }
}

/* ---------- golden rendering ---------- */

TEST(render_clusterip_balances_ready_endpoints)
{
  char *text = render_text("{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{"
                           "\"clusterIP\":\"10.43.0.20\",\"ports\":[{\"name\":\"http\",\"port\":80}"
                           "]}}",
                           WEB_SLICE);
  CHECK_STR(text,
            "add chain ip t dnat-2\n"
            "add rule ip t dnat-2 dnat ip to ip daddr . meta l4proto . th dport . numgen random "
            "mod 2 map @cluster-endpoints\n"
            "add element ip t service-ips { 10.43.0.20 . tcp . 80 : goto dnat-2 }\n"
            "add element ip t cluster-endpoints { 10.43.0.20 . tcp . 80 . 0 : 10.42.0.5 . 8080, "
            "10.43.0.20 . tcp . 80 . 1 : 10.42.1.7 . 8080 }\n"
            "add element ip t cluster-ips { 10.43.0.20 }\n"
            "add element ip t hairpin { 10.42.0.5 . 10.42.0.5, 10.42.0.6 . 10.42.0.6 }\n");
  free(text);
}

TEST(render_nodeport_local_policy_and_loadbalancer)
{
  char *text = render_text(
      "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"type\":"
      "\"LoadBalancer\",\"clusterIP\":\"10.43.0.20\",\"externalTrafficPolicy\":\"Local\","
      "\"ports\":[{\"name\":\"http\",\"port\":80,\"nodePort\":30080}]},\"status\":{"
      "\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.168.1.10\"}]}}}",
      WEB_SLICE);
  CHECK_STR(text,
            "add chain ip t dnat-2\n"
            "add rule ip t dnat-2 dnat ip to ip daddr . meta l4proto . th dport . numgen random "
            "mod 2 map @cluster-endpoints\n"
            "add chain ip t local-1\n"
            "add rule ip t local-1 fib saddr type local jump mark-for-masquerade\n"
            "add rule ip t local-1 dnat ip to ip daddr . meta l4proto . th dport . numgen random "
            "mod 1 map @cluster-endpoints\n"
            "add chain ip t np-local-1\n"
            "add rule ip t np-local-1 fib saddr type local jump mark-for-masquerade\n"
            "add rule ip t np-local-1 dnat ip to meta l4proto . th dport . numgen random mod 1 map "
            "@nodeport-endpoints\n"
            "add element ip t service-ips { 10.43.0.20 . tcp . 80 : goto dnat-2, 192.168.1.10 . "
            "tcp . 80 : goto local-1 }\n"
            "add element ip t service-nodeports { tcp . 30080 : goto np-local-1 }\n"
            "add element ip t cluster-endpoints { 10.43.0.20 . tcp . 80 . 0 : 10.42.0.5 . 8080, "
            "10.43.0.20 . tcp . 80 . 1 : 10.42.1.7 . 8080, 192.168.1.10 . tcp . 80 . 0 : "
            "10.42.0.5 . 8080 }\n"
            "add element ip t nodeport-endpoints { tcp . 30080 . 0 : 10.42.0.5 . 8080 }\n"
            "add element ip t cluster-ips { 10.43.0.20 }\n"
            "add element ip t hairpin { 10.42.0.5 . 10.42.0.5, 10.42.0.6 . 10.42.0.6 }\n");
  free(text);
}

TEST(render_service_without_endpoints_rejects)
{
  char *text = render_text("{\"metadata\":{\"namespace\":\"a\",\"name\":\"e\"},\"spec\":{\"type\":"
                           "\"NodePort\",\"clusterIP\":\"10.43.0.9\",\"ports\":[{\"port\":80,"
                           "\"nodePort\":30001,\"protocol\":\"SCTP\"}]}}",
                           NULL);
  CHECK_STR(text, "add element ip t no-endpoint-services { 10.43.0.9 . sctp . 80 : goto "
                  "reject-chain }\n"
                  "add element ip t no-endpoint-nodeports { sctp . 30001 : goto reject-chain }\n"
                  "add element ip t cluster-ips { 10.43.0.9 }\n");
  free(text);
}

TEST(render_internal_local_without_local_endpoints_drops)
{
  char *text = render_text("{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{"
                           "\"clusterIP\":\"10.43.0.20\",\"internalTrafficPolicy\":\"Local\","
                           "\"ports\":[{\"name\":\"http\",\"port\":80}]}}",
                           "{\"metadata\":{\"namespace\":\"default\",\"name\":\"w\"},\"ports\":[{"
                           "\"name\":\"http\",\"port\":8080}],\"endpoints\":[{\"addresses\":["
                           "\"10.42.1.7\"],\"nodeName\":\"n2\"}]}");
  CHECK_STR(text, "add element ip t no-endpoint-services { 10.43.0.20 . tcp . 80 : drop }\n"
                  "add element ip t cluster-ips { 10.43.0.20 }\n");
  free(text);
}

TEST(render_session_affinity_keeps_per_endpoint_chains)
{
  char *text = render_text(
      "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":"
      "\"10.43.0.20\",\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":{"
      "\"timeoutSeconds\":60}},\"ports\":[{\"name\":\"http\",\"port\":80}]}}",
      "{\"metadata\":{\"namespace\":\"default\",\"name\":\"w\"},\"ports\":[{\"name\":\"http\","
      "\"port\":8080}],\"endpoints\":[{\"addresses\":[\"10.42.1.7\"],\"nodeName\":\"n2\"},{"
      "\"addresses\":[\"10.42.1.8\"],\"nodeName\":\"n2\"}]}");
  CHECK(strstr(text, "add set ip t aff60-default/web/tcp/80__10.42.1.7/8080 { type ipv4_addr ; "
                     "flags dynamic,timeout ; timeout 60s ; }\n") != NULL);
  CHECK(strstr(text, "add rule ip t svc-default/web/tcp/80 ip saddr "
                     "@aff60-default/web/tcp/80__10.42.1.8/8080 goto "
                     "ep-default/web/tcp/80__10.42.1.8/8080\n") != NULL);
  CHECK(strstr(text,
               "add rule ip t svc-default/web/tcp/80 numgen random mod 2 == 0 goto "
               "ep-default/web/tcp/80__10.42.1.7/8080\nadd rule ip t "
               "svc-default/web/tcp/80 goto ep-default/web/tcp/80__10.42.1.8/8080\n") != NULL);
  CHECK(strstr(text, "add rule ip t ep-default/web/tcp/80__10.42.1.7/8080 update "
                     "@aff60-default/web/tcp/80__10.42.1.7/8080 { ip saddr }\nadd rule ip t "
                     "ep-default/web/tcp/80__10.42.1.7/8080 meta l4proto tcp dnat ip to "
                     "10.42.1.7:8080\n") != NULL);
  CHECK(strstr(text, "add element ip t service-ips { 10.43.0.20 . tcp . 80 : goto "
                     "svc-default/web/tcp/80 }\n") != NULL);
  CHECK(strstr(text, "cluster-endpoints") == NULL);
  free(text);
}

/* ---------- incremental syncs ---------- */

static void
update_one(proxy_syncer *s, const char *svc_text, const char *slice_text)
{
  struct proxy_service ps;
  build(svc_text, slice_text, &ps);
  k8c_err err = {0};
  CHECK_INT(proxy_syncer_update(s, &ps, 1, &err), 0);
  proxy_service_clear(&ps);
}

#define WEB_SVC                                                                                    \
  "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":"            \
  "\"10.43.0.20\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}"

TEST(sync_update_rewrites_only_what_changed)
{
  proxy_syncer *s = proxy_syncer_new(&cfg, false);
  k8c_err err = {0};
  CHECK_INT(proxy_syncer_full(s, NULL, 0, &err), 0);
  CHECK(strstr(proxy_syncer_last_batch(s), "delete table ip t\n") != NULL);
  update_one(s, WEB_SVC, WEB_SLICE);
  update_one(s, WEB_SVC, WEB_SLICE);
  CHECK_STR(proxy_syncer_last_batch(s), ""); /* nothing changed, nothing written */

  /* 10.42.1.7 becomes unready: one endpoint left, the entry moves to dnat-1 and only the
   * element of the endpoint that went away is deleted. */
  update_one(s, WEB_SVC, WEB_SLICE_ONE_LEFT);
  CHECK_STR(proxy_syncer_last_batch(s),
            "add chain ip t dnat-1\n"
            "add rule ip t dnat-1 dnat ip to ip daddr . meta l4proto . th dport . numgen random "
            "mod 1 map @cluster-endpoints\n"
            "delete element ip t service-ips { 10.43.0.20 . tcp . 80 }\n"
            "delete element ip t cluster-endpoints { 10.43.0.20 . tcp . 80 . 1 }\n"
            "add element ip t service-ips { 10.43.0.20 . tcp . 80 : goto dnat-1 }\n");

  /* Deleting the Service removes everything it added. */
  struct proxy_service gone = {.key = xstrdup("default/web")};
  CHECK_INT(proxy_syncer_update(s, &gone, 1, &err), 0);
  proxy_service_clear(&gone);
  CHECK_STR(proxy_syncer_last_batch(s),
            "delete element ip t service-ips { 10.43.0.20 . tcp . 80 }\n"
            "delete element ip t cluster-endpoints { 10.43.0.20 . tcp . 80 . 0 }\n"
            "delete element ip t cluster-ips { 10.43.0.20 }\n"
            "delete element ip t hairpin { 10.42.0.5 . 10.42.0.5, 10.42.0.6 . 10.42.0.6 }\n");
  proxy_syncer_free(s);
}

TEST(sync_shared_hairpin_elements_are_counted)
{
  proxy_syncer *s = proxy_syncer_new(&cfg, false);
  k8c_err err = {0};
  CHECK_INT(proxy_syncer_full(s, NULL, 0, &err), 0);
  update_one(s, WEB_SVC, WEB_SLICE);
  /* A second Service over the same pods adds no hairpin element ... */
  const char *other = "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web2\"},\"spec\":{"
                      "\"clusterIP\":\"10.43.0.21\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}";
  update_one(s, other, WEB_SLICE);
  CHECK(strstr(proxy_syncer_last_batch(s), "hairpin") == NULL);
  /* ... and removing it deletes none. */
  struct proxy_service gone = {.key = xstrdup("default/web2")};
  CHECK_INT(proxy_syncer_update(s, &gone, 1, &err), 0);
  proxy_service_clear(&gone);
  CHECK(strstr(proxy_syncer_last_batch(s), "hairpin") == NULL);
  CHECK(strstr(proxy_syncer_last_batch(s), "delete element ip t cluster-ips { 10.43.0.21 }") !=
        NULL);
  proxy_syncer_free(s);
}

TEST(sync_conflicting_entry_waits_for_its_owner)
{
  proxy_syncer *s = proxy_syncer_new(&cfg, false);
  k8c_err err = {0};
  CHECK_INT(proxy_syncer_full(s, NULL, 0, &err), 0);
  free(proxy_syncer_take_retries(s));
  const char *a = "{\"metadata\":{\"namespace\":\"a\",\"name\":\"a\"},\"spec\":{\"type\":"
                  "\"NodePort\",\"clusterIP\":\"10.43.0.30\",\"ports\":[{\"port\":80,"
                  "\"nodePort\":30080}]}}";
  const char *b = "{\"metadata\":{\"namespace\":\"a\",\"name\":\"b\"},\"spec\":{\"type\":"
                  "\"NodePort\",\"clusterIP\":\"10.43.0.31\",\"ports\":[{\"port\":80,"
                  "\"nodePort\":30080}]}}";
  update_one(s, a, NULL);
  update_one(s, b, NULL);
  CHECK(strstr(proxy_syncer_last_batch(s), "30080") == NULL);
  CHECK(proxy_syncer_take_retries(s) == NULL); /* nothing released yet */
  struct proxy_service gone = {.key = xstrdup("a/a")};
  CHECK_INT(proxy_syncer_update(s, &gone, 1, &err), 0);
  proxy_service_clear(&gone);
  char **retry = proxy_syncer_take_retries(s);
  CHECK(retry && retry[0] && strcmp(retry[0], "a/b") == 0 && retry[1] == NULL);
  for (char **r = retry; r && *r; r++)
    free(*r);
  free(retry);
  update_one(s, b, NULL);
  CHECK(strstr(proxy_syncer_last_batch(s),
               "add element ip t no-endpoint-nodeports { tcp . 30080 : goto reject-chain }") !=
        NULL);
  proxy_syncer_free(s);
}

TEST(base_ruleset_owns_one_table)
{
  buf b;
  buf_init(&b);
  proxy_render_base(&cfg, &b);
  const char *text = buf_cstr(&b);
  CHECK(strncmp(text, "add table ip t\ndelete table ip t\nadd table ip t", 47) == 0);
  CHECK(strstr(text, "add rule ip t services ip daddr @cluster-ips ip saddr != 10.42.0.0/16 "
                     "jump mark-for-masquerade\n") != NULL);
  CHECK(strstr(text, "add element ip t nodeport-ips { 192.168.1.10 }\n") != NULL);
  CHECK(strstr(text, "add rule ip t mark-for-masquerade meta mark set meta mark | 0x4000\n") !=
        NULL);
  /* every command names table t, nothing else */
  for (const char *line = text; *line; line = strchr(line, '\n') + 1)
    CHECK(strncmp(strchr(line, ' ') + 1, "table ip t", 10) == 0 || strstr(line, " ip t ") != NULL);
  buf_free(&b);
}

TEST(local_service_ip_is_exempt_from_the_unallocated_drop)
{
  buf b;
  buf_init(&b);
  proxy_render_base(&cfg, &b);
  CHECK(strstr(buf_cstr(&b), "cluster-ips-check ip daddr 10.43.0.0/16 drop\n") != NULL);
  CHECK(strstr(buf_cstr(&b), "cluster-ips-check ip daddr 10.43.0.10 return") == NULL);
  buf_free(&b);
  struct proxy_render_config with_dns = cfg;
  with_dns.local_service_ip = "10.43.0.10";
  buf_init(&b);
  proxy_render_base(&with_dns, &b);
  const char *text = buf_cstr(&b);
  const char *ret = strstr(text, "add rule ip t cluster-ips-check ip daddr 10.43.0.10 return\n");
  const char *drop = strstr(text, "add rule ip t cluster-ips-check ip daddr 10.43.0.0/16 drop\n");
  CHECK(ret != NULL && drop != NULL && ret < drop);
  buf_free(&b);
  with_dns.local_service_ip = "10.43.0.10 } ; flush ruleset ; {"; /* not an address: ignored */
  buf_init(&b);
  proxy_render_base(&with_dns, &b);
  CHECK(strstr(buf_cstr(&b), "flush") == NULL);
  buf_free(&b);
}

TEST_MAIN()
