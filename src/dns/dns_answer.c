/* dns_answer.c — the authoritative side of the server (see dns_answer.h): resolves a
 * question against the snapshot and the names the zone synthesizes (the apex, the schema
 * version, pod A records), writing answer, authority and additional sections with
 * compression; an answer that does not fit the client's size is sent truncated (TC). */
#include "dns/dns_answer.h"

#include <arpa/inet.h>
#include <string.h>

#define SCHEMA_VERSION "1.1.0"
#define SOA_REFRESH 7200
#define SOA_RETRY 1800
#define SOA_EXPIRE 86400
#define OPT_LEN 11

struct answer {
  struct dns_writer w;
  const struct dns_index *idx;
  const char *zone;
  uint32_t ttl;
  uint16_t qtype;
  unsigned an, ns, ar;
};

/* ---------- record writers ---------- */

static bool
wants(uint16_t qtype, uint16_t type)
{
  return qtype == type || qtype == DNS_TYPE_ANY;
}

/* owner NULL = the question's name (a pointer to offset 12). */
static void
put_addr(struct answer *a, const char *owner, int family, const uint8_t *addr)
{
  size_t pos = dns_rr_begin(&a->w, owner, DNS_HEADER_LEN,
                            family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA, DNS_CLASS_IN, a->ttl);
  dns_put_bytes(&a->w, addr, family == AF_INET ? 4 : 16);
  dns_rr_end(&a->w, pos);
}

static void
put_name_rr(struct answer *a, const char *owner, uint16_t type, const char *target)
{
  size_t pos = dns_rr_begin(&a->w, owner, DNS_HEADER_LEN, type, DNS_CLASS_IN, a->ttl);
  if (dns_put_name(&a->w, target) < 0)
    a->w.overflow = true;
  dns_rr_end(&a->w, pos);
}

static void
put_soa(struct answer *a)
{
  char mname[DNS_NAME_MAX + 16], rname[DNS_NAME_MAX + 16];
  snprintf(mname, sizeof mname, "ns.dns.%s", a->zone);
  snprintf(rname, sizeof rname, "hostmaster.%s", a->zone);
  size_t pos = dns_rr_begin(&a->w, a->zone, 0, DNS_TYPE_SOA, DNS_CLASS_IN, a->ttl);
  if (dns_put_name(&a->w, mname) < 0 || dns_put_name(&a->w, rname) < 0)
    a->w.overflow = true;
  dns_put32(&a->w, dns_index_serial(a->idx));
  dns_put32(&a->w, SOA_REFRESH);
  dns_put32(&a->w, SOA_RETRY);
  dns_put32(&a->w, SOA_EXPIRE);
  dns_put32(&a->w, a->ttl);
  dns_rr_end(&a->w, pos);
}

/* Writes the address records of node (owner NULL = the question's name) that the
 * query type asks for; returns how many. */
static unsigned
put_node_addrs(struct answer *a, const char *owner, const struct dns_node *n, uint16_t qtype)
{
  unsigned count = 0;
  if (wants(qtype, DNS_TYPE_A))
    for (size_t i = 0; i < n->n_a; i++, count++)
      put_addr(a, owner, AF_INET, n->a[i]);
  if (wants(qtype, DNS_TYPE_AAAA))
    for (size_t i = 0; i < n->n_aaaa; i++, count++)
      put_addr(a, owner, AF_INET6, n->aaaa[i]);
  return count;
}

static void
put_srv_answers(struct answer *a, const struct dns_node *n)
{
  for (size_t i = 0; i < n->n_srv; i++) {
    size_t pos = dns_rr_begin(&a->w, NULL, DNS_HEADER_LEN, DNS_TYPE_SRV, DNS_CLASS_IN, a->ttl);
    dns_put16(&a->w, n->srv[i].priority);
    dns_put16(&a->w, n->srv[i].weight);
    dns_put16(&a->w, n->srv[i].port);
    if (dns_put_name(&a->w, n->srv[i].target) < 0)
      a->w.overflow = true;
    dns_rr_end(&a->w, pos);
    a->an++;
  }
}

/* The targets' addresses in the additional section; dropped (not truncated) when they
 * do not fit, as RFC 2181 allows. */
static void
put_srv_additional(struct answer *a, const struct dns_node *n)
{
  for (size_t i = 0; i < n->n_srv; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = strcmp(n->srv[j].target, n->srv[i].target) == 0;
    const struct dns_node *t = seen ? NULL : dns_index_lookup(a->idx, n->srv[i].target);
    if (t == NULL)
      continue;
    size_t len = a->w.len;
    unsigned nnames = a->w.nnames;
    unsigned added = put_node_addrs(a, n->srv[i].target, t, DNS_TYPE_ANY);
    if (a->w.overflow) {
      a->w.len = len;
      a->w.nnames = nnames;
      a->w.overflow = false;
      return;
    }
    a->ar += added;
  }
}

