/* dns_forward.h — talking to the node's resolvers for names outside the cluster zone:
 * addresses from resolv.conf (loopback stubs skipped: a pod cannot reach them), and one
 * synchronous exchange per query — UDP first, TCP again when the answer is truncated,
 * each resolver in turn until the timeout. */
#ifndef K8C_DNS_FORWARD_H
#define K8C_DNS_FORWARD_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_upstream {
  struct sockaddr_storage addr;
  socklen_t len;
};

/* Parses "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53" (port defaults to default_port).
 * -1 with a 400 if it is not an address. */
int dns_addr_parse(const char *text, uint16_t default_port, struct dns_upstream *out, k8c_err *err);

/* Reads the nameserver lines of a resolv.conf, skipping loopback addresses; fills at
 * most max entries and returns how many (0 if the file is missing or lists none). */
size_t dns_upstreams_from_resolv_conf(const char *path, struct dns_upstream *out, size_t max);

/* Sends query (its ID is replaced by a random one, restored in the answer) to each
 * upstream in turn until one answers, within timeout_ms in all. The answer (with the
 * query's own ID) goes to resp (cap bytes, at least DNS_TCP_MAX to take TCP answers
 * whole). Returns 0, or -1 if no upstream answered. */
int dns_forward_exchange(const struct dns_upstream *ups, size_t nups, const uint8_t *query,
                         size_t qlen, uint8_t *resp, size_t cap, size_t *resp_len, int timeout_ms);

/* Cuts an answer that exceeds limit down to header and question with TC set (the client
 * retries over TCP). Returns the new length. */
size_t dns_reply_truncate(uint8_t *resp, size_t len, size_t limit);

#endif
