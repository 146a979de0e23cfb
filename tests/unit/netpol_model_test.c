/* netpol_model_test.c — the NetworkPolicy model: which local pods a policy selects,
 * policyTypes defaulting, peers (podSelector, namespaceSelector, both, ipBlock with
 * except, empty from/to), numeric ports with endPort, and named ports resolved on the
 * right pods (ingress: the selected pod; egress: the peer pods). No kernel. */
#include "lib/buf.h"
#include "lib/mem.h"
#include "netpol/netpol_model.h"
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

/* A pod text: namespace, name, labels JSON, node, IP ("" = none), container ports JSON. */
static json_t *
pod(const char *ns, const char *name, const char *labels, const char *node, const char *ip,
    const char *ports)
{
  char text[1024];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"labels\":%s},"
           "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"ports\":%s}]},"
           "\"status\":{\"phase\":\"Running\"%s%s%s}}",
           ns, name, labels, node, ports ? ports : "[]", *ip ? ",\"podIP\":\"" : "", ip,
           *ip ? "\"" : "");
  return json_of(text);
}

struct world_fixture {
  json_t *pods[16];
  size_t n;
  json_t *ns[4];
  hashmap *ns_labels;
  struct netpol_world w;
};

static void
world_init(struct world_fixture *f)
{
  memset(f, 0, sizeof *f);
  f->pods[f->n++] = pod("default", "web-1", "{\"app\":\"web\"}", "n1", "10.42.0.10",
                        "[{\"name\":\"http\",\"containerPort\":8080},"
                        "{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]");
  f->pods[f->n++] = pod("default", "web-2", "{\"app\":\"web\"}", "n2", "10.42.1.10",
                        "[{\"name\":\"http\",\"containerPort\":9090}]");
  f->pods[f->n++] = pod("default", "db", "{\"app\":\"db\"}", "n1", "10.42.0.11", NULL);
  f->pods[f->n++] = pod("default", "web-pending", "{\"app\":\"web\"}", "n1", "", NULL);
  f->pods[f->n++] = pod("front", "ui", "{\"app\":\"ui\"}", "n2", "10.42.1.20", NULL);
  f->pods[f->n++] = pod("front", "web-front", "{\"app\":\"web\"}", "n1", "10.42.0.20", NULL);
  f->pods[f->n++] = pod("other", "x", "{\"app\":\"ui\"}", "n1", "10.42.0.30", NULL);
  json_t *host = pod("default", "web-host", "{\"app\":\"web\"}", "n1", "192.168.0.5", NULL);
  json_object_set_new(json_object_get(host, "spec"), "hostNetwork", json_true());
  f->pods[f->n++] = host;
  f->ns_labels = hashmap_new();
  f->ns[0] = json_of("{\"kubernetes.io/metadata.name\":\"default\"}");
  f->ns[1] = json_of("{\"role\":\"frontend\"}");
  f->ns[2] = json_of("{\"role\":\"other\"}");
  hashmap_put(f->ns_labels, "default", f->ns[0]);
  hashmap_put(f->ns_labels, "front", f->ns[1]);
  hashmap_put(f->ns_labels, "other", f->ns[2]);
  f->w = (struct netpol_world){
      .pods = f->pods, .n_pods = f->n, .ns_labels = f->ns_labels, .node_name = "n1"};
}

static void
world_free(struct world_fixture *f)
{
  for (size_t i = 0; i < f->n; i++)
    json_decref(f->pods[i]);
  for (int i = 0; i < 3; i++)
    json_decref(f->ns[i]);
  hashmap_free(f->ns_labels, NULL);
}

static void
build(struct world_fixture *f, const char *spec, struct netpol_policy *out)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"namespace\":\"default\",\"name\":\"p\"},\"spec\":%s}", spec);
  json_t *policy = json_of(text);
  netpol_policy_build("default/p", policy, &f->w, out);
  json_decref(policy);
}

/* The peers of a rule as text: "10.0.0.1 10.0.0.2-10.0.0.9". */
static char *
peers_text(const struct netpol_rule *r)
{
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < r->n_peers; i++) {
    char lo[16], hi[16];
    netpol_ip_string(r->peers[i].lo, lo);
    netpol_ip_string(r->peers[i].hi, hi);
    if (r->peers[i].lo == r->peers[i].hi)
      buf_printf(&b, "%s%s", i ? " " : "", lo);
    else
      buf_printf(&b, "%s%s-%s", i ? " " : "", lo, hi);
  }
  return buf_steal(&b, NULL) ?: xstrdup("");
}

