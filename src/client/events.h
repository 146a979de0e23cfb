/* events.h — the event recorder every control-plane component uses to tell the story
 * `kubectl describe` and `kubectl get events` show: core/v1 Events about an object, with
 * repeats of the same (object, type, reason, message) folded into one Event whose count
 * and lastTimestamp grow, as upstream's recorder does. */
#ifndef K8C_CLIENT_EVENTS_H
#define K8C_CLIENT_EVENTS_H

#include "client/client.h"

struct event_recorder;

/* component: source.component and reportingComponent ("default-scheduler",
 * "deployment-controller", "kubelet"); host: source.host (may be NULL). */
struct event_recorder *event_recorder_new(k8c_client *client, const char *component,
                                          const char *host);
void event_recorder_free(struct event_recorder *rec);

/* Records an event about obj (any object with apiVersion, kind and metadata). type is
 * "Normal" or "Warning". Failures are logged, never returned: events are best effort. */
void event_record(struct event_recorder *rec, const json_t *obj, const char *type,
                  const char *reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
