/* podworker_volumes.c — the pod worker's side of volumes: the sources the volume
 * plugins (src/kubelet/volumes/) read from — ConfigMaps, Secrets, PVCs and PVs fetched
 * through the agent's API client, the node's allocatable — and the calls that prepare a
 * pod's volumes once, refresh the content of configMap/secret/downwardAPI/projected
 * volumes on later syncs (live updates), give each container its mounts, and tear them
 * down with the pod. */
#include "kubelet/kubelet_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define VOLUME_REFRESH_MS 10000

char *
podworker_pod_dir(struct kubelet *kl, const char *uid)
{
  return xasprintf("%s/pods/%s", kl->cfg.data_dir, uid);
}

/* A namespaced or cluster-scoped object, NULL (no error) when it does not exist. */
static json_t *
get_object(struct kubelet *kl, const struct api_resource *res, const char *ns, const char *name,
           k8c_err *err)
{
  json_t *obj = NULL;
  if (client_get(kl->client, res, ns, name, &obj, err) < 0) {
    if (err->status == 404)
      k8c_err_clear(err);
    return NULL;
  }
  return obj;
}

static json_t *
get_configmap(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  struct kubelet *kl = ctx;
  return get_object(kl, kl->configmaps_res, ns, name, err);
}

static json_t *
get_secret(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  struct kubelet *kl = ctx;
  return get_object(kl, kl->secrets_res, ns, name, err);
}

static json_t *
get_pvc(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  struct kubelet *kl = ctx;
  return get_object(kl, api_resource_find("", "v1", "persistentvolumeclaims"), ns, name, err);
}

static json_t *
get_pv(void *ctx, const char *name, k8c_err *err)
{
  struct kubelet *kl = ctx;
  return get_object(kl, api_resource_find("", "v1", "persistentvolumes"), "", name, err);
}

void
podworker_env_sources(struct kubelet *kl, struct env_sources *src)
{
  *src = (struct env_sources){.ctx = kl,
                              .get_configmap = get_configmap,
                              .get_secret = get_secret,
                              .node_allocatable = kl->allocatable};
}

/* A bound token for the pod's service account, through serviceaccounts/token. */
static char *
request_token(void *ctx, const char *ns, const char *service_account, const char *audience,
              int64_t expiration_seconds, const char *pod_name, const char *pod_uid, k8c_err *err)
{
  struct kubelet *kl = ctx;
  cleanup_json json_t *req =
      json_pack("{s:s,s:s,s:{s:I,s:{s:s,s:s,s:s,s:s}}}", "apiVersion", "authentication.k8s.io/v1",
                "kind", "TokenRequest", "spec", "expirationSeconds", (json_int_t)expiration_seconds,
                "boundObjectRef", "apiVersion", "v1", "kind", "Pod", "name",
                pod_name ? pod_name : "", "uid", pod_uid ? pod_uid : "");
  if (audience && audience[0])
    json_object_set_new(json_object_get(req, "spec"), "audiences", json_pack("[s]", audience));
  cleanup_json json_t *answer = NULL;
  if (client_request_token(kl->client, ns, service_account, req, &answer, err) < 0)
    return NULL;
  const char *token =
      json_string_value(json_object_get(json_object_get(answer, "status"), "token"));
  if (token == NULL) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "the TokenRequest answer holds no token");
    return NULL;
  }
  return xstrdup(token);
}

static void
volume_sources(struct kubelet *kl, struct volume_sources *src)
{
  memset(src, 0, sizeof *src);
  podworker_env_sources(kl, &src->objects);
  src->request_token = request_token;
  src->get_pvc = get_pvc;
  src->get_pv = get_pv;
}

int
podworker_volumes_setup(struct kubelet *kl, struct kpod *p, const json_t *pod, k8c_err *err)
{
  struct volume_sources src;
  volume_sources(kl, &src);
  cleanup_free char *dir = podworker_pod_dir(kl, p->uid);
  if (p->volumes_ready) {
    /* live updates of configMap/secret/downwardAPI/projected content */
    int64_t now = kubelet_now_ms();
    if (now < p->volumes_refresh_ms)
      return 0;
    p->volumes_refresh_ms = now + VOLUME_REFRESH_MS;
    k8c_err uerr = {0};
    if (volumes_update(pod, dir, &src, &p->volumes, &uerr) < 0) {
      log_debug("kubelet: %s: volume update: %s", p->key, uerr.message);
      k8c_err_clear(&uerr);
    }
    return 0;
  }
  pod_volumes_clear(&p->volumes);
  if (volumes_setup(pod, dir, &src, &p->volumes, err) < 0)
    return -1;
  p->volumes_ready = true;
  p->volumes_refresh_ms = kubelet_now_ms() + VOLUME_REFRESH_MS;
  return 0;
}

int
podworker_volume_mounts(struct kubelet *kl, struct kpod *p, const json_t *pod,
                        const json_t *container, const struct env_list *env,
                        struct mount_spec **mounts, size_t *n, k8c_err *err)
{
  (void)kl;
  return volumes_mounts_for_container(pod, container, &p->volumes, env, mounts, n, err);
}

void
podworker_volume_mounts_free(struct mount_spec *mounts, size_t n)
{
  volumes_mounts_free(mounts, n);
}

void
podworker_volumes_teardown(struct kubelet *kl, const char *uid)
{
  cleanup_free char *dir = podworker_pod_dir(kl, uid);
  k8c_err err = {0};
  if (volumes_teardown(dir, &err) < 0) {
    log_warn("kubelet: tearing down the volumes of pod %s: %s", uid, err.message);
    k8c_err_clear(&err);
    return;
  }
  if (rmdir(dir) < 0 && errno != ENOENT) {
    /* other files of the pod dir (none today): left for the next teardown */
  }
}
