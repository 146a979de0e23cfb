/* podworker.c — one level-triggered sync of one pod: compare the pod (from the
 * informer's cache) with its record and the runtime, then act — tear down a pod that is
 * gone or replaced, terminate one being deleted and delete it for good, create the
 * sandbox, run init containers in order, keep containers running under the restart
 * policy with crash-loop back-off, run probes, release the pod when it is finished, and
 * hand the status to the status manager. Returns when the pod next needs attention. */
#include "kubelet/kubelet_internal.h"

#include "kubelet/eviction.h"

#include "apimachinery/meta.h"
#include "kubelet/podstatus.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
podworker_container_id(const char *uid, const char *name, int restart)
{
  return xasprintf("%s_%s_%d", uid, name, restart);
}

bool
podworker_parse_container_id(const char *id, char uid[64], char name[128], int *restart)
{
  const char *first = strchr(id, '_');
  const char *last = strrchr(id, '_');
  if (first == NULL || last == first || first - id >= 64 || last - first - 1 >= 128)
    return false;
  char *end = NULL;
  long r = strtol(last + 1, &end, 10);
  if (*end != '\0' || end == last + 1 || r < 0)
    return false;
  memcpy(uid, id, (size_t)(first - id));
  uid[first - id] = '\0';
  memcpy(name, first + 1, (size_t)(last - first - 1));
  name[last - first - 1] = '\0';
  *restart = (int)r;
  return true;
}

static void
kcontainer_clear(struct kcontainer *c)
{
  free(c->name);
  free(c->id);
  free(c->prev_id);
  free(c->waiting_reason);
  free(c->waiting_message);
  free(c->image_id);
}

void
kpod_free(struct kpod *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n_cs; i++)
    kcontainer_clear(&p->cs[i]);
  free(p->cs);
  if (p->has_sandbox)
    sandbox_info_free(&p->sandbox);
  pod_volumes_clear(&p->volumes);
  json_decref(p->last_status);
  free(p->uid);
  free(p->key);
  free(p->ns);
  free(p->name);
  free(p->start_time);
  free(p);
}

static struct kpod *
kpod_new(const json_t *pod, const char *key)
{
  struct kpod *p = xcalloc(1, sizeof *p);
  p->uid = xstrdup(meta_uid(pod) ?: "");
  p->key = xstrdup(key);
  p->ns = xstrdup(meta_namespace(pod) ?: "default");
  p->name = xstrdup(meta_name(pod) ?: "");
  const json_t *spec = json_object_get(pod, "spec");
  const json_t *inits = json_object_get(spec, "initContainers");
  const json_t *conts = json_object_get(spec, "containers");
  p->n_cs = json_array_size(inits) + json_array_size(conts);
  p->cs = xcalloc(p->n_cs ? p->n_cs : 1, sizeof *p->cs);
  size_t n = 0, i;
  const json_t *c;
  json_array_foreach (inits, i, c) {
    p->cs[n].name = xstrdup(json_string_value(json_object_get(c, "name")) ?: "");
    p->cs[n].init = true;
    const char *rp = json_string_value(json_object_get(c, "restartPolicy"));
    p->cs[n].sidecar = rp && strcmp(rp, "Always") == 0;
    n++;
  }
  json_array_foreach (conts, i, c)
    p->cs[n++].name = xstrdup(json_string_value(json_object_get(c, "name")) ?: "");
  const char *st = json_string_value(json_object_get(json_object_get(pod, "status"), "startTime"));
  p->start_time = st ? xstrdup(st) : kubelet_now_rfc3339();
  return p;
}

struct kpod *
kpod_new_for_readopt(const json_t *pod, const char *key)
{
  struct kpod *p = kpod_new(pod, key);
  const json_t *st = json_object_get(pod, "status");
  static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    const json_t *cs;
    json_array_foreach (json_object_get(st, lists[l]), i, cs) {
      const char *name = json_string_value(json_object_get(cs, "name"));
      const char *image_id = json_string_value(json_object_get(cs, "imageID"));
      for (size_t k = 0; name && image_id && *image_id && k < p->n_cs; k++)
        if (strcmp(p->cs[k].name, name) == 0 && p->cs[k].image_id == NULL)
          p->cs[k].image_id = xstrdup(image_id);
    }
  }
  return p;
}

