/* dns_server_test.c — the DNS server end to end on loopback: Services and EndpointSlices
 * written through the API are answered over UDP and TCP (several queries per
 * connection), changes show up, outside names are forwarded to a fake upstream (TCP
 * retry on truncation, ExternalName chase, SERVFAIL when it is gone), and malformed
 * packets do not stop the server. */
#include "../unit/dns_testutil.h"
#include "client_fixture.h"
#include "dns/dns_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------- a fake upstream resolver ---------- */

struct fake_upstream {
  int udp, tcp, stop[2];
  int port;
  pthread_t thread;
  int udp_queries, tcp_queries;
};

/* Answers: outside.test A 192.0.2.1; ext.example A 192.0.2.7; big.test TXT with 20
 * records of 100 bytes (over UDP only a truncated header); anything else NXDOMAIN. */
static size_t
fake_answer(const uint8_t *q, size_t qlen, bool tcp, uint8_t *out, size_t cap)
{
  struct dns_query query;
  if (dns_query_parse(q, qlen, &query) != DNS_PARSE_OK)
    return 0;
  struct dns_writer w;
  dns_writer_init(&w, out, cap);
  dns_put_header(&w, query.id, DNS_FLAG_QR | DNS_FLAG_RA, 1, 0, 0, 0);
  dns_put_bytes(&w, q + 12, query.question_end - 12);
  unsigned an = 0;
  uint16_t flags = DNS_FLAG_QR | DNS_FLAG_RA;
  if (strcmp(query.qname, "outside.test") == 0 || strcmp(query.qname, "ext.example") == 0) {
    size_t pos = dns_rr_begin(&w, NULL, 12, DNS_TYPE_A, DNS_CLASS_IN, 60);
    dns_put_bytes(&w, query.qname[0] == 'o' ? "\xc0\x00\x02\x01" : "\xc0\x00\x02\x07", 4);
    dns_rr_end(&w, pos);
    an = 1;
  } else if (strcmp(query.qname, "big.test") == 0) {
    if (!tcp) {
      flags |= DNS_FLAG_TC;
    } else {
      for (int i = 0; i < 20; i++, an++) {
        size_t pos = dns_rr_begin(&w, NULL, 12, DNS_TYPE_TXT, DNS_CLASS_IN, 60);
        uint8_t txt[101];
        txt[0] = 100;
        memset(txt + 1, 'a' + i, 100);
        dns_put_bytes(&w, txt, sizeof txt);
        dns_rr_end(&w, pos);
      }
    }
  } else {
    flags |= DNS_RCODE_NXDOMAIN;
  }
  dns_set16(&w, 2, flags);
  dns_set16(&w, 6, (uint16_t)an);
  return w.len;
}

static void *
fake_upstream_loop(void *arg)
{
  struct fake_upstream *u = arg;
  uint8_t q[4096], out[8192];
  for (;;) {
    struct pollfd p[3] = {{.fd = u->udp, .events = POLLIN},
                          {.fd = u->tcp, .events = POLLIN},
                          {.fd = u->stop[0], .events = POLLIN}};
    if (poll(p, 3, -1) < 0 || p[2].revents)
      break;
    if (p[0].revents) {
      struct sockaddr_storage peer;
      socklen_t pl = sizeof peer;
      ssize_t n = recvfrom(u->udp, q, sizeof q, 0, (struct sockaddr *)&peer, &pl);
      if (n > 0) {
        __atomic_add_fetch(&u->udp_queries, 1, __ATOMIC_SEQ_CST);
        size_t len = fake_answer(q, (size_t)n, false, out, sizeof out);
        if (len > 0 && sendto(u->udp, out, len, 0, (struct sockaddr *)&peer, pl) < 0)
          perror("fake upstream sendto");
      }
    }
    if (p[1].revents) {
      int c = accept(u->tcp, NULL, NULL);
      if (c < 0)
        continue;
      uint8_t lb[2];
      if (recv(c, lb, 2, MSG_WAITALL) == 2) {
        size_t n = dns_get16(lb);
        if (recv(c, q, n, MSG_WAITALL) == (ssize_t)n) {
          __atomic_add_fetch(&u->tcp_queries, 1, __ATOMIC_SEQ_CST);
          size_t len = fake_answer(q, n, true, out + 2, sizeof out - 2);
          out[0] = (uint8_t)(len >> 8);
          out[1] = (uint8_t)len;
          if (send(c, out, len + 2, MSG_NOSIGNAL) < 0)
            perror("fake upstream send");
        }
      }
      close(c);
    }
  }
  return NULL;
}

