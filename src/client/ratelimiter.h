/* ratelimiter.h — how long a work-queue key waits before it is retried: client-go's
 * default controller rate limiter, the larger of a per-key exponential back-off
 * (base·2^failures, capped) and an overall token bucket shared by all keys. */
#ifndef K8C_CLIENT_RATELIMITER_H
#define K8C_CLIENT_RATELIMITER_H

#include <stdint.h>

typedef struct ratelimiter ratelimiter;

struct ratelimiter_config {
  int64_t base_delay_ms; /* first retry of a key; doubles with each failure */
  int64_t max_delay_ms;  /* cap of the per-key back-off */
  double qps;            /* token bucket refill rate; 0 disables the bucket */
  int burst;             /* token bucket size */
};

/* client-go's DefaultControllerRateLimiter: 5 ms doubling to 1000 s, 10 qps, burst 100. */
extern const struct ratelimiter_config ratelimiter_default_config;

/* cfg NULL = the default. Free with ratelimiter_free. Not thread-safe: the work queue
 * calls it under its own lock. */
ratelimiter *ratelimiter_new(const struct ratelimiter_config *cfg);
void ratelimiter_free(ratelimiter *rl);

/* Records one more failure of key and returns how long (ms) to wait before retrying it,
 * given the current time now_ns (CLOCK_MONOTONIC, for the token bucket). */
int64_t ratelimiter_when(ratelimiter *rl, const char *key, int64_t now_ns);
/* Forgets key's failures: its next delay is the base again. */
void ratelimiter_forget(ratelimiter *rl, const char *key);
/* How many failures of key are recorded. */
int ratelimiter_num_requeues(ratelimiter *rl, const char *key);

#endif
