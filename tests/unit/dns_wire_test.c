/* dns_wire_test.c — the DNS codec: name compression round trips, pointer loops and other
 * malformed input refused, query parsing with EDNS0, truncation, addresses and
 * resolv.conf. */
#include "dns/dns_answer.h"
#include "dns/dns_forward.h"
#include "dns/dns_wire.h"
#include "dns_testutil.h"
#include "testlib.h"

#include <stdlib.h>
#include <unistd.h>

TEST(names_are_compressed_and_read_back)
{
  uint8_t buf[512];
  struct dns_writer w;
  dns_writer_init(&w, buf, sizeof buf);
  dns_put_header(&w, 1, 0, 0, 0, 0, 0);
  CHECK_INT(dns_put_name(&w, "www.example.com"), 0);
  size_t first = w.len;
  CHECK_INT(first, 12 + 17);
  CHECK_INT(dns_put_name(&w, "mail.Example.COM"), 0);
  CHECK_INT(w.len - first, 1 + 4 + 2); /* "mail" then a pointer */
  CHECK_INT(dns_put_name(&w, "www.example.com"), 0);
  CHECK_INT(w.len - first, 7 + 2); /* the whole name is one pointer */
  CHECK_INT(dns_put_name(&w, ""), 0);
  char name[DNS_NAME_MAX + 1];
  size_t off = 12;
  CHECK_INT(dns_name_read(buf, w.len, &off, name), 15);
  CHECK_STR(name, "www.example.com");
  CHECK_INT(dns_name_read(buf, w.len, &off, name), 16);
  CHECK_STR(name, "mail.example.com"); /* the suffix came from the first name */
  CHECK_INT(dns_name_read(buf, w.len, &off, name), 15);
  CHECK_STR(name, "www.example.com");
  CHECK_INT(dns_name_read(buf, w.len, &off, name), 0);
  CHECK_STR(name, "");
  CHECK_INT(off, w.len);
  CHECK(!w.overflow);
}

TEST(invalid_names_are_not_written)
{
  uint8_t buf[600];
  struct dns_writer w;
  char label[70];
  memset(label, 'a', 64);
  label[64] = '\0';
  dns_writer_init(&w, buf, sizeof buf);
  CHECK_INT(dns_put_name(&w, label), -1);
  dns_writer_init(&w, buf, sizeof buf);
  CHECK_INT(dns_put_name(&w, "a..b"), -1);
  dns_writer_init(&w, buf, sizeof buf);
  CHECK_INT(dns_put_name(&w, "a.b."), -1);
  dns_writer_init(&w, buf, 5);
  CHECK_INT(dns_put_name(&w, "abcdef.gh"), 0);
  CHECK(w.overflow);
}

TEST(pointer_loops_and_forward_pointers_are_refused)
{
  char name[DNS_NAME_MAX + 1];
  /* a name at 12 that points to itself */
  uint8_t self[14] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12};
  size_t off = 12;
  CHECK_INT(dns_name_read(self, sizeof self, &off, name), -1);
  /* two names pointing at each other */
  uint8_t pair[20] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 16, 1, 'b', 0xc0, 12};
  off = 12;
  CHECK_INT(dns_name_read(pair, sizeof pair, &off, name), -1);
  off = 16;
  CHECK_INT(dns_name_read(pair, sizeof pair, &off, name), -1);
  /* a label running past the end, an extended label type */
  uint8_t past[15] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'};
  off = 12;
  CHECK_INT(dns_name_read(past, sizeof past, &off, name), -1);
  uint8_t ext[14] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0};
  off = 12;
  CHECK_INT(dns_name_read(ext, sizeof ext, &off, name), -1);
  /* a backward pointer is fine */
  uint8_t ok[22] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 1, 'b', 0, 1, 'c', 0xc0, 14, 0};
  off = 17;
  CHECK_INT(dns_name_read(ok, sizeof ok, &off, name), 3);
  CHECK_STR(name, "c.b");
  CHECK_INT(off, 21);
}

