/* cron_timezone.c — a reader for TZif files (RFC 8536, versions 1 to 4) and their POSIX
 * TZ footer ("CET-1CEST,M3.5.0,M10.5.0/3"). The idea: keep only what an offset lookup
 * needs — transition instants, the offset each one starts, and the footer's rule — and
 * answer lookups by binary search, falling back to the rule after the last transition. */
#include "controllers/cron_timezone.h"

#include "lib/mem.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZIF_MAX_BYTES (1 << 20)

/* One end of daylight saving time in a POSIX rule. */
struct tz_rule_date {
  char kind; /* 'J' (Julian day 1-365, no Feb 29), 'D' (zero-based day 0-365), 'M' */
  int day;   /* J/D: the day; M: day of week (0 = Sunday) */
  int week;  /* M: 1-5 (5 = last) */
  int month; /* M: 1-12 */
  long time; /* seconds after local midnight (may be negative or past 24 h) */
};

struct cron_tz {
  size_t ntrans;
  int64_t *trans;  /* UTC instants, ascending */
  long *trans_off; /* the offset from each transition on */
  long first_off;  /* before the first transition */
  bool has_rule;
  long std_off, dst_off; /* seconds east */
  bool has_dst;
  struct tz_rule_date start, end;
};

/* ---------- the POSIX TZ footer ---------- */

static const char *
skip_name(const char *p)
{
  if (*p == '<') {
    const char *q = strchr(p, '>');
    return q ? q + 1 : NULL;
  }
  const char *q = p;
  while (isalpha((unsigned char)*q))
    q++;
  return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] as seconds; NULL if malformed. */
static const char *
parse_hms(const char *p, long *out)
{
  int sign = 1;
  if (*p == '+' || *p == '-')
    sign = *p++ == '-' ? -1 : 1;
  if (!isdigit((unsigned char)*p))
    return NULL;
  long parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    char *end;
    parts[i] = strtol(p, &end, 10);
    if (end == p)
      return NULL;
    p = end;
    if (*p != ':' || i == 2)
      break;
    p++;
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return p;
}

static const char *
parse_rule_date(const char *p, struct tz_rule_date *d)
{
  char *end;
  memset(d, 0, sizeof *d);
  d->time = 7200;
  if (*p == 'M') {
    d->kind = 'M';
    d->month = (int)strtol(p + 1, &end, 10);
    if (*end != '.')
      return NULL;
    d->week = (int)strtol(end + 1, &end, 10);
    if (*end != '.')
      return NULL;
    d->day = (int)strtol(end + 1, &end, 10);
    if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->day < 0 || d->day > 6)
      return NULL;
  } else {
    d->kind = *p == 'J' ? 'J' : 'D';
    const char *q = *p == 'J' ? p + 1 : p;
    d->day = (int)strtol(q, &end, 10);
    if (end == q)
      return NULL;
  }
  p = end;
  if (*p == '/')
    p = parse_hms(p + 1, &d->time);
  return p;
}

static bool
parse_footer(struct cron_tz *tz, const char *s)
{
  const char *p = skip_name(s);
  long posix_off;
  if (p == NULL || (p = parse_hms(p, &posix_off)) == NULL)
    return false;
  tz->std_off = -posix_off; /* POSIX offsets count west */
  tz->dst_off = tz->std_off + 3600;
  if (*p == '\0') {
    tz->has_rule = true;
    return true;
  }
  if ((p = skip_name(p)) == NULL)
    return false;
  if (*p != ',' && *p != '\0') {
    if ((p = parse_hms(p, &posix_off)) == NULL)
      return false;
    tz->dst_off = -posix_off;
  }
  if (*p != ',' || (p = parse_rule_date(p + 1, &tz->start)) == NULL || *p != ',' ||
      (p = parse_rule_date(p + 1, &tz->end)) == NULL || *p != '\0')
    return false;
  tz->has_dst = tz->has_rule = true;
  return true;
}