/* The spec of record container c. Borrowed from pod. */
static const json_t *
container_json(const json_t *pod, const struct kcontainer *c)
{
  const json_t *spec = json_object_get(pod, "spec");
  const json_t *arr = json_object_get(spec, c->init ? "initContainers" : "containers");
  size_t i;
  const json_t *v;
  json_array_foreach (arr, i, v) {
    const char *name = json_string_value(json_object_get(v, "name"));
    if (name && strcmp(name, c->name) == 0)
      return v;
  }
  return NULL;
}

static void
forget_pod(struct kubelet *kl, struct kpod *p)
{
  pthread_mutex_lock(&kl->lock);
  if (hashmap_get(kl->pods, p->key) == p)
    hashmap_remove(kl->pods, p->key);
  free(hashmap_remove(kl->uid_to_key, p->uid));
  pthread_mutex_unlock(&kl->lock);
  kpod_free(p);
}

static int
grace_seconds(const json_t *pod)
{
  const json_t *meta = json_object_get(pod, "metadata");
  const json_t *g = json_object_get(meta, "deletionGracePeriodSeconds");
  if (json_is_integer(g))
    return (int)json_integer_value(g);
  g = json_object_get(json_object_get(pod, "spec"), "terminationGracePeriodSeconds");
  return json_is_integer(g) ? (int)json_integer_value(g) : 30;
}

