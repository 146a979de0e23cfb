/* simnode_heartbeat.c — a few threads keep every simulated node alive: each owns a
 * stripe of nodes (i mod threads), registers their Nodes and Leases, then turns a timer
 * wheel whose slots are fixed by node index (node i renews in slot i mod slots), so a
 * tick touches only the nodes due in it and writes spread evenly over the period,
 * whatever N is. Several threads only so that writes overlap: the store commits
 * concurrent writes in one group, a lone writer waits for every commit. */
#include "agent/simnodes_internal.h"
#include "apimachinery/meta.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>
#include <time.h>

struct simnodes_heartbeat {
  simnodes *s;
  int stripe; /* this thread's nodes: i % s->heartbeat_count == stripe */
  pthread_t thread;
};

static void *heartbeat_main(void *arg);
static void register_node(simnodes *s, int i);
static void renew_lease(simnodes *s, int i);
static void post_status(simnodes *s, int i);
static bool wait_until(simnodes *s, long long deadline_ms);

int
simnodes_heartbeat_start(simnodes *s, k8c_err *err)
{
  int threads = s->cfg.heartbeat_threads;
  s->heartbeats = xcalloc((size_t)threads, sizeof *s->heartbeats);
  for (int t = 0; t < threads; t++) {
    struct simnodes_heartbeat *h = &s->heartbeats[s->heartbeat_count];
    h->s = s;
    h->stripe = t;
    if (pthread_create(&h->thread, NULL, heartbeat_main, h) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "simnodes: cannot start heartbeat threads");
    s->heartbeat_count++;
  }
  return 0;
}

void
simnodes_heartbeat_join(simnodes *s)
{
  for (int t = 0; t < s->heartbeat_count; t++)
    pthread_join(s->heartbeats[t].thread, NULL);
  s->heartbeat_count = 0;
  free(s->heartbeats);
  s->heartbeats = NULL;
}

/* ---------- the thread ---------- */

static bool
stopping(simnodes *s)
{
  pthread_mutex_lock(&s->lock);
  bool stop = s->stopping;
  pthread_mutex_unlock(&s->lock);
  return stop;
}

/* Whether node i should heartbeat now; clears its status_due flag into *status_due. */
static bool
node_alive(simnodes *s, int i, bool *registered, bool *status_due)
{
  pthread_mutex_lock(&s->lock);
  bool alive = simnodes_alive_locked(s, i);
  *registered = s->nodes[i].registered;
  *status_due = alive && s->nodes[i].status_due;
  if (*status_due)
    s->nodes[i].status_due = false;
  pthread_mutex_unlock(&s->lock);
  return alive;
}

static unsigned
resume_generation(simnodes *s)
{
  pthread_mutex_lock(&s->lock);
  unsigned gen = s->resume_gen;
  pthread_mutex_unlock(&s->lock);
  return gen;
}

static void *
heartbeat_main(void *arg)
{
  pthread_setname_np(pthread_self(), "sim-heartbeat");
  struct simnodes_heartbeat *h = arg;
  simnodes *s = h->s;
  int n = s->cfg.count, stride = s->cfg.heartbeat_threads;
  for (int i = h->stripe; i < n && !stopping(s); i += stride)
    register_node(s, i);

  long long tick_ms = s->cfg.lease_renew_ms / 10;
  tick_ms = tick_ms < 10 ? 10 : tick_ms > 100 ? 100 : tick_ms;
  long long lease_slots = s->cfg.lease_renew_ms / tick_ms;
  long long status_slots = s->cfg.status_update_ms / tick_ms;
  if (lease_slots < 1)
    lease_slots = 1;
  if (status_slots < 1)
    status_slots = 1;
  long long start = clock_monotonic_ms();
  unsigned seen_gen = resume_generation(s);
  for (long long tick = 1; wait_until(s, start + tick * tick_ms); tick++) {
    for (long long i = tick % lease_slots; i < n; i += lease_slots) {
      bool registered, status_due;
      if (i % stride != h->stripe)
        continue;
      if (!node_alive(s, (int)i, &registered, &status_due))
        continue;
      if (registered)
        renew_lease(s, (int)i);
      else
        register_node(s, (int)i);
    }
    for (long long i = tick % status_slots; i < n; i += status_slots) {
      bool registered, status_due;
      if (i % stride != h->stripe)
        continue;
      if (node_alive(s, (int)i, &registered, &status_due) && registered)
        post_status(s, (int)i);
    }
    /* Nodes resumed since the last tick: Ready again at once, not a period later. */
    unsigned gen = resume_generation(s);
    bool resumed = gen != seen_gen;
    seen_gen = gen;
    for (int i = h->stripe; resumed && i < n; i += stride) {
      bool registered, status_due;
      if (node_alive(s, i, &registered, &status_due) && status_due && registered) {
        post_status(s, i);
        renew_lease(s, i);
      }
    }
  }
  return NULL;
}

