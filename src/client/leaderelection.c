/* leaderelection.c — the elector's thread: acquire the Lease (retrying with jitter),
 * renew it every retry period, give up leadership when a renewal round outlasts the
 * renew deadline, release it on stop. Every write carries the resourceVersion last read,
 * so two electors can never both believe they won the same round. */
#include "client/leaderelection.h"
#include "apimachinery/meta.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JITTER_FACTOR 1.2

struct leader_elector {
  k8c_client *client;
  const struct api_resource *leases;
  char *ns, *name, *identity;
  int lease_ms, renew_ms, retry_ms;
  struct leader_election_callbacks cb;
  pthread_t thread;
  pthread_mutex_t mu; /* guards the three flags below */
  pthread_cond_t cv;  /* signalled on stop */
  bool stopping, paused, leading;
  /* elector thread only */
  unsigned seed;
  json_t *observed;      /* the Lease as last read or written */
  long long observed_ms; /* monotonic time its spec was last seen to change */
  char *reported_leader; /* last identity given to on_new_leader */
};

/* MicroTime: RFC 3339 with six fractional digits, UTC. */
static void
micro_now(char out[40])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char secs[24];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%06ldZ", secs, ts.tv_nsec / 1000);
}

/* Sleeps up to ms unless stopped; true when the elector is stopping. */
static bool
wait_or_stop(leader_elector *e, long long ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long ns = (long long)ts.tv_nsec + (ms > 0 ? ms : 0) * 1000000LL;
  ts.tv_sec += (time_t)(ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  pthread_mutex_lock(&e->mu);
  while (!e->stopping) {
    if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) != 0)
      break;
  }
  bool stopping = e->stopping;
  pthread_mutex_unlock(&e->mu);
  return stopping;
}

static bool
flag_get(leader_elector *e, const bool *flag)
{
  pthread_mutex_lock(&e->mu);
  bool v = *flag;
  pthread_mutex_unlock(&e->mu);
  return v;
}

static json_t *
lease_spec(const json_t *lease)
{
  return json_object_get(lease, "spec");
}

static const char *
holder_of(const json_t *lease)
{
  const char *h = json_string_value(json_object_get(lease_spec(lease), "holderIdentity"));
  return h ? h : "";
}

static bool
observed_is_mine(const leader_elector *e)
{
  return e->observed != NULL && strcmp(holder_of(e->observed), e->identity) == 0;
}

/* Upstream's rule: a held lease is valid while its record has changed within its
 * leaseDurationSeconds, as observed here. */
static bool
observed_is_valid(const leader_elector *e, long long now)
{
  json_int_t secs =
      json_integer_value(json_object_get(lease_spec(e->observed), "leaseDurationSeconds"));
  return e->observed_ms + (long long)secs * 1000 > now;
}

static void
set_observed(leader_elector *e, json_t *lease, long long now)
{
  json_decref(e->observed);
  e->observed = lease;
  e->observed_ms = now;
}

static int
lease_duration_seconds(const leader_elector *e)
{
  return (e->lease_ms + 999) / 1000;
}

/* Fills spec for this elector holding the lease from now; acquire_time NULL keeps the
 * spec's acquireTime. */
static void
spec_hold(const leader_elector *e, json_t *spec, const char *now, const char *acquire_time,
          json_int_t transitions)
{
  json_object_set_new(spec, "holderIdentity", json_string(e->identity));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(lease_duration_seconds(e)));
  json_object_set_new(spec, "renewTime", json_string(now));
  if (acquire_time)
    json_object_set_new(spec, "acquireTime", json_string(acquire_time));
  json_object_set_new(spec, "leaseTransitions", json_integer(transitions));
}

static bool
update_lease(leader_elector *e, json_t *lease, long long now)
{
  k8c_err err = {0};
  json_t *out = NULL;
  int rc = client_update(e->client, e->leases, e->ns, e->name, lease, NULL, &out, &err);
  if (rc < 0) {
    log_debug("leaderelection %s/%s: %s: update: %s", e->ns, e->name, e->identity, err.message);
    k8c_err_clear(&err);
    return false;
  }
  set_observed(e, out, now);
  return true;
}

static bool
create_lease(leader_elector *e, const char *now_text, long long now)
{
  json_t *lease =
      json_pack("{s:s,s:s,s:{s:s,s:s},s:{}}", "apiVersion", "coordination.k8s.io/v1", "kind",
                "Lease", "metadata", "name", e->name, "namespace", e->ns, "spec");
  spec_hold(e, lease_spec(lease), now_text, now_text, 0);
  k8c_err err = {0};
  json_t *out = NULL;
  int rc = client_create(e->client, e->leases, e->ns, lease, NULL, &out, &err);
  json_decref(lease);
  if (rc < 0) {
    log_debug("leaderelection %s/%s: %s: create: %s", e->ns, e->name, e->identity, err.message);
    k8c_err_clear(&err);
    return false;
  }
  set_observed(e, out, now);
  return true;
}

