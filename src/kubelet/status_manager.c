/* status_manager.c — the pod's status as the API should see it: what the record and the
 * runtime say about each container becomes podstatus_build's observation, and the result
 * is written to pods/status only when it differs from what was last written or read,
 * retrying on conflicts with a fresh copy of the pod. */
#include "kubelet/kubelet_internal.h"

#include "apimachinery/meta.h"
#include "kubelet/podstatus.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Strings made for one observation, freed together. */
struct pool {
  char **s;
  size_t n;
};

static const char *
keep(struct pool *pl, char *s)
{
  pl->s = xrealloc(pl->s, (pl->n + 1) * sizeof *pl->s);
  pl->s[pl->n++] = s;
  return s;
}

static const char *
rfc3339_ns(struct pool *pl, int64_t ns)
{
  if (ns <= 0)
    return NULL;
  time_t t = (time_t)(ns / 1000000000LL);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return keep(pl, xstrdup(buf));
}

static const char *
runtime_prefix(struct kubelet *kl)
{
  const char *slash = strrchr(kl->cfg.oci_runtime, '/');
  return slash ? slash + 1 : kl->cfg.oci_runtime;
}

static void
fill_run(struct kubelet *kl, struct pool *pl, const struct container_state *st,
         struct container_run *run)
{
  run->exit_code = st->exit_code < 0 ? 0 : st->exit_code;
  run->signal = 0;
  run->reason = st->oom_killed ? "OOMKilled" : st->exit_code == 0 ? "Completed" : "Error";
  run->message = NULL;
  run->started_at = rfc3339_ns(pl, st->started_at_ns ? st->started_at_ns : st->created_at_ns);
  run->finished_at = rfc3339_ns(pl, st->finished_at_ns);
  run->container_id = keep(pl, xasprintf("%s://%s", runtime_prefix(kl), st->id));
}

static const json_t *
spec_container(const json_t *pod, const struct kcontainer *c)
{
  const json_t *arr =
      json_object_get(json_object_get(pod, "spec"), c->init ? "initContainers" : "containers");
  size_t i;
  const json_t *v;
  json_array_foreach (arr, i, v) {
    const char *n = json_string_value(json_object_get(v, "name"));
    if (n && strcmp(n, c->name) == 0)
      return v;
  }
  return NULL;
}

static void
observe(struct kubelet *kl, struct pool *pl, const json_t *pod, struct kcontainer *c,
        struct container_observed *o)
{
  const json_t *cj = spec_container(pod, c);
  *o = (struct container_observed){
      .name = c->name,
      .image = json_string_value(json_object_get(cj, "image")) ?: "",
      .image_id = c->image_id ? c->image_id : "",
      .phase = CSTATE_WAITING,
      .reason = c->waiting_reason ? c->waiting_reason : "ContainerCreating",
      .message = c->waiting_message,
      .restart_count = c->restart_count,
  };
  struct container_state st;
  k8c_err err = {0};
  if (c->prev_id && runtime_container_state(kl->rt, c->prev_id, &st, &err) == 0) {
    o->has_last = true;
    fill_run(kl, pl, &st, &o->last);
    container_state_free(&st);
  }
  k8c_err_clear(&err);
  if (c->id == NULL || runtime_container_state(kl->rt, c->id, &st, &err) < 0) {
    k8c_err_clear(&err);
    return;
  }
  o->container_id = keep(pl, xasprintf("%s://%s", runtime_prefix(kl), st.id));
  if (st.status == CONTAINER_RUNNING) {
    o->phase = CSTATE_RUNNING;
    o->reason = NULL;
    o->message = NULL;
    o->started_at = rfc3339_ns(pl, st.started_at_ns);
    bool has_startup = json_object_get(cj, "startupProbe") != NULL;
    bool has_readiness = json_object_get(cj, "readinessProbe") != NULL;
    o->started = !has_startup || (c->probes_started && c->startup.result);
    o->ready = o->started && (!has_readiness || (c->probes_started && c->readiness.result));
  } else if (st.status == CONTAINER_EXITED) {
    struct container_run run;
    fill_run(kl, pl, &st, &run);
    if (c->waiting_reason && strcmp(c->waiting_reason, "CrashLoopBackOff") == 0) {
      o->has_last = true;
      o->last = run;
    } else {
      o->phase = CSTATE_TERMINATED;
      o->reason = NULL;
      o->message = NULL;
      o->run = run;
      o->started_at = run.started_at;
    }
  }
  container_state_free(&st);
}

