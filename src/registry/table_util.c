/* table_util.c — durations, timestamps and cell helpers for server-side Tables. The
 * duration rounding follows upstream's HumanDuration so AGE columns read identically. */
#include "registry/table_util.h"

#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
parse_rfc3339(const char *s, time_t *out)
{
  if (s == NULL || *s == '\0')
    return -1;
  struct tm tm = {0};
  const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == NULL)
    return -1;
  if (*rest == '.') {
    rest++;
    while (isdigit((unsigned char)*rest))
      rest++;
  }
  long offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    rest++;
  } else if (*rest == '+' || *rest == '-') {
    int hh, mm;
    if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2)
      return -1;
    offset = (hh * 3600L + mm * 60L) * (*rest == '+' ? 1 : -1);
    rest += 6;
  } else {
    return -1;
  }
  if (*rest != '\0')
    return -1;
  *out = timegm(&tm) - offset;
  return 0;
}

void
human_duration(long long seconds, char out[DURATION_LEN])
{
  if (seconds < -1) {
    snprintf(out, DURATION_LEN, "<invalid>");
    return;
  }
  if (seconds < 0)
    seconds = 0;
  if (seconds < 120) {
    snprintf(out, DURATION_LEN, "%llds", seconds);
    return;
  }
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long s = seconds % 60;
    if (s == 0)
      snprintf(out, DURATION_LEN, "%lldm", minutes);
    else
      snprintf(out, DURATION_LEN, "%lldm%llds", minutes, s);
    return;
  }
  if (minutes < 180) {
    snprintf(out, DURATION_LEN, "%lldm", minutes);
    return;
  }
  long long hours = seconds / 3600;
  if (hours < 8) {
    long long m = minutes % 60;
    if (m == 0)
      snprintf(out, DURATION_LEN, "%lldh", hours);
    else
      snprintf(out, DURATION_LEN, "%lldh%lldm", hours, m);
  } else if (hours < 48) {
    snprintf(out, DURATION_LEN, "%lldh", hours);
  } else if (hours < 24 * 8) {
    long long h = hours % 24;
    if (h == 0)
      snprintf(out, DURATION_LEN, "%lldd", hours / 24);
    else
      snprintf(out, DURATION_LEN, "%lldd%lldh", hours / 24, h);
  } else if (hours < 24 * 365 * 2) {
    snprintf(out, DURATION_LEN, "%lldd", hours / 24);
  } else if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    if (dy == 0)
      snprintf(out, DURATION_LEN, "%lldy", hours / 24 / 365);
    else
      snprintf(out, DURATION_LEN, "%lldy%lldd", hours / 24 / 365, dy);
  } else {
    snprintf(out, DURATION_LEN, "%lldy", hours / 24 / 365);
  }
}

void
since_timestamp(const char *timestamp, char out[DURATION_LEN])
{
  time_t t;
  if (parse_rfc3339(timestamp, &t) < 0) {
    snprintf(out, DURATION_LEN, "<unknown>");
    return;
  }
  human_duration((long long)(time(NULL) - t), out);
}

void
cell_str(json_t *cells, const char *s)
{
  json_array_append_new(cells, json_string(s ? s : ""));
}

void
cell_take(json_t *cells, char *s)
{
  cell_str(cells, s);
  free(s);
}

void
cell_int(json_t *cells, long long v)
{
  json_array_append_new(cells, json_integer(v));
}

void
cell_bool(json_t *cells, bool v)
{
  json_array_append_new(cells, json_boolean(v));
}

void
cell_age(json_t *cells, const json_t *obj)
{
  char age[DURATION_LEN];
  since_timestamp(obj_str(obj, "metadata.creationTimestamp"), age);
  cell_str(cells, age);
}

void
cell_name(json_t *cells, const json_t *obj)
{
  cell_str(cells, obj_str0(obj, "metadata.name"));
}

char *
label_selector_string(const json_t *selector)
{
  buf b;
  buf_init(&b);
  cleanup_free char *labels = labels_string(json_object_get(selector, "matchLabels"));
  buf_puts(&b, labels);
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(selector, "matchExpressions"), i, e) {
    if (b.len > 0)
      buf_puts(&b, ",");
    const char *key = obj_str0(e, "key");
    const char *op = obj_str0(e, "operator");
    if (strcmp(op, "Exists") == 0) {
      buf_puts(&b, key);
      continue;
    }
    if (strcmp(op, "DoesNotExist") == 0) {
      buf_printf(&b, "!%s", key);
      continue;
    }
    buf_printf(&b, "%s %s (", key, strcmp(op, "NotIn") == 0 ? "notin" : "in");
    size_t j;
    json_t *v;
    json_array_foreach (json_object_get(e, "values"), j, v) {
      buf_printf(&b, "%s%s", j ? "," : "", json_string_value(v) ?: "");
    }
    buf_puts(&b, ")");
  }
  return buf_take(&b);
}

void
cell_label_selector(json_t *cells, const json_t *selector)
{
  char *s = label_selector_string(selector);
  if (*s == '\0') {
    free(s);
    cell_str(cells, "<none>");
    return;
  }
  cell_take(cells, s);
}

void
cell_map_selector(json_t *cells, const json_t *map)
{
  char *s = labels_string(map);
  if (*s == '\0') {
    free(s);
    cell_str(cells, "<none>");
    return;
  }
  cell_take(cells, s);
}
