/* netpol_sync.h — the enforcer's syncer: remembers the fragment it last applied for
 * every policy (and the node's own one), and turns new models into one nft transaction
 * through libnftables. A full sync replaces the whole table atomically; an update writes
 * only what differs — in the common case (pods coming, going, relabelled) set elements.
 *
 * Single-threaded: one thread (the enforcer's sync loop or a test) owns it. */
#ifndef K8C_NETPOL_SYNC_H
#define K8C_NETPOL_SYNC_H

#include "lib/err.h"
#include "netpol/netpol_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct netpol_syncer netpol_syncer;

struct netpol_sync_stats {
  unsigned long full_syncs;
  unsigned long updates;
  unsigned long failures;
  double last_full_ms;   /* render + kernel, the last full sync */
  double last_update_ms; /* render + kernel, the last update */
  size_t last_batch_bytes;
  bool nft_open; /* a libnftables context is kept (see netpol_syncer_release_nft) */
};

/* table is copied. apply false: nothing reaches the kernel (tests read
 * netpol_syncer_last_batch). Never NULL; free with netpol_syncer_free. */
netpol_syncer *netpol_syncer_new(const char *table, bool apply);
void netpol_syncer_free(netpol_syncer *s);

/* Replaces the table with the base ruleset, these policies and the local pods' IPs (all
 * borrowed) in one transaction. -1 with err (500) if nft refuses it. */
int netpol_syncer_full(netpol_syncer *s, const struct netpol_policy *pols, size_t n,
                       const uint32_t *local_ips, size_t n_local, k8c_err *err);

/* Brings the given policies (a gone one has no policyTypes) and the local pods' IPs up
 * to date, writing only differences. -1 with err if nft refuses: the caller must then run
 * a full sync. */
int netpol_syncer_update(netpol_syncer *s, const struct netpol_policy *pols, size_t n,
                         const uint32_t *local_ips, size_t n_local, k8c_err *err);

bool netpol_syncer_in_sync(const netpol_syncer *s);

/* Transactions share one libnftables context (netlink socket and ruleset cache), opened
 * by the first and kept: closing it waits for the kernel to finish destroying what the
 * last transaction removed (an RCU grace period, 5-20 ms), which back-to-back changes
 * should not pay. The sync loop releases it once idle; the next transaction opens a new
 * one. holds_nft: whether one is open. */
void netpol_syncer_release_nft(netpol_syncer *s);
bool netpol_syncer_holds_nft(const netpol_syncer *s);

/* The text of the last transaction (borrowed; valid until the next sync; "" if none). */
const char *netpol_syncer_last_batch(const netpol_syncer *s);
void netpol_syncer_stats(const netpol_syncer *s, struct netpol_sync_stats *out);

#endif
