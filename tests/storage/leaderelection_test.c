/* leaderelection_test.c — two electors on one in-process registry with short durations:
 * exactly one leads, a released lease passes over at once, a leader that cannot renew
 * steps down before the other takes over after the lease duration. */
#include "client/leaderelection.h"
#include "client_fixture.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* What the callbacks of every elector in a test saw, in order. */
struct event_log {
  pthread_mutex_t mu;
  char lines[64][96];
  int n;
};

struct probe {
  struct event_log *log;
  const char *who;
};

static void
log_line(struct event_log *l, const char *who, const char *what, const char *arg)
{
  pthread_mutex_lock(&l->mu);
  if (l->n < 64)
    snprintf(l->lines[l->n++], sizeof l->lines[0], "%s:%s%s%s", who, what, arg ? ":" : "",
             arg ? arg : "");
  pthread_mutex_unlock(&l->mu);
}

static void
on_started(void *ctx)
{
  struct probe *p = ctx;
  log_line(p->log, p->who, "started", NULL);
}

static void
on_stopped(void *ctx)
{
  struct probe *p = ctx;
  log_line(p->log, p->who, "stopped", NULL);
}

static void
on_new(void *ctx, const char *identity)
{
  struct probe *p = ctx;
  log_line(p->log, p->who, "leader", identity);
}

/* Index of the first line equal to text, or -1. */
static int
log_find(struct event_log *l, const char *text)
{
  pthread_mutex_lock(&l->mu);
  int found = -1;
  for (int i = 0; i < l->n && found < 0; i++)
    if (strcmp(l->lines[i], text) == 0)
      found = i;
  pthread_mutex_unlock(&l->mu);
  return found;
}

static int
log_count_suffix(struct event_log *l, const char *suffix)
{
  pthread_mutex_lock(&l->mu);
  int count = 0;
  size_t sl = strlen(suffix);
  for (int i = 0; i < l->n; i++) {
    size_t len = strlen(l->lines[i]);
    if (len >= sl && strcmp(l->lines[i] + len - sl, suffix) == 0)
      count++;
  }
  pthread_mutex_unlock(&l->mu);
  return count;
}

struct pair {
  struct client_fixture f;
  struct event_log log;
  struct probe pa, pb;
  leader_elector *a, *b;
};

static leader_elector *
start_elector(struct pair *p, struct probe *probe, const char *id)
{
  struct leader_election_config cfg = {
      .name = "kube-scheduler",
      .identity = id,
      .lease_duration_ms = 1000,
      .renew_deadline_ms = 600,
      .retry_period_ms = 200,
      .callbacks = {.on_started_leading = on_started,
                    .on_stopped_leading = on_stopped,
                    .on_new_leader = on_new,
                    .ctx = probe},
  };
  k8c_err err = {0};
  leader_elector *e = leader_elector_new(p->f.client, &cfg, &err);
  CHECK(e != NULL);
  k8c_err_clear(&err);
  return e;
}

static int
pair_open(struct pair *p)
{
  memset(p, 0, sizeof *p);
  if (client_fixture_open(&p->f) < 0)
    return -1;
  k8c_err err = {0};
  json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "kube-system");
  int rc = client_create(p->f.client, api_resource_find("", "v1", "namespaces"), "", ns, NULL, NULL,
                         &err);
  json_decref(ns);
  k8c_err_clear(&err);
  pthread_mutex_init(&p->log.mu, NULL);
  p->pa = (struct probe){.log = &p->log, .who = "a"};
  p->pb = (struct probe){.log = &p->log, .who = "b"};
  p->a = start_elector(p, &p->pa, "a");
  p->b = start_elector(p, &p->pb, "b");
  return rc;
}

static void
pair_close(struct pair *p)
{
  leader_elector_stop(p->a);
  leader_elector_stop(p->b);
  pthread_mutex_destroy(&p->log.mu);
  client_fixture_close(&p->f);
}

/* Waits up to ms for some elector to lead; returns it or NULL. */
static leader_elector *
wait_leader(struct pair *p, int ms)
{
  long long end = fixture_now_ms() + ms;
  while (fixture_now_ms() < end) {
    if (p->a && leader_elector_is_leader(p->a))
      return p->a;
    if (p->b && leader_elector_is_leader(p->b))
      return p->b;
    usleep(10000);
  }
  return NULL;
}

static json_t *
get_lease(struct pair *p)
{
  k8c_err err = {0};
  json_t *lease = NULL;
  int rc = client_get(p->f.client, api_resource_find("coordination.k8s.io", "v1", "leases"),
                      "kube-system", "kube-scheduler", &lease, &err);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  return lease;
}

static const char *
spec_str(json_t *lease, const char *field)
{
  return json_string_value(json_object_get(json_object_get(lease, "spec"), field));
}

static json_int_t
spec_int(json_t *lease, const char *field)
{
  return json_integer_value(json_object_get(json_object_get(lease, "spec"), field));
}

static bool
is_micro_time(const char *s)
{
  /* 2006-01-02T15:04:05.000000Z */
  return s && strlen(s) == 27 && s[10] == 'T' && s[19] == '.' && s[26] == 'Z' &&
         strspn(s + 20, "0123456789") == 6;
}

