/* dns_answer_test.c — the record index and query answering: ClusterIP and headless
 * Services, endpoint hostnames, SRV with additional records, PTR, ExternalName, pod
 * names, NXDOMAIN vs NODATA with the SOA, truncation, malformed queries. */
#include "dns/dns_answer.h"
#include "dns/dns_index.h"
#include "dns_testutil.h"
#include "testlib.h"

#include <jansson.h>
#include <stdlib.h>

#define ZONE "cluster.local"

static json_t *
parse(const char *text)
{
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  if (j == NULL) {
    fprintf(stderr, "bad JSON: %s: %s\n", e.text, text);
    abort();
  }
  return j;
}

static const char *services_json[] = {
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"10.43.0.20\",\"clusterIPs\":[\"10.43.0.20\"],\"ports\":[{\"name\":\"http\",\"port\":80,"
    "\"protocol\":\"TCP\"},{\"port\":8080,\"protocol\":\"TCP\"}]}}",
    "{\"metadata\":{\"name\":\"db\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\","
    "\"ports\":[{\"name\":\"pg\",\"port\":5432,\"protocol\":\"TCP\"}]}}",
    "{\"metadata\":{\"name\":\"lonely\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"None\"}}",
    "{\"metadata\":{\"name\":\"pnr\",\"namespace\":\"other\"},\"spec\":{\"clusterIP\":\"None\","
    "\"publishNotReadyAddresses\":true}}",
    "{\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},\"spec\":{\"type\":"
    "\"ExternalName\",\"externalName\":\"Example.org.\"}}",
    "{\"metadata\":{\"name\":\"alias\",\"namespace\":\"default\"},\"spec\":{\"type\":"
    "\"ExternalName\",\"externalName\":\"web.default.svc.cluster.local\"}}",
    "{\"metadata\":{\"name\":\"dual\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"10.43.0.30\",\"clusterIPs\":[\"10.43.0.30\",\"fd00:43::30\"]}}",
};

static const char *slices_json[] = {
    "{\"metadata\":{\"name\":\"db-abc\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"db\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":"
    "\"pg\",\"port\":5432,\"protocol\":\"TCP\"}],\"endpoints\":["
    "{\"addresses\":[\"10.42.0.5\"],\"hostname\":\"db-0\",\"conditions\":{\"ready\":true}},"
    "{\"addresses\":[\"10.42.1.6\"],\"hostname\":\"db-1\",\"conditions\":{\"ready\":true}},"
    "{\"addresses\":[\"10.42.2.7\"],\"hostname\":\"db-2\",\"conditions\":{\"ready\":false}},"
    "{\"addresses\":[\"10.42.0.9\"],\"conditions\":{}}]}",
    "{\"metadata\":{\"name\":\"web-x\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":"
    "\"http\",\"port\":8000,\"protocol\":\"TCP\"}],\"endpoints\":["
    "{\"addresses\":[\"10.42.3.3\"],\"conditions\":{\"ready\":true}}]}",
    "{\"metadata\":{\"name\":\"pnr-1\",\"namespace\":\"other\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"pnr\"}},\"addressType\":\"IPv4\",\"endpoints\":["
    "{\"addresses\":[\"10.42.4.4\"],\"conditions\":{\"ready\":false}}]}",
    "{\"metadata\":{\"name\":\"orphan\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"gone\"}},\"addressType\":\"IPv4\",\"endpoints\":["
    "{\"addresses\":[\"10.42.5.5\"]}]}",
};

static struct dns_index *
build_index(void)
{
  json_t *svcs[16], *slices[16];
  size_t ns = sizeof services_json / sizeof *services_json;
  size_t nsl = sizeof slices_json / sizeof *slices_json;
  for (size_t i = 0; i < ns; i++)
    svcs[i] = parse(services_json[i]);
  for (size_t i = 0; i < nsl; i++)
    slices[i] = parse(slices_json[i]);
  struct dns_index *idx = dns_index_build(ZONE, svcs, ns, slices, nsl);
  for (size_t i = 0; i < ns; i++)
    json_decref(svcs[i]);
  for (size_t i = 0; i < nsl; i++)
    json_decref(slices[i]);
  return idx;
}

/* Asks idx; returns the action and fills v from the reply. */
static enum dns_action
ask(const struct dns_index *idx, const char *name, uint16_t qtype, uint16_t edns, bool tcp,
    struct dns_view *v, struct dns_chase *chase)
{
  uint8_t q[512], out[DNS_TCP_MAX];
  size_t qn = dns_make_query(q, sizeof q, 77, name, qtype, edns), n = 0;
  enum dns_action act = dns_answer(idx, 5, q, qn, tcp, out, sizeof out, &n, chase);
  memset(v, 0, sizeof *v);
  if (act == DNS_ACTION_REPLY || act == DNS_ACTION_CHASE) {
    CHECK_INT(dns_view_parse(out, n, v), 0);
    CHECK_INT(v->id, 77);
    CHECK(v->flags & DNS_FLAG_QR);
    CHECK(tcp || n <= (edns ? edns : 512u));
  }
  return act;
}