TEST(overlong_names_are_refused)
{
  /* 5 labels of 63 bytes: 320 wire bytes > 255 */
  uint8_t m[12 + 5 * 64 + 1 + 4] = {0};
  size_t o = 12;
  for (int i = 0; i < 5; i++) {
    m[o++] = 63;
    memset(m + o, 'x', 63);
    o += 63;
  }
  m[o++] = 0;
  m[5] = 1;
  struct dns_query q;
  CHECK_INT(dns_query_parse(m, o + 4, &q), DNS_PARSE_FORMERR);
}

TEST(queries_parse_with_edns0)
{
  uint8_t buf[512];
  size_t n =
      dns_make_query(buf, sizeof buf, 0x1234, "Web.Default.svc.cluster.local", DNS_TYPE_A, 1232);
  struct dns_query q;
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
  CHECK_INT(q.id, 0x1234);
  CHECK_STR(q.qname, "Web.Default.svc.cluster.local");
  CHECK_INT(q.qtype, DNS_TYPE_A);
  CHECK(q.edns);
  CHECK_INT(q.udp_size, 1232);
  n = dns_make_query(buf, sizeof buf, 1, "a.b", DNS_TYPE_A, 100); /* below 512: 512 */
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
  CHECK_INT(q.udp_size, 512);
  n = dns_make_query(buf, sizeof buf, 1, "a.b", DNS_TYPE_A, 65000); /* capped */
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
  CHECK_INT(q.udp_size, DNS_UDP_MAX);
  n = dns_make_query(buf, sizeof buf, 1, "a.b", DNS_TYPE_A, 0);
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
  CHECK(!q.edns);
  CHECK_INT(q.udp_size, 512);
  CHECK_INT(dns_message_check(buf, n), 0);
}

TEST(bad_queries_are_classified)
{
  uint8_t buf[512];
  struct dns_query q;
  size_t n = dns_make_query(buf, sizeof buf, 7, "a.b", DNS_TYPE_A, 0);
  CHECK_INT(dns_query_parse(buf, 11, &q), DNS_PARSE_DROP); /* no header */
  buf[2] |= 0x80;                                          /* a response */
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_DROP);
  buf[2] = 0x10; /* opcode 2 (STATUS) */
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_NOTIMP);
  buf[2] = 0x01;
  buf[5] = 2; /* two questions */
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_FORMERR);
  buf[5] = 1;
  CHECK_INT(dns_query_parse(buf, n - 1, &q), DNS_PARSE_FORMERR); /* cut question */
  buf[11] = 1;                                                   /* an OPT that is not there */
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_FORMERR);
  buf[11] = 0;
  CHECK_INT(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
  /* the FORMERR reply keeps the ID and is a response */
  uint8_t out[64];
  size_t len = dns_reply_error(buf, 12, DNS_RCODE_FORMERR, out, sizeof out);
  CHECK_INT(len, 12);
  CHECK_INT(dns_get16(out), 7);
  CHECK(dns_get16(out + 2) & DNS_FLAG_QR);
  CHECK_INT(DNS_RCODE(dns_get16(out + 2)), DNS_RCODE_FORMERR);
}