/* The pod is being deleted: stop everything, then remove it from the API. */
static void
finish_deletion(struct kubelet *kl, struct kpod *p, const json_t *pod)
{
  if (p && !p->released)
    podworker_kill_pod(kl, p, pod, grace_seconds(pod));
  cleanup_json json_t *opts =
      json_pack("{s:s,s:s,s:i,s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                "gracePeriodSeconds", 0, "preconditions", "uid", meta_uid(pod) ?: "");
  k8c_err err = {0};
  if (client_delete(kl->client, kl->pods_res, meta_namespace(pod), meta_name(pod), opts, NULL, NULL,
                    &err) < 0 &&
      err.status != 404 && err.status != 409)
    log_warn("kubelet: deleting pod %s/%s: %s", meta_namespace(pod), meta_name(pod), err.message);
  k8c_err_clear(&err);
}

/* ---------- containers ---------- */

static bool
read_state(struct kubelet *kl, const char *id, struct container_state *st)
{
  if (id == NULL)
    return false;
  k8c_err err = {0};
  if (runtime_container_state(kl->rt, id, st, &err) < 0) {
    k8c_err_clear(&err);
    return false;
  }
  return true;
}

static const char *
restart_policy(const json_t *pod)
{
  return json_string_value(json_object_get(json_object_get(pod, "spec"), "restartPolicy"))
             ?: "Always";
}

static bool
should_restart(const json_t *pod, const struct kcontainer *c, int exit_code)
{
  if (c->sidecar)
    return true;
  const char *policy = restart_policy(pod);
  if (c->init) /* init containers: retried on failure unless the pod never restarts */
    return exit_code != 0 && strcmp(policy, "Never") != 0;
  if (strcmp(policy, "Always") == 0)
    return true;
  return strcmp(policy, "OnFailure") == 0 && exit_code != 0;
}

static void
set_waiting(struct kcontainer *c, const char *reason, char *message_owned)
{
  free(c->waiting_reason);
  free(c->waiting_message);
  c->waiting_reason = reason ? xstrdup(reason) : NULL;
  c->waiting_message = message_owned;
}

static int64_t
wall_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
min_delay(int64_t *delay, int64_t d)
{
  if (d < 0)
    d = 0;
  if (*delay < 0 || d < *delay)
    *delay = d;
}

/* Probe exec callback: runs argv in the container named by ctx. */
struct exec_ctx {
  struct kubelet *kl;
  const char *id;
};

static int
probe_exec(void *ctx, char *const *argv, int timeout_ms, int *exit_code, char **output)
{
  struct exec_ctx *e = ctx;
  struct exec_process proc;
  k8c_err err = {0};
  *output = NULL;
  if (runtime_container_exec(e->kl->rt, e->id, (const char *const *)argv, NULL, false, &proc,
                             &err) < 0) {
    *output = xstrdup(err.message);
    k8c_err_clear(&err);
    return -1;
  }
  if (runtime_exec_wait(&proc, timeout_ms, exit_code, &err) < 0) {
    *output = xasprintf("command timed out after %ds", timeout_ms / 1000);
    k8c_err_clear(&err);
    return -1;
  }
  return 0;
}

/* Runs the probes of a running container that are due. Returns true when the
 * liveness probe says the container must be restarted. */
static bool
run_probes(struct kubelet *kl, struct kpod *p, const json_t *pod, const json_t *cj,
           struct kcontainer *c, const struct container_state *st, int64_t *delay)
{
  int64_t now = kubelet_now_ms();
  if (!c->probes_started) {
    int64_t started_ms = now - (wall_ns() - st->started_at_ns) / 1000000;
    if (started_ms > now)
      started_ms = now;
    probe_state_init(&c->startup, PROBE_STARTUP, json_object_get(cj, "startupProbe"), started_ms);
    probe_state_init(&c->liveness, PROBE_LIVENESS, json_object_get(cj, "livenessProbe"),
                     started_ms);
    probe_state_init(&c->readiness, PROBE_READINESS, json_object_get(cj, "readinessProbe"),
                     started_ms);
    c->probes_started = true;
  }
  struct exec_ctx ectx = {.kl = kl, .id = st->id};
  struct probe_target target = {.pod_ip = p->has_sandbox && p->sandbox.ip ? p->sandbox.ip
                                                                          : kl->facts.internal_ip,
                                .container = cj,
                                .exec = probe_exec,
                                .exec_ctx = &ectx};
  static const char *const fields[] = {"startupProbe", "livenessProbe", "readinessProbe"};
  static const char *const words[] = {"Startup", "Liveness", "Readiness"};
  struct probe_state *states[] = {&c->startup, &c->liveness, &c->readiness};
  bool kill = false;
  for (int k = 0; k < 3; k++) {
    const json_t *probe = json_object_get(cj, fields[k]);
    if (probe == NULL)
      continue;
    if (k > 0 && !c->startup.result) /* startup gates the others */
      continue;
    if (k == 0 && c->startup.result)
      continue;
    if (probe_state_due(states[k], now)) {
      char *message = NULL;
      enum probe_result r = probe_run(probe, &target, &message);
      if (r == PROBE_FAILURE)
        kubelet_event(kl, pod, "Warning", "Unhealthy", "%s probe failed: %s", words[k],
                      message ? message : "");
      bool changed = probe_state_record(states[k], r, kubelet_now_ms());
      free(message);
      /* liveness: its verdict turned false; startup: it failed failureThreshold times in
       * a row (its verdict starts false, so it never "turns") */
      bool failed = k == 1 ? changed && !states[k]->result
                           : k == 0 && r == PROBE_FAILURE &&
                                 states[k]->failures >= states[k]->failure_threshold;
      if (failed) {
        kill = true;
        kubelet_event(kl, pod, "Normal", "Killing",
                      "Container %s failed %s probe, will be restarted", c->name,
                      k == 0 ? "startup" : "liveness");
      }
    }
    min_delay(delay, states[k]->next_ms - kubelet_now_ms());
  }
  return kill;
}

/* Brings container c in line: returns true when it is running (or done, for a
 * completed init container) — i.e. the pod may go on to the next init container. */
static bool
sync_container(struct kubelet *kl, struct kpod *p, const json_t *pod, struct kcontainer *c,
               bool *init_done, int64_t *delay)
{
  const json_t *cj = container_json(pod, c);
  if (cj == NULL)
    return false;
  struct container_state st = {0};
  bool have = read_state(kl, c->id, &st);
  if (have && (st.status == CONTAINER_RUNNING || st.status == CONTAINER_CREATED)) {
    if (st.status == CONTAINER_CREATED) { /* created by an interrupted start */
      k8c_err err = {0};
      if (runtime_container_start(kl->rt, c->id, &err) < 0)
        k8c_err_clear(&err);
    }
    set_waiting(c, NULL, NULL);
    *init_done = c->sidecar ? true : !c->init;
    if (run_probes(kl, p, pod, cj, c, &st, delay)) {
      const json_t *g =
          json_object_get(json_object_get(pod, "spec"), "terminationGracePeriodSeconds");
      const json_t *pre = json_object_get(json_object_get(cj, "lifecycle"), "preStop");
      int grace = json_is_integer(g) ? (int)json_integer_value(g) : 30;
      if (pre) {
        char *msg = NULL;
        if (podworker_run_hook(kl, p, cj, c->id, pre, grace, &msg) < 0)
          kubelet_event(kl, pod, "Warning", "FailedPreStopHook", "%s", msg ? msg : "");
        free(msg);
      }
      k8c_err err = {0};
      if (runtime_container_stop(kl->rt, c->id, grace, &err) < 0)
        k8c_err_clear(&err);
      c->killed_by_liveness = true;
      min_delay(delay, 0);
    }
    container_state_free(&st);
    return true;
  }
  if (have && st.status == CONTAINER_EXITED) {
    int code = st.exit_code;
    int64_t finished = st.finished_at_ns;
    container_state_free(&st);
    if (c->init && !c->sidecar && code == 0) {
      *init_done = true;
      return true;
    }
    if (!should_restart(pod, c, code)) {
      *init_done = !c->init && !c->sidecar;
      return !c->init;
    }
    int64_t backoff = podstatus_crash_backoff_ms(c->restart_count);
    int64_t left = backoff - (wall_ns() - finished) / 1000000;
    if (left > 0) {
      char *msg = xasprintf("back-off %llds restarting failed container=%s pod=%s_%s(%s)",
                            (long long)(backoff / 1000), c->name, p->name, p->ns, p->uid);
      if (c->waiting_reason == NULL || strcmp(c->waiting_reason, "CrashLoopBackOff") != 0)
        kubelet_event(kl, pod, "Warning", "BackOff",
                      "Back-off restarting failed container %s in pod %s_%s(%s)", c->name, p->name,
                      p->ns, p->uid);
      set_waiting(c, "CrashLoopBackOff", msg);
      min_delay(delay, left);
      return false;
    }
    /* restart: the exited run becomes the previous one */
    if (c->prev_id)
      podworker_remove_container(kl, c->prev_id);
    free(c->prev_id);
    c->prev_id = c->id;
    c->id = NULL;
    c->restart_count++;
    c->probes_started = false;
    c->killed_by_liveness = false;
  } else if (have) {
    container_state_free(&st); /* unknown: conmon died; start a new run */
    if (c->prev_id)
      podworker_remove_container(kl, c->prev_id);
    free(c->prev_id);
    c->prev_id = c->id;
    c->id = NULL;
    c->restart_count++;
  } else if (c->id) {
    free(c->id); /* the runtime lost it */
    c->id = NULL;
  }
  if (podworker_start_container(kl, p, pod, cj, c) < 0) {
    int64_t until = c->pull_backoff_until_ms > c->backoff_until_ms ? c->pull_backoff_until_ms
                                                                   : c->backoff_until_ms;
    int64_t wait = until - kubelet_now_ms();
    min_delay(delay, wait > 1000 ? wait : 2000);
    return false;
  }
  c->has_run = true;
  min_delay(delay, 0); /* observe it (probes, exits) promptly */
  *init_done = c->sidecar || !c->init;
  return !c->init || c->sidecar;
}

static char *
dns_search(const char *ns, const char *domain, int which)
{
  switch (which) {
  case 0:
    return xasprintf("%s.svc.%s", ns, domain);
  case 1:
    return xasprintf("svc.%s", domain);
  default:
    return xstrdup(domain);
  }
}

/* Reads the host's resolv.conf nameservers and searches (dnsPolicy Default). */
static void
host_dns(char **ns, size_t *n_ns, char **search, size_t *n_search, size_t cap)
{
  FILE *f = fopen("/etc/resolv.conf", "r");
  if (f == NULL)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char word[256];
    if (sscanf(line, "nameserver %255s", word) == 1 && *n_ns < cap)
      ns[(*n_ns)++] = xstrdup(word);
    else if (strncmp(line, "search ", 7) == 0) {
      char *save = NULL;
      for (char *t = strtok_r(line + 7, " \t\n", &save); t && *n_search < cap;
           t = strtok_r(NULL, " \t\n", &save))
        search[(*n_search)++] = xstrdup(t);
    }
  }
  fclose(f);
}

