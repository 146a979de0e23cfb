/* netpol_render_test.c — golden nft text for the seed's allow-web policy (the base
 * ruleset, its chain and sets), and the syncer's incremental diffs: a pod or label change
 * moves only set elements, a policy change rewrites only its chain, shared set elements
 * are reference-counted, a deleted policy takes its chains and sets along. No kernel (the
 * syncer runs with apply off). */
#include "lib/mem.h"
#include "netpol/netpol_render.h"
#include "netpol/netpol_sync.h"
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

#define ALLOW_WEB                                                                                  \
  "{\"metadata\":{\"namespace\":\"default\",\"name\":\"allow-web\"},\"spec\":{\"podSelector\":{"   \
  "\"matchLabels\":{\"app\":\"web\"}},\"policyTypes\":[\"Ingress\"],\"ingress\":[{\"from\":[{"     \
  "\"namespaceSelector\":{\"matchLabels\":{\"role\":\"frontend\"}}}],\"ports\":[{\"protocol\":"    \
  "\"TCP\",\"port\":80}]}]}}"

#define POD(ns, name, labels, node, ip)                                                            \
  "{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\",\"labels\":" labels "},"          \
  "\"spec\":{\"nodeName\":\"" node "\"},\"status\":{\"podIP\":\"" ip "\"}}"

struct fixture {
  json_t *pods[8];
  size_t n;
  json_t *frontend;
  hashmap *ns_labels;
  struct netpol_world w;
};

static void
fixture_init(struct fixture *f)
{
  memset(f, 0, sizeof *f);
  f->pods[f->n++] = json_of(POD("default", "web", "{\"app\":\"web\"}", "n1", "10.42.0.10"));
  f->pods[f->n++] = json_of(POD("front", "ui", "{}", "n2", "10.42.1.20"));
  f->pods[f->n++] = json_of(POD("other", "x", "{}", "n1", "10.42.0.30"));
  f->frontend = json_of("{\"role\":\"frontend\"}");
  f->ns_labels = hashmap_new();
  hashmap_put(f->ns_labels, "front", f->frontend);
  f->w = (struct netpol_world){f->pods, f->n, f->ns_labels, "n1"};
}

static void
fixture_free(struct fixture *f)
{
  for (size_t i = 0; i < f->n; i++)
    json_decref(f->pods[i]);
  json_decref(f->frontend);
  hashmap_free(f->ns_labels, NULL);
}

static void
build(struct fixture *f, const char *key, const char *text, struct netpol_policy *out)
{
  json_t *policy = text ? json_of(text) : NULL;
  f->w.pods = f->pods;
  f->w.n_pods = f->n;
  netpol_policy_build(key, policy, &f->w, out);
  json_decref(policy);
}

static const uint32_t local2[] = {0x0a2a000a, 0x0a2a001e};

