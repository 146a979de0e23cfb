/* dns_wire.c — reading and writing DNS messages (see dns_wire.h). Compression pointers
 * are only followed backwards, which bounds every walk by the message length; the
 * writer keeps a small table of name suffixes it has written to compress against. */
#include "dns/dns_wire.h"

#include <string.h>

/* ---------- reading ---------- */

static int
name_walk(const uint8_t *msg, size_t len, size_t *off, char *out)
{
  size_t pos = *off, end = 0, text = 0, wire = 0;
  bool jumped = false;
  for (;;) {
    if (pos >= len)
      return -1;
    uint8_t l = msg[pos];
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len)
        return -1;
      size_t target = ((size_t)(l & 0x3f) << 8) | msg[pos + 1];
      if (target >= pos) /* only backwards: no loops */
        return -1;
      if (!jumped)
        end = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((l & 0xc0) != 0) /* 0x40 / 0x80: extended label types, not supported */
      return -1;
    wire += 1 + l;
    if (wire > DNS_NAME_MAX)
      return -1;
    if (l == 0) {
      pos++;
      break;
    }
    if (pos + 1 + l > len)
      return -1;
    if (out != NULL) {
      if (text > 0)
        out[text++] = '.';
      for (size_t i = 0; i < l; i++) {
        uint8_t c = msg[pos + 1 + i];
        out[text++] = (c == '.' || c == 0) ? '\x01' : (char)c;
      }
    }
    pos += 1 + l;
  }
  if (out != NULL)
    out[text] = '\0';
  *off = jumped ? end : pos;
  return (int)text;
}

int
dns_name_read(const uint8_t *msg, size_t len, size_t *off, char *out)
{
  return name_walk(msg, len, off, out);
}

int
dns_name_skip(const uint8_t *msg, size_t len, size_t *off)
{
  return name_walk(msg, len, off, NULL) < 0 ? -1 : 0;
}

void
dns_name_lower(const char *s, size_t n, char *out)
{
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  out[n] = '\0';
}

/* Skips one resource record at *off; returns its type or -1. Names inside the rdata of
 * the types that carry them are checked too. */
static int
skip_rr(const uint8_t *msg, size_t len, size_t *off, uint16_t *cls, uint32_t *ttl, size_t *rdata,
        uint16_t *rdlen)
{
  if (dns_name_skip(msg, len, off) < 0 || *off + 10 > len)
    return -1;
  uint16_t type = dns_get16(msg + *off);
  *cls = dns_get16(msg + *off + 2);
  *ttl = dns_get32(msg + *off + 4);
  *rdlen = dns_get16(msg + *off + 8);
  *off += 10;
  if (*off + *rdlen > len)
    return -1;
  *rdata = *off;
  size_t end = *off + *rdlen, p = *off;
  switch (type) {
  case DNS_TYPE_CNAME:
  case DNS_TYPE_NS:
  case DNS_TYPE_PTR:
    if (dns_name_skip(msg, end, &p) < 0 || p != end)
      return -1;
    break;
  case DNS_TYPE_MX:
    p += 2;
    if (p > end || dns_name_skip(msg, end, &p) < 0 || p != end)
      return -1;
    break;
  case DNS_TYPE_SRV:
    p += 6;
    if (p > end || dns_name_skip(msg, end, &p) < 0 || p != end)
      return -1;
    break;
  case DNS_TYPE_SOA:
    if (dns_name_skip(msg, end, &p) < 0 || dns_name_skip(msg, end, &p) < 0 || p + 20 != end)
      return -1;
    break;
  case DNS_TYPE_A:
    if (*rdlen != 4)
      return -1;
    break;
  case DNS_TYPE_AAAA:
    if (*rdlen != 16)
      return -1;
    break;
  default:
    break;
  }
  *off = end;
  return type;
}