TEST(selects_local_pods_with_ips_in_its_namespace)
{
  struct world_fixture f;
  world_init(&f);
  struct netpol_policy p;
  build(&f, "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}", &p);
  /* web-1 only: web-2 is on another node, web-pending has no IP, web-front is in
   * another namespace, web-host uses the host's network. */
  CHECK_INT((int)p.n_selected, 1);
  CHECK(p.n_selected == 1 && p.selected[0] == 0x0a2a000a);
  netpol_policy_clear(&p);

  build(&f, "{\"podSelector\":{}}", &p); /* every local pod of the namespace */
  CHECK_INT((int)p.n_selected, 2);
  netpol_policy_clear(&p);

  f.w.node_name = NULL; /* no node: every pod is local */
  build(&f, "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}", &p);
  CHECK_INT((int)p.n_selected, 2);
  netpol_policy_clear(&p);
  world_free(&f);
}

TEST(policy_types_default_as_upstream)
{
  struct world_fixture f;
  world_init(&f);
  struct netpol_policy p;
  build(&f, "{\"podSelector\":{}}", &p);
  CHECK(p.types[NP_INGRESS] && !p.types[NP_EGRESS]);
  CHECK_INT((int)p.n_rules[NP_INGRESS], 0); /* no rules: deny all ingress */
  netpol_policy_clear(&p);

  build(&f, "{\"podSelector\":{},\"egress\":[{}]}", &p);
  CHECK(p.types[NP_INGRESS] && p.types[NP_EGRESS]);
  CHECK_INT((int)p.n_rules[NP_EGRESS], 1);
  CHECK(p.rules[NP_EGRESS][0].any_peer && p.rules[NP_EGRESS][0].any_port);
  netpol_policy_clear(&p);

  build(&f, "{\"podSelector\":{},\"egress\":[]}", &p); /* an empty list is no rules */
  CHECK(p.types[NP_INGRESS] && !p.types[NP_EGRESS]);
  netpol_policy_clear(&p);

  /* Listed types win; rules of an unlisted type are ignored. */
  build(&f, "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],\"ingress\":[{}]}", &p);
  CHECK(!p.types[NP_INGRESS] && p.types[NP_EGRESS]);
  CHECK_INT((int)p.n_rules[NP_INGRESS], 0);
  CHECK_INT((int)p.n_rules[NP_EGRESS], 0);
  netpol_policy_clear(&p);

  struct netpol_policy gone;
  netpol_policy_build("default/gone", NULL, &f.w, &gone);
  CHECK(!gone.types[NP_INGRESS] && !gone.types[NP_EGRESS]);
  CHECK_STR(gone.key, "default/gone");
  netpol_policy_clear(&gone);
  world_free(&f);
}

TEST(peers_by_pod_namespace_both_and_ip_block)
{
  struct world_fixture f;
  world_init(&f);
  struct netpol_policy p;
  build(
      &f,
      "{\"podSelector\":{},\"ingress\":["
      "{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]},"
      "{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"role\":\"frontend\"}}}]},"
      "{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"app\":\"ui\"}}}]},"
      "{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.1.0.0/16\","
      "\"10.255.255.0/24\",\"11.0.0.0/8\"]}}]},"
      "{\"from\":[]},"
      "{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"role\":\"frontend\"}},"
      "\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}",
      &p);
  CHECK_INT((int)p.n_rules[NP_INGRESS], 6);
  if (p.n_rules[NP_INGRESS] == 6) {
    const struct netpol_rule *r = p.rules[NP_INGRESS];
    char *t;
    /* podSelector alone: this namespace only, any node, never hostNetwork pods */
    CHECK_STR(t = peers_text(&r[0]), "10.42.0.10 10.42.1.10");
    free(t);
    /* namespaceSelector alone: every pod of the matching namespaces */
    CHECK_STR(t = peers_text(&r[1]), "10.42.0.20 10.42.1.20");
    free(t);
    /* both: app=ui pods in every namespace */
    CHECK_STR(t = peers_text(&r[2]), "10.42.0.30 10.42.1.20");
    free(t);
    /* ipBlock minus except (an except outside the block is ignored) */
    CHECK_STR(t = peers_text(&r[3]), "10.0.0.0-10.0.255.255 10.2.0.0-10.255.254.255");
    free(t);
    CHECK(r[4].any_peer && !r[0].any_peer);
    CHECK(r[4].any_port);
    /* both, with a namespace selector that narrows */
    CHECK_STR(t = peers_text(&r[5]), "10.42.0.20");
    free(t);
  }
  netpol_policy_clear(&p);
  world_free(&f);
}

