/* cron_schedule.c — parsing cron lines into bitmasks and walking them in UTC (see
 * cron_schedule.h). The walk skips whole months, days and hours that cannot match, so
 * finding the next or previous activation costs a few hundred steps at most. */
#include "controllers/cron_schedule.h"

#include "lib/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CRON_HORIZON_SECONDS (5LL * 366 * 24 * 3600)

struct field_bounds {
  const char *what;
  int min, max;
  const char *const *names; /* names[i] is value min+i (NULL: numbers only) */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_bounds bounds[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day of week", 0, 6, dow_names},
};

/* ---------- parsing ---------- */

/* A number or (for months and days of the week) a name, wholly in [p, end). */
static int
parse_value(const char *p, const char *end, const struct field_bounds *b, int *out, k8c_err *err)
{
  size_t len = (size_t)(end - p);
  if (len == 0)
    return k8c_error(err, 422, K8C_REASON_INVALID, "empty value in %s field", b->what);
  if (b->names) {
    for (int i = 0; b->names[i]; i++)
      if (len == strlen(b->names[i]) && strncasecmp(p, b->names[i], len) == 0) {
        *out = b->min + i;
        return 0;
      }
  }
  long v = 0;
  for (const char *q = p; q < end; q++) {
    if (!isdigit((unsigned char)*q) || v > 1000000)
      return k8c_error(err, 422, K8C_REASON_INVALID, "failed to parse %s value \"%.*s\"", b->what,
                       (int)len, p);
    v = v * 10 + (*q - '0');
  }
  *out = (int)v;
  return 0;
}

/* One comma-separated part: "*", "?", "a", "a-b", any of them with "/step". */
static int
parse_part(const char *p, const char *end, const struct field_bounds *b, uint64_t *mask, bool *star,
           k8c_err *err)
{
  const char *slash = memchr(p, '/', (size_t)(end - p));
  const char *range_end = slash ? slash : end;
  int lo, hi, step = 1;
  bool is_star = false;
  if (range_end - p == 1 && (*p == '*' || *p == '?')) {
    lo = b->min;
    hi = b->max;
    is_star = true;
  } else {
    const char *dash = memchr(p, '-', (size_t)(range_end - p));
    if (parse_value(p, dash ? dash : range_end, b, &lo, err) < 0)
      return -1;
    hi = lo;
    if (dash && parse_value(dash + 1, range_end, b, &hi, err) < 0)
      return -1;
    if (slash && !dash)
      hi = b->max; /* "a/n": from a to the end of the range */
  }
  if (slash) {
    if (parse_value(slash + 1, end, &(struct field_bounds){b->what, 0, 0, NULL}, &step, err) < 0)
      return -1;
    if (step <= 0)
      return k8c_error(err, 422, K8C_REASON_INVALID,
                       "step of range should be a positive number: "
                       "%.*s",
                       (int)(end - p), p);
    if (step > 1)
      is_star = false;
  }
  if (lo < b->min || hi > b->max || lo > hi)
    return k8c_error(err, 422, K8C_REASON_INVALID, "%s range %d-%d outside %d-%d or reversed",
                     b->what, lo, hi, b->min, b->max);
  for (int v = lo; v <= hi; v += step)
    *mask |= 1ULL << v;
  *star = *star || is_star;
  return 0;
}

static int
parse_field(const char *p, const char *end, const struct field_bounds *b, uint64_t *mask,
            bool *star, k8c_err *err)
{
  *mask = 0;
  *star = false;
  while (p <= end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *part_end = comma ? comma : end;
    if (parse_part(p, part_end, b, mask, star, err) < 0)
      return -1;
    p = part_end + 1;
  }
  return 0;
}

/* A Go duration ("1h30m", "90s", "1.5h") rounded down to whole seconds, at least 1. */
static int
parse_every(const char *p, long long *seconds, k8c_err *err)
{
  static const struct {
    const char *unit;
    double ns;
  } units[] = {{"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
               {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  const char *start = p;
  double total = 0;
  if (*p == '\0')
    return k8c_error(err, 422, K8C_REASON_INVALID, "failed to parse duration @every %s", start);
  if (strcmp(p, "0") == 0) {
    *seconds = 1;
    return 0;
  }
  while (*p) {
    if (!isdigit((unsigned char)*p) && *p != '.')
      return k8c_error(err, 422, K8C_REASON_INVALID, "failed to parse duration @every %s", start);
    char *num_end;
    double v = strtod(p, &num_end);
    if (num_end == p)
      return k8c_error(err, 422, K8C_REASON_INVALID, "failed to parse duration @every %s", start);
    p = num_end;
    size_t best = 0;
    double unit_ns = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t ul = strlen(units[i].unit);
      if (ul > best && strncmp(p, units[i].unit, ul) == 0) {
        best = ul;
        unit_ns = units[i].ns;
      }
    }
    if (best == 0)
      return k8c_error(err, 422, K8C_REASON_INVALID, "missing unit in duration @every %s", start);
    p += best;
    total += v * unit_ns;
  }
  long long s = (long long)floor(total / 1e9);
  *seconds = s < 1 ? 1 : s;
  return 0;
}

static const struct {
  const char *name;
  const char *line;
} descriptors[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

int
cron_schedule_parse(const char *spec, struct cron_schedule *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  if (spec == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "empty spec string");
  while (isspace((unsigned char)*spec))
    spec++;
  cleanup_free char *text = xstrdup(spec);
  size_t len = strlen(text);
  while (len > 0 && isspace((unsigned char)text[len - 1]))
    text[--len] = '\0';
  if (len == 0)
    return k8c_error(err, 422, K8C_REASON_INVALID, "empty spec string");
  if (text[0] == '@') {
    if (strncmp(text, "@every ", 7) == 0) {
      const char *d = text + 7;
      while (*d == ' ')
        d++;
      return parse_every(d, &out->every_seconds, err);
    }
    for (size_t i = 0; i < sizeof descriptors / sizeof descriptors[0]; i++)
      if (strcmp(text, descriptors[i].name) == 0)
        return cron_schedule_parse(descriptors[i].line, out, err);
    return k8c_error(err, 422, K8C_REASON_INVALID, "unrecognized descriptor: %s", text);
  }
  const char *fields[5][2];
  int n = 0;
  for (char *p = text; *p;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      break;
    char *f = p;
    while (*p && *p != ' ' && *p != '\t')
      p++;
    if (n < 5) {
      fields[n][0] = f;
      fields[n][1] = p;
    }
    n++;
  }
  if (n != 5)
    return k8c_error(err, 422, K8C_REASON_INVALID, "expected exactly 5 fields, found %d: %s", n,
                     text);
  uint64_t *masks[5] = {&out->minute, &out->hour, &out->dom, &out->month, &out->dow};
  bool stars[5] = {false};
  for (int i = 0; i < 5; i++)
    if (parse_field(fields[i][0], fields[i][1], &bounds[i], masks[i], &stars[i], err) < 0)
      return -1;
  out->dom_star = stars[2];
  out->dow_star = stars[4];
  return 0;
}

/* ---------- walking ---------- */

static bool
has(uint64_t mask, int v)
{
  return (mask >> v) & 1;
}

static bool
day_matches(const struct cron_schedule *s, const struct tm *tm)
{
  bool dom = has(s->dom, tm->tm_mday), dow = has(s->dow, tm->tm_wday);
  if (s->dom_star || s->dow_star)
    return dom && dow;
  return dom || dow;
}

/* The first matching wall time strictly after wall time t (0 if none within five years). */
static time_t
walk_next(const struct cron_schedule *s, time_t t)
{
  time_t limit = t + CRON_HORIZON_SECONDS;
  time_t cur = t - (t % 60 + 60) % 60 + 60; /* the next whole minute after t */
  struct tm tm;
  while (cur <= limit) {
    gmtime_r(&cur, &tm);
    if (!has(s->month, tm.tm_mon + 1)) {
      tm.tm_mon++;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      cur = timegm(&tm);
      continue;
    }
    if (!day_matches(s, &tm)) {
      tm.tm_mday++;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      cur = timegm(&tm);
      continue;
    }
    if (!has(s->hour, tm.tm_hour)) {
      cur += 3600 - tm.tm_min * 60;
      continue;
    }
    if (!has(s->minute, tm.tm_min)) {
      cur += 60;
      continue;
    }
    return cur;
  }
  return 0;
}

/* The latest matching wall time at or before wall time t (0 if none within five years). */
static time_t
walk_prev(const struct cron_schedule *s, time_t t)
{
  time_t limit = t - CRON_HORIZON_SECONDS;
  time_t cur = t - (t % 60 + 60) % 60;
  struct tm tm;
  while (cur >= limit) {
    gmtime_r(&cur, &tm);
    if (!has(s->month, tm.tm_mon + 1)) {
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      cur = timegm(&tm) - 60;
      continue;
    }
    if (!day_matches(s, &tm)) {
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      cur = timegm(&tm) - 60;
      continue;
    }
    if (!has(s->hour, tm.tm_hour)) {
      cur -= (tm.tm_min + 1) * 60;
      continue;
    }
    if (!has(s->minute, tm.tm_min)) {
      cur -= 60;
      continue;
    }
    return cur;
  }
  return 0;
}

/* The instants (ascending, 0 to 2 of them) whose wall time in tz is w: a day either side
 * covers any transition next to w. */
static int
wall_to_utc(const struct cron_tz *tz, time_t w, time_t out[2])
{
  long offs[2] = {cron_tz_offset(tz, w - 86400), cron_tz_offset(tz, w + 86400)};
  int n = 0;
  for (int i = 0; i < 2; i++) {
    time_t u = w - offs[i];
    if (cron_tz_offset(tz, u) == offs[i] && (n == 0 || out[0] != u))
      out[n++] = u;
  }
  if (n == 2 && out[0] > out[1]) {
    time_t tmp = out[0];
    out[0] = out[1];
    out[1] = tmp;
  }
  return n;
}

time_t
cron_schedule_next(const struct cron_schedule *s, const struct cron_tz *tz, time_t t)
{
  if (s->every_seconds > 0)
    return t + s->every_seconds;
  if (tz == NULL)
    return walk_next(s, t);
  time_t w = t + cron_tz_offset(tz, t);
  for (int guard = 0; guard < 100000; guard++) {
    if ((w = walk_next(s, w)) == 0)
      return 0;
    time_t u[2];
    int n = wall_to_utc(tz, w, u);
    for (int i = 0; i < n; i++)
      if (u[i] > t)
        return u[i];
  }
  return 0;
}

/* The latest activation at or before t (0 if none within five years). */
static time_t
cron_schedule_prev(const struct cron_schedule *s, const struct cron_tz *tz, time_t t)
{
  if (tz == NULL)
    return walk_prev(s, t);
  time_t w = t + cron_tz_offset(tz, t);
  for (int guard = 0; guard < 100000; guard++) {
    if ((w = walk_prev(s, w)) == 0)
      return 0;
    time_t u[2];
    int n = wall_to_utc(tz, w, u);
    if (n > 0 && u[0] <= t)
      return u[0];
    w -= 60;
  }
  return 0;
}

time_t
cron_schedule_most_recent(const struct cron_schedule *s, const struct cron_tz *tz, time_t earliest,
                          time_t now, int *missed)
{
  int count = 0;
  time_t last = 0;
  for (time_t t = cron_schedule_next(s, tz, earliest); t != 0 && t <= now;
       t = cron_schedule_next(s, tz, t)) {
    last = t;
    if (++count > 100)
      break;
  }
  if (missed)
    *missed = count;
  if (count <= 100)
    return last;
  if (s->every_seconds > 0)
    return earliest + (now - earliest) / s->every_seconds * s->every_seconds;
  return cron_schedule_prev(s, tz, now);
}