/* ---------- names the zone synthesizes ---------- */

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool
in_zone(const char *name, size_t n, const char *zone)
{
  size_t z = strlen(zone);
  return n > z && name[n - z - 1] == '.' && memcmp(name + n - z, zone, z) == 0;
}

/* "<a-b-c-d>.<ns>.pod.<zone>" (CoreDNS's "pods insecure": any address is answered).
 * prefix is the part before ".pod.<zone>". Returns 1 with an address, 0 for a name
 * that exists without records (a namespace), -1 for a name that does not exist. */
static int
pod_address(const char *prefix, size_t n, int *family, uint8_t *addr)
{
  const char *dot = memchr(prefix, '.', n);
  if (dot == NULL)
    return 0; /* "<ns>.pod.<zone>" */
  if (memchr(dot + 1, '.', n - (size_t)(dot + 1 - prefix)) != NULL)
    return -1;
  size_t l = (size_t)(dot - prefix);
  if (l == 0 || l > 63)
    return -1;
  char ip[64];
  for (size_t i = 0; i < l; i++)
    ip[i] = prefix[i] == '-' ? '.' : prefix[i];
  ip[l] = '\0';
  *family = AF_INET;
  if (inet_pton(AF_INET, ip, addr) == 1)
    return 1;
  for (size_t i = 0; i < l; i++)
    ip[i] = prefix[i] == '-' ? ':' : prefix[i];
  *family = AF_INET6;
  return inet_pton(AF_INET6, ip, addr) == 1 ? 1 : -1;
}

/* Fills the answer section for an in-zone name; returns the rcode. *chase_target is
 * set when the answer is a CNAME to a name outside the zone. */
static uint16_t
answer_zone(struct answer *a, const char *name, size_t n, const char **chase_target)
{
  char buf[DNS_NAME_MAX + 32];
  size_t z = strlen(a->zone);
  if (n == z) { /* the apex */
    if (wants(a->qtype, DNS_TYPE_SOA)) {
      put_soa(a);
      a->an++;
    }
    if (wants(a->qtype, DNS_TYPE_NS)) {
      snprintf(buf, sizeof buf, "ns.dns.%s", a->zone);
      put_name_rr(a, NULL, DNS_TYPE_NS, buf);
      a->an++;
    }
    return DNS_RCODE_NOERROR;
  }
  size_t prefix = n - z - 1; /* name[0..prefix) is what precedes ".<zone>" */
  if (prefix == 11 && memcmp(name, "dns-version", 11) == 0) {
    if (wants(a->qtype, DNS_TYPE_TXT)) {
      size_t pos = dns_rr_begin(&a->w, NULL, DNS_HEADER_LEN, DNS_TYPE_TXT, DNS_CLASS_IN, a->ttl);
      uint8_t l = sizeof SCHEMA_VERSION - 1;
      dns_put_bytes(&a->w, &l, 1);
      dns_put_bytes(&a->w, SCHEMA_VERSION, l);
      dns_rr_end(&a->w, pos);
      a->an++;
    }
    return DNS_RCODE_NOERROR;
  }
  if ((prefix == 3 && memcmp(name, "svc", 3) == 0) || (prefix == 3 && memcmp(name, "pod", 3) == 0))
    return DNS_RCODE_NOERROR; /* exist, hold no records */
  if (prefix > 4 && memcmp(name + prefix - 4, ".pod", 4) == 0) {
    uint8_t addr[16];
    int family;
    int found = pod_address(name, prefix - 4, &family, addr);
    if (found < 0)
      return DNS_RCODE_NXDOMAIN;
    if (found > 0 && wants(a->qtype, family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA)) {
      put_addr(a, NULL, family, addr);
      a->an++;
    }
    return DNS_RCODE_NOERROR;
  }
  const struct dns_node *node = dns_index_lookup(a->idx, name);
  if (node == NULL)
    return DNS_RCODE_NXDOMAIN;
  if (node->cname != NULL) {
    put_name_rr(a, NULL, DNS_TYPE_CNAME, node->cname);
    a->an++;
    if (a->qtype == DNS_TYPE_CNAME || a->qtype == DNS_TYPE_ANY)
      return DNS_RCODE_NOERROR;
    size_t tn = strlen(node->cname);
    if (!in_zone(node->cname, tn, a->zone)) {
      *chase_target = node->cname;
      return DNS_RCODE_NOERROR;
    }
    const struct dns_node *target = dns_index_lookup(a->idx, node->cname);
    if (target != NULL)
      a->an += put_node_addrs(a, node->cname, target, a->qtype);
    return DNS_RCODE_NOERROR;
  }
  a->an += put_node_addrs(a, NULL, node, a->qtype);
  if (wants(a->qtype, DNS_TYPE_SRV) && node->n_srv > 0) {
    put_srv_answers(a, node);
    if (!a->w.overflow)
      put_srv_additional(a, node);
  }
  return DNS_RCODE_NOERROR;
}

