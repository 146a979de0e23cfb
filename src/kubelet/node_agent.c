/* node_agent.c — the node's side of the API: registers the Node (taking over one left by
 * an earlier run), waits for the pod CIDR the controller manager assigns, then renews the
 * Lease in kube-node-lease and posts the node status (real facts, pressure conditions,
 * the image list) every period, and at once when a pressure condition flips.
 * Design idea: the status is rebuilt from the machine each time (node_status_build is
 * pure); only the transition times come from the last status posted. */
#include "kubelet/kubelet_internal.h"

#include "apimachinery/meta.h"
#include "kubelet/eviction.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#define LEASE_DURATION_S 40

static void
micro_now(char out[40])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

/* status.images: every image the store holds, largest first as upstream sorts them. */
static json_t *
images_json(struct kubelet *kl)
{
  struct image_info **list = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (image_list(kl->images, &list, &n, &err) < 0) {
    k8c_err_clear(&err);
    return json_array();
  }
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *names = json_array();
    for (size_t k = 0; list[i]->repo_digests && list[i]->repo_digests[k]; k++)
      json_array_append_new(names, json_string(list[i]->repo_digests[k]));
    for (size_t k = 0; list[i]->names && list[i]->names[k]; k++)
      json_array_append_new(names, json_string(list[i]->names[k]));
    if (json_array_size(names) == 0)
      json_array_append_new(names, json_string(list[i]->id));
    json_array_append_new(
        arr, json_pack("{s:o,s:I}", "names", names, "sizeBytes", (json_int_t)list[i]->size));
  }
  image_info_list_free(list, n);
  return arr;
}

/* What the node is short of: memory (available below the hard eviction threshold), disk (< 10% free
 * where the data lives), PIDs (> 90% of pid_max in use). */
static void
read_pressure(struct kubelet *kl, struct node_pressure *p)
{
  memset(p, 0, sizeof *p);
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    long long kb;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
        p->memory = kb * 1024 < eviction_manager_threshold_bytes(kl);
    fclose(f);
  }
  struct statvfs vfs;
  if (statvfs(kl->cfg.data_dir, &vfs) == 0 && vfs.f_blocks > 0)
    p->disk = (double)vfs.f_bavail / (double)vfs.f_blocks < 0.10;
  long long pid_max = 0, threads = 0;
  f = fopen("/proc/sys/kernel/pid_max", "r");
  if (f) {
    if (fscanf(f, "%lld", &pid_max) != 1)
      pid_max = 0;
    fclose(f);
  }
  f = fopen("/proc/loadavg", "r");
  if (f) {
    double a, b, c;
    long long running;
    if (fscanf(f, "%lf %lf %lf %lld/%lld", &a, &b, &c, &running, &threads) != 5)
      threads = 0;
    fclose(f);
  }
  p->pid = pid_max > 0 && threads * 10 > pid_max * 9;
  if (kl->rt == NULL)
    p->not_ready_message = "container runtime network not ready: waiting for the pod CIDR";
}

static int
post_status(struct kubelet *kl, json_t *old_status, bool *pressure_out, k8c_err *err)
{
  struct node_pressure p;
  read_pressure(kl, &p);
  *pressure_out = p.memory || p.disk || p.pid;
  cleanup_free char *now = kubelet_now_rfc3339();
  cleanup_json json_t *images = images_json(kl);
  json_t *status = node_status_build(&kl->facts, &p, old_status, images, now);
  json_object_set_new(status, "daemonEndpoints",
                      json_pack("{s:{s:i}}", "kubeletEndpoint", "Port", kl->kubelet_port));
  cleanup_json json_t *patch = json_pack("{s:o}", "status", status);
  struct client_write_opts o = {.subresource = "status"};
  return client_patch(kl->client, kl->nodes_res, "", kl->cfg.node_name,
                      "application/merge-patch+json", patch, &o, NULL, err);
}

static json_t *
lease_object(struct kubelet *kl)
{
  char now[40];
  micro_now(now);
  const char *name = kl->cfg.node_name;
  json_t *lease =
      json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:i,s:s}}", "apiVersion", "coordination.k8s.io/v1",
                "kind", "Lease", "metadata", "name", name, "namespace", "kube-node-lease", "spec",
                "holderIdentity", name, "leaseDurationSeconds", LEASE_DURATION_S, "renewTime", now);
  if (kl->node_uid)
    json_object_set_new(json_object_get(lease, "metadata"), "ownerReferences",
                        json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "v1", "kind", "Node", "name",
                                  name, "uid", kl->node_uid));
  return lease;
}