static void
fake_upstream_start(struct fake_upstream *u)
{
  memset(u, 0, sizeof *u);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  u->udp = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK_INT(bind(u->udp, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_INT(getsockname(u->udp, (struct sockaddr *)&a, &al), 0);
  u->port = ntohs(a.sin_port);
  u->tcp = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(u->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  CHECK_INT(bind(u->tcp, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_INT(listen(u->tcp, 8), 0);
  CHECK_INT(pipe(u->stop), 0);
  CHECK_INT(pthread_create(&u->thread, NULL, fake_upstream_loop, u), 0);
}

static void
fake_upstream_stop(struct fake_upstream *u)
{
  CHECK_INT(write(u->stop[1], "x", 1), 1);
  pthread_join(u->thread, NULL);
  close(u->udp);
  close(u->tcp);
  close(u->stop[0]);
  close(u->stop[1]);
}

/* ---------- a client ---------- */

static int
udp_ask_raw(int port, const uint8_t *q, size_t qn, uint8_t *out, size_t cap, int timeout_ms)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 || send(fd, q, qn, 0) != (ssize_t)qn) {
    close(fd);
    return -1;
  }
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = -1;
  if (poll(&p, 1, timeout_ms) == 1)
    n = (int)recv(fd, out, cap, 0);
  close(fd);
  return n;
}

static int
udp_ask(int port, const char *name, uint16_t qtype, uint16_t edns, struct dns_view *v)
{
  uint8_t q[512], out[DNS_UDP_MAX];
  size_t qn = dns_make_query(q, sizeof q, 4242, name, qtype, edns);
  int n = udp_ask_raw(port, q, qn, out, sizeof out, 3000);
  if (n < 0)
    return -1;
  CHECK(n <= (edns ? edns : 512));
  return dns_view_parse(out, (size_t)n, v);
}

static int
tcp_connect(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK_INT(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

static int
tcp_ask(int fd, const char *name, uint16_t qtype, struct dns_view *v)
{
  uint8_t q[514], *out = malloc(DNS_TCP_MAX);
  size_t qn = dns_make_query(q + 2, sizeof q - 2, 99, name, qtype, 0);
  q[0] = (uint8_t)(qn >> 8);
  q[1] = (uint8_t)qn;
  int rc = -1;
  uint8_t lb[2];
  if (send(fd, q, qn + 2, 0) == (ssize_t)(qn + 2) && recv(fd, lb, 2, MSG_WAITALL) == 2) {
    size_t n = dns_get16(lb);
    if (recv(fd, out, n, MSG_WAITALL) == (ssize_t)n)
      rc = dns_view_parse(out, n, v);
  }
  free(out);
  return rc;
}

/* Asks until the answer section equals want (or the rcode is want_rcode), up to 5 s. */
static bool
eventually(int port, const char *name, uint16_t qtype, int want_rcode, const char *want)
{
  long long deadline = fixture_now_ms() + 5000;
  struct dns_view v;
  while (fixture_now_ms() < deadline) {
    if (udp_ask(port, name, qtype, 0, &v) == 0 && v.rcode == want_rcode &&
        (want == NULL || strcmp(v.answer, want) == 0))
      return true;
    usleep(20000);
  }
  fprintf(stderr, "last answer for %s: rcode %d \"%s\"\n", name, v.rcode, v.answer);
  return false;
}

/* ---------- objects ---------- */

static void
create(struct client_fixture *f, const char *group, const char *resource, const char *text)
{
  const struct api_resource *res = api_resource_find(group, "v1", resource);
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(f->client, res, "default", obj, NULL, NULL, &err);
  if (rc < 0)
    fprintf(stderr, "create %s: %s\n", resource, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
delete_service(struct client_fixture *f, const char *name)
{
  k8c_err err = {0};
  CHECK_INT(client_delete(f->client, api_resource_find("", "v1", "services"), "default", name, NULL,
                          NULL, NULL, &err),
            0);
  k8c_err_clear(&err);
}

static void
create_objects(struct client_fixture *f)
{
  create(f, "", "services",
         "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"clusterIP\":\"10.43.0.20\",\"ports\":"
         "[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}");
  create(f, "", "services",
         "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"clusterIP\":\"None\",\"ports\":"
         "[{\"name\":\"pg\",\"port\":5432}]}}");
  create(f, "", "services",
         "{\"metadata\":{\"name\":\"ext\"},\"spec\":{\"type\":\"ExternalName\","
         "\"externalName\":\"ext.example\"}}");
  create(f, "discovery.k8s.io", "endpointslices",
         "{\"metadata\":{\"name\":\"db-1\",\"labels\":{\"kubernetes.io/service-name\":\"db\"}},"
         "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"pg\",\"port\":5432,\"protocol\":"
         "\"TCP\"}],\"endpoints\":[{\"addresses\":[\"10.42.0.5\"],\"hostname\":\"db-0\","
         "\"conditions\":{\"ready\":true}},{\"addresses\":[\"10.42.1.6\"],\"hostname\":\"db-1\","
         "\"conditions\":{\"ready\":true}},{\"addresses\":[\"10.42.1.7\"],\"conditions\":"
         "{\"ready\":false}}]}");
}

TEST(serves_services_forwards_and_survives_bad_packets)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_objects(&f);
  struct fake_upstream up;
  fake_upstream_start(&up);
  char upstream[64];
  snprintf(upstream, sizeof upstream, "127.0.0.1:%d", up.port);
  const char *listen[] = {"127.0.0.1:0", NULL};
  const char *upstreams[] = {upstream, NULL};
  struct dns_config cfg = {.listen = listen, .upstreams = upstreams, .forward_timeout_ms = 500};
  k8c_err err = {0};
  struct dns_server *srv = dns_server_start(f.client, NULL, &cfg, &err);
  CHECK(srv != NULL);
  if (srv == NULL) {
    fprintf(stderr, "%s\n", err.message);
    k8c_err_clear(&err);
    fake_upstream_stop(&up);
    client_fixture_close(&f);
    return;
  }
  int port = dns_server_port(srv, 0);
  CHECK(port > 0);

  struct dns_view v;
  /* its own factory waited for the first list: answers are there at once */
  CHECK_INT(udp_ask(port, "web.default.svc.cluster.local", DNS_TYPE_A, 0, &v), 0);
  CHECK_STR(v.answer, "web.default.svc.cluster.local A 10.43.0.20");
  CHECK_INT(udp_ask(port, "db.default.svc.cluster.local", DNS_TYPE_A, 1232, &v), 0);
  CHECK_STR(v.answer, "db.default.svc.cluster.local A 10.42.0.5; "
                      "db.default.svc.cluster.local A 10.42.1.6");
  CHECK(v.has_opt);
  CHECK_INT(udp_ask(port, "_pg._tcp.db.default.svc.cluster.local", DNS_TYPE_SRV, 0, &v), 0);
  CHECK_STR(v.answer, "_pg._tcp.db.default.svc.cluster.local SRV 0 50 5432 "
                      "db-0.db.default.svc.cluster.local; "
                      "_pg._tcp.db.default.svc.cluster.local SRV 0 50 5432 "
                      "db-1.db.default.svc.cluster.local");
  CHECK_STR(v.additional, "db-0.db.default.svc.cluster.local A 10.42.0.5; "
                          "db-1.db.default.svc.cluster.local A 10.42.1.6");
  CHECK_INT(udp_ask(port, "20.0.43.10.in-addr.arpa", DNS_TYPE_PTR, 0, &v), 0);
  CHECK_STR(v.answer, "20.0.43.10.in-addr.arpa PTR web.default.svc.cluster.local");
  CHECK_INT(udp_ask(port, "missing.default.svc.cluster.local", DNS_TYPE_A, 0, &v), 0);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  CHECK_STR(v.authority, "cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local");

  /* forwarding, and the ExternalName chase through the upstream */
  CHECK_INT(udp_ask(port, "outside.test", DNS_TYPE_A, 0, &v), 0);
  CHECK_STR(v.answer, "outside.test A 192.0.2.1");
  CHECK_INT(v.id, 4242);
  CHECK_INT(udp_ask(port, "nothing.test", DNS_TYPE_A, 0, &v), 0);
  CHECK_INT(v.rcode, DNS_RCODE_NXDOMAIN);
  CHECK_INT(udp_ask(port, "ext.default.svc.cluster.local", DNS_TYPE_A, 0, &v), 0);
  CHECK_STR(v.answer, "ext.default.svc.cluster.local CNAME ext.example; "
                      "ext.example A 192.0.2.7");
  /* the upstream truncates over UDP: the server retries over TCP, and the client, over
   * UDP, gets a truncated answer it may retry over TCP */
  CHECK_INT(udp_ask(port, "big.test", DNS_TYPE_TXT, 0, &v), 0);
  CHECK(v.flags & DNS_FLAG_TC);
  CHECK_INT(v.an, 0);
  CHECK(__atomic_load_n(&up.tcp_queries, __ATOMIC_SEQ_CST) >= 1);

  /* TCP: several queries on one connection */
  int fd = tcp_connect(port);
  CHECK_INT(tcp_ask(fd, "web.default.svc.cluster.local", DNS_TYPE_A, &v), 0);
  CHECK_STR(v.answer, "web.default.svc.cluster.local A 10.43.0.20");
  CHECK_INT(tcp_ask(fd, "db-1.db.default.svc.cluster.local", DNS_TYPE_A, &v), 0);
  CHECK_STR(v.answer, "db-1.db.default.svc.cluster.local A 10.42.1.6");
  CHECK_INT(tcp_ask(fd, "big.test", DNS_TYPE_TXT, &v), 0);
  CHECK_INT(v.an, 20);
  CHECK(!(v.flags & DNS_FLAG_TC));
  close(fd);

  /* malformed packets: dropped or FORMERR; the server keeps answering */
  uint8_t out[DNS_UDP_MAX];
  uint8_t tiny[3] = {1, 2, 3};
  CHECK_INT(udp_ask_raw(port, tiny, sizeof tiny, out, sizeof out, 200), -1);
  uint8_t loop[18] = {0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  int n = udp_ask_raw(port, loop, sizeof loop, out, sizeof out, 2000);
  CHECK_INT(n, 12);
  CHECK_INT(DNS_RCODE(dns_get16(out + 2)), DNS_RCODE_FORMERR);
  uint8_t junk[300];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37 + 11);
  junk[2] = 0x01; /* a query header, garbage after it */
  udp_ask_raw(port, junk, sizeof junk, out, sizeof out, 200);
  fd = tcp_connect(port); /* a TCP frame that is not DNS: the connection closes */
  CHECK_INT(send(fd, "\x00\x03\x01\x02\x03", 5, 0), 5);
  close(fd);
  CHECK_INT(udp_ask(port, "web.default.svc.cluster.local", DNS_TYPE_A, 0, &v), 0);
  CHECK_STR(v.answer, "web.default.svc.cluster.local A 10.43.0.20");

  /* changes are reflected */
  create(&f, "", "services",
         "{\"metadata\":{\"name\":\"late\"},\"spec\":{\"clusterIP\":\"10.43.0.77\",\"ports\":[{"
         "\"port\":80}]}}");
  CHECK(eventually(port, "late.default.svc.cluster.local", DNS_TYPE_A, 0,
                   "late.default.svc.cluster.local A 10.43.0.77"));
  delete_service(&f, "web");
  CHECK(eventually(port, "web.default.svc.cluster.local", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, NULL));
  CHECK(dns_server_generation(srv) >= 2);

  /* the upstream is gone: SERVFAIL after the timeout */
  fake_upstream_stop(&up);
  CHECK_INT(udp_ask(port, "outside.test", DNS_TYPE_A, 0, &v), 0);
  CHECK_INT(v.rcode, DNS_RCODE_SERVFAIL);

  dns_server_stop(srv);
  client_fixture_close(&f);
}

TEST(caller_owned_informers_and_bad_addresses)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  create_objects(&f);
  informer_factory *factory = informer_factory_new(f.client, 0);
  const char *upstreams[] = {"127.0.0.1:1", NULL};
  const char *bad[] = {"not-an-address", NULL};
  struct dns_config cfg = {.listen = bad, .upstreams = upstreams};
  k8c_err err = {0};
  CHECK(dns_server_start(f.client, factory, &cfg, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);

  const char *listen[] = {"127.0.0.1:0", NULL};
  cfg.listen = listen;
  cfg.udp_workers = 2;
  cfg.cluster_domain = "k8c.test.";
  struct dns_server *srv = dns_server_start(f.client, factory, &cfg, &err);
  CHECK(srv != NULL);
  if (srv == NULL)
    return;
  CHECK_INT(informer_factory_start(factory, &err), 0);
  int port = dns_server_port(srv, 0);
  CHECK(eventually(port, "web.default.svc.k8c.test", DNS_TYPE_A, 0,
                   "web.default.svc.k8c.test A 10.43.0.20"));
  struct dns_view v;
  CHECK_INT(udp_ask(port, "web.default.svc.cluster.local", DNS_TYPE_A, 0, &v), 0);
  CHECK_INT(v.rcode, DNS_RCODE_SERVFAIL); /* another zone: forwarded, nobody answers */
  informer_factory_stop(factory);
  dns_server_stop(srv);
  informer_factory_free(factory);
  client_fixture_close(&f);
}

TEST_MAIN()