TEST(ports_numeric_ranges_and_named_ports)
{
  struct world_fixture f;
  world_init(&f);
  struct netpol_policy p;
  build(&f,
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"ports\":["
        "{\"port\":80},{\"protocol\":\"UDP\",\"port\":1000,\"endPort\":2000},"
        "{\"protocol\":\"UDP\",\"port\":1500,\"endPort\":2500},{\"protocol\":\"SCTP\"},"
        "{\"port\":\"http\"},{\"port\":\"dns\"},{\"protocol\":\"UDP\",\"port\":\"dns\"}]}],"
        "\"egress\":[{\"to\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}],"
        "\"ports\":[{\"port\":\"http\"}]},{\"ports\":[{\"port\":\"http\"}]}]}",
        &p);
  CHECK(p.types[NP_EGRESS]);
  const struct netpol_rule *in = p.rules[NP_INGRESS];
  CHECK(!in->any_port && in->has_named);
  /* tcp 80; udp 1000-2500 merged; sctp everything */
  CHECK_INT((int)in->n_ports, 3);
  if (in->n_ports == 3) {
    CHECK(in->ports[0].proto == NP_PROTO_TCP && in->ports[0].lo == 80 && in->ports[0].hi == 80);
    CHECK(in->ports[1].proto == NP_PROTO_UDP && in->ports[1].lo == 1000 && in->ports[1].hi == 2500);
    CHECK(in->ports[2].proto == NP_PROTO_SCTP && in->ports[2].lo == 0 && in->ports[2].hi == 65535);
  }
  /* named, on the selected pod web-1 only: http → tcp 8080; "dns" over TCP does not
   * exist (the container port is UDP); dns over UDP → 53. */
  CHECK_INT((int)in->n_named, 2);
  if (in->n_named == 2) {
    CHECK(in->named[0].ip == 0x0a2a000a && in->named[0].proto == NP_PROTO_TCP &&
          in->named[0].lo == 8080);
    CHECK(in->named[1].proto == NP_PROTO_UDP && in->named[1].lo == 53);
  }
  /* egress: resolved on the peers (web-1: 8080, web-2: 9090), not on the source */
  const struct netpol_rule *out = p.rules[NP_EGRESS];
  CHECK_INT((int)out[0].n_named, 2);
  if (out[0].n_named == 2) {
    CHECK(out[0].named[0].ip == 0x0a2a000a && out[0].named[0].lo == 8080);
    CHECK(out[0].named[1].ip == 0x0a2a010a && out[0].named[1].lo == 9090);
  }
  CHECK_INT((int)out[0].n_ports, 0);
  /* to every destination: every pod that has the named port */
  CHECK(out[1].any_peer);
  CHECK_INT((int)out[1].n_named, 2);
  netpol_policy_clear(&p);

  /* A named port no pod has: the rule allows nothing (has_named, no elements). */
  build(&f,
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"ingress\":[{\"ports\":"
        "[{\"port\":\"http\"}]}]}",
        &p);
  CHECK(p.rules[NP_INGRESS][0].has_named && p.rules[NP_INGRESS][0].n_named == 0);
  CHECK(!p.rules[NP_INGRESS][0].any_port && p.rules[NP_INGRESS][0].n_ports == 0);
  netpol_policy_clear(&p);
  world_free(&f);
}

TEST(crossing_namespaces_is_detected)
{
  json_t *a = json_of("{\"spec\":{\"ingress\":[{\"from\":[{\"namespaceSelector\":{}}]}]}}");
  json_t *b = json_of("{\"spec\":{\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}}");
  json_t *c = json_of("{\"spec\":{\"egress\":[{\"ports\":[{\"port\":\"http\"}]}]}}");
  CHECK(netpol_policy_crosses_namespaces(a));
  CHECK(!netpol_policy_crosses_namespaces(b));
  CHECK(netpol_policy_crosses_namespaces(c));
  json_decref(a);
  json_decref(b);
  json_decref(c);
}

TEST(pod_addresses)
{
  json_t *p = json_of("{\"status\":{\"podIPs\":[{\"ip\":\"fd00::1\"},{\"ip\":\"10.1.2.3\"}]}}");
  CHECK(netpol_pod_ipv4(p) == 0x0a010203);
  json_decref(p);
  p = json_of("{\"status\":{\"podIP\":\"10.1.2.3\",\"phase\":\"Succeeded\"}}");
  CHECK(netpol_pod_ipv4(p) == 0);
  json_decref(p);
}

TEST_MAIN()
