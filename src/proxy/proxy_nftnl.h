/* proxy_nftnl.h — the bulk of a full sync (the elements of the proxy's maps and sets)
 * sent to the kernel as ready-made nf_tables netlink messages (libnftnl + libmnl, the
 * libraries nft itself is built on), skipping libnftables' parser and evaluator, which
 * cost ~10 µs per element. The table, chains and rules still go through libnftables.
 *
 * Built only with K8C_HAVE_LIBNFTNL; without it proxy_nftnl_available() is false and the
 * syncer keeps sending everything as nft text. */
#ifndef K8C_PROXY_NFTNL_H
#define K8C_PROXY_NFTNL_H

#include "lib/buf.h"
#include "lib/err.h"
#include "proxy/proxy_render.h"

#include <stdbool.h>

/* true when this build can send elements through libnftnl. */
bool proxy_nftnl_available(void);

/* Encodes lists[m] (the ", "-separated "key : value" text proxy_batch collects for map m,
 * in the formats proxy_render writes) as NEWSETELEM messages for the maps of table (family
 * ip) and commits them as one transaction. Returns the number of elements sent, or -1
 * with err: 400 if an element does not parse (nothing was sent), 500 if the kernel
 * refused the transaction (nothing was applied). */
long proxy_nftnl_add_elements(const char *table, const buf lists[PM_COUNT], k8c_err *err);

/* Only the encoding, for tests: appends to out the binary key (and data, after the key,
 * data_len bytes; 0 for sets and verdicts) that element text elem of map m has in the
 * kernel, and the verdict (NF_DROP, NFT_GOTO ...) with its chain into *verdict / chain
 * (chain borrowed from elem, chain_len bytes; NULL when none). -1 if elem does not parse. */
int proxy_nftnl_encode(enum proxy_map m, const char *elem, size_t elem_len, buf *out,
                       size_t *key_len, size_t *data_len, int *verdict, const char **chain,
                       size_t *chain_len);

#endif
