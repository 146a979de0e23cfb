/* proxy_sync.h — the proxy's syncer: keeps what it last wrote to the kernel (one
 * fragment per Service) and turns new desired state into one nft transaction through
 * libnftables. A full sync replaces the whole table atomically; an update rewrites only
 * the elements, chains and sets of the Services it is given that changed.
 *
 * Single-threaded: one thread (the proxy's sync loop, a test, the bench) owns it. */
#ifndef K8C_PROXY_SYNC_H
#define K8C_PROXY_SYNC_H

#include "lib/err.h"
#include "proxy/proxy_model.h"
#include "proxy/proxy_render.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct proxy_syncer proxy_syncer;

struct proxy_sync_stats {
  unsigned long full_syncs;
  unsigned long updates;
  unsigned long failures;
  double last_full_ms;   /* render + kernel, the last full sync */
  double last_update_ms; /* render + kernel, the last update */
  size_t last_batch_bytes;
  bool nft_open; /* a libnftables context is kept (see proxy_syncer_release_nft) */
};

/* cfg and the strings it points to are copied. apply false: nothing reaches the kernel
 * (tests read proxy_syncer_last_batch instead). Never NULL; free with proxy_syncer_free. */
proxy_syncer *proxy_syncer_new(const struct proxy_render_config *cfg, bool apply);
void proxy_syncer_free(proxy_syncer *s);

/* Replaces the table with the base ruleset and these Services (borrowed). Without
 * libnftnl that is one transaction; with it (K8C_HAVE_LIBNFTNL), two back to back: the
 * table, chains and rules through libnftables, then every map and set element through
 * proxy_nftnl (~4x less CPU at 10,000 Services), so new connections to Services see empty
 * maps while the second runs (~0.3 s at 100,000 endpoints). -1 with err (500)
 * if either is refused; the state is then unknown until the next full sync succeeds. */
int proxy_syncer_full(proxy_syncer *s, const struct proxy_service *svcs, size_t n, k8c_err *err);

/* Brings the given Services (borrowed) up to date; a Service that is gone is passed with
 * its key and no ports. Only what differs from the last sync is written. -1 with err if
 * nft refuses the transaction: the caller must then run a full sync. */
int proxy_syncer_update(proxy_syncer *s, const struct proxy_service *svcs, size_t n, k8c_err *err);

/* Transactions share one libnftables context (its netlink socket and ruleset cache),
 * opened by the first and kept, so back-to-back changes pay neither the socket's open
 * nor its close: closing waits for the kernel to finish destroying what the last
 * transaction removed (an RCU grace period, 5-20 ms). The sync loop releases it once
 * idle, so an idle proxy holds no cache; the next transaction opens a new one.
 * holds_nft: whether one is open. */
void proxy_syncer_release_nft(proxy_syncer *s);
bool proxy_syncer_holds_nft(const proxy_syncer *s);

/* true once a full sync has succeeded and no update has failed since. */
bool proxy_syncer_in_sync(const proxy_syncer *s);

/* Keys of Services that could not take an entry point (another Service held it) and
 * should be synced again now that some entry was released: a new NULL-terminated array
 * the caller frees (each string and the array), or NULL if there are none. */
char **proxy_syncer_take_retries(proxy_syncer *s);

/* The text of the last transaction (borrowed; valid until the next sync). */
const char *proxy_syncer_last_batch(const proxy_syncer *s);
void proxy_syncer_stats(const proxy_syncer *s, struct proxy_sync_stats *out);

#endif
