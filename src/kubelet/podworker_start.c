/* podworker_start.c — starting one container run: the image per imagePullPolicy (with
 * ErrImagePull → ImagePullBackOff and upstream's events), the environment and volume
 * mounts, the spec translation, create + start, and the postStart hook; also the hook
 * runner (exec in the container, or httpGet from the node). Each failure leaves the
 * container waiting with upstream's reason and a back-off, never a half-made run. */
#include "kubelet/kubelet_internal.h"

#include "apimachinery/meta.h"
#include "kubelet/container_spec.h"
#include "kubelet/env.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

#define PULL_BACKOFF_FIRST_MS 10000
#define PULL_BACKOFF_MAX_MS 300000

static void
waiting(struct kcontainer *c, const char *reason, char *message_owned)
{
  free(c->waiting_reason);
  free(c->waiting_message);
  c->waiting_reason = xstrdup(reason);
  c->waiting_message = message_owned;
}

/* The image for c, pulled if the policy says so; NULL when c must wait. */
static struct image_info *
ensure_image(struct kubelet *kl, const json_t *pod, const json_t *cj, struct kcontainer *c)
{
  const char *image = json_string_value(json_object_get(cj, "image")) ?: "";
  const char *policy = json_string_value(json_object_get(cj, "imagePullPolicy")) ?: "IfNotPresent";
  k8c_err err = {0};
  struct image_info *info = image_get(kl->images, image, &err);
  k8c_err_clear(&err);
  bool always = strcmp(policy, "Always") == 0;
  if (info && !always) {
    if (c->pull_failures || !c->has_run || c->waiting_reason)
      kubelet_event(kl, pod, "Normal", "Pulled",
                    "Container image \"%s\" already present on machine", image);
    return info;
  }
  if (strcmp(policy, "Never") == 0) {
    waiting(c, "ErrImageNeverPull",
            xasprintf("Container image \"%s\" is not present with pull policy of Never", image));
    kubelet_event(kl, pod, "Warning", "ErrImageNeverPull",
                  "Container image \"%s\" is not present with pull policy of Never", image);
    return NULL;
  }
  int64_t now = kubelet_now_ms();
  if (c->pull_backoff_until_ms > now) {
    waiting(c, "ImagePullBackOff", xasprintf("Back-off pulling image \"%s\"", image));
    kubelet_event(kl, pod, "Normal", "BackOff", "Back-off pulling image \"%s\"", image);
    image_info_free(info);
    return NULL;
  }
  kubelet_event(kl, pod, "Normal", "Pulling", "Pulling image \"%s\"", image);
  struct image_pull_options opts = {.registries = kl->registries};
  struct image_info *pulled = image_pull(kl->images, image, &opts, &err);
  double secs = (double)(kubelet_now_ms() - now) / 1000.0;
  if (pulled == NULL) {
    c->pull_failures++;
    int64_t backoff = PULL_BACKOFF_FIRST_MS;
    for (int i = 1; i < c->pull_failures && backoff < PULL_BACKOFF_MAX_MS; i++)
      backoff *= 2;
    if (backoff > PULL_BACKOFF_MAX_MS)
      backoff = PULL_BACKOFF_MAX_MS;
    c->pull_backoff_until_ms = kubelet_now_ms() + backoff;
    if (info && always) { /* a cached copy still runs when the registry is down */
      k8c_err_clear(&err);
      return info;
    }
    kubelet_event(kl, pod, "Warning", "Failed", "Failed to pull image \"%s\": %s", image,
                  err.message);
    kubelet_event(kl, pod, "Warning", "Failed", "Error: ErrImagePull");
    waiting(c, "ErrImagePull", xstrdup(err.message));
    k8c_err_clear(&err);
    image_info_free(info);
    return NULL;
  }
  image_info_free(info);
  c->pull_failures = 0;
  c->pull_backoff_until_ms = 0;
  kubelet_event(kl, pod, "Normal", "Pulled",
                "Successfully pulled image \"%s\" in %.3gs (%.3gs including waiting). Image size: "
                "%lld bytes.",
                image, secs, secs, (long long)pulled->size);
  return pulled;
}