#define SOA_TEXT "cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local"

TEST(cluster_ip_services)
{
  struct dns_index *idx = build_index();
  struct dns_view v;
  CHECK_INT(ask(idx, "web.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL),
            DNS_ACTION_REPLY);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  CHECK(v.flags & DNS_FLAG_AA);
  CHECK_STR(v.answer, "web.default.svc.cluster.local A 10.43.0.20");
  CHECK_INT(v.first_ttl, 5);
  CHECK_INT(v.ns, 0);
  /* case-insensitive; the answer's owner keeps the question's case */
  ask(idx, "WEB.Default.SVC.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "WEB.Default.SVC.cluster.local A 10.43.0.20");
  /* NODATA: the name exists, no AAAA */
  ask(idx, "web.default.svc.cluster.local", DNS_TYPE_AAAA, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  CHECK_INT(v.an, 0);
  CHECK_STR(v.authority, SOA_TEXT);
  /* dual stack */
  ask(idx, "dual.default.svc.cluster.local", DNS_TYPE_AAAA, 0, false, &v, NULL);
  CHECK_STR(v.answer, "dual.default.svc.cluster.local AAAA fd00:43::30");
  /* NXDOMAIN with the SOA */
  ask(idx, "nope.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  CHECK_STR(v.authority, SOA_TEXT);
  ask(idx, "web.nons.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  /* empty non-terminals exist */
  ask(idx, "default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  CHECK_INT(v.an, 0);
  CHECK_STR(v.authority, SOA_TEXT);
  ask(idx, "svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  /* endpoints of a ClusterIP service are named by their dashed IP */
  ask(idx, "10-42-3-3.web.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "10-42-3-3.web.default.svc.cluster.local A 10.42.3.3");
  dns_index_free(idx);
}

TEST(headless_services_answer_ready_endpoints)
{
  struct dns_index *idx = build_index();
  struct dns_view v;
  ask(idx, "db.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "db.default.svc.cluster.local A 10.42.0.5; "
                      "db.default.svc.cluster.local A 10.42.0.9; "
                      "db.default.svc.cluster.local A 10.42.1.6");
  ask(idx, "db-0.db.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "db-0.db.default.svc.cluster.local A 10.42.0.5");
  ask(idx, "10-42-0-9.db.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "10-42-0-9.db.default.svc.cluster.local A 10.42.0.9");
  /* not ready: no name */
  ask(idx, "db-2.db.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  /* no ready endpoints at all: NXDOMAIN, as the specification says */
  ask(idx, "lonely.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  /* publishNotReadyAddresses */
  ask(idx, "pnr.other.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "pnr.other.svc.cluster.local A 10.42.4.4");
  /* a slice whose service is gone names nothing */
  ask(idx, "10-42-5-5.gone.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  dns_index_free(idx);
}

TEST(srv_records_with_additional_addresses)
{
  struct dns_index *idx = build_index();
  struct dns_view v;
  ask(idx, "_http._tcp.web.default.svc.cluster.local", DNS_TYPE_SRV, 0, false, &v, NULL);
  CHECK_STR(v.answer,
            "_http._tcp.web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local");
  CHECK_STR(v.additional, "web.default.svc.cluster.local A 10.43.0.20");
  ask(idx, "_pg._tcp.db.default.svc.cluster.local", DNS_TYPE_SRV, 0, false, &v, NULL);
  CHECK_STR(
      v.answer,
      "_pg._tcp.db.default.svc.cluster.local SRV 0 33 5432 "
      "10-42-0-9.db.default.svc.cluster.local; "
      "_pg._tcp.db.default.svc.cluster.local SRV 0 33 5432 db-0.db.default.svc.cluster.local; "
      "_pg._tcp.db.default.svc.cluster.local SRV 0 33 5432 db-1.db.default.svc.cluster.local");
  CHECK_STR(v.additional, "10-42-0-9.db.default.svc.cluster.local A 10.42.0.9; "
                          "db-0.db.default.svc.cluster.local A 10.42.0.5; "
                          "db-1.db.default.svc.cluster.local A 10.42.1.6");
  /* an unnamed port has no SRV record; the protocol label exists */
  ask(idx, "_tcp.web.default.svc.cluster.local", DNS_TYPE_SRV, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  CHECK_INT(v.an, 0);
  ask(idx, "_http._udp.web.default.svc.cluster.local", DNS_TYPE_SRV, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  dns_index_free(idx);
}

TEST(ptr_records)
{
  struct dns_index *idx = build_index();
  struct dns_view v;
  CHECK_INT(ask(idx, "20.0.43.10.in-addr.arpa", DNS_TYPE_PTR, 0, false, &v, NULL),
            DNS_ACTION_REPLY);
  CHECK_STR(v.answer, "20.0.43.10.in-addr.arpa PTR web.default.svc.cluster.local");
  ask(idx, "5.0.42.10.in-addr.arpa", DNS_TYPE_PTR, 0, false, &v, NULL);
  CHECK_STR(v.answer, "5.0.42.10.in-addr.arpa PTR db-0.db.default.svc.cluster.local");
  ask(idx, "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa", DNS_TYPE_PTR,
      0, false, &v, NULL);
  CHECK_STR(v.answer,
            "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa PTR "
            "dual.default.svc.cluster.local");
  /* addresses the cluster does not know go upstream */
  CHECK_INT(ask(idx, "7.2.42.10.in-addr.arpa", DNS_TYPE_PTR, 0, false, &v, NULL),
            DNS_ACTION_FORWARD);
  CHECK_INT(ask(idx, "8.8.8.8.in-addr.arpa", DNS_TYPE_PTR, 0, false, &v, NULL), DNS_ACTION_FORWARD);
  dns_index_free(idx);
}

TEST(external_names)
{
  struct dns_index *idx = build_index();
  struct dns_view v;
  struct dns_chase chase;
  CHECK_INT(ask(idx, "ext.default.svc.cluster.local", DNS_TYPE_A, 1232, false, &v, &chase),
            DNS_ACTION_CHASE);
  CHECK_STR(v.answer, "ext.default.svc.cluster.local CNAME example.org");
  CHECK_STR(chase.target, "example.org");
  CHECK_INT(chase.qtype, DNS_TYPE_A);
  CHECK(chase.edns);
  /* without a chase buffer, the bare CNAME */
  CHECK_INT(ask(idx, "ext.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL),
            DNS_ACTION_REPLY);
  CHECK_STR(v.answer, "ext.default.svc.cluster.local CNAME example.org");
  CHECK_INT(ask(idx, "ext.default.svc.cluster.local", DNS_TYPE_CNAME, 0, false, &v, &chase),
            DNS_ACTION_REPLY);
  /* an internal target is chased in the index */
  ask(idx, "alias.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, &chase);
  CHECK_STR(v.answer, "alias.default.svc.cluster.local CNAME web.default.svc.cluster.local; "
                      "web.default.svc.cluster.local A 10.43.0.20");

  /* completing the chase with an upstream answer */
  uint8_t q[512], out[DNS_TCP_MAX], up[512];
  size_t qn = dns_make_query(q, sizeof q, 5, "ext.default.svc.cluster.local", DNS_TYPE_A, 0);
  size_t n = 0;
  CHECK_INT(dns_answer(idx, 5, q, qn, false, out, sizeof out, &n, &chase), DNS_ACTION_CHASE);
  struct dns_writer w;
  dns_writer_init(&w, up, sizeof up);
  dns_put_header(&w, 1, DNS_FLAG_QR | DNS_FLAG_RA, 1, 2, 0, 0);
  dns_put_name(&w, "example.org");
  dns_put16(&w, DNS_TYPE_A);
  dns_put16(&w, DNS_CLASS_IN);
  size_t pos = dns_rr_begin(&w, NULL, 12, DNS_TYPE_CNAME, DNS_CLASS_IN, 300);
  dns_put_name(&w, "edge.example.net");
  dns_rr_end(&w, pos);
  pos = dns_rr_begin(&w, "edge.example.net", 0, DNS_TYPE_A, DNS_CLASS_IN, 60);
  dns_put_bytes(&w, "\xc0\x00\x02\x01", 4);
  dns_rr_end(&w, pos);
  CHECK_INT(dns_reply_append_chase(out, &n, sizeof out, up, w.len, &chase), 0);
  CHECK_INT(dns_view_parse(out, n, &v), 0);
  CHECK_STR(v.answer, "edge.example.net A 192.0.2.1; example.org CNAME edge.example.net; "
                      "ext.default.svc.cluster.local CNAME example.org");
  /* a malformed upstream answer leaves the CNAME answer */
  CHECK_INT(dns_answer(idx, 5, q, qn, false, out, sizeof out, &n, &chase), DNS_ACTION_CHASE);
  CHECK_INT(dns_reply_append_chase(out, &n, sizeof out, up, 20, &chase), -1);
  CHECK_INT(dns_view_parse(out, n, &v), 0);
  CHECK_STR(v.answer, "ext.default.svc.cluster.local CNAME example.org");
  dns_index_free(idx);
}

TEST(zone_names_pods_and_forwarding)
{
  struct dns_index *idx = build_index();
  struct dns_view v;
  ask(idx, "cluster.local", DNS_TYPE_SOA, 0, false, &v, NULL);
  CHECK_STR(v.answer, SOA_TEXT);
  ask(idx, "cluster.local", DNS_TYPE_NS, 0, false, &v, NULL);
  CHECK_STR(v.answer, "cluster.local NS ns.dns.cluster.local");
  ask(idx, "dns-version.cluster.local", DNS_TYPE_TXT, 0, false, &v, NULL);
  CHECK_STR(v.answer, "dns-version.cluster.local TXT 1.1.0");
  ask(idx, "10-42-0-5.default.pod.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_STR(v.answer, "10-42-0-5.default.pod.cluster.local A 10.42.0.5");
  ask(idx, "10-42-0-5.default.pod.cluster.local", DNS_TYPE_AAAA, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  CHECK_INT(v.an, 0);
  ask(idx, "fd00--1.default.pod.cluster.local", DNS_TYPE_AAAA, 0, false, &v, NULL);
  CHECK_STR(v.answer, "fd00--1.default.pod.cluster.local AAAA fd00::1");
  ask(idx, "10-42-0-999.default.pod.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  ask(idx, "default.pod.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NOERROR);
  ask(idx, "other.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  CHECK_INT(ask(idx, "example.com", DNS_TYPE_A, 0, false, &v, NULL), DNS_ACTION_FORWARD);
  CHECK_INT(ask(idx, "notcluster.local", DNS_TYPE_A, 0, false, &v, NULL), DNS_ACTION_FORWARD);
  dns_index_free(idx);
}

TEST(large_answers_are_truncated_over_udp)
{
  json_t *svc = parse("{\"metadata\":{\"name\":\"many\",\"namespace\":\"default\"},\"spec\":{"
                      "\"clusterIP\":\"None\"}}");
  json_t *slice = parse("{\"metadata\":{\"name\":\"many-1\",\"namespace\":\"default\",\"labels\":"
                        "{\"kubernetes.io/service-name\":\"many\"}},\"endpoints\":[]}");
  json_t *eps = json_object_get(slice, "endpoints");
  for (int i = 0; i < 60; i++) {
    char ip[32];
    snprintf(ip, sizeof ip, "10.42.7.%d", i + 1);
    json_array_append_new(eps, json_pack("{s:[s]}", "addresses", ip));
  }
  struct dns_index *idx = dns_index_build(ZONE, &svc, 1, &slice, 1);
  struct dns_view v;
  ask(idx, "many.default.svc.cluster.local", DNS_TYPE_A, 0, false, &v, NULL);
  CHECK(v.flags & DNS_FLAG_TC);
  CHECK_INT(v.an, 0);
  CHECK_INT(v.qd, 1);
  ask(idx, "many.default.svc.cluster.local", DNS_TYPE_A, 1232, false, &v, NULL);
  CHECK(!(v.flags & DNS_FLAG_TC));
  CHECK_INT(v.an, 60); /* compressed owners: 16 bytes a record */
  CHECK(v.has_opt);
  ask(idx, "many.default.svc.cluster.local", DNS_TYPE_A, 0, true, &v, NULL);
  CHECK_INT(v.an, 60);
  CHECK(!v.has_opt);
  dns_index_free(idx);
  json_decref(svc);
  json_decref(slice);
}

TEST(malformed_queries)
{
  struct dns_index *idx = dns_index_build(ZONE, NULL, 0, NULL, 0);
  uint8_t out[DNS_UDP_MAX];
  size_t n = 0;
  uint8_t tiny[5] = {1, 2, 3, 4, 5};
  CHECK_INT(dns_answer(idx, 5, tiny, sizeof tiny, false, out, sizeof out, &n, NULL),
            DNS_ACTION_DROP);
  uint8_t loop[18] = {0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  CHECK_INT(dns_answer(idx, 5, loop, sizeof loop, false, out, sizeof out, &n, NULL),
            DNS_ACTION_REPLY);
  struct dns_view v;
  CHECK_INT(dns_view_parse(out, n, &v), 0);
  CHECK_INT(v.id, 0xabcd);
  CHECK_INT(v.rcode, DNS_RCODE_FORMERR);
  /* a bad EDNS version gets BADVERS (16: 0 in the header, 1 in the OPT) */
  uint8_t q[512];
  size_t qn = dns_make_query(q, sizeof q, 1, "a.cluster.local", DNS_TYPE_A, 1232);
  q[qn - 5] = 1; /* the OPT's version byte */
  CHECK_INT(dns_answer(idx, 5, q, qn, false, out, sizeof out, &n, NULL), DNS_ACTION_REPLY);
  CHECK_INT(dns_view_parse(out, n, &v), 0);
  CHECK_INT(v.rcode, 0);
  CHECK(v.has_opt);
  CHECK_INT(out[n - 6], 1); /* the OPT's extended rcode */
  dns_index_free(idx);
}

TEST_MAIN()