TEST(records_are_written_and_checked)
{
  uint8_t buf[512];
  struct dns_writer w;
  dns_writer_init(&w, buf, sizeof buf);
  dns_put_header(&w, 9, DNS_FLAG_QR, 1, 2, 0, 1);
  CHECK_INT(dns_put_name(&w, "svc.ns.svc.cluster.local"), 0);
  dns_put16(&w, DNS_TYPE_SRV);
  dns_put16(&w, DNS_CLASS_IN);
  size_t pos = dns_rr_begin(&w, NULL, 12, DNS_TYPE_SRV, DNS_CLASS_IN, 5);
  dns_put16(&w, 0);
  dns_put16(&w, 100);
  dns_put16(&w, 80);
  CHECK_INT(dns_put_name(&w, "ns.svc.cluster.local"), 0);
  dns_rr_end(&w, pos);
  pos = dns_rr_begin(&w, "x.ns.svc.cluster.local", 0, DNS_TYPE_A, DNS_CLASS_IN, 5);
  dns_put_bytes(&w, "\x0a\x00\x00\x01", 4);
  dns_rr_end(&w, pos);
  dns_put_opt(&w, 1232, 0);
  CHECK(!w.overflow);
  CHECK_INT(dns_message_check(buf, w.len), 3);
  struct dns_view v;
  CHECK_INT(dns_view_parse(buf, w.len, &v), 0);
  CHECK_STR(v.answer, "svc.ns.svc.cluster.local SRV 0 100 80 ns.svc.cluster.local; "
                      "x.ns.svc.cluster.local A 10.0.0.1");
  CHECK(v.has_opt);
  /* an A record with 3 bytes of rdata is malformed */
  dns_set16(&w, pos, 3);
  CHECK_INT(dns_message_check(buf, w.len), -1);
}

TEST(truncation_keeps_header_and_question)
{
  uint8_t buf[2048];
  size_t n = dns_make_query(buf, sizeof buf, 3, "big.example", DNS_TYPE_TXT, 0);
  buf[2] |= 0x80;
  memset(buf + n, 0, 1000); /* pretend a large answer follows */
  size_t t = dns_reply_truncate(buf, n + 1000, 512);
  CHECK_INT(t, n);
  CHECK(dns_get16(buf + 2) & DNS_FLAG_TC);
  CHECK_INT(dns_get16(buf + 4), 1);
  CHECK_INT(dns_get16(buf + 6), 0);
  CHECK_INT(dns_reply_truncate(buf, 100, 512), 100); /* fits: untouched */
}

TEST(addresses_and_resolv_conf)
{
  struct dns_upstream u;
  k8c_err err = {0};
  CHECK_INT(dns_addr_parse("10.43.0.10:53", 0, &u, &err), 0);
  CHECK_INT(u.addr.ss_family, AF_INET);
  CHECK_INT(dns_addr_parse("[::1]:5353", 53, &u, &err), 0);
  CHECK_INT(u.addr.ss_family, AF_INET6);
  CHECK_INT(ntohs(((struct sockaddr_in6 *)&u.addr)->sin6_port), 5353);
  CHECK_INT(dns_addr_parse("8.8.8.8", 53, &u, &err), 0);
  CHECK_INT(ntohs(((struct sockaddr_in *)&u.addr)->sin_port), 53);
  CHECK_INT(dns_addr_parse("fd00::1", 53, &u, &err), 0);
  CHECK_INT(dns_addr_parse("nameserver", 53, &u, &err), -1);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  CHECK_INT(dns_addr_parse("1.2.3.4:99999", 53, &u, &err), -1);
  k8c_err_clear(&err);

  char path[] = "/tmp/k8c-resolv-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const char *text = "# comment\nsearch example.com\nnameserver 127.0.0.53\n"
                     "nameserver 192.0.2.53\nnameserver ::1\nnameserver 2001:db8::53\n"
                     "options ndots:1\n";
  CHECK_INT(write(fd, text, strlen(text)), (long long)strlen(text));
  close(fd);
  struct dns_upstream ups[4];
  CHECK_INT(dns_upstreams_from_resolv_conf(path, ups, 4), 2);
  CHECK_INT(ups[0].addr.ss_family, AF_INET);
  CHECK_INT(ups[1].addr.ss_family, AF_INET6);
  CHECK_INT(dns_upstreams_from_resolv_conf(path, ups, 1), 1);
  unlink(path);
  CHECK_INT(dns_upstreams_from_resolv_conf("/nonexistent/resolv.conf", ups, 4), 0);
}

TEST_MAIN()