TEST(allow_web_full_sync_golden)
{
  struct fixture f;
  fixture_init(&f);
  struct netpol_policy p;
  build(&f, "default/allow-web", ALLOW_WEB, &p);
  netpol_syncer *s = netpol_syncer_new("t", false);
  k8c_err err = {0};
  CHECK_INT(netpol_syncer_full(s, &p, 1, local2, 2, &err), 0);
  CHECK_STR(netpol_syncer_last_batch(s),
            "add table ip t\n"
            "delete table ip t\n"
            "add table ip t\n"
            "add set ip t ingress-isolated { type ipv4_addr ; }\n"
            "add set ip t egress-isolated { type ipv4_addr ; }\n"
            "add set ip t self { type ipv4_addr . ipv4_addr ; }\n"
            "add chain ip t ingress-policies\n"
            "add chain ip t egress-policies\n"
            "add chain ip t egress-check { type filter hook forward priority filter - 1 ; "
            "policy accept ; }\n"
            "add rule ip t egress-check ct state established,related accept\n"
            "add rule ip t egress-check ip saddr != @egress-isolated accept\n"
            "add rule ip t egress-check ip saddr . ip daddr @self accept\n"
            "add rule ip t egress-check jump egress-policies\n"
            "add rule ip t egress-check drop\n"
            "add chain ip t ingress-check { type filter hook forward priority filter ; "
            "policy accept ; }\n"
            "add rule ip t ingress-check ct state established,related accept\n"
            "add rule ip t ingress-check ip daddr != @ingress-isolated accept\n"
            "add rule ip t ingress-check ip saddr . ip daddr @self accept\n"
            "add rule ip t ingress-check fib saddr type local accept\n"
            "add rule ip t ingress-check jump ingress-policies\n"
            "add rule ip t ingress-check drop\n"
            "add set ip t np0-i0-peers { type ipv4_addr ; flags interval ; }\n"
            "add set ip t np0-i0-ports { type inet_proto . inet_service ; flags interval ; }\n"
            "add set ip t np0-sel { type ipv4_addr ; }\n"
            "add chain ip t np0-ingress\n"
            "add rule ip t np0-ingress ip daddr @np0-sel ip saddr @np0-i0-peers meta l4proto . "
            "th dport @np0-i0-ports accept\n"
            "flush chain ip t ingress-policies\n"
            "add rule ip t ingress-policies jump np0-ingress\n"
            "add element ip t ingress-isolated { 10.42.0.10 }\n"
            "add element ip t np0-i0-peers { 10.42.1.20 }\n"
            "add element ip t np0-i0-ports { tcp . 80 }\n"
            "add element ip t np0-sel { 10.42.0.10 }\n"
            "add element ip t self { 10.42.0.10 . 10.42.0.10, 10.42.0.30 . 10.42.0.30 }\n");
  netpol_policy_clear(&p);

  /* A new frontend pod: one element, nothing else. */
  f.pods[f.n++] = json_of(POD("front", "ui-2", "{}", "n3", "10.42.2.7"));
  build(&f, "default/allow-web", ALLOW_WEB, &p);
  CHECK_INT(netpol_syncer_update(s, &p, 1, local2, 2, &err), 0);
  CHECK_STR(netpol_syncer_last_batch(s), "add element ip t np0-i0-peers { 10.42.2.7 }\n");
  netpol_policy_clear(&p);

  /* Nothing changed: an empty transaction. */
  build(&f, "default/allow-web", ALLOW_WEB, &p);
  CHECK_INT(netpol_syncer_update(s, &p, 1, local2, 2, &err), 0);
  CHECK_STR(netpol_syncer_last_batch(s), "");
  netpol_policy_clear(&p);

  /* The web pod loses its label: it leaves the selection and the isolated set. */
  json_object_set_new(json_object_get(json_object_get(f.pods[0], "metadata"), "labels"), "app",
                      json_string("old"));
  build(&f, "default/allow-web", ALLOW_WEB, &p);
  CHECK_INT(netpol_syncer_update(s, &p, 1, local2, 2, &err), 0);
  CHECK_STR(netpol_syncer_last_batch(s), "delete element ip t ingress-isolated { 10.42.0.10 }\n"
                                         "delete element ip t np0-sel { 10.42.0.10 }\n");
  netpol_policy_clear(&p);

  /* Deleted: its chain leaves the dispatch chain, then chain and sets go. */
  build(&f, "default/allow-web", NULL, &p);
  CHECK_INT(netpol_syncer_update(s, &p, 1, local2, 1, &err), 0);
  CHECK_STR(netpol_syncer_last_batch(s), "delete element ip t self { 10.42.0.30 . 10.42.0.30 }\n"
                                         "flush chain ip t ingress-policies\n"
                                         "flush chain ip t np0-ingress\n"
                                         "delete chain ip t np0-ingress\n"
                                         "delete set ip t np0-i0-peers\n"
                                         "delete set ip t np0-i0-ports\n"
                                         "delete set ip t np0-sel\n");
  netpol_policy_clear(&p);
  netpol_syncer_free(s);
  fixture_free(&f);
}

