/* dns_answer.h — answering one query from a record snapshot: the cluster zone
 * authoritatively (NXDOMAIN vs NODATA with the zone's SOA, as the Kubernetes DNS
 * specification and CoreDNS answer), everything else handed back for forwarding.
 * Pure and allocation-free: the reply is written into the caller's buffer. */
#ifndef K8C_DNS_ANSWER_H
#define K8C_DNS_ANSWER_H

#include "dns/dns_index.h"
#include "dns/dns_wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dns_action {
  DNS_ACTION_REPLY,   /* send out[0..*out_len) */
  DNS_ACTION_DROP,    /* send nothing */
  DNS_ACTION_FORWARD, /* not ours: relay the query to an upstream resolver */
  DNS_ACTION_CHASE,   /* out holds a CNAME answer to an outside name: append upstream's
                         answer for chase->target (see dns_reply_append_chase) */
};

struct dns_chase {
  char target[DNS_NAME_MAX + 1];
  uint16_t qtype;
  size_t limit; /* the largest reply the client accepts */
  bool edns;    /* the client sent OPT: the completed reply carries one */
};

/* Answers req[0..req_len) from idx with records of the given TTL. tcp: the reply may
 * use up to 64 KiB, else the client's UDP size (truncated with TC when larger). out
 * must hold at least DNS_UDP_MAX bytes (DNS_TCP_MAX for tcp). chase may be NULL (an
 * outside CNAME target is then not chased). */
enum dns_action dns_answer(const struct dns_index *idx, uint32_t ttl, const uint8_t *req,
                           size_t req_len, bool tcp, uint8_t *out, size_t out_cap, size_t *out_len,
                           struct dns_chase *chase);

/* Completes a CHASE reply: appends the A/AAAA/CNAME records of an upstream answer
 * (up[0..up_len), for chase->target) to reply (*reply_len bytes of cap), keeping the
 * client's size limit (TC if it does not fit). Returns 0, or -1 if up is malformed (the
 * reply then stays the bare CNAME answer). */
int dns_reply_append_chase(uint8_t *reply, size_t *reply_len, size_t cap, const uint8_t *up,
                           size_t up_len, const struct dns_chase *chase);

/* Writes a reply with only a header (and the question, if question_end > 12) carrying
 * rcode, for errors: FORMERR, SERVFAIL, NOTIMP. Returns its length. */
size_t dns_reply_error(const uint8_t *req, size_t question_end, uint16_t rcode, uint8_t *out,
                       size_t cap);

#endif
