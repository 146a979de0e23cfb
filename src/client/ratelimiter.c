/* ratelimiter.c — per-key exponential back-off combined (max) with a token bucket.
 *
 * The bucket follows golang.org/x/time/rate's reservation model: a request always
 * takes a token, possibly driving the balance negative, and waits for the debt to be
 * repaid at qps; so a burst of N+k requests spreads the last k over k/qps seconds. */
#include "client/ratelimiter.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <stdint.h>

struct ratelimiter {
  struct ratelimiter_config cfg;
  hashmap *failures; /* key -> (intptr_t) count */
  double tokens;
  int64_t last_ns; /* when tokens was last brought up to date; 0 = never */
};

const struct ratelimiter_config ratelimiter_default_config = {
    .base_delay_ms = 5,
    .max_delay_ms = 1000 * 1000,
    .qps = 10,
    .burst = 100,
};

ratelimiter *
ratelimiter_new(const struct ratelimiter_config *cfg)
{
  ratelimiter *rl = xcalloc(1, sizeof *rl);
  rl->cfg = cfg ? *cfg : ratelimiter_default_config;
  rl->failures = hashmap_new();
  rl->tokens = rl->cfg.burst;
  return rl;
}

void
ratelimiter_free(ratelimiter *rl)
{
  if (rl == NULL)
    return;
  hashmap_free(rl->failures, NULL);
  free(rl);
}

static int64_t
backoff_ms(const struct ratelimiter_config *cfg, intptr_t failures)
{
  int64_t delay = cfg->base_delay_ms;
  for (intptr_t i = 0; i < failures; i++) {
    if (delay >= cfg->max_delay_ms)
      break;
    delay *= 2;
  }
  return delay > cfg->max_delay_ms ? cfg->max_delay_ms : delay;
}

static int64_t
bucket_delay_ms(ratelimiter *rl, int64_t now_ns)
{
  if (rl->cfg.qps <= 0)
    return 0;
  if (rl->last_ns != 0 && now_ns > rl->last_ns) {
    rl->tokens += (double)(now_ns - rl->last_ns) / 1e9 * rl->cfg.qps;
    if (rl->tokens > rl->cfg.burst)
      rl->tokens = rl->cfg.burst;
  }
  if (now_ns > rl->last_ns)
    rl->last_ns = now_ns;
  rl->tokens -= 1;
  if (rl->tokens >= 0)
    return 0;
  /* Round up: waiting a little less than the debt would overshoot the rate. */
  double ms = -rl->tokens / rl->cfg.qps * 1000.0;
  return (int64_t)ms + ((double)(int64_t)ms < ms ? 1 : 0);
}

int64_t
ratelimiter_when(ratelimiter *rl, const char *key, int64_t now_ns)
{
  intptr_t failures = (intptr_t)hashmap_get(rl->failures, key);
  hashmap_put(rl->failures, key, (void *)(failures + 1));
  int64_t per_key = backoff_ms(&rl->cfg, failures);
  int64_t overall = bucket_delay_ms(rl, now_ns);
  return per_key > overall ? per_key : overall;
}

void
ratelimiter_forget(ratelimiter *rl, const char *key)
{
  hashmap_remove(rl->failures, key);
}

int
ratelimiter_num_requeues(ratelimiter *rl, const char *key)
{
  return (int)(intptr_t)hashmap_get(rl->failures, key);
}
