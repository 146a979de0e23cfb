/* probe.c — one probe attempt dispatched to its kind, named ports, and the state machine
 * that turns attempts into a verdict the way the kubelet's prober workers do: nothing
 * before initialDelaySeconds, one attempt per periodSeconds, and a verdict that flips
 * only after successThreshold / failureThreshold consecutive results. */
#include "kubelet/probes/probe.h"

#include "lib/mem.h"

#include <string.h>

static int
int_field(const json_t *obj, const char *key, int dflt)
{
  json_t *v = json_object_get(obj, key);
  return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

enum probe_result
probe_run(const json_t *probe, const struct probe_target *target, char **message)
{
  *message = NULL;
  int timeout_ms = int_field(probe, "timeoutSeconds", 1) * 1000;
  if (timeout_ms <= 0)
    timeout_ms = 1000;
  const json_t *h;
  if ((h = json_object_get(probe, "httpGet")) != NULL)
    return probe_http_run(h, target, timeout_ms, message);
  if ((h = json_object_get(probe, "tcpSocket")) != NULL)
    return probe_tcp_run(h, target, timeout_ms, message);
  if ((h = json_object_get(probe, "grpc")) != NULL)
    return probe_grpc_run(h, target, timeout_ms, message);
  if ((h = json_object_get(probe, "exec")) != NULL)
    return probe_exec_run(h, target, timeout_ms, message);
  *message = xstrdup("missing probe handler");
  return PROBE_UNKNOWN;
}

int
probe_port(const json_t *port, const json_t *container)
{
  if (json_is_integer(port)) {
    json_int_t p = json_integer_value(port);
    return p > 0 && p < 65536 ? (int)p : -1;
  }
  const char *name = json_string_value(port);
  if (name == NULL)
    return -1;
  size_t i;
  json_t *cp;
  json_array_foreach (json_object_get(container, "ports"), i, cp) {
    if (strcmp(json_string_value(json_object_get(cp, "name")) ?: "", name) == 0)
      return int_field(cp, "containerPort", -1);
  }
  /* A numeric string is a number (IntOrString written as text). */
  char *end;
  long p = strtol(name, &end, 10);
  return *end == '\0' && p > 0 && p < 65536 ? (int)p : -1;
}

/* ---------- the state machine ---------- */

void
probe_state_init(struct probe_state *s, enum probe_kind kind, const json_t *probe,
                 int64_t started_ms)
{
  memset(s, 0, sizeof *s);
  s->kind = kind;
  if (probe == NULL) {
    s->result = true;
    s->next_ms = INT64_MAX;
    return;
  }
  s->period_ms = int_field(probe, "periodSeconds", 10) * 1000;
  s->timeout_ms = int_field(probe, "timeoutSeconds", 1) * 1000;
  s->initial_delay_ms = int_field(probe, "initialDelaySeconds", 0) * 1000;
  s->success_threshold = int_field(probe, "successThreshold", 1);
  s->failure_threshold = int_field(probe, "failureThreshold", 3);
  if (s->period_ms <= 0)
    s->period_ms = 10000;
  if (s->success_threshold <= 0)
    s->success_threshold = 1;
  if (s->failure_threshold <= 0)
    s->failure_threshold = 3;
  s->next_ms = started_ms + s->initial_delay_ms;
  s->result = kind == PROBE_LIVENESS;
}

bool
probe_state_due(const struct probe_state *s, int64_t now_ms)
{
  return now_ms >= s->next_ms;
}

bool
probe_state_record(struct probe_state *s, enum probe_result r, int64_t now_ms)
{
  s->next_ms = now_ms + s->period_ms;
  if (r == PROBE_UNKNOWN) /* neither counts: upstream keeps the last verdict */
    return false;
  bool before = s->result;
  if (r == PROBE_SUCCESS) {
    s->failures = 0;
    if (++s->successes >= s->success_threshold)
      s->result = true;
  } else {
    s->successes = 0;
    if (++s->failures >= s->failure_threshold)
      s->result = false;
  }
  /* A startup probe stops once it has succeeded. */
  if (s->kind == PROBE_STARTUP && s->result)
    s->next_ms = INT64_MAX;
  return before != s->result;
}
