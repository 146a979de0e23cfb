/* err.c — filling, extending and clearing k8c_err (see err.h). */
#include "lib/err.h"

#include <stdio.h>
#include <string.h>

int
k8c_error(k8c_err *err, int status, const char *reason, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  json_t *old_causes = err->causes;
  err->causes = NULL;
  json_decref(old_causes);
  err->status = status;
  err->retry_after = 0;
  err->subject_kind[0] = 0;
  err->subject_name[0] = 0;
  snprintf(err->reason, sizeof err->reason, "%s", reason ? reason : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return -1;
}

void
k8c_err_add_cause(k8c_err *err, const char *type, const char *field, const char *fmt, ...)
{
  if (err == NULL)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err->causes == NULL)
    err->causes = json_array();
  json_t *cause = json_pack("{s:s,s:s}", "reason", type ? type : "", "message", msg);
  if (field != NULL)
    json_object_set_new(cause, "field", json_string(field));
  json_array_append_new(err->causes, cause);
}

int
k8c_err_prefix(k8c_err *err, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  char prefix[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char joined[sizeof err->message];
  snprintf(joined, sizeof joined, "%s: %s", prefix, err->message);
  memcpy(err->message, joined, sizeof joined);
  return -1;
}

void
k8c_err_clear(k8c_err *err)
{
  if (err == NULL)
    return;
  json_decref(err->causes);
  memset(err, 0, sizeof *err);
}

void
k8c_err_move(k8c_err *dst, k8c_err *src)
{
  k8c_err_clear(dst);
  *dst = *src;
  memset(src, 0, sizeof *src);
}