static int
renew_lease(struct kubelet *kl, k8c_err *err)
{
  char now[40];
  micro_now(now);
  cleanup_json json_t *patch =
      json_pack("{s:{s:s,s:s}}", "spec", "holderIdentity", kl->cfg.node_name, "renewTime", now);
  if (client_patch(kl->client, kl->leases_res, "kube-node-lease", kl->cfg.node_name,
                   "application/merge-patch+json", patch, NULL, NULL, err) == 0)
    return 0;
  if (err->status != 404)
    return -1;
  k8c_err_clear(err);
  cleanup_json json_t *lease = lease_object(kl);
  return client_create(kl->client, kl->leases_res, "kube-node-lease", lease, NULL, NULL, err);
}

/* Creates the Node or takes over the existing one; *node gets the stored object. */
static int
register_once(struct kubelet *kl, json_t **node, k8c_err *err)
{
  cleanup_free char *now = kubelet_now_rfc3339();
  cleanup_json json_t *obj = node_object_new(kl->cfg.node_name, &kl->facts, NULL, now);
  if (client_create(kl->client, kl->nodes_res, "", obj, NULL, node, err) == 0)
    return 0;
  if (err->status != 409)
    return -1;
  k8c_err_clear(err);
  return client_get(kl->client, kl->nodes_res, "", kl->cfg.node_name, node, err);
}

int
node_agent_register(struct kubelet *kl)
{
  k8c_err err = {0};
  json_t *node = NULL;
  int64_t logged = 0;
  while (register_once(kl, &node, &err) < 0) {
    if (kubelet_now_ms() - logged > 30000) {
      log_warn("kubelet: registering node %s: %s (retrying)", kl->cfg.node_name, err.message);
      logged = kubelet_now_ms();
    }
    k8c_err_clear(&err);
    if (!kubelet_sleep(kl, 1000))
      return -1;
  }
  kl->node_uid = xstrdup(meta_uid(node) ?: "");
  bool pressure = false;
  if (post_status(kl, json_object_get(node, "status"), &pressure, &err) < 0)
    k8c_err_clear(&err);
  if (renew_lease(kl, &err) < 0) {
    log_warn("kubelet: lease: %s", err.message);
    k8c_err_clear(&err);
  }
  log_info("kubelet: node %s registered; waiting for its pod CIDR", kl->cfg.node_name);
  for (;;) {
    const char *cidr = json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR"));
    if (cidr && *cidr) {
      kl->pod_cidr = xstrdup(cidr);
      json_decref(node);
      return 0;
    }
    json_decref(node);
    node = NULL;
    if (!kubelet_sleep(kl, 250))
      return -1;
    if (client_get(kl->client, kl->nodes_res, "", kl->cfg.node_name, &node, &err) < 0) {
      bool gone = err.status == 404;
      k8c_err_clear(&err);
      if (gone && register_once(kl, &node, &err) < 0)
        k8c_err_clear(&err);
    }
  }
}

void
node_agent_loop(struct kubelet *kl)
{
  int64_t next_lease = kubelet_now_ms() + kl->cfg.lease_period_ms;
  int64_t next_status = kubelet_now_ms();
  bool last_pressure = false;
  k8c_err err = {0};
  for (;;) {
    int64_t now = kubelet_now_ms();
    if (now >= next_lease) {
      if (renew_lease(kl, &err) < 0) {
        log_warn("kubelet: renewing the lease: %s", err.message);
        k8c_err_clear(&err);
      }
      next_lease = now + kl->cfg.lease_period_ms;
    }
    if (now >= next_status) {
      json_t *node = NULL;
      if (client_get(kl->client, kl->nodes_res, "", kl->cfg.node_name, &node, &err) < 0) {
        if (err.status == 404) {
          k8c_err_clear(&err);
          if (register_once(kl, &node, &err) < 0)
            log_warn("kubelet: re-registering: %s", err.message);
        }
        k8c_err_clear(&err);
      }
      bool pressure = false;
      if (node && post_status(kl, json_object_get(node, "status"), &pressure, &err) < 0) {
        log_warn("kubelet: node status: %s", err.message);
        k8c_err_clear(&err);
      }
      json_decref(node);
      last_pressure = pressure;
      next_status = now + kl->cfg.status_period_ms;
    } else {
      /* a flipping pressure condition is posted at once */
      struct node_pressure p;
      read_pressure(kl, &p);
      if ((p.memory || p.disk || p.pid) != last_pressure)
        next_status = now;
    }
    eviction_manager_tick(kl);
    image_gc_manager_tick(kl);
    if (!kubelet_sleep(kl, 1000))
      return;
  }
}