/* One attempt, as client-go's tryAcquireOrRenew: true when this elector holds the lease
 * afterwards. */
static bool
try_acquire_or_renew(leader_elector *e)
{
  if (flag_get(e, &e->paused))
    return false;
  char now_text[40];
  micro_now(now_text);
  long long now = clock_monotonic_ms();

  /* Fast path: renew what we hold without reading it first. */
  if (observed_is_mine(e) && observed_is_valid(e, now)) {
    json_t *lease = json_deep_copy(e->observed);
    spec_hold(e, lease_spec(lease), now_text, NULL,
              json_integer_value(json_object_get(lease_spec(lease), "leaseTransitions")));
    bool ok = update_lease(e, lease, now);
    json_decref(lease);
    if (ok)
      return true;
  }

  k8c_err err = {0};
  json_t *current = NULL;
  if (client_get(e->client, e->leases, e->ns, e->name, &current, &err) < 0) {
    bool absent = err.status == 404;
    if (!absent)
      log_debug("leaderelection %s/%s: get: %s", e->ns, e->name, err.message);
    k8c_err_clear(&err);
    return absent && create_lease(e, now_text, now);
  }
  if (e->observed == NULL || !json_equal(lease_spec(e->observed), lease_spec(current)))
    set_observed(e, json_incref(current), now);
  else
    set_observed(e, json_incref(current), e->observed_ms); /* same record, newer version */

  const char *holder = holder_of(current);
  bool mine = strcmp(holder, e->identity) == 0;
  if (holder[0] != '\0' && !mine && observed_is_valid(e, now)) {
    json_decref(current);
    return false;
  }
  json_t *spec = lease_spec(current);
  if (!json_is_object(spec)) {
    spec = json_object();
    json_object_set_new(current, "spec", spec);
  }
  json_int_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
  if (mine)
    spec_hold(e, spec, now_text, NULL, transitions);
  else
    spec_hold(e, spec, now_text, now_text, transitions + 1);
  bool ok = update_lease(e, current, now);
  json_decref(current);
  return ok;
}

static void
report_leader(leader_elector *e)
{
  if (e->observed == NULL)
    return;
  const char *holder = holder_of(e->observed);
  if (holder[0] == '\0' || (e->reported_leader && strcmp(holder, e->reported_leader) == 0))
    return;
  free(e->reported_leader);
  e->reported_leader = xstrdup(holder);
  log_info("leaderelection %s/%s: %s sees a new leader: %s", e->ns, e->name, e->identity, holder);
  if (e->cb.on_new_leader)
    e->cb.on_new_leader(e->cb.ctx, holder);
}

static long long
jittered_retry_ms(leader_elector *e)
{
  double r = (double)rand_r(&e->seed) / (double)RAND_MAX;
  return e->retry_ms + (long long)((double)e->retry_ms * JITTER_FACTOR * r);
}

/* Acquires the lease; false when stopped first. */
static bool
acquire(leader_elector *e)
{
  for (;;) {
    bool ok = try_acquire_or_renew(e);
    report_leader(e);
    if (ok)
      return true;
    if (wait_or_stop(e, jittered_retry_ms(e)))
      return false;
  }
}

/* Renews every retry period; returns when a round outlasts the renew deadline (leadership
 * lost: false) or on stop (true). */
static bool
renew(leader_elector *e)
{
  for (;;) {
    if (wait_or_stop(e, e->retry_ms))
      return true;
    long long deadline = clock_monotonic_ms() + e->renew_ms;
    for (;;) {
      bool ok = try_acquire_or_renew(e);
      report_leader(e);
      if (ok)
        break;
      long long left = deadline - clock_monotonic_ms();
      if (left <= 0)
        return false;
      if (wait_or_stop(e, left < e->retry_ms ? left : e->retry_ms))
        return true;
    }
  }
}

/* Clears holderIdentity so a standby need not wait out the lease (ReleaseOnCancel). */
static void
release(leader_elector *e)
{
  if (flag_get(e, &e->paused) || !observed_is_mine(e))
    return;
  char now_text[40];
  micro_now(now_text);
  json_t *lease = json_deep_copy(e->observed);
  json_t *spec = lease_spec(lease);
  json_object_set_new(spec, "holderIdentity", json_string(""));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
  json_object_set_new(spec, "renewTime", json_string(now_text));
  json_object_set_new(spec, "acquireTime", json_string(now_text));
  if (update_lease(e, lease, clock_monotonic_ms()))
    log_info("leaderelection %s/%s: %s released the lease", e->ns, e->name, e->identity);
  else
    log_warn("leaderelection %s/%s: %s could not release the lease", e->ns, e->name, e->identity);
  json_decref(lease);
}

