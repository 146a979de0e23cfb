/* scheduler.h — the k8c scheduler inside `k8c server` (kube-scheduler's job): an API
 * client with informers on pods, nodes and PriorityClasses; pending pods whose
 * spec.schedulerName is ours go through the queue and the framework one at a time, are
 * assumed onto the chosen node at once, and bound through pods/binding by worker
 * threads, so that deciding the next pod never waits for the API. */
#ifndef K8C_SCHEDULER_SCHEDULER_H
#define K8C_SCHEDULER_SCHEDULER_H

#include "client/client.h"
#include "lib/err.h"

struct registry;
struct scheduler;

struct scheduler_config {
  const char *scheduler_name;       /* NULL = "default-scheduler" */
  int percentage_of_nodes_to_score; /* 0 = adaptive (upstream's default) */
  long long initial_backoff_ms;     /* 0 = 1000 */
  long long max_backoff_ms;         /* 0 = 10000 */
  int bind_workers;                 /* 0 = 16 (binds in parallel batch in the store) */
  unsigned seed;                    /* tie-breaking; 0 = from the clock */
  /* Informers shared with other components of the process (borrowed; must outlive the
   * scheduler), or NULL: the scheduler makes its own on its client. */
  struct informer_factory *informers;
};

struct scheduler_stats {
  unsigned long long attempts;      /* scheduling cycles run */
  unsigned long long scheduled;     /* pods bound */
  unsigned long long unschedulable; /* cycles that found no node */
  unsigned long long bind_errors;
  double cycle_p50_ms, cycle_p99_ms; /* algorithm time per cycle (recent cycles) */
  double e2e_p50_ms, e2e_p99_ms;     /* first queued → bind returned (recent pods) */
};

/* Starts the scheduler on its own in-process client against reg (which must outlive
 * it); returns once its informers have synced (up to 10 s). NULL with err on failure. */
struct scheduler *scheduler_start(struct registry *reg, const struct scheduler_config *cfg,
                                  k8c_err *err);
/* The same on a given client (borrowed; must outlive the scheduler). */
struct scheduler *scheduler_start_with_client(k8c_client *client,
                                              const struct scheduler_config *cfg, k8c_err *err);
/* Stops the threads and frees everything. NULL is fine. */
void scheduler_stop(struct scheduler *s);

void scheduler_get_stats(struct scheduler *s, struct scheduler_stats *out);

#endif