TEST(exactly_one_leads_and_renews)
{
  struct pair p;
  CHECK_INT(pair_open(&p), 0);
  leader_elector *leader = wait_leader(&p, 3000);
  CHECK(leader != NULL);
  usleep(1500000); /* longer than the lease: the leader must keep it by renewing */
  CHECK(leader_elector_is_leader(leader));
  CHECK(leader_elector_is_leader(p.a) != leader_elector_is_leader(p.b));
  CHECK_INT(log_count_suffix(&p.log, ":started"), 1);
  CHECK_INT(log_count_suffix(&p.log, ":stopped"), 0);
  const char *id = leader_elector_identity(leader);
  char line[64];
  snprintf(line, sizeof line, "a:leader:%s", id);
  CHECK(log_find(&p.log, line) >= 0);
  snprintf(line, sizeof line, "b:leader:%s", id);
  CHECK(log_find(&p.log, line) >= 0);

  json_t *lease = get_lease(&p);
  CHECK_STR(spec_str(lease, "holderIdentity"), id);
  CHECK_INT(spec_int(lease, "leaseDurationSeconds"), 1);
  CHECK_INT(spec_int(lease, "leaseTransitions"), 0);
  CHECK(is_micro_time(spec_str(lease, "renewTime")));
  CHECK(is_micro_time(spec_str(lease, "acquireTime")));
  CHECK(strcmp(spec_str(lease, "renewTime"), spec_str(lease, "acquireTime")) > 0);
  json_decref(lease);
  pair_close(&p);
}

TEST(release_on_stop_hands_over_at_once)
{
  struct pair p;
  CHECK_INT(pair_open(&p), 0);
  leader_elector *leader = wait_leader(&p, 3000);
  CHECK(leader != NULL);
  bool a_led = leader == p.a;
  const char *other_id = a_led ? "b" : "a";
  long long t0 = fixture_now_ms();
  leader_elector_stop(leader);
  if (a_led)
    p.a = NULL;
  else
    p.b = NULL;
  CHECK(log_find(&p.log, a_led ? "a:stopped" : "b:stopped") >= 0);
  leader_elector *next = wait_leader(&p, 3000);
  CHECK(next != NULL);
  long long took = fixture_now_ms() - t0;
  /* A released lease is free at once: within the acquire retry (<= 2.2 x 200 ms), well
   * before the 1 s lease would have expired. */
  CHECK(took < 900);
  json_t *lease = get_lease(&p);
  CHECK_STR(spec_str(lease, "holderIdentity"), other_id);
  CHECK_INT(spec_int(lease, "leaseTransitions"), 1);
  json_decref(lease);
  char line[64];
  snprintf(line, sizeof line, "%s:leader:%s", other_id, other_id);
  CHECK(log_find(&p.log, line) >= 0);
  pair_close(&p);
}

TEST(leader_that_cannot_renew_steps_down_then_loses_the_lease)
{
  struct pair p;
  CHECK_INT(pair_open(&p), 0);
  leader_elector *leader = wait_leader(&p, 3000);
  CHECK(leader != NULL);
  bool a_led = leader == p.a;
  leader_elector *standby = a_led ? p.b : p.a;
  const char *lid = a_led ? "a" : "b", *sid = a_led ? "b" : "a";
  long long t0 = fixture_now_ms();
  leader_elector_set_paused(leader, true);
  long long end = t0 + 5000;
  while (!leader_elector_is_leader(standby) && fixture_now_ms() < end)
    usleep(10000);
  CHECK(leader_elector_is_leader(standby));
  long long took = fixture_now_ms() - t0;
  /* Not before the 1 s lease ran out (less the last renew's age, at most 200 ms). */
  CHECK(took >= 750);
  CHECK(!leader_elector_is_leader(leader));
  char stopped[16], started[16], seen[32];
  snprintf(stopped, sizeof stopped, "%s:stopped", lid);
  snprintf(started, sizeof started, "%s:started", sid);
  int i_stop = log_find(&p.log, stopped), i_start = log_find(&p.log, started);
  CHECK(i_stop >= 0);
  CHECK(i_start >= 0);
  CHECK(i_stop < i_start); /* never two leaders at once */
  json_t *lease = get_lease(&p);
  CHECK_STR(spec_str(lease, "holderIdentity"), sid);
  CHECK_INT(spec_int(lease, "leaseTransitions"), 1);
  json_decref(lease);

  /* Back online, the old leader finds the lease held and stands by. */
  leader_elector_set_paused(leader, false);
  usleep(800000);
  CHECK(!leader_elector_is_leader(leader));
  CHECK(leader_elector_is_leader(standby));
  snprintf(seen, sizeof seen, "%s:leader:%s", lid, sid);
  CHECK(log_find(&p.log, seen) >= 0);
  pair_close(&p);
}

TEST(config_is_validated_and_identity_defaults_to_host_and_uuid)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  k8c_err err = {0};
  struct leader_election_config bad = {
      .name = "x", .lease_duration_ms = 1000, .renew_deadline_ms = 1000, .retry_period_ms = 100};
  CHECK(leader_elector_new(f.client, &bad, &err) == NULL);
  CHECK_INT(err.status, 422);
  k8c_err_clear(&err);
  bad = (struct leader_election_config){
      .name = "x", .lease_duration_ms = 1000, .renew_deadline_ms = 500, .retry_period_ms = 450};
  CHECK(leader_elector_new(f.client, &bad, &err) == NULL);
  CHECK_INT(err.status, 422);
  k8c_err_clear(&err);
  struct leader_election_config none = {0};
  CHECK(leader_elector_new(f.client, &none, &err) == NULL);
  k8c_err_clear(&err);

  struct leader_election_config ok = {.name = "kube-controller-manager"};
  leader_elector *e = leader_elector_new(f.client, &ok, &err);
  CHECK(e != NULL);
  const char *id = leader_elector_identity(e);
  const char *us = strrchr(id, '_');
  CHECK(us != NULL && us > id);
  CHECK_INT((int)strlen(us + 1), 36);
  leader_elector_stop(e);
  client_fixture_close(&f);
}

TEST_MAIN()