#define DNS_CAP 16

static void
strv_free_n(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
}

/* CNI ADD for a prepared sandbox, on a thread of its own. */
struct network_job {
  pthread_t thread;
  struct runtime *rt;
  char *id;
  char *ip;
  int rc;
  int64_t started_ms;
  k8c_err err;
};

static void *
network_main(void *arg)
{
  struct network_job *job = arg;
  job->rc = runtime_sandbox_connect(job->rt, job->id, &job->ip, &job->err);
  return NULL;
}

#define NETWORK_THREAD_STACK (256 * 1024)

static void
network_start(struct kubelet *kl, struct kpod *p)
{
  struct network_job *job = xcalloc(1, sizeof *job);
  job->rt = kl->rt;
  job->id = xstrdup(p->sandbox.id);
  job->started_ms = kubelet_now_ms();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, NETWORK_THREAD_STACK);
  bool threaded = pthread_create(&job->thread, &attr, network_main, job) == 0;
  pthread_attr_destroy(&attr);
  if (!threaded) {
    job->thread = pthread_self(); /* no thread to be had: connect now */
    network_main(job);
  }
  p->network = job;
}

int
podworker_network_wait(struct kubelet *kl, struct kpod *p, const json_t *pod)
{
  struct network_job *job = p->network;
  if (job == NULL)
    return 0;
  p->network = NULL;
  if (!pthread_equal(job->thread, pthread_self()))
    pthread_join(job->thread, NULL);
  int rc = job->rc;
  if (rc == 0) {
    free(p->sandbox.ip);
    p->sandbox.ip = steal_ptr(job->ip);
    log_debug("kubelet: %s: pod network in %lld ms", p->key,
              (long long)(kubelet_now_ms() - job->started_ms));
  } else {
    /* the containers created meanwhile (none started), then the sandbox */
    kubelet_event(kl, pod, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: %s",
                  job->err.message);
    podworker_remove_pod_containers(kl, p->uid);
    for (size_t i = 0; i < p->n_cs; i++) {
      free(p->cs[i].id);
      p->cs[i].id = NULL;
    }
    k8c_err rerr = {0};
    if (runtime_sandbox_remove(kl->rt, p->sandbox.id, &rerr) < 0) {
      log_warn("kubelet: %s: removing the sandbox: %s", p->key, rerr.message);
      k8c_err_clear(&rerr);
    }
    sandbox_info_free(&p->sandbox);
    memset(&p->sandbox, 0, sizeof p->sandbox);
    p->has_sandbox = false;
  }
  k8c_err_clear(&job->err);
  free(job->ip);
  free(job->id);
  free(job);
  return rc;
}