/* /etc/passwd or /etc/group of the image: the top layer that has it. */
static char *
image_file(char **lowerdirs, const char *rel)
{
  for (size_t i = 0; lowerdirs && lowerdirs[i]; i++) {
    cleanup_free char *path = xasprintf("%s/%s", lowerdirs[i], rel);
    k8c_err err = {0};
    char *text = fs_read_file(path, NULL, &err);
    k8c_err_clear(&err);
    if (text)
      return text;
  }
  return NULL;
}

/* Creates and starts the run; -1 with err (nothing left behind); -2 when the pod network
 * failed meanwhile (reported, the sandbox is gone: it is made again on a later sync). */
static int
create_and_start(struct kubelet *kl, struct kpod *p, const json_t *pod, const json_t *cj,
                 struct kcontainer *c, const struct image_info *info, const char *id, k8c_err *err)
{
  char **lowerdirs = image_lowerdirs(kl->images, info, err);
  if (lowerdirs == NULL)
    return -1;
  cleanup_free char *passwd = image_file(lowerdirs, "etc/passwd");
  cleanup_free char *group = image_file(lowerdirs, "etc/group");
  struct env_sources src;
  podworker_env_sources(kl, &src);
  struct env_list env = {0};
  struct mount_spec *mounts = NULL;
  size_t n_mounts = 0;
  struct built_container b = {0};
  int rc = -1;
  if (env_resolve(pod, cj, &src, &env, err) < 0) {
    waiting(c, "CreateContainerConfigError", xstrdup(err->message));
    goto out;
  }
  if (podworker_volume_mounts(kl, p, pod, cj, &env, &mounts, &n_mounts, err) < 0) {
    waiting(c, "CreateContainerConfigError", xstrdup(err->message));
    goto out;
  }
  struct container_spec_input in = {
      .pod = pod,
      .container = cj,
      .image = info,
      .lowerdirs = (const char *const *)lowerdirs,
      .env = &env,
      .passwd = passwd,
      .group = group,
      .id = id,
      .sandbox = &p->sandbox,
      .pod_log_dir = kl->cfg.pod_log_dir,
      .restart_count = c->restart_count,
      .pids_limit = kl->cfg.pids_limit,
      .memory_capacity = kl->facts.memory_bytes,
      .clamp_oom_score_adj = kl->facts.oom_score_adj_floor > -1000,
      .oom_score_adj_floor = kl->facts.oom_score_adj_floor,
      .mounts = mounts,
      .n_mounts = n_mounts,
  };
  if (container_spec_build(&in, &b, err) < 0) {
    waiting(c, "CreateContainerConfigError", xstrdup(err->message));
    goto out;
  }
  int64_t t0 = kubelet_now_ms();
  if (runtime_container_create(kl->rt, &b.spec, err) < 0) {
    waiting(c, err->status == 502 ? "RunContainerError" : "CreateContainerError",
            xstrdup(err->message));
    goto out;
  }
  kubelet_event(kl, pod, "Normal", "Created", "Created container %s", c->name);
  if (podworker_network_wait(kl, p, pod) < 0) { /* reported; the container is gone */
    rc = -2;
    goto out;
  }
  if (runtime_container_start(kl->rt, id, err) < 0) {
    waiting(c, "RunContainerError", xstrdup(err->message));
    podworker_remove_container(kl, id);
    goto out;
  }
  log_debug("kubelet: %s: container %s created and started in %lld ms", p->key, c->name,
            (long long)(kubelet_now_ms() - t0));
  kubelet_event(kl, pod, "Normal", "Started", "Started container %s", c->name);
  rc = 0;
out:
  built_container_free(&b);
  podworker_volume_mounts_free(mounts, n_mounts);
  env_list_clear(&env);
  fs_strv_free(lowerdirs);
  return rc;
}