int
status_manager_write(struct kubelet *kl, const json_t *pod, json_t *status)
{
  cleanup_json json_t *obj = json_deep_copy(pod);
  for (int attempt = 0; attempt < 5; attempt++) {
    json_object_set(obj, "status", status);
    k8c_err err = {0};
    if (client_update_status(kl->client, kl->pods_res, meta_namespace(obj), meta_name(obj), obj,
                             NULL, NULL, &err) == 0)
      return 0;
    if (err.status != 409) {
      if (err.status != 404)
        log_warn("kubelet: status of pod %s/%s: %s", meta_namespace(obj), meta_name(obj),
                 err.message);
      k8c_err_clear(&err);
      return -1;
    }
    k8c_err_clear(&err);
    json_t *fresh = NULL;
    if (client_get(kl->client, kl->pods_res, meta_namespace(pod), meta_name(pod), &fresh, &err) <
            0 ||
        strcmp(meta_uid(fresh) ?: "", meta_uid(pod) ?: "") != 0) {
      k8c_err_clear(&err);
      json_decref(fresh);
      return -1;
    }
    json_decref(obj);
    obj = fresh;
  }
  return -1;
}

/* Equal JSON, where a member whose value is null counts as absent: the API server stores
 * a status without its null members (a condition's lastProbeTime), so the copy read back
 * must compare equal to the one written. */
static bool
same_status(const json_t *a, const json_t *b)
{
  if (json_is_object(a) && json_is_object(b)) {
    const char *k;
    const json_t *v;
    json_object_foreach ((json_t *)a, k, v) {
      const json_t *w = json_object_get(b, k);
      if (json_is_null(v) ? !(w == NULL || json_is_null(w)) : !same_status(v, w))
        return false;
    }
    json_object_foreach ((json_t *)b, k, v)
      if (!json_is_null(v) && json_object_get(a, k) == NULL)
        return false;
    return true;
  }
  if (json_is_array(a) && json_is_array(b)) {
    if (json_array_size(a) != json_array_size(b))
      return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same_status(json_array_get(a, i), json_array_get(b, i)))
        return false;
    return true;
  }
  return a && b && json_equal(a, b);
}

/* The informer's copy of the pod may predate the status last written (its watch event
 * is on the way), so a condition that has not flipped since that write keeps the
 * transition time written then — otherwise the next sync would write the same status
 * again with a newer time. */
static void
carry_transition_times(json_t *status, const json_t *last)
{
  const json_t *last_conds = json_object_get(last, "conditions");
  size_t i, k;
  json_t *c;
  const json_t *lc;
  json_array_foreach (json_object_get(status, "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type")) ?: "";
    json_array_foreach (last_conds, k, lc) {
      if (strcmp(json_string_value(json_object_get(lc, "type")) ?: "", type) != 0)
        continue;
      json_t *since = json_object_get(lc, "lastTransitionTime");
      if (json_equal(json_object_get(lc, "status"), json_object_get(c, "status")) &&
          json_is_string(since))
        json_object_set(c, "lastTransitionTime", since);
      break;
    }
  }
}

void
status_manager_sync(struct kubelet *kl, struct kpod *p, const json_t *pod)
{
  struct pool pl = {0};
  size_t n_init = 0;
  for (size_t i = 0; i < p->n_cs; i++)
    n_init += p->cs[i].init;
  struct container_observed *obs = xcalloc(p->n_cs + 1, sizeof *obs);
  for (size_t i = 0; i < p->n_cs; i++)
    observe(kl, &pl, pod, &p->cs[i], &obs[i]);
  cleanup_free char *now = kubelet_now_rfc3339();
  bool host_net = json_is_true(json_object_get(json_object_get(pod, "spec"), "hostNetwork"));
  struct pod_observed po = {
      .now = now,
      .host_ip = kl->facts.internal_ip,
      .pod_ip = host_net         ? kl->facts.internal_ip
                : p->has_sandbox ? p->sandbox.ip
                                 : NULL,
      .start_time = p->start_time,
      .sandbox_ready = p->has_sandbox,
      .init = obs,
      .n_init = n_init,
      .containers = obs + n_init,
      .n_containers = p->n_cs - n_init,
  };
  json_t *status = podstatus_build(pod, &po);
  carry_transition_times(status, p->last_status);
  bool same = same_status(status, json_object_get(pod, "status")) ||
              (p->last_status && same_status(status, p->last_status));
  int64_t t0 = kubelet_now_ms();
  if (!same && status_manager_write(kl, pod, status) < 0) {
    json_decref(status); /* try again on the next sync */
    status = NULL;
  }
  if (!same)
    log_debug("kubelet: %s: status written in %lld ms", p->key, (long long)(kubelet_now_ms() - t0));
  if (status) {
    json_decref(p->last_status);
    p->last_status = status;
  }
  free(obs);
  for (size_t i = 0; i < pl.n; i++)
    free(pl.s[i]);
  free(pl.s);
}
