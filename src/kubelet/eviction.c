/* eviction.c — the pure half of eviction: the --eviction-hard threshold, upstream's
 * ranking of pods under memory pressure, its eviction message and the evicted pod's
 * status. Nothing here reads the machine. */
#include "kubelet/eviction.h"

#include "apimachinery/quantity.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MEMORY_AVAILABLE (100LL * 1024 * 1024)

static const char *const known_signals[] = {
    "memory.available",      "nodefs.available",       "nodefs.inodesFree",
    "imagefs.available",     "imagefs.inodesFree",     "pid.available",
    "containerfs.available", "containerfs.inodesFree", NULL};

static bool
known_signal(const char *name, size_t len)
{
  for (size_t i = 0; known_signals[i]; i++)
    if (strlen(known_signals[i]) == len && strncmp(known_signals[i], name, len) == 0)
      return true;
  return false;
}

/* One "signal<value" item of length len. */
static int
parse_item(const char *item, size_t len, struct eviction_threshold *t, k8c_err *err)
{
  cleanup_free char *text = xstrndup(item, len);
  char *op = strpbrk(text, "<=");
  if (op == NULL || op == text || op[1] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "invalid eviction threshold \"%s\": want signal<quantity", text);
  size_t name_len = (size_t)(op - text);
  if (!known_signal(text, name_len))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "unknown eviction signal \"%.*s\"",
                     (int)name_len, text);
  const char *value = op + 1;
  bool is_memory =
      name_len == strlen("memory.available") && strncmp(text, "memory.available", name_len) == 0;
  size_t vlen = strlen(value);
  if (vlen > 1 && value[vlen - 1] == '%') {
    char *end = NULL;
    long pct = strtol(value, &end, 10);
    if (end != value + vlen - 1 || pct < 0 || pct > 100)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "invalid eviction threshold \"%s\": bad percentage", text);
    if (is_memory) {
      t->percent = (int)pct;
      t->bytes = 0;
    }
    return 0;
  }
  quantity q;
  if (quantity_parse(value, &q, err) < 0)
    return -1;
  int64_t bytes = quantity_value(&q);
  if (bytes < 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "invalid eviction threshold \"%s\": negative quantity", text);
  if (is_memory) {
    t->bytes = bytes;
    t->percent = 0;
  }
  return 0;
}

int
eviction_threshold_parse(const char *spec, struct eviction_threshold *t, k8c_err *err)
{
  struct eviction_threshold parsed = {.bytes = DEFAULT_MEMORY_AVAILABLE};
  const char *p = spec ? spec : "";
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len > 0 && parse_item(p, len, &parsed, err) < 0)
      return -1;
    p += len + (comma ? 1 : 0);
  }
  *t = parsed;
  return 0;
}

int64_t
eviction_threshold_bytes(const struct eviction_threshold *t, int64_t capacity_bytes)
{
  if (t->percent > 0)
    return capacity_bytes / 100 * t->percent;
  return t->bytes;
}

static char *
binary_quantity(int64_t bytes)
{
  quantity q = quantity_from_int64(bytes, QUANTITY_BINARY_SI);
  return quantity_format(&q);
}

char *
eviction_threshold_text(const struct eviction_threshold *t, int64_t capacity_bytes)
{
  return binary_quantity(eviction_threshold_bytes(t, capacity_bytes));
}

static bool
exceeds_request(const struct eviction_candidate *c)
{
  return c->usage > c->request;
}

static int
compare_candidates(const void *a, const void *b)
{
  const struct eviction_candidate *x = a, *y = b;
  bool ex = exceeds_request(x), ey = exceeds_request(y);
  if (ex != ey)
    return ex ? -1 : 1;
  if (x->priority != y->priority)
    return x->priority < y->priority ? -1 : 1;
  int64_t ox = x->usage - x->request, oy = y->usage - y->request;
  if (ox != oy)
    return ox > oy ? -1 : 1;
  return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

void
eviction_rank(struct eviction_candidate *c, size_t n)
{
  if (n > 1)
    qsort(c, n, sizeof *c, compare_candidates);
}

char *
eviction_message(const char *threshold_text, int64_t available_bytes,
                 const struct eviction_container_usage *cs, size_t n)
{
  buf b;
  buf_init(&b);
  cleanup_free char *available = binary_quantity(available_bytes);
  buf_printf(&b, "The node was low on resource: memory. Threshold quantity: %s, available: %s. ",
             threshold_text, available);
  for (size_t i = 0; i < n; i++) {
    if (cs[i].usage <= cs[i].request)
      continue;
    cleanup_free char *usage = binary_quantity(cs[i].usage);
    cleanup_free char *request = binary_quantity(cs[i].request);
    buf_printf(&b, "Container %s was using %s, request is %s, has larger consumption of memory. ",
               cs[i].name, usage, request);
  }
  char *out = xstrdup(buf_cstr(&b));
  buf_free(&b);
  return out;
}

/* Sets (or replaces) condition type in the conditions array. */
static void
set_condition(json_t *conds, const char *type, const char *status, const char *reason,
              const char *message, const char *now)
{
  json_t *c = json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status", status, "lastProbeTime",
                        "lastTransitionTime", now);
  if (reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (message)
    json_object_set_new(c, "message", json_string(message));
  size_t i;
  json_t *old;
  json_array_foreach (conds, i, old) {
    if (strcmp(json_string_value(json_object_get(old, "type")) ?: "", type) != 0)
      continue;
    if (strcmp(json_string_value(json_object_get(old, "status")) ?: "", status) == 0 &&
        json_object_get(old, "lastTransitionTime"))
      json_object_set(c, "lastTransitionTime", json_object_get(old, "lastTransitionTime"));
    json_array_set_new(conds, i, c);
    return;
  }
  json_array_append_new(conds, c);
}

/* A running container's status becomes terminated by SIGKILL. */
static void
terminate_statuses(json_t *statuses, const char *now)
{
  size_t i;
  json_t *cs;
  json_array_foreach (statuses, i, cs) {
    json_t *state = json_object_get(cs, "state");
    json_t *running = json_object_get(state, "running");
    json_object_set_new(cs, "ready", json_false());
    json_object_set_new(cs, "started", json_false());
    if (running == NULL)
      continue;
    json_t *term =
        json_pack("{s:i, s:s, s:s}", "exitCode", 137, "reason", "Error", "finishedAt", now);
    json_t *started = json_object_get(running, "startedAt");
    if (started)
      json_object_set(term, "startedAt", started);
    json_object_set_new(cs, "state", json_pack("{s:o}", "terminated", term));
  }
}

json_t *
eviction_pod_status(const json_t *old_status, const char *message, const char *now)
{
  json_t *st = old_status ? json_deep_copy(old_status) : json_object();
  json_object_set_new(st, "phase", json_string("Failed"));
  json_object_set_new(st, "reason", json_string("Evicted"));
  json_object_set_new(st, "message", json_string(message));
  json_t *conds = json_object_get(st, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(st, "conditions", conds);
  }
  set_condition(conds, "DisruptionTarget", "True", "TerminationByKubelet", message, now);
  set_condition(conds, "Ready", "False", "PodCompleted", NULL, now);
  set_condition(conds, "ContainersReady", "False", "PodCompleted", NULL, now);
  terminate_statuses(json_object_get(st, "containerStatuses"), now);
  return st;
}