/* ---------- the writes ---------- */

static void
register_node(simnodes *s, int i)
{
  const char *name = s->nodes[i].name;
  k8c_err err = {0};
  cleanup_json json_t *node = simnode_object(s, i);
  pthread_mutex_lock(&s->lock);
  time_t since = s->nodes[i].ready_since;
  pthread_mutex_unlock(&s->lock);
  json_object_set_new(node, "status", simnode_status(s, i, since)); /* as a kubelet registers */
  cleanup_json json_t *created = NULL;
  if (client_create(s->client, s->nodes_res, "", node, NULL, &created, &err) < 0) {
    if (err.status != 409) {
      log_warn("simnodes: registering %s: %s", name, err.message);
      k8c_err_clear(&err);
      return;
    }
    /* Registered before (a restarted server or agent): take it over as it is. */
    k8c_err_clear(&err);
    if (client_get(s->client, s->nodes_res, "", name, &created, &err) < 0) {
      log_warn("simnodes: registering %s: %s", name, err.message);
      k8c_err_clear(&err);
      return;
    }
  }
  /* A server that drops status on create, or a Node registered before: post it. */
  if (!json_equal(json_object_get(created, "status"), json_object_get(node, "status")))
    post_status(s, i);
  cleanup_json json_t *lease = simnode_lease(s, i, meta_uid(created));
  if (client_create(s->client, s->leases_res, "kube-node-lease", lease, NULL, NULL, &err) < 0) {
    if (err.status != 409) {
      log_warn("simnodes: creating the lease of %s: %s", name, err.message);
      k8c_err_clear(&err);
      return;
    }
    k8c_err_clear(&err);
    renew_lease(s, i);
  }
  pthread_mutex_lock(&s->lock);
  if (!s->nodes[i].registered) {
    s->nodes[i].registered = true;
    s->registered_count++;
    if (s->registered_count == (size_t)s->cfg.count)
      log_info("simnodes: all %d nodes registered", s->cfg.count);
    pthread_cond_broadcast(&s->changed);
  }
  pthread_mutex_unlock(&s->lock);
}

/* Marks node i for registration again (its Node or Lease was deleted under it). */
static void
forget_registration(simnodes *s, int i)
{
  pthread_mutex_lock(&s->lock);
  if (s->nodes[i].registered) {
    s->nodes[i].registered = false;
    s->registered_count--;
  }
  pthread_mutex_unlock(&s->lock);
}

static void
renew_lease(simnodes *s, int i)
{
  char now[40];
  simnodes_micro_now(now);
  cleanup_json json_t *patch =
      json_pack("{s:{s:s,s:s}}", "spec", "holderIdentity", s->nodes[i].name, "renewTime", now);
  k8c_err err = {0};
  if (client_patch(s->client, s->leases_res, "kube-node-lease", s->nodes[i].name,
                   "application/merge-patch+json", patch, NULL, NULL, &err) < 0) {
    if (err.status == 404)
      forget_registration(s, i);
    else
      log_warn("simnodes: renewing the lease of %s: %s", s->nodes[i].name, err.message);
    k8c_err_clear(&err);
  }
}

static void
post_status(simnodes *s, int i)
{
  pthread_mutex_lock(&s->lock);
  time_t since = s->nodes[i].ready_since;
  pthread_mutex_unlock(&s->lock);
  cleanup_json json_t *patch = json_pack("{s:o}", "status", simnode_status(s, i, since));
  struct client_write_opts o = {.subresource = "status"};
  k8c_err err = {0};
  if (client_patch(s->client, s->nodes_res, "", s->nodes[i].name, "application/merge-patch+json",
                   patch, &o, NULL, &err) < 0) {
    if (err.status == 404)
      forget_registration(s, i);
    else
      log_warn("simnodes: posting the status of %s: %s", s->nodes[i].name, err.message);
    k8c_err_clear(&err);
  }
}

/* ---------- time ---------- */

/* Sleeps until deadline_ms (monotonic) or a stop; false when stopping. */
static bool
wait_until(simnodes *s, long long deadline_ms)
{
  struct timespec deadline = {.tv_sec = deadline_ms / 1000,
                              .tv_nsec = (deadline_ms % 1000) * 1000000L};
  pthread_mutex_lock(&s->lock);
  while (!s->stopping && clock_monotonic_ms() < deadline_ms)
    if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) != 0)
      break;
  bool go_on = !s->stopping;
  pthread_mutex_unlock(&s->lock);
  return go_on;
}
