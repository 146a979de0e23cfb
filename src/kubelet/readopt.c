/* readopt.c — after an agent restart: the runtime's sandboxes and containers are matched
 * with the node's pods through the ids the pod worker gives them (sandbox id = pod UID,
 * container id = <podUID>_<name>_<restart>), so running containers are left alone and
 * their restart counts carry on; whatever belongs to no pod (deleted while the agent was
 * away) is removed with its sandbox, volumes and logs. */
#include "kubelet/kubelet_internal.h"

#include "apimachinery/meta.h"
#include "kubelet/runtime/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <dirent.h>
#include <string.h>

static struct kcontainer *
find(struct kpod *p, const char *name)
{
  for (size_t i = 0; i < p->n_cs; i++)
    if (strcmp(p->cs[i].name, name) == 0)
      return &p->cs[i];
  return NULL;
}

/* Puts run `restart` (id) into c: the newest run is current, the one before it the
 * previous, anything older goes. */
static void
adopt(struct kubelet *kl, struct kcontainer *c, const char *id, int restart)
{
  if (!c->has_run || restart > c->restart_count) {
    if (c->prev_id)
      podworker_remove_container(kl, c->prev_id);
    free(c->prev_id);
    c->prev_id = c->id;
    c->id = xstrdup(id);
    c->restart_count = restart;
    c->has_run = true;
    return;
  }
  char uid[64], name[128];
  int prev_restart = -1;
  if (c->prev_id)
    (void)podworker_parse_container_id(c->prev_id, uid, name, &prev_restart);
  if (restart > prev_restart) {
    if (c->prev_id)
      podworker_remove_container(kl, c->prev_id);
    free(c->prev_id);
    c->prev_id = xstrdup(id);
  } else {
    podworker_remove_container(kl, id);
  }
}

/* Removes <pod_log_dir>/<ns>_<name>_<uid> (a pod's logs, when only its UID is known). */
void
readopt_remove_logs(struct kubelet *kl, const char *uid)
{
  DIR *d = opendir(kl->cfg.pod_log_dir);
  if (d == NULL)
    return;
  size_t ulen = strlen(uid);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len > ulen + 1 && strcmp(e->d_name + len - ulen, uid) == 0 &&
        e->d_name[len - ulen - 1] == '_') {
      cleanup_free char *path = xasprintf("%s/%s", kl->cfg.pod_log_dir, e->d_name);
      k8c_err err = {0};
      if (fs_remove_tree(path, &err) < 0)
        k8c_err_clear(&err);
    }
  }
  closedir(d);
}

void
readopt_run(struct kubelet *kl)
{
  json_t **pods = NULL;
  size_t n_pods = 0;
  informer_list(kl->pod_informer, &pods, &n_pods);
  hashmap *by_uid = hashmap_new(); /* uid -> struct kpod * (records made here) */
  char **ids = runtime_container_list(kl->rt);
  char **sandboxes = runtime_sandbox_list(kl->rt);
  size_t adopted = 0, removed = 0;
  for (size_t s = 0; sandboxes[s]; s++) {
    const json_t *pod = NULL;
    for (size_t i = 0; i < n_pods && pod == NULL; i++)
      if (strcmp(meta_uid(pods[i]) ?: "", sandboxes[s]) == 0 &&
          !json_object_get(json_object_get(pods[i], "metadata"), "deletionTimestamp"))
        pod = pods[i];
    if (pod == NULL)
      continue;
    cleanup_free char *key = client_object_key(pod);
    struct kpod *p = kpod_new_for_readopt(pod, key);
    k8c_err err = {0};
    if (runtime_sandbox_get(kl->rt, sandboxes[s], &p->sandbox, &err) == 0)
      p->has_sandbox = true;
    k8c_err_clear(&err);
    hashmap_put(by_uid, p->uid, p);
  }
  for (size_t i = 0; ids[i]; i++) {
    char uid[64], name[128];
    int restart;
    struct kpod *p = NULL;
    if (podworker_parse_container_id(ids[i], uid, name, &restart))
      p = hashmap_get(by_uid, uid);
    struct kcontainer *c = p ? find(p, name) : NULL;
    if (c) {
      adopt(kl, c, ids[i], restart);
      adopted++;
    } else {
      podworker_remove_container(kl, ids[i]);
      removed++;
    }
  }
  for (size_t s = 0; sandboxes[s]; s++) {
    if (hashmap_get(by_uid, sandboxes[s]))
      continue;
    k8c_err err = {0};
    if (runtime_sandbox_remove(kl->rt, sandboxes[s], &err) < 0) {
      log_warn("kubelet: removing orphaned sandbox %s: %s", sandboxes[s], err.message);
      k8c_err_clear(&err);
    }
    podworker_volumes_teardown(kl, sandboxes[s]);
    readopt_remove_logs(kl, sandboxes[s]);
  }
  hashmap_iter it = {0};
  const char *uid;
  void *value;
  pthread_mutex_lock(&kl->lock);
  while (hashmap_next(by_uid, &it, &uid, &value)) {
    struct kpod *p = value;
    hashmap_put(kl->pods, p->key, p);
    free(hashmap_put(kl->uid_to_key, p->uid, xstrdup(p->key)));
  }
  pthread_mutex_unlock(&kl->lock);
  hashmap_free(by_uid, NULL);
  if (adopted || removed)
    log_info("kubelet: re-adopted %zu containers, removed %zu orphaned", adopted, removed);
  fs_strv_free(ids);
  fs_strv_free(sandboxes);
  informer_objs_free(pods, n_pods);
}
