/* kubelet_events.c — Events about pods, recorded off the pod workers' path: a sync
 * queues the event (a small reference to the pod plus its words) and one thread writes
 * them through the shared event recorder (which folds repeats), as upstream's event
 * broadcaster does, so an API round trip per event never delays a container's start. */
#include "kubelet/kubelet_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EVENT_QUEUE_MAX 10000

struct kevent {
  struct kevent *next;
  json_t *ref; /* apiVersion, kind, metadata {name, namespace, uid, resourceVersion} */
  char *type, *reason, *message;
};

static json_t *
object_ref(const json_t *obj)
{
  json_t *ref = json_pack("{s:s,s:s,s:{}}", "apiVersion", "v1", "kind", "Pod", "metadata");
  const json_t *meta = json_object_get(obj, "metadata");
  static const char *const fields[] = {"name", "namespace", "uid", "resourceVersion"};
  for (size_t i = 0; i < 4; i++) {
    json_t *v = json_object_get(meta, fields[i]);
    if (json_is_string(v))
      json_object_set(json_object_get(ref, "metadata"), fields[i], v);
  }
  return ref;
}

void
kubelet_event(struct kubelet *kl, const json_t *pod, const char *type, const char *reason,
              const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *message = NULL;
  if (vasprintf(&message, fmt, ap) < 0)
    message = NULL;
  va_end(ap);
  if (message == NULL)
    return;
  struct kevent *e = xcalloc(1, sizeof *e);
  e->ref = object_ref(pod);
  e->type = xstrdup(type);
  e->reason = xstrdup(reason);
  e->message = message;
  pthread_mutex_lock(&kl->events_lock);
  if (kl->events_len >= EVENT_QUEUE_MAX || kl->events_stopping) {
    pthread_mutex_unlock(&kl->events_lock);
    json_decref(e->ref);
    free(e->type);
    free(e->reason);
    free(e->message);
    free(e);
    return;
  }
  *kl->events_tail = e;
  kl->events_tail = &e->next;
  kl->events_len++;
  pthread_cond_signal(&kl->events_cond);
  pthread_mutex_unlock(&kl->events_lock);
}

static void *
events_main(void *arg)
{
  struct kubelet *kl = arg;
  pthread_mutex_lock(&kl->events_lock);
  for (;;) {
    while (kl->events_head == NULL && !kl->events_stopping)
      pthread_cond_wait(&kl->events_cond, &kl->events_lock);
    struct kevent *e = kl->events_head;
    if (e == NULL)
      break; /* stopping and drained */
    kl->events_head = e->next;
    if (kl->events_head == NULL)
      kl->events_tail = &kl->events_head;
    kl->events_len--;
    pthread_mutex_unlock(&kl->events_lock);
    event_record(kl->events, e->ref, e->type, e->reason, "%s", e->message);
    json_decref(e->ref);
    free(e->type);
    free(e->reason);
    free(e->message);
    free(e);
    pthread_mutex_lock(&kl->events_lock);
  }
  pthread_mutex_unlock(&kl->events_lock);
  return NULL;
}

int
kubelet_events_start(struct kubelet *kl, k8c_err *err)
{
  pthread_mutex_init(&kl->events_lock, NULL);
  pthread_cond_init(&kl->events_cond, NULL);
  kl->events_head = NULL;
  kl->events_tail = &kl->events_head;
  kl->events_ready = true;
  if (pthread_create(&kl->events_thread, NULL, events_main, kl) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "kubelet: cannot start the event thread");
  kl->events_started = true;
  return 0;
}

void
kubelet_events_stop(struct kubelet *kl)
{
  if (!kl->events_ready)
    return;
  pthread_mutex_lock(&kl->events_lock);
  kl->events_stopping = true;
  pthread_cond_signal(&kl->events_cond);
  pthread_mutex_unlock(&kl->events_lock);
  if (kl->events_started)
    pthread_join(kl->events_thread, NULL);
  kl->events_started = false;
  while (kl->events_head) { /* only if the thread never ran */
    struct kevent *e = kl->events_head;
    kl->events_head = e->next;
    json_decref(e->ref);
    free(e->type);
    free(e->reason);
    free(e->message);
    free(e);
  }
  pthread_mutex_destroy(&kl->events_lock);
  pthread_cond_destroy(&kl->events_cond);
  kl->events_ready = false;
}