static int
ensure_sandbox(struct kubelet *kl, struct kpod *p, const json_t *pod, k8c_err *err)
{
  if (p->has_sandbox)
    return 0;
  const json_t *spec = json_object_get(pod, "spec");
  bool host_net = json_is_true(json_object_get(spec, "hostNetwork"));
  const char *policy = json_string_value(json_object_get(spec, "dnsPolicy")) ?: "ClusterFirst";
  char *ns[DNS_CAP + 1] = {0}, *search[DNS_CAP + 1] = {0}, *opts[DNS_CAP + 1] = {0};
  size_t n_ns = 0, n_search = 0, n_opts = 0;
  bool cluster = (strcmp(policy, "ClusterFirst") == 0 && !host_net) ||
                 strcmp(policy, "ClusterFirstWithHostNet") == 0;
  if (cluster) {
    ns[n_ns++] = xstrdup(kl->cfg.cluster_dns);
    for (int i = 0; i < 3; i++)
      search[n_search++] = dns_search(p->ns, kl->cfg.cluster_domain, i);
    opts[n_opts++] = xstrdup("ndots:5");
  } else if (strcmp(policy, "None") != 0) {
    host_dns(ns, &n_ns, search, &n_search, DNS_CAP);
  }
  const json_t *dc = json_object_get(spec, "dnsConfig");
  size_t i;
  const json_t *v;
  json_array_foreach (json_object_get(dc, "nameservers"), i, v)
    if (n_ns < DNS_CAP && json_is_string(v))
      ns[n_ns++] = xstrdup(json_string_value(v));
  json_array_foreach (json_object_get(dc, "searches"), i, v)
    if (n_search < DNS_CAP && json_is_string(v))
      search[n_search++] = xstrdup(json_string_value(v));
  json_array_foreach (json_object_get(dc, "options"), i, v) {
    const char *name = json_string_value(json_object_get(v, "name"));
    const char *value = json_string_value(json_object_get(v, "value"));
    if (name == NULL || n_opts >= DNS_CAP)
      continue;
    for (size_t k = 0; k < n_opts; k++) /* a dnsConfig option replaces the default's */
      if (strncmp(opts[k], name, strlen(name)) == 0 &&
          (opts[k][strlen(name)] == ':' || opts[k][strlen(name)] == '\0')) {
        free(opts[k]);
        opts[k] = opts[--n_opts];
        opts[n_opts] = NULL;
        break;
      }
    opts[n_opts++] = value ? xasprintf("%s:%s", name, value) : xstrdup(name);
  }
  char *aliases[DNS_CAP + 1] = {0};
  size_t n_aliases = 0;
  json_array_foreach (json_object_get(spec, "hostAliases"), i, v) {
    const char *ip = json_string_value(json_object_get(v, "ip"));
    if (ip == NULL || n_aliases >= DNS_CAP)
      continue;
    char *line = xstrdup(ip);
    size_t k;
    const json_t *h;
    json_array_foreach (json_object_get(v, "hostnames"), k, h) {
      char *next = xasprintf("%s\t%s", line, json_string_value(h) ?: "");
      free(line);
      line = next;
    }
    aliases[n_aliases++] = line;
  }
  struct cni_port_mapping ports[64];
  size_t n_ports = 0;
  const json_t *conts = json_object_get(spec, "containers");
  const json_t *c;
  json_array_foreach (conts, i, c) {
    size_t k;
    const json_t *port;
    json_array_foreach (json_object_get(c, "ports"), k, port) {
      json_int_t hp = json_integer_value(json_object_get(port, "hostPort"));
      if (hp <= 0 || host_net || n_ports >= 64)
        continue;
      const char *proto = json_string_value(json_object_get(port, "protocol"));
      ports[n_ports++] = (struct cni_port_mapping){
          .host_port = (int)hp,
          .container_port = (int)json_integer_value(json_object_get(port, "containerPort")),
          .protocol = proto && strcmp(proto, "UDP") == 0    ? "udp"
                      : proto && strcmp(proto, "SCTP") == 0 ? "sctp"
                                                            : "tcp",
          .host_ip = json_string_value(json_object_get(port, "hostIP")),
      };
    }
  }
  const char *qos = json_string_value(json_object_get(json_object_get(pod, "status"), "qosClass"));
  struct sandbox_spec ss = {
      .id = p->uid,
      .pod_uid = p->uid,
      .pod_name = p->name,
      .pod_namespace = p->ns,
      .hostname = json_string_value(json_object_get(spec, "hostname")),
      .host_network = host_net,
      .host_ipc = json_is_true(json_object_get(spec, "hostIPC")),
      .qos = qos && strcmp(qos, "Guaranteed") == 0   ? POD_QOS_GUARANTEED
             : qos && strcmp(qos, "BestEffort") == 0 ? POD_QOS_BESTEFFORT
                                                     : POD_QOS_BURSTABLE,
      .dns_nameservers = (const char *const *)ns,
      .dns_searches = (const char *const *)search,
      .dns_options = (const char *const *)opts,
      .host_aliases = (const char *const *)aliases,
      .ports = ports,
      .n_ports = n_ports,
  };
  int64_t t0 = kubelet_now_ms();
  int rc = runtime_sandbox_prepare(kl->rt, &ss, &p->sandbox, err);
  log_debug("kubelet: %s: sandbox namespaces in %lld ms", p->key,
            (long long)(kubelet_now_ms() - t0));
  if (rc == 0) {
    p->has_sandbox = true;
    if (!host_net)
      network_start(kl, p);
  }
  strv_free_n(ns, n_ns);
  strv_free_n(search, n_search);
  strv_free_n(opts, n_opts);
  strv_free_n(aliases, n_aliases);
  return rc;
}