/* ---------- public ---------- */

size_t
dns_reply_error(const uint8_t *req, size_t question_end, uint16_t rcode, uint8_t *out, size_t cap)
{
  struct dns_writer w;
  dns_writer_init(&w, out, cap);
  uint16_t flags = dns_get16(req + 2);
  uint16_t rflags =
      (uint16_t)(DNS_FLAG_QR | (flags & (0x7800 | DNS_FLAG_RD)) | DNS_FLAG_RA | (rcode & 0xf));
  bool question = question_end > DNS_HEADER_LEN;
  dns_put_header(&w, dns_get16(req), rflags, question ? 1 : 0, 0, 0, 0);
  if (question)
    dns_put_bytes(&w, req + DNS_HEADER_LEN, question_end - DNS_HEADER_LEN);
  return w.overflow ? 0 : w.len;
}

enum dns_action
dns_answer(const struct dns_index *idx, uint32_t ttl, const uint8_t *req, size_t req_len, bool tcp,
           uint8_t *out, size_t out_cap, size_t *out_len, struct dns_chase *chase)
{
  struct dns_query q;
  switch (dns_query_parse(req, req_len, &q)) {
  case DNS_PARSE_DROP:
    return DNS_ACTION_DROP;
  case DNS_PARSE_NOTIMP:
    *out_len = dns_reply_error(req, DNS_HEADER_LEN, DNS_RCODE_NOTIMP, out, out_cap);
    return *out_len ? DNS_ACTION_REPLY : DNS_ACTION_DROP;
  case DNS_PARSE_FORMERR:
    *out_len = dns_reply_error(req, DNS_HEADER_LEN, DNS_RCODE_FORMERR, out, out_cap);
    return *out_len ? DNS_ACTION_REPLY : DNS_ACTION_DROP;
  case DNS_PARSE_OK:
    break;
  }
  char name[DNS_NAME_MAX + 1];
  dns_name_lower(q.qname, q.qname_len, name);
  size_t n = q.qname_len;
  const char *zone = dns_index_zone(idx);
  bool ours = strcmp(name, zone) == 0 || in_zone(name, n, zone);
  const struct dns_node *reverse = NULL;
  if (!ours) {
    if (ends_with(name, n, ".in-addr.arpa") || ends_with(name, n, ".ip6.arpa"))
      reverse = dns_index_lookup(idx, name);
    /* Unknown addresses fall through to the upstream resolvers, as CoreDNS's
     * "fallthrough in-addr.arpa ip6.arpa". */
    if (reverse == NULL || reverse->n_ptr == 0 || !wants(q.qtype, DNS_TYPE_PTR))
      return DNS_ACTION_FORWARD;
  }

  size_t limit = tcp ? DNS_TCP_MAX : q.udp_size;
  if (limit > out_cap)
    limit = out_cap;
  size_t opt = q.edns ? OPT_LEN : 0;
  struct answer a = {.idx = idx, .zone = zone, .ttl = ttl, .qtype = q.qtype};
  dns_writer_init(&a.w, out, limit - opt);
  dns_put_header(&a.w, q.id, 0, 1, 0, 0, 0);
  dns_put_bytes(&a.w, req + DNS_HEADER_LEN, q.question_end - DNS_HEADER_LEN);
  dns_writer_remember(&a.w, q.qname, DNS_HEADER_LEN);
  size_t after_question = a.w.len;

  uint16_t rcode = DNS_RCODE_NOERROR;
  const char *chase_target = NULL;
  if (q.edns_bad_version) {
    rcode = 16; /* BADVERS: upper bits travel in the OPT record */
  } else if (q.qclass != DNS_CLASS_IN && q.qclass != DNS_CLASS_ANY) {
    rcode = DNS_RCODE_REFUSED;
  } else if (reverse != NULL) {
    for (size_t i = 0; i < reverse->n_ptr; i++, a.an++)
      put_name_rr(&a, NULL, DNS_TYPE_PTR, reverse->ptr[i]);
  } else {
    rcode = answer_zone(&a, name, n, &chase_target);
    if ((rcode == DNS_RCODE_NXDOMAIN || a.an == 0) && !a.w.overflow) {
      put_soa(&a);
      a.ns++;
    }
  }

  uint16_t flags =
      (uint16_t)(DNS_FLAG_QR | DNS_FLAG_AA | (q.flags & DNS_FLAG_RD) | DNS_FLAG_RA | (rcode & 0xf));
  if (a.w.overflow) { /* does not fit: header and question only, TC set */
    a.w.len = after_question;
    a.w.overflow = false;
    a.an = a.ns = a.ar = 0;
    flags |= DNS_FLAG_TC;
    chase_target = NULL;
  }
  if (chase_target != NULL && chase != NULL) {
    snprintf(chase->target, sizeof chase->target, "%s", chase_target);
    chase->qtype = q.qtype;
    chase->limit = limit;
    chase->edns = q.edns;
  } else {
    chase_target = NULL;
  }
  a.w.cap = limit;
  if (q.edns && chase_target == NULL) {
    dns_put_opt(&a.w, DNS_UDP_MAX, (uint8_t)(rcode >> 4));
    a.ar++;
  }
  dns_set16(&a.w, 2, flags);
  dns_set16(&a.w, 6, (uint16_t)a.an);
  dns_set16(&a.w, 8, (uint16_t)a.ns);
  dns_set16(&a.w, 10, (uint16_t)a.ar);
  *out_len = a.w.len;
  return chase_target != NULL ? DNS_ACTION_CHASE : DNS_ACTION_REPLY;
}

