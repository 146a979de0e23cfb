/* dns_testutil.h — what the DNS tests share: building a query and reading an answer
 * back into text ("A 10.43.0.5", "SRV 0 100 80 web.default.svc.cluster.local"), with
 * each section's records sorted and joined by "; " so a test compares one string. */
#ifndef K8C_TESTS_DNS_TESTUTIL_H
#define K8C_TESTS_DNS_TESTUTIL_H

#include "dns/dns_wire.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_view {
  uint16_t id, flags;
  int rcode;
  unsigned qd, an, ns, ar;
  char answer[4096], authority[1024], additional[4096];
  uint32_t first_ttl;
  bool has_opt;
};

static inline size_t
dns_make_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype,
               uint16_t edns_size)
{
  struct dns_writer w;
  dns_writer_init(&w, buf, cap);
  dns_put_header(&w, id, DNS_FLAG_RD, 1, 0, 0, edns_size ? 1 : 0);
  if (dns_put_name(&w, name) < 0)
    return 0;
  dns_put16(&w, qtype);
  dns_put16(&w, DNS_CLASS_IN);
  if (edns_size)
    dns_put_opt(&w, edns_size, 0);
  return w.overflow ? 0 : w.len;
}

static inline int
dns_view_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads count records at *off into out as sorted text; -1 if malformed. */
static inline int
dns_view_section(const uint8_t *m, size_t len, size_t *off, unsigned count, char *out, size_t cap,
                 struct dns_view *v)
{
  char *lines[128];
  unsigned n = 0;
  out[0] = '\0';
  for (unsigned i = 0; i < count; i++) {
    char owner[DNS_NAME_MAX + 1], t1[DNS_NAME_MAX + 1], t2[DNS_NAME_MAX + 1], text[700];
    if (dns_name_read(m, len, off, owner) < 0 || *off + 10 > len)
      return -1;
    uint16_t type = dns_get16(m + *off);
    uint32_t ttl = dns_get32(m + *off + 4);
    uint16_t rdlen = dns_get16(m + *off + 8);
    size_t rd = *off + 10, p = rd;
    *off = rd + rdlen;
    if (*off > len)
      return -1;
    if (v->first_ttl == 0 && type != DNS_TYPE_OPT)
      v->first_ttl = ttl;
    char addr[64];
    switch (type) {
    case DNS_TYPE_A:
      inet_ntop(AF_INET, m + rd, addr, sizeof addr);
      snprintf(text, sizeof text, "%s A %s", owner, addr);
      break;
    case DNS_TYPE_AAAA:
      inet_ntop(AF_INET6, m + rd, addr, sizeof addr);
      snprintf(text, sizeof text, "%s AAAA %s", owner, addr);
      break;
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
    case DNS_TYPE_NS:
      if (dns_name_read(m, len, &p, t1) < 0)
        return -1;
      snprintf(text, sizeof text, "%s %s %s", owner,
               type == DNS_TYPE_CNAME ? "CNAME"
               : type == DNS_TYPE_PTR ? "PTR"
                                      : "NS",
               t1);
      break;
    case DNS_TYPE_SRV:
      p += 6;
      if (dns_name_read(m, len, &p, t1) < 0)
        return -1;
      snprintf(text, sizeof text, "%s SRV %u %u %u %s", owner, dns_get16(m + rd),
               dns_get16(m + rd + 2), dns_get16(m + rd + 4), t1);
      break;
    case DNS_TYPE_SOA:
      if (dns_name_read(m, len, &p, t1) < 0 || dns_name_read(m, len, &p, t2) < 0)
        return -1;
      snprintf(text, sizeof text, "%s SOA %s %s", owner, t1, t2);
      break;
    case DNS_TYPE_TXT:
      snprintf(text, sizeof text, "%s TXT %.*s", owner, m[rd], (const char *)m + rd + 1);
      break;
    case DNS_TYPE_OPT:
      v->has_opt = true;
      continue;
    default:
      snprintf(text, sizeof text, "%s TYPE%u", owner, type);
    }
    if (n < 128)
      lines[n++] = strdup(text);
  }
  qsort(lines, n, sizeof *lines, dns_view_cmp);
  size_t o = 0;
  for (unsigned i = 0; i < n; i++) {
    o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", i ? "; " : "", lines[i]);
    free(lines[i]);
  }
  return 0;
}

static inline int
dns_view_parse(const uint8_t *m, size_t len, struct dns_view *v)
{
  memset(v, 0, sizeof *v);
  if (len < DNS_HEADER_LEN)
    return -1;
  v->id = dns_get16(m);
  v->flags = dns_get16(m + 2);
  v->rcode = DNS_RCODE(v->flags);
  v->qd = dns_get16(m + 4);
  v->an = dns_get16(m + 6);
  v->ns = dns_get16(m + 8);
  v->ar = dns_get16(m + 10);
  size_t off = DNS_HEADER_LEN;
  for (unsigned i = 0; i < v->qd; i++) {
    if (dns_name_skip(m, len, &off) < 0)
      return -1;
    off += 4;
  }
  if (dns_view_section(m, len, &off, v->an, v->answer, sizeof v->answer, v) < 0 ||
      dns_view_section(m, len, &off, v->ns, v->authority, sizeof v->authority, v) < 0 ||
      dns_view_section(m, len, &off, v->ar, v->additional, sizeof v->additional, v) < 0)
    return -1;
  return off == len ? 0 : -1;
}

#endif