static bool
is_terminal(const char *phase)
{
  return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/* Reports a failed sandbox or volume set-up as an event and in the status; returns -1. */
static int
report_setup_failure(struct kubelet *kl, struct kpod *p, const json_t *pod, const char *reason,
                     k8c_err *err)
{
  if (podworker_network_wait(kl, p, pod) == 0) {
    if (strcmp(reason, "FailedCreatePodSandBox") == 0)
      kubelet_event(kl, pod, "Warning", reason, "Failed to create pod sandbox: %s", err->message);
    else
      kubelet_event(kl, pod, "Warning", reason, "%s", err->message);
  }
  k8c_err_clear(err);
  status_manager_sync(kl, p, pod);
  return -1;
}

/* A new pod's sandbox namespaces, then its network (CNI: tens of ms of plugin execs) in
 * the background while the volumes (TokenRequest, ConfigMap reads: API round trips) are
 * prepared and the containers created; a container starts only once the network is up
 * (podworker_network_wait). -1 with the failure already reported. */
static int
sandbox_and_volumes(struct kubelet *kl, struct kpod *p, const json_t *pod)
{
  k8c_err err = {0};
  if (ensure_sandbox(kl, p, pod, &err) < 0)
    return report_setup_failure(kl, p, pod, "FailedCreatePodSandBox", &err);
  int64_t t0 = kubelet_now_ms();
  bool first = !p->volumes_ready;
  if (podworker_volumes_setup(kl, p, pod, &err) < 0)
    return report_setup_failure(kl, p, pod, "FailedMount", &err);
  if (first)
    log_debug("kubelet: %s: volumes in %lld ms", p->key, (long long)(kubelet_now_ms() - t0));
  return 0;
}

/* A running pod's sync; returns the next delay. */
static int64_t
sync_running(struct kubelet *kl, struct kpod *p, const json_t *pod)
{
  int64_t delay = -1;
  if (sandbox_and_volumes(kl, p, pod) < 0)
    return 5000;
  bool inits_done = true;
  for (size_t i = 0; i < p->n_cs && inits_done; i++) {
    struct kcontainer *c = &p->cs[i];
    if (!c->init)
      continue;
    bool done = false;
    sync_container(kl, p, pod, c, &done, &delay);
    if (!done)
      inits_done = false;
  }
  for (size_t i = 0; i < p->n_cs; i++) {
    struct kcontainer *c = &p->cs[i];
    if (c->init)
      continue;
    if (!inits_done) {
      if (c->id == NULL)
        set_waiting(c, "PodInitializing", NULL);
      continue;
    }
    bool done = false;
    sync_container(kl, p, pod, c, &done, &delay);
  }
  if (podworker_network_wait(kl, p, pod) < 0)
    min_delay(&delay, 5000); /* the sandbox is made again then */
  status_manager_sync(kl, p, pod);
  return delay;
}

static struct kpod *
lookup(struct kubelet *kl, const char *key)
{
  pthread_mutex_lock(&kl->lock);
  struct kpod *p = hashmap_get(kl->pods, key);
  pthread_mutex_unlock(&kl->lock);
  return p;
}

int64_t
podworker_sync(struct kubelet *kl, const char *key)
{
  cleanup_json json_t *pod = informer_get(kl->pod_informer, key);
  struct kpod *p = lookup(kl, key);
  if (p && (pod == NULL || strcmp(meta_uid(pod) ?: "", p->uid) != 0)) {
    /* gone from the API (or replaced by a pod of the same name) */
    if (!p->released)
      podworker_kill_pod(kl, p, NULL, 2);
    readopt_remove_logs(kl, p->uid); /* a force-deleted pod's logs go with it too */
    forget_pod(kl, p);
    p = NULL;
  }
  if (pod == NULL)
    return -1;
  if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp")) {
    finish_deletion(kl, p, pod);
    readopt_remove_logs(kl, meta_uid(pod) ?: "");
    if (p)
      forget_pod(kl, p);
    return -1;
  }
  if (p == NULL) {
    p = kpod_new(pod, key);
    pthread_mutex_lock(&kl->lock);
    hashmap_put(kl->pods, key, p);
    free(hashmap_put(kl->uid_to_key, p->uid, xstrdup(key)));
    pthread_mutex_unlock(&kl->lock);
  }
  if (p->released)
    return -1;
  if (eviction_manager_sync(kl, p, pod))
    return -1; /* evicted under memory pressure */
  const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
  if (is_terminal(phase) && !p->has_sandbox && p->n_cs > 0 && p->cs[0].id == NULL) {
    p->released = true; /* finished before this agent saw it run */
    return -1;
  }
  int64_t delay = sync_running(kl, p, pod);
  const char *now_phase =
      p->last_status ? json_string_value(json_object_get(p->last_status, "phase")) : NULL;
  if (is_terminal(now_phase)) {
    podworker_kill_pod(kl, p, pod, 0);
    p->released = true;
    return -1;
  }
  return delay;
}