int
podworker_start_container(struct kubelet *kl, struct kpod *p, const json_t *pod, const json_t *cj,
                          struct kcontainer *c)
{
  if (c->backoff_until_ms > kubelet_now_ms())
    return -1;
  if (!p->has_sandbox)
    return -1; /* its network failed earlier in this sync: made again on the next */
  int64_t t_image = kubelet_now_ms();
  struct image_info *info = ensure_image(kl, pod, cj, c);
  if (info == NULL)
    return -1;
  free(c->image_id);
  c->image_id =
      xstrdup(info->repo_digests && info->repo_digests[0] ? info->repo_digests[0] : info->id);
  k8c_err err = {0};
  (void)image_mark_used(kl->images, info->id, &err);
  k8c_err_clear(&err);
  char *id = podworker_container_id(p->uid, c->name, c->restart_count);
  podworker_remove_container(kl, id); /* a leftover of an interrupted attempt */
  log_debug("kubelet: %s: image and leftovers in %lld ms", p->key,
            (long long)(kubelet_now_ms() - t_image));
  int rc = create_and_start(kl, p, pod, cj, c, info, id, &err);
  image_info_free(info);
  if (rc == -2) {
    free(id);
    return -1;
  }
  if (rc < 0) {
    kubelet_event(kl, pod, "Warning", "Failed", "Error: %s", err.message);
    k8c_err_clear(&err);
    c->start_failures++;
    int64_t backoff = 10000;
    for (int i = 1; i < c->start_failures && backoff < 300000; i++)
      backoff *= 2;
    c->backoff_until_ms = kubelet_now_ms() + (backoff > 300000 ? 300000 : backoff);
    free(id);
    return -1;
  }
  c->start_failures = 0;
  c->backoff_until_ms = 0;
  free(c->id);
  c->id = id;
  free(c->waiting_reason);
  free(c->waiting_message);
  c->waiting_reason = NULL;
  c->waiting_message = NULL;
  const json_t *post = json_object_get(json_object_get(cj, "lifecycle"), "postStart");
  if (post) {
    char *msg = NULL;
    if (podworker_run_hook(kl, p, cj, id, post, 30, &msg) < 0) {
      kubelet_event(kl, pod, "Warning", "FailedPostStartHook", "%s", msg ? msg : "");
      if (runtime_container_stop(kl->rt, id, 2, &err) < 0)
        k8c_err_clear(&err);
    }
    free(msg);
  }
  return 0;
}

int
podworker_run_hook(struct kubelet *kl, struct kpod *p, const json_t *cj, const char *container_id,
                   const json_t *handler, int timeout_s, char **message)
{
  *message = NULL;
  const json_t *exec = json_object_get(handler, "exec");
  const json_t *http = json_object_get(handler, "httpGet");
  const json_t *sleep_action = json_object_get(handler, "sleep");
  if (sleep_action) {
    json_int_t s = json_integer_value(json_object_get(sleep_action, "seconds"));
    if (s > 0 && s <= timeout_s)
      (void)kubelet_sleep(kl, s * 1000);
    return 0;
  }
  if (exec) {
    const json_t *cmd = json_object_get(exec, "command");
    size_t n = json_array_size(cmd);
    const char **argv = xcalloc(n + 1, sizeof *argv);
    for (size_t i = 0; i < n; i++)
      argv[i] = json_string_value(json_array_get(cmd, i)) ?: "";
    struct exec_process proc;
    k8c_err err = {0};
    int code = -1;
    int rc = runtime_container_exec(kl->rt, container_id, argv, NULL, false, &proc, &err);
    free(argv);
    if (rc == 0)
      rc = runtime_exec_wait(&proc, timeout_s * 1000, &code, &err);
    if (rc < 0) {
      *message = xasprintf("Exec lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
                           "failed - error: %s",
                           json_string_value(json_array_get(cmd, 0)) ?: "",
                           json_string_value(json_object_get(cj, "name")) ?: "", p->name, p->ns,
                           p->uid, err.message);
      k8c_err_clear(&err);
      return -1;
    }
    if (code != 0) {
      *message = xasprintf("Exec lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
                           "failed - error: command exited with %d",
                           json_string_value(json_array_get(cmd, 0)) ?: "",
                           json_string_value(json_object_get(cj, "name")) ?: "", p->name, p->ns,
                           p->uid, code);
      return -1;
    }
    return 0;
  }
  if (http) {
    struct probe_target t = {.pod_ip = p->has_sandbox && p->sandbox.ip ? p->sandbox.ip
                                                                       : kl->facts.internal_ip,
                             .container = cj};
    char *msg = NULL;
    enum probe_result r = probe_http_run(http, &t, timeout_s * 1000, &msg);
    if (r != PROBE_SUCCESS) {
      *message = xasprintf("HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
                           "failed - error: %s",
                           json_string_value(json_object_get(http, "path")) ?: "/",
                           json_string_value(json_object_get(cj, "name")) ?: "", p->name, p->ns,
                           p->uid, msg ? msg : "");
      free(msg);
      return -1;
    }
    free(msg);
    return 0;
  }
  return 0;
}
