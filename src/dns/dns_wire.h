/* dns_wire.h — the DNS wire format (RFC 1035, EDNS0 from RFC 6891): reading names with
 * compression pointers that may only point backwards (so loops are impossible), parsing
 * a query, and a writer that compresses names and never allocates — a server answers
 * from a caller's stack buffer. Names are handled as dotted text without a final dot. */
#ifndef K8C_DNS_WIRE_H
#define K8C_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX 255 /* wire length limit; dotted text is at most 253 characters */
#define DNS_UDP_MIN 512  /* a UDP answer without EDNS0 */
#define DNS_UDP_MAX 4096 /* the largest EDNS0 payload size the server honours */
#define DNS_TCP_MAX 65535

enum dns_type {
  DNS_TYPE_A = 1,
  DNS_TYPE_NS = 2,
  DNS_TYPE_CNAME = 5,
  DNS_TYPE_SOA = 6,
  DNS_TYPE_PTR = 12,
  DNS_TYPE_MX = 15,
  DNS_TYPE_TXT = 16,
  DNS_TYPE_AAAA = 28,
  DNS_TYPE_SRV = 33,
  DNS_TYPE_OPT = 41,
  DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN 1
#define DNS_CLASS_ANY 255

enum dns_rcode {
  DNS_RCODE_NOERROR = 0,
  DNS_RCODE_FORMERR = 1,
  DNS_RCODE_SERVFAIL = 2,
  DNS_RCODE_NXDOMAIN = 3,
  DNS_RCODE_NOTIMP = 4,
  DNS_RCODE_REFUSED = 5,
};

/* Header flag bits (in the 16-bit flags word). */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags)&0xf)

static inline uint16_t
dns_get16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
dns_get32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Reads the (possibly compressed) name at *off of msg[0..len) into out (at least
 * DNS_NAME_MAX + 1 bytes) as dotted text ("" for the root). A '.' inside a label is
 * stored as '\x01' so the text stays unambiguous. Pointers must point strictly before
 * the label that holds them. On success advances *off past the name as it appears at
 * that place and returns the text length; -1 if malformed. */
int dns_name_read(const uint8_t *msg, size_t len, size_t *off, char *out);

/* Skips the name at *off (same checks as dns_name_read); -1 if malformed. */
int dns_name_skip(const uint8_t *msg, size_t len, size_t *off);

/* Lowercases ASCII letters of s[0..n) into out (NUL-terminated). */
void dns_name_lower(const char *s, size_t n, char *out);

/* A query as the server needs it. qname keeps the case it was sent in. */
struct dns_query {
  uint16_t id;
  uint16_t flags;
  uint16_t qtype, qclass;
  char qname[DNS_NAME_MAX + 1];
  size_t qname_len;
  size_t question_end; /* offset just past the question */
  bool edns;           /* an OPT record was present */
  uint16_t udp_size;   /* the answer size the client accepts over UDP (512..4096) */
  bool edns_bad_version;
};

enum dns_parse_result {
  DNS_PARSE_OK = 0,
  DNS_PARSE_DROP = -1,    /* not even a readable query header (or a response): ignore */
  DNS_PARSE_FORMERR = -2, /* header readable, rest malformed: answer FORMERR */
  DNS_PARSE_NOTIMP = -3,  /* an opcode other than QUERY */
};

/* Parses a query: exactly one question, optional OPT in the additional section. */
enum dns_parse_result dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);

/* Walks a whole message (header, questions, every record, names inside known rdata)
 * checking that it is well formed. Returns the number of records or -1. */
int dns_message_check(const uint8_t *msg, size_t len);

/* ---------- writing ---------- */

#define DNS_WRITER_NAMES 48
#define DNS_WRITER_TEXT 2048

/* Builds a message in a caller's buffer. Once anything does not fit, `overflow` is set
 * and later writes are ignored; the caller checks it at the end (and truncates). */
struct dns_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  bool overflow;
  /* Names already written, for compression: each suffix of each name, as text, with
   * the message offset where it starts. */
  unsigned nnames;
  uint16_t name_off[DNS_WRITER_NAMES];
  uint16_t name_text[DNS_WRITER_NAMES]; /* offset into text */
  uint16_t name_len[DNS_WRITER_NAMES];
  size_t text_len;
  char text[DNS_WRITER_TEXT];
};

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap);
void dns_put16(struct dns_writer *w, uint16_t v);
void dns_put32(struct dns_writer *w, uint32_t v);
void dns_put_bytes(struct dns_writer *w, const void *p, size_t n);
/* Writes a header with the given counts. */
void dns_put_header(struct dns_writer *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                    uint16_t ns, uint16_t ar);
/* Writes name (dotted text, "" = root), compressed against earlier names. -1 if the
 * name is not valid (a label over 63 bytes, empty label, over 255 bytes in total). */
int dns_put_name(struct dns_writer *w, const char *name);
/* Tells the compressor that name already sits at message offset off uncompressed
 * (the question); its suffixes become pointer targets. */
void dns_writer_remember(struct dns_writer *w, const char *name, size_t off);
/* Starts a record: owner name (NULL = a pointer to offset name_off), type, class, TTL;
 * returns the position of RDLENGTH for dns_rr_end. */
size_t dns_rr_begin(struct dns_writer *w, const char *owner, uint16_t name_off, uint16_t type,
                    uint16_t cls, uint32_t ttl);
void dns_rr_end(struct dns_writer *w, size_t rdlen_pos);
/* Writes an OPT pseudo-record advertising udp_size. */
void dns_put_opt(struct dns_writer *w, uint16_t udp_size, uint8_t ext_rcode);
/* Sets a header count / flags of what has been written. */
void dns_set16(struct dns_writer *w, size_t off, uint16_t v);

#endif