int
dns_message_check(const uint8_t *msg, size_t len)
{
  if (len < DNS_HEADER_LEN)
    return -1;
  size_t off = DNS_HEADER_LEN;
  unsigned qd = dns_get16(msg + 4);
  unsigned rr = (unsigned)dns_get16(msg + 6) + dns_get16(msg + 8) + dns_get16(msg + 10);
  for (unsigned i = 0; i < qd; i++) {
    if (dns_name_skip(msg, len, &off) < 0 || off + 4 > len)
      return -1;
    off += 4;
  }
  for (unsigned i = 0; i < rr; i++) {
    uint16_t cls, rdlen;
    uint32_t ttl;
    size_t rdata;
    if (skip_rr(msg, len, &off, &cls, &ttl, &rdata, &rdlen) < 0)
      return -1;
  }
  return off == len ? (int)rr : -1;
}

enum dns_parse_result
dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
  if (len < DNS_HEADER_LEN)
    return DNS_PARSE_DROP;
  q->id = dns_get16(msg);
  q->flags = dns_get16(msg + 2);
  q->edns = false;
  q->edns_bad_version = false;
  q->udp_size = DNS_UDP_MIN;
  q->qname[0] = '\0';
  q->qname_len = 0;
  q->qtype = q->qclass = 0;
  q->question_end = DNS_HEADER_LEN;
  if (q->flags & DNS_FLAG_QR)
    return DNS_PARSE_DROP; /* a response: never answer those (reflection loops) */
  if (DNS_OPCODE(q->flags) != 0)
    return DNS_PARSE_NOTIMP;
  uint16_t qd = dns_get16(msg + 4), an = dns_get16(msg + 6), ns = dns_get16(msg + 8),
           ar = dns_get16(msg + 10);
  if (qd != 1)
    return DNS_PARSE_FORMERR;
  size_t off = DNS_HEADER_LEN;
  int n = dns_name_read(msg, len, &off, q->qname);
  if (n < 0 || off + 4 > len)
    return DNS_PARSE_FORMERR;
  /* A pointer in the first name could only point into the header: refuse it, so the
   * question can be copied into a reply byte for byte. */
  if (off - DNS_HEADER_LEN != (n == 0 ? 1u : (size_t)n + 2))
    return DNS_PARSE_FORMERR;
  q->qname_len = (size_t)n;
  q->qtype = dns_get16(msg + off);
  q->qclass = dns_get16(msg + off + 2);
  off += 4;
  q->question_end = off;
  unsigned total = (unsigned)an + ns + ar;
  for (unsigned i = 0; i < total; i++) {
    uint16_t cls, rdlen;
    uint32_t ttl;
    size_t rdata, start = off;
    int type = skip_rr(msg, len, &off, &cls, &ttl, &rdata, &rdlen);
    if (type < 0)
      return DNS_PARSE_FORMERR;
    if (type == DNS_TYPE_OPT) {
      if (i < (unsigned)an + ns || q->edns || msg[start] != 0)
        return DNS_PARSE_FORMERR; /* OPT only once, in additional, owned by the root */
      q->edns = true;
      q->udp_size = cls < DNS_UDP_MIN ? DNS_UDP_MIN : cls > DNS_UDP_MAX ? DNS_UDP_MAX : cls;
      q->edns_bad_version = ((ttl >> 16) & 0xff) != 0;
    }
  }
  return DNS_PARSE_OK;
}

/* ---------- writing ---------- */

void
dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap)
{
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = false;
  w->nnames = 0;
  w->text_len = 0;
}

void
dns_put_bytes(struct dns_writer *w, const void *p, size_t n)
{
  if (w->overflow || w->len + n > w->cap) {
    w->overflow = true;
    return;
  }
  memcpy(w->buf + w->len, p, n);
  w->len += n;
}

void
dns_put16(struct dns_writer *w, uint16_t v)
{
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  dns_put_bytes(w, b, 2);
}

void
dns_put32(struct dns_writer *w, uint32_t v)
{
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  dns_put_bytes(w, b, 4);
}

void
dns_set16(struct dns_writer *w, size_t off, uint16_t v)
{
  if (off + 2 <= w->len) {
    w->buf[off] = (uint8_t)(v >> 8);
    w->buf[off + 1] = (uint8_t)v;
  }
}

