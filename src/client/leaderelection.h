/* leaderelection.h — client-go's leader election through a coordination.k8s.io/v1 Lease:
 * of several processes running the same component, one leads and the others stand by.
 * One idea: the Lease's resourceVersion is the lock (a 409 means someone else won), and a
 * lease counts as expired when its record has not changed for leaseDurationSeconds as
 * seen on this process's own monotonic clock (upstream's rule: no cross-host clock skew). */
#ifndef K8C_CLIENT_LEADERELECTION_H
#define K8C_CLIENT_LEADERELECTION_H

#include "client/client.h"
#include "lib/err.h"

#include <stdbool.h>

typedef struct leader_elector leader_elector;

/* All callbacks run on the elector's own thread and should return promptly (starting or
 * stopping a component's threads is fine); renewals wait while they run. */
struct leader_election_callbacks {
  /* This process now holds the lease: start the guarded work. */
  void (*on_started_leading)(void *ctx);
  /* It no longer does (it could not renew within the renew deadline, or the elector is
   * being stopped): stop the guarded work before returning. Only called after
   * on_started_leading. */
  void (*on_stopped_leading)(void *ctx);
  /* The holder changed to identity (possibly this process's own); may be NULL. */
  void (*on_new_leader)(void *ctx, const char *identity);
  void *ctx;
};

struct leader_election_config {
  const char *namespace; /* NULL = "kube-system" */
  const char *name;      /* the Lease: "kube-scheduler", "kube-controller-manager" */
  const char *identity;  /* NULL = hostname + "_" + a random UUID, as upstream */
  int lease_duration_ms; /* 0 = 15000 */
  int renew_deadline_ms; /* 0 = 10000; must be < lease_duration_ms */
  int retry_period_ms;   /* 0 = 2000; 1.2 times it must be < renew_deadline_ms */
  struct leader_election_callbacks callbacks;
};

/* Starts electing on its own thread with client (borrowed; must outlive the elector).
 * NULL with err (422) for inconsistent durations or a missing name. Stop with
 * leader_elector_stop. */
leader_elector *leader_elector_new(k8c_client *client, const struct leader_election_config *cfg,
                                   k8c_err *err);

/* Stops the thread: if leading, calls on_stopped_leading and then releases the lease
 * (clears holderIdentity, as client-go's ReleaseOnCancel) so a standby takes over at
 * once. Frees the elector. NULL is fine. */
void leader_elector_stop(leader_elector *e);

/* Whether this elector currently holds the lease (as of its last successful renewal). */
bool leader_elector_is_leader(leader_elector *e);

/* This elector's identity; owned by the elector. */
const char *leader_elector_identity(const leader_elector *e);

/* For tests: while paused, every acquire or renew attempt fails without calling the API,
 * as if the API server were unreachable; a leader then stops leading after the renew
 * deadline and, not releasing, lets others take over only after the lease duration. */
void leader_elector_set_paused(leader_elector *e, bool paused);

#endif
