/* pleg.c — the pod lifecycle event generator: every second it relists the runtime's
 * containers (cheap: each state is a few small files) and queues the pod of every
 * container whose state changed since the last relist (started, exited, vanished), so
 * exits are noticed within a second without a sync per pod per second. */
#include "kubelet/kubelet_internal.h"

#include "kubelet/runtime/fsutil.h"
#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

#define PLEG_PERIOD_MS 1000

static void
changed(struct kubelet *kl, const char *id)
{
  char uid[64], name[128];
  int restart;
  if (podworker_parse_container_id(id, uid, name, &restart))
    kubelet_queue_uid(kl, uid);
}

static void
relist(struct kubelet *kl)
{
  char **ids = runtime_container_list(kl->rt);
  hashmap *now = hashmap_new();
  for (size_t i = 0; ids[i]; i++) {
    struct container_state st;
    k8c_err err = {0};
    char *sig;
    if (runtime_container_state(kl->rt, ids[i], &st, &err) < 0) {
      k8c_err_clear(&err);
      sig = xstrdup("gone");
    } else {
      sig = xasprintf("%d:%lld:%d", (int)st.status, (long long)st.finished_at_ns, (int)st.pid);
      container_state_free(&st);
    }
    const char *old = hashmap_get(kl->pleg_seen, ids[i]);
    if (old == NULL || strcmp(old, sig) != 0)
      changed(kl, ids[i]);
    free(hashmap_put(now, ids[i], sig));
  }
  hashmap_iter it = {0};
  const char *key;
  void *value;
  while (hashmap_next(kl->pleg_seen, &it, &key, &value))
    if (hashmap_get(now, key) == NULL)
      changed(kl, key);
  hashmap_free(kl->pleg_seen, free);
  kl->pleg_seen = now;
  fs_strv_free(ids);
}

static void *
pleg_main(void *arg)
{
  struct kubelet *kl = arg;
  while (kubelet_sleep(kl, PLEG_PERIOD_MS))
    relist(kl);
  return NULL;
}

int
pleg_start(struct kubelet *kl, k8c_err *err)
{
  relist(kl); /* the baseline: what runs now was matched by the re-adoption */
  if (pthread_create(&kl->pleg_thread, NULL, pleg_main, kl) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "kubelet: cannot start the PLEG");
  kl->pleg_started = true;
  return 0;
}

void
pleg_stop(struct kubelet *kl)
{
  if (kl->pleg_started)
    pthread_join(kl->pleg_thread, NULL);
  kl->pleg_started = false;
}