void
dns_put_header(struct dns_writer *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
               uint16_t ns, uint16_t ar)
{
  dns_put16(w, id);
  dns_put16(w, flags);
  dns_put16(w, qd);
  dns_put16(w, an);
  dns_put16(w, ns);
  dns_put16(w, ar);
}

static bool
text_equal_nocase(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = (char)(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

static int
find_suffix(const struct dns_writer *w, const char *s, size_t n)
{
  for (unsigned i = 0; i < w->nnames; i++)
    if (w->name_len[i] == n && text_equal_nocase(w->text + w->name_text[i], s, n))
      return w->name_off[i];
  return -1;
}

static void
remember_suffix(struct dns_writer *w, const char *s, size_t n, size_t off)
{
  if (w->nnames >= DNS_WRITER_NAMES || off > 0x3fff || w->text_len + n > DNS_WRITER_TEXT)
    return;
  memcpy(w->text + w->text_len, s, n);
  w->name_text[w->nnames] = (uint16_t)w->text_len;
  w->name_len[w->nnames] = (uint16_t)n;
  w->name_off[w->nnames] = (uint16_t)off;
  w->text_len += n;
  w->nnames++;
}

void
dns_writer_remember(struct dns_writer *w, const char *name, size_t off)
{
  size_t n = strlen(name);
  /* In wire form a suffix starting at text index i begins at off + i. */
  for (size_t i = 0; i < n;) {
    if (find_suffix(w, name + i, n - i) < 0)
      remember_suffix(w, name + i, n - i, off + i);
    const char *dot = memchr(name + i, '.', n - i);
    if (dot == NULL)
      break;
    i = (size_t)(dot - name) + 1;
  }
}

int
dns_put_name(struct dns_writer *w, const char *name)
{
  size_t n = strlen(name);
  if (n > 253)
    return -1;
  size_t i = 0;
  while (i < n) {
    int ptr = find_suffix(w, name + i, n - i);
    if (ptr >= 0) {
      dns_put16(w, (uint16_t)(0xc000 | ptr));
      return 0;
    }
    const char *dot = memchr(name + i, '.', n - i);
    size_t l = dot ? (size_t)(dot - (name + i)) : n - i;
    if (l == 0 || l > 63)
      return -1;
    if (!w->overflow)
      remember_suffix(w, name + i, n - i, w->len);
    uint8_t lb = (uint8_t)l;
    dns_put_bytes(w, &lb, 1);
    dns_put_bytes(w, name + i, l);
    i += l + (dot ? 1 : 0);
    if (dot && i == n)
      return -1; /* trailing dot: callers pass names without one */
  }
  uint8_t zero = 0;
  dns_put_bytes(w, &zero, 1);
  return 0;
}

size_t
dns_rr_begin(struct dns_writer *w, const char *owner, uint16_t name_off, uint16_t type,
             uint16_t cls, uint32_t ttl)
{
  if (owner == NULL)
    dns_put16(w, (uint16_t)(0xc000 | name_off));
  else if (dns_put_name(w, owner) < 0)
    w->overflow = true; /* an invalid owner cannot be written: treat as not fitting */
  dns_put16(w, type);
  dns_put16(w, cls);
  dns_put32(w, ttl);
  size_t pos = w->len;
  dns_put16(w, 0);
  return pos;
}

void
dns_rr_end(struct dns_writer *w, size_t rdlen_pos)
{
  if (!w->overflow)
    dns_set16(w, rdlen_pos, (uint16_t)(w->len - rdlen_pos - 2));
}

void
dns_put_opt(struct dns_writer *w, uint16_t udp_size, uint8_t ext_rcode)
{
  uint8_t root = 0;
  dns_put_bytes(w, &root, 1);
  dns_put16(w, DNS_TYPE_OPT);
  dns_put16(w, udp_size);
  dns_put32(w, (uint32_t)ext_rcode << 24);
  dns_put16(w, 0);
}