TEST(egress_named_ports_ipblock_and_shared_elements)
{
  struct fixture f;
  fixture_init(&f);
  json_object_set_new(json_object_get(f.pods[1], "spec"), "containers",
                      json_of("[{\"name\":\"c\",\"ports\":[{\"name\":\"http\","
                              "\"containerPort\":8080}]}]"));
  netpol_syncer *s = netpol_syncer_new("t", false);
  k8c_err err = {0};
  CHECK_INT(netpol_syncer_full(s, NULL, 0, local2, 2, &err), 0);

  struct netpol_policy p[2];
  build(&f, "default/a",
        "{\"metadata\":{\"namespace\":\"default\",\"name\":\"a\"},\"spec\":{\"podSelector\":{},"
        "\"egress\":[{\"to\":[{\"namespaceSelector\":{}}],\"ports\":[{\"port\":\"http\"},"
        "{\"protocol\":\"UDP\",\"port\":53}]},{\"to\":[{\"ipBlock\":{\"cidr\":\"192.168.0.0/16\","
        "\"except\":[\"192.168.1.0/24\"]}}]}]}}",
        &p[0]);
  build(&f, "default/b",
        "{\"metadata\":{\"namespace\":\"default\",\"name\":\"b\"},\"spec\":{\"podSelector\":{},"
        "\"policyTypes\":[\"Egress\"]}}",
        &p[1]);
  CHECK_INT(netpol_syncer_update(s, p, 2, local2, 2, &err), 0);
  CHECK_STR(netpol_syncer_last_batch(s),
            "add set ip t np0-e0-named { type ipv4_addr . inet_proto . inet_service ; flags "
            "interval ; }\n"
            "add set ip t np0-e0-peers { type ipv4_addr ; flags interval ; }\n"
            "add set ip t np0-e0-ports { type inet_proto . inet_service ; flags interval ; }\n"
            "add set ip t np0-e1-peers { type ipv4_addr ; flags interval ; }\n"
            "add set ip t np0-sel { type ipv4_addr ; }\n"
            "add chain ip t np0-egress\n"
            "add chain ip t np0-ingress\n"
            "add set ip t np1-sel { type ipv4_addr ; }\n"
            "add chain ip t np1-egress\n"
            "add rule ip t np0-egress ip saddr @np0-sel ip daddr @np0-e0-peers meta l4proto . th "
            "dport @np0-e0-ports accept\n"
            "add rule ip t np0-egress ip saddr @np0-sel ip daddr . meta l4proto . th dport "
            "@np0-e0-named accept\n"
            "add rule ip t np0-egress ip saddr @np0-sel ip daddr @np0-e1-peers accept\n"
            "flush chain ip t ingress-policies\n"
            "add rule ip t ingress-policies jump np0-ingress\n"
            "flush chain ip t egress-policies\n"
            "add rule ip t egress-policies jump np0-egress\n"
            "add rule ip t egress-policies jump np1-egress\n"
            "add element ip t egress-isolated { 10.42.0.10 }\n"
            "add element ip t ingress-isolated { 10.42.0.10 }\n"
            "add element ip t np0-e0-named { 10.42.1.20 . tcp . 8080 }\n"
            "add element ip t np0-e0-peers { 10.42.0.10, 10.42.0.30, 10.42.1.20 }\n"
            "add element ip t np0-e0-ports { udp . 53 }\n"
            "add element ip t np0-e1-peers { 192.168.0.0-192.168.0.255, "
            "192.168.2.0-192.168.255.255 }\n"
            "add element ip t np0-sel { 10.42.0.10 }\n"
            "add element ip t np1-sel { 10.42.0.10 }\n");
  netpol_policy_clear(&p[0]);
  netpol_policy_clear(&p[1]);

  /* b goes: 10.42.0.10 stays egress-isolated (a still selects it). */
  build(&f, "default/b", NULL, &p[1]);
  CHECK_INT(netpol_syncer_update(s, &p[1], 1, local2, 2, &err), 0);
  CHECK(strstr(netpol_syncer_last_batch(s), "egress-isolated {") == NULL);
  CHECK(strstr(netpol_syncer_last_batch(s), "delete chain ip t np1-egress\n") != NULL);
  netpol_policy_clear(&p[1]);
  netpol_syncer_free(s);
  fixture_free(&f);
}

TEST_MAIN()