/* ---------- chasing an outside CNAME target ---------- */

int
dns_reply_append_chase(uint8_t *reply, size_t *reply_len, size_t cap, const uint8_t *up,
                       size_t up_len, const struct dns_chase *chase)
{
  size_t limit = chase->limit < cap ? chase->limit : cap;
  size_t opt = chase->edns ? OPT_LEN : 0;
  size_t base = *reply_len;
  struct dns_writer w;
  dns_writer_init(&w, reply, limit - opt);
  w.len = base;
  unsigned added = 0;
  int rc = 0;
  if (dns_message_check(up, up_len) < 0 || !(dns_get16(up + 2) & DNS_FLAG_QR)) {
    rc = -1;
  } else {
    size_t off = DNS_HEADER_LEN;
    unsigned qd = dns_get16(up + 4), an = dns_get16(up + 6);
    for (unsigned i = 0; i < qd; i++) {
      if (dns_name_skip(up, up_len, &off) < 0)
        return -1;
      off += 4;
    }
    char owner[DNS_NAME_MAX + 1], target[DNS_NAME_MAX + 1];
    for (unsigned i = 0; i < an && !w.overflow; i++) {
      if (dns_name_read(up, up_len, &off, owner) < 0)
        return -1;
      uint16_t type = dns_get16(up + off), cls = dns_get16(up + off + 2);
      uint32_t ttl = dns_get32(up + off + 4);
      uint16_t rdlen = dns_get16(up + off + 8);
      size_t rdata = off + 10;
      off = rdata + rdlen;
      if (cls != DNS_CLASS_IN ||
          (type != DNS_TYPE_A && type != DNS_TYPE_AAAA && type != DNS_TYPE_CNAME))
        continue;
      size_t pos = dns_rr_begin(&w, owner, 0, type, cls, ttl);
      if (type == DNS_TYPE_CNAME) {
        size_t p = rdata;
        if (dns_name_read(up, up_len, &p, target) < 0 || dns_put_name(&w, target) < 0)
          w.overflow = true;
      } else {
        dns_put_bytes(&w, up + rdata, rdlen);
      }
      dns_rr_end(&w, pos);
      added++;
    }
    if (!w.overflow)
      dns_set16(&w, 2, (uint16_t)((dns_get16(reply + 2) & ~0xf) | DNS_RCODE(dns_get16(up + 2))));
  }
  uint16_t an = dns_get16(reply + 6);
  if (w.overflow) {
    size_t qend = DNS_HEADER_LEN;
    if (dns_name_skip(reply, base, &qend) < 0)
      return -1;
    w.len = qend + 4;
    w.overflow = false;
    an = 0;
    added = 0;
    dns_set16(&w, 2, dns_get16(reply + 2) | DNS_FLAG_TC);
  }
  w.cap = limit;
  dns_set16(&w, 6, (uint16_t)(an + added));
  if (chase->edns) {
    dns_put_opt(&w, DNS_UDP_MAX, 0);
    dns_set16(&w, 10, 1);
  }
  *reply_len = w.len;
  return rc;
}
