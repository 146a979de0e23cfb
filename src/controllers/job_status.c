/* job_status.c — the Job controller's status vocabulary: conditions with upstream's
 * lastTransitionTime rule (it moves only when the status flips), and completed indexes
 * in upstream's compressed interval form ("0,2-5"). */
#include "apimachinery/meta.h"
#include "controllers/job_internal.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

json_t *
job_condition(const json_t *status, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(status, "conditions"), i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t && strcmp(t, type) == 0)
      return c;
  }
  return NULL;
}

bool
job_condition_true(const json_t *status, const char *type)
{
  const char *s = json_string_value(json_object_get(job_condition(status, type), "status"));
  return s && strcmp(s, "True") == 0;
}

void
job_set_condition(json_t *status, const char *type, const char *cond_status, const char *reason,
                  const char *message)
{
  json_t *conds = json_object_get(status, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(status, "conditions", conds);
  }
  cleanup_free char *now = meta_now_rfc3339();
  json_t *old = job_condition(status, type);
  const char *transition = now;
  if (old) {
    const char *old_status = json_string_value(json_object_get(old, "status"));
    const char *old_time = json_string_value(json_object_get(old, "lastTransitionTime"));
    if (old_status && strcmp(old_status, cond_status) == 0 && old_time)
      transition = old_time;
  }
  json_t *c =
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", cond_status, "reason",
                reason, "message", message, "lastProbeTime", now, "lastTransitionTime", transition);
  if (old) {
    size_t i;
    json_t *e;
    json_array_foreach (conds, i, e) {
      if (e == old) {
        json_array_set_new(conds, i, c);
        return;
      }
    }
  }
  json_array_append_new(conds, c);
}

bool *
job_indexes_parse(const char *text, int n)
{
  bool *done = xcalloc(n > 0 ? (size_t)n : 1, sizeof *done);
  const char *p = text ? text : "";
  while (*p) {
    char *end;
    long lo = strtol(p, &end, 10), hi = lo;
    if (end == p)
      break;
    p = end;
    if (*p == '-') {
      hi = strtol(p + 1, &end, 10);
      if (end == p + 1)
        break;
      p = end;
    }
    for (long i = lo < 0 ? 0 : lo; i <= hi && i < n; i++)
      done[i] = true;
    if (*p != ',')
      break;
    p++;
  }
  return done;
}

char *
job_indexes_format(const bool *done, int n)
{
  buf b;
  buf_init(&b);
  for (int i = 0; i < n;) {
    if (!done[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j + 1 < n && done[j + 1])
      j++;
    if (b.len > 0)
      buf_puts(&b, ",");
    if (j > i)
      buf_printf(&b, "%d-%d", i, j);
    else
      buf_printf(&b, "%d", i);
    i = j + 1;
  }
  if (b.len == 0) {
    buf_free(&b);
    return xstrdup("");
  }
  return buf_steal(&b, NULL);
}

int
job_indexes_count(const bool *done, int n)
{
  int count = 0;
  for (int i = 0; i < n; i++)
    count += done[i];
  return count;
}

bool
job_is_finished(const json_t *job)
{
  const json_t *status = json_object_get(job, "status");
  return job_condition_true(status, "Complete") || job_condition_true(status, "Failed");
}

time_t
job_finish_time(const json_t *job)
{
  const json_t *status = json_object_get(job, "status");
  const char *types[] = {"Complete", "Failed"};
  for (int i = 0; i < 2; i++) {
    json_t *c = job_condition(status, types[i]);
    if (c && job_condition_true(status, types[i]))
      return cu_parse_time(json_string_value(json_object_get(c, "lastTransitionTime")));
  }
  return 0;
}