/* Days since the epoch of the rule's date in year. */
static long
rule_day(int year, const struct tz_rule_date *d)
{
  struct tm tm = {.tm_year = year - 1900, .tm_mon = 0, .tm_mday = 1};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  long jan1 = (long)(timegm(&tm) / 86400);
  if (d->kind == 'J')
    return jan1 + d->day - 1 + (leap && d->day >= 60 ? 1 : 0);
  if (d->kind == 'D')
    return jan1 + d->day;
  tm.tm_mon = d->month - 1;
  long first = (long)(timegm(&tm) / 86400);
  int first_wday = (int)((first + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
  long day = first + (d->day - first_wday + 7) % 7 + (d->week - 1) * 7L;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int len = mdays[d->month - 1] + (d->month == 2 && leap ? 1 : 0);
  while (day >= first + len)
    day -= 7;
  return day;
}

static long
rule_offset(const struct cron_tz *tz, time_t t)
{
  if (!tz->has_dst)
    return tz->std_off;
  time_t local = t + tz->std_off;
  struct tm tm;
  gmtime_r(&local, &tm);
  int year = tm.tm_year + 1900;
  int64_t start = (int64_t)rule_day(year, &tz->start) * 86400 + tz->start.time - tz->std_off;
  int64_t end = (int64_t)rule_day(year, &tz->end) * 86400 + tz->end.time - tz->dst_off;
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? tz->dst_off : tz->std_off;
}

/* ---------- the TZif body ---------- */

static uint32_t
be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parses the data block at p (time size 4 or 8); *next is where it ends. */
static bool
parse_block(struct cron_tz *tz, const unsigned char *p, size_t len, int tsize, size_t *next)
{
  if (len < 44 || memcmp(p, "TZif", 4) != 0)
    return false;
  uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28), timecnt = be32(p + 32),
           typecnt = be32(p + 36), charcnt = be32(p + 40);
  if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leap > 100000)
    return false;
  size_t need = 44 + (size_t)timecnt * (size_t)(tsize + 1) + typecnt * 6 + charcnt +
                leap * (size_t)(tsize + 4) + isstd + isut;
  if (need > len)
    return false;
  const unsigned char *times = p + 44, *idx = times + (size_t)timecnt * (size_t)tsize;
  const unsigned char *types = idx + timecnt;
  tz->ntrans = timecnt;
  tz->trans = xcalloc(timecnt ? timecnt : 1, sizeof *tz->trans);
  tz->trans_off = xcalloc(timecnt ? timecnt : 1, sizeof *tz->trans_off);
  for (uint32_t i = 0; i < timecnt; i++) {
    tz->trans[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
    if (idx[i] >= typecnt)
      return false;
    tz->trans_off[i] = (int32_t)be32(types + 6 * idx[i]);
  }
  tz->first_off = (int32_t)be32(types);
  *next = need;
  return true;
}

static bool
parse_tzif(struct cron_tz *tz, const unsigned char *data, size_t len)
{
  size_t used;
  if (len < 44 || memcmp(data, "TZif", 4) != 0)
    return false;
  if (data[4] == '\0')
    return parse_block(tz, data, len, 4, &used);
  if (!parse_block(tz, data, len, 4, &used))
    return false;
  free(tz->trans);
  free(tz->trans_off);
  tz->trans = NULL;
  tz->trans_off = NULL;
  size_t v2_len;
  if (!parse_block(tz, data + used, len - used, 8, &v2_len))
    return false;
  const unsigned char *footer = data + used + v2_len;
  size_t flen = len - used - v2_len;
  if (flen >= 2 && footer[0] == '\n') {
    const unsigned char *nl = memchr(footer + 1, '\n', flen - 1);
    if (nl && nl > footer + 1) {
      cleanup_free char *text = xstrndup((const char *)footer + 1, (size_t)(nl - footer - 1));
      if (!parse_footer(tz, text))
        return false;
    }
  }
  return true;
}

/* ---------- public ---------- */

static bool
name_is_safe(const char *name)
{
  if (name == NULL || *name == '\0' || *name == '/' || strstr(name, "..") || strlen(name) > 255)
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
      return false;
  return true;
}

struct cron_tz *
cron_tz_load(const char *dir, const char *name, k8c_err *err)
{
  if (!name_is_safe(name)) {
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "unknown time zone %s", name ? name : "");
    return NULL;
  }
  cleanup_free char *path = xasprintf("%s/%s", dir ? dir : "/usr/share/zoneinfo", name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "unknown time zone %s", name);
    return NULL;
  }
  cleanup_free unsigned char *data = xmalloc(TZIF_MAX_BYTES);
  size_t len = fread(data, 1, TZIF_MAX_BYTES, f);
  fclose(f);
  struct cron_tz *tz = xcalloc(1, sizeof *tz);
  if (!parse_tzif(tz, data, len)) {
    cron_tz_free(tz);
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "unknown time zone %s: not a TZif file", name);
    return NULL;
  }
  return tz;
}

void
cron_tz_free(struct cron_tz *tz)
{
  if (tz == NULL)
    return;
  free(tz->trans);
  free(tz->trans_off);
  free(tz);
}

long
cron_tz_offset(const struct cron_tz *tz, time_t t)
{
  if (tz == NULL)
    return 0;
  if (tz->ntrans == 0)
    return tz->has_rule ? rule_offset(tz, t) : tz->first_off;
  if ((int64_t)t < tz->trans[0])
    return tz->first_off;
  if ((int64_t)t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
    return rule_offset(tz, t);
  size_t lo = 0, hi = tz->ntrans; /* the last transition at or before t */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (tz->trans[mid] <= (int64_t)t)
      lo = mid;
    else
      hi = mid;
  }
  return tz->trans_off[lo];
}
