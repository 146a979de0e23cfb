/* events.c — the event recorder (see events.h). Repeats are folded by keeping, per
 * (object uid, type, reason, message), the name of the Event already written, and
 * patching its count and lastTimestamp instead of creating another. */
#include "client/events.h"

#include "api/resource.h"
#include "apimachinery/meta.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EVENT_CACHE_MAX 4096

struct event_recorder {
  k8c_client *client;
  char *component;
  char *host;
  const struct api_resource *events;
  pthread_mutex_t mu;
  hashmap *seen; /* fold key → struct seen_event */
};

struct seen_event {
  char *ns;
  char *name;
  long long count;
};

static void
seen_free(void *v)
{
  struct seen_event *s = v;
  if (s == NULL)
    return;
  free(s->ns);
  free(s->name);
  free(s);
}

struct event_recorder *
event_recorder_new(k8c_client *client, const char *component, const char *host)
{
  struct event_recorder *rec = xcalloc(1, sizeof *rec);
  rec->client = client;
  rec->component = xstrdup(component);
  rec->host = host ? xstrdup(host) : NULL;
  rec->events = api_resource_find("", "v1", "events");
  pthread_mutex_init(&rec->mu, NULL);
  rec->seen = hashmap_new();
  return rec;
}

void
event_recorder_free(struct event_recorder *rec)
{
  if (rec == NULL)
    return;
  hashmap_free(rec->seen, seen_free);
  pthread_mutex_destroy(&rec->mu);
  free(rec->component);
  free(rec->host);
  free(rec);
}

static json_t *
involved_object(const json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *ref = json_object();
  static const char *const top[] = {"kind", "apiVersion", NULL};
  for (int i = 0; top[i]; i++) {
    json_t *v = json_object_get(obj, top[i]);
    if (json_is_string(v))
      json_object_set(ref, top[i], v);
  }
  static const char *const from_meta[] = {"namespace", "name", "uid", "resourceVersion", NULL};
  for (int i = 0; from_meta[i]; i++) {
    json_t *v = json_object_get(meta, from_meta[i]);
    if (json_is_string(v))
      json_object_set(ref, from_meta[i], v);
  }
  return ref;
}

/* A new Event's name, as upstream: "<object name>.<hex nanoseconds>". */
static char *
event_name(const char *object_name)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long long ns =
      (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
  return xasprintf("%s.%llx", object_name, ns);
}

void
event_record(struct event_recorder *rec, const json_t *obj, const char *type, const char *reason,
             const char *fmt, ...)
{
  if (rec == NULL || rec->events == NULL)
    return;
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  json_t *meta = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  const char *uid = json_string_value(json_object_get(meta, "uid"));
  if (name == NULL)
    return;
  if (ns == NULL || ns[0] == 0)
    ns = "default"; /* events about cluster-scoped objects live in default, as upstream */
  cleanup_free char *now = meta_now_rfc3339();
  cleanup_free char *fold =
      xasprintf("%s/%s/%s\x1f%s\x1f%s\x1f%s", ns, name, uid ? uid : "", type, reason, message);

  /* A repeat: bump the existing Event. */
  pthread_mutex_lock(&rec->mu);
  struct seen_event *seen = hashmap_get(rec->seen, fold);
  char *seen_ns = seen ? xstrdup(seen->ns) : NULL;
  char *seen_name = seen ? xstrdup(seen->name) : NULL;
  long long count = seen ? ++seen->count : 1;
  pthread_mutex_unlock(&rec->mu);
  k8c_err err = {0};
  if (seen_name) {
    json_t *patch = json_pack("{s:I,s:s}", "count", (json_int_t)count, "lastTimestamp", now);
    json_t *out = NULL;
    int rc = client_patch(rec->client, rec->events, seen_ns, seen_name,
                          "application/merge-patch+json", patch, NULL, &out, &err);
    json_decref(patch);
    json_decref(out);
    free(seen_ns);
    free(seen_name);
    if (rc == 0)
      return;
    k8c_err_clear(&err); /* the Event is gone (or compacted away): write a new one */
  }

  cleanup_free char *ename = event_name(name);
  json_t *source = json_pack("{s:s}", "component", rec->component);
  if (rec->host)
    json_object_set_new(source, "host", json_string(rec->host));
  json_t *ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s,s:o,s:s,s:s,s:i,s:s,s:s}",
                         "apiVersion", "v1", "kind", "Event", "metadata", "name", ename,
                         "namespace", ns, "involvedObject", involved_object(obj), "reason", reason,
                         "message", message, "type", type, "source", source, "firstTimestamp", now,
                         "lastTimestamp", now, "count", 1, "reportingComponent", rec->component,
                         "reportingInstance", rec->host ? rec->host : rec->component);
  json_t *out = NULL;
  if (client_create(rec->client, rec->events, ns, ev, NULL, &out, &err) < 0) {
    log_debug("events: %s %s on %s/%s not recorded: %s", type, reason, ns, name, err.message);
    k8c_err_clear(&err);
  } else {
    pthread_mutex_lock(&rec->mu);
    if (hashmap_count(rec->seen) >= EVENT_CACHE_MAX) {
      hashmap_free(rec->seen, seen_free);
      rec->seen = hashmap_new();
    }
    struct seen_event *s = xcalloc(1, sizeof *s);
    s->ns = xstrdup(ns);
    s->name = xstrdup(ename);
    s->count = 1;
    seen_free(hashmap_put(rec->seen, fold, s));
    pthread_mutex_unlock(&rec->mu);
  }
  json_decref(out);
  json_decref(ev);
}