static void
set_leading(leader_elector *e, bool leading)
{
  pthread_mutex_lock(&e->mu);
  e->leading = leading;
  pthread_mutex_unlock(&e->mu);
}

static void *
elector_main(void *arg)
{
  leader_elector *e = arg;
  while (acquire(e)) {
    log_info("leaderelection %s/%s: %s acquired the lease", e->ns, e->name, e->identity);
    set_leading(e, true);
    if (e->cb.on_started_leading)
      e->cb.on_started_leading(e->cb.ctx);
    bool stopped = renew(e);
    if (!stopped)
      log_warn("leaderelection %s/%s: %s lost the lease (no renewal within %d ms)", e->ns, e->name,
               e->identity, e->renew_ms);
    set_leading(e, false);
    if (e->cb.on_stopped_leading)
      e->cb.on_stopped_leading(e->cb.ctx);
    if (stopped) {
      release(e);
      break;
    }
  }
  return NULL;
}

static char *
default_identity(void)
{
  char host[256];
  if (gethostname(host, sizeof host) != 0)
    snprintf(host, sizeof host, "localhost");
  host[sizeof host - 1] = '\0';
  char *uid = meta_new_uid();
  char *id = xasprintf("%s_%s", host, uid);
  free(uid);
  return id;
}

leader_elector *
leader_elector_new(k8c_client *client, const struct leader_election_config *cfg, k8c_err *err)
{
  int lease_ms = cfg->lease_duration_ms ? cfg->lease_duration_ms : 15000;
  int renew_ms = cfg->renew_deadline_ms ? cfg->renew_deadline_ms : 10000;
  int retry_ms = cfg->retry_period_ms ? cfg->retry_period_ms : 2000;
  if (cfg->name == NULL || cfg->name[0] == '\0')
    return k8c_error(err, 422, K8C_REASON_INVALID, "leader election: a lease name is required"),
           NULL;
  if (retry_ms <= 0 || renew_ms <= retry_ms * JITTER_FACTOR || lease_ms <= renew_ms)
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "leader election: need lease duration > renew deadline > %.1f x retry "
                     "period (got %d, %d, %d ms)",
                     JITTER_FACTOR, lease_ms, renew_ms, retry_ms),
           NULL;
  const struct api_resource *leases = api_resource_find("coordination.k8s.io", "v1", "leases");
  if (leases == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "leader election: no leases resource"), NULL;
  leader_elector *e = xcalloc(1, sizeof *e);
  e->client = client;
  e->leases = leases;
  e->ns = xstrdup(cfg->namespace ? cfg->namespace : "kube-system");
  e->name = xstrdup(cfg->name);
  e->identity = cfg->identity && cfg->identity[0] ? xstrdup(cfg->identity) : default_identity();
  e->lease_ms = lease_ms;
  e->renew_ms = renew_ms;
  e->retry_ms = retry_ms;
  e->cb = cfg->callbacks;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  e->seed = (unsigned)ts.tv_nsec ^ (unsigned)(uintptr_t)e;
  pthread_mutex_init(&e->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&e->cv, &attr);
  pthread_condattr_destroy(&attr);
  if (pthread_create(&e->thread, NULL, elector_main, e) != 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "leader election: cannot start a thread");
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e->ns);
    free(e->name);
    free(e->identity);
    free(e);
    return NULL;
  }
  return e;
}

void
leader_elector_stop(leader_elector *e)
{
  if (e == NULL)
    return;
  pthread_mutex_lock(&e->mu);
  e->stopping = true;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
  pthread_join(e->thread, NULL);
  pthread_cond_destroy(&e->cv);
  pthread_mutex_destroy(&e->mu);
  json_decref(e->observed);
  free(e->reported_leader);
  free(e->ns);
  free(e->name);
  free(e->identity);
  free(e);
}

bool
leader_elector_is_leader(leader_elector *e)
{
  return flag_get(e, &e->leading);
}

const char *
leader_elector_identity(const leader_elector *e)
{
  return e->identity;
}

void
leader_elector_set_paused(leader_elector *e, bool paused)
{
  pthread_mutex_lock(&e->mu);
  e->paused = paused;
  pthread_mutex_unlock(&e->mu);
}
