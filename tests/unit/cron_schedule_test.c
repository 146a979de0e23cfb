/* cron_schedule_test.c — the CronJob schedule parser and its walk in UTC: fields,
 * ranges, steps, lists, names, "?", descriptors and @every; the next activation across
 * month and year ends, day-of-month/day-of-week OR/AND rules, the most recent missed
 * activation with its count; time zones from the system zoneinfo (offsets from
 * transitions and from the POSIX footer rule, DST gaps and repeats). */
#include "controllers/cron_schedule.h"
#include "testlib.h"

#include <string.h>

/* Seconds since the epoch of a UTC date and time. */
static time_t
utc(int year, int mon, int day, int hour, int min)
{
  struct tm tm = {
      .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day, .tm_hour = hour, .tm_min = min};
  return timegm(&tm);
}

static struct cron_schedule
parse_ok(const char *spec)
{
  struct cron_schedule s;
  k8c_err err = {0};
  int rc = cron_schedule_parse(spec, &s, &err);
  if (rc < 0)
    fprintf(stderr, "parse %s: %s\n", spec, err.message);
  CHECK_INT(rc, 0);
  k8c_err_clear(&err);
  return s;
}

static void
parse_fails(const char *spec)
{
  struct cron_schedule s;
  k8c_err err = {0};
  CHECK_INT(cron_schedule_parse(spec, &s, &err), -1);
  CHECK_INT(err.status, 422);
  CHECK(err.message != NULL && strlen(err.message) > 0);
  k8c_err_clear(&err);
}

TEST(parse_fields)
{
  struct cron_schedule s = parse_ok("*/15 1-3,5 ? jan-mar,Dec mon-fri");
  CHECK(s.minute == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
  CHECK(s.hour == ((1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 5)));
  CHECK(s.dom_star);
  CHECK(!s.dow_star);
  CHECK(s.month == ((1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 12)));
  CHECK(s.dow == 0x3eULL);
  s = parse_ok("5/20 0 1 * *");
  CHECK(s.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
  CHECK(!s.dom_star && s.dow_star);
  s = parse_ok("*/1 * * * *"); /* a step of 1 keeps the star */
  CHECK(s.dom_star && s.minute == (1ULL << 60) - 1);
  s = parse_ok("0 0 */2 * *"); /* a larger step does not */
  CHECK(!s.dom_star);
}

TEST(parse_descriptors)
{
  struct cron_schedule s = parse_ok("@hourly");
  CHECK(s.minute == 1 && s.hour == (1ULL << 24) - 1);
  s = parse_ok("@daily");
  CHECK(s.minute == 1 && s.hour == 1);
  s = parse_ok("@weekly");
  CHECK(s.dow == 1);
  s = parse_ok("@monthly");
  CHECK(s.dom == 2);
  s = parse_ok("@yearly");
  CHECK(s.month == 2 && s.dom == 2);
  CHECK(parse_ok("@annually").month == 2);
  CHECK(parse_ok("@midnight").hour == 1);
  CHECK(parse_ok("@every 1h30m").every_seconds == 5400);
  CHECK(parse_ok("@every 90s").every_seconds == 90);
  CHECK(parse_ok("@every 1.5m").every_seconds == 90);
  CHECK(parse_ok("@every 100ms").every_seconds == 1);
}

TEST(parse_errors)
{
  parse_fails("");
  parse_fails("* * * *");
  parse_fails("* * * * * *");
  parse_fails("60 * * * *");
  parse_fails("* 24 * * *");
  parse_fails("* * 0 * *");
  parse_fails("* * * 13 *");
  parse_fails("* * * * 7");
  parse_fails("5-1 * * * *");
  parse_fails("*/0 * * * *");
  parse_fails("a * * * *");
  parse_fails("* * * foo *");
  parse_fails("1,,2 * * * *");
  parse_fails("@often");
  parse_fails("@every");
  parse_fails("@every 5");
  parse_fails("@every x");
}

TEST(next_activation)
{
  struct cron_schedule s = parse_ok("*/1 * * * *");
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 1, 10, 0)) == utc(2024, 1, 1, 10, 1));
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 1, 10, 0) + 59) == utc(2024, 1, 1, 10, 1));
  s = parse_ok("30 2 * * *");
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 1, 10, 0)) == utc(2024, 1, 2, 2, 30));
  s = parse_ok("0 0 1 1 *");
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 6, 15, 0, 0)) == utc(2025, 1, 1, 0, 0));
  s = parse_ok("0 12 29 feb *");
  CHECK(cron_schedule_next(&s, NULL, utc(2025, 1, 1, 0, 0)) == utc(2028, 2, 29, 12, 0));
  s = parse_ok("0 0 31 * *"); /* skips months without a 31st */
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 4, 1, 0, 0)) == utc(2024, 5, 31, 0, 0));
  s = parse_ok("0 9 * * mon"); /* 2024-01-01 is a Monday */
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 1, 9, 0)) == utc(2024, 1, 8, 9, 0));
  /* Both day fields restricted: either matches (2024-01-13 is a Saturday). */
  s = parse_ok("0 0 15 * sat");
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 10, 0, 0)) == utc(2024, 1, 13, 0, 0));
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 13, 0, 0)) == utc(2024, 1, 15, 0, 0));
  /* One of them "*": both must match (the first Saturday the 15th after 2024-01 is June). */
  s = parse_ok("0 0 15 * *");
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 15, 0, 0)) == utc(2024, 2, 15, 0, 0));
  s = parse_ok("0 0 ? * sat");
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 10, 0, 0)) == utc(2024, 1, 13, 0, 0));
  s = parse_ok("@every 45s");
  CHECK(cron_schedule_next(&s, NULL, 1000) == 1045);
  s = parse_ok("0 0 30 2 *"); /* never */
  CHECK(cron_schedule_next(&s, NULL, utc(2024, 1, 1, 0, 0)) == 0);
}

TEST(most_recent)
{
  struct cron_schedule s = parse_ok("*/5 * * * *");
  int missed = -1;
  time_t t0 = utc(2024, 3, 1, 12, 0);
  CHECK(cron_schedule_most_recent(&s, NULL, t0, t0 + 299, &missed) == 0);
  CHECK_INT(missed, 0);
  CHECK(cron_schedule_most_recent(&s, NULL, t0, t0 + 300, &missed) == t0 + 300);
  CHECK_INT(missed, 1);
  CHECK(cron_schedule_most_recent(&s, NULL, t0, t0 + 1234, &missed) == t0 + 1200);
  CHECK_INT(missed, 4);
  /* Far behind: the count stops at 101, the time is still the latest. */
  CHECK(cron_schedule_most_recent(&s, NULL, t0, t0 + 86400 * 3 + 61, &missed) == t0 + 86400 * 3);
  CHECK_INT(missed, 101);
  s = parse_ok("0 0 1,15 * *");
  CHECK(cron_schedule_most_recent(&s, NULL, utc(2010, 1, 1, 0, 0), utc(2024, 7, 20, 3, 0),
                                  &missed) == utc(2024, 7, 15, 0, 0));
  CHECK_INT(missed, 101);
  s = parse_ok("@every 1m");
  CHECK(cron_schedule_most_recent(&s, NULL, 0, 6100, &missed) == 6060);
  CHECK_INT(missed, 101);
  CHECK(cron_schedule_most_recent(&s, NULL, 0, 150, &missed) == 120);
  CHECK_INT(missed, 2);
}

static struct cron_tz *
zone(const char *name)
{
  k8c_err err = {0};
  struct cron_tz *tz = cron_tz_load(NULL, name, &err);
  if (tz == NULL)
    fprintf(stderr, "zone %s: %s\n", name, err.message);
  CHECK(tz != NULL);
  k8c_err_clear(&err);
  return tz;
}

TEST(time_zone_offsets)
{
  struct cron_tz *berlin = zone("Europe/Berlin");
  CHECK_INT(cron_tz_offset(berlin, utc(2024, 1, 15, 12, 0)), 3600);
  CHECK_INT(cron_tz_offset(berlin, utc(2024, 7, 15, 12, 0)), 7200);
  /* The switch on 2024-03-31 at 01:00 UTC, exactly. */
  CHECK_INT(cron_tz_offset(berlin, utc(2024, 3, 31, 1, 0) - 1), 3600);
  CHECK_INT(cron_tz_offset(berlin, utc(2024, 3, 31, 1, 0)), 7200);
  /* Far past any listed transition: the footer rule (last Sunday of March/October). */
  CHECK_INT(cron_tz_offset(berlin, utc(2100, 3, 28, 0, 59)), 3600);
  CHECK_INT(cron_tz_offset(berlin, utc(2100, 3, 28, 1, 0)), 7200);
  CHECK_INT(cron_tz_offset(berlin, utc(2100, 10, 31, 0, 59)), 7200);
  CHECK_INT(cron_tz_offset(berlin, utc(2100, 10, 31, 1, 0)), 3600);
  cron_tz_free(berlin);
  struct cron_tz *sydney = zone("Australia/Sydney"); /* southern: summer time over new year */
  CHECK_INT(cron_tz_offset(sydney, utc(2100, 1, 15, 0, 0)), 11 * 3600);
  CHECK_INT(cron_tz_offset(sydney, utc(2100, 7, 15, 0, 0)), 10 * 3600);
  cron_tz_free(sydney);
  struct cron_tz *kolkata = zone("Asia/Kolkata");
  CHECK_INT(cron_tz_offset(kolkata, utc(2100, 7, 15, 0, 0)), 19800);
  cron_tz_free(kolkata);
  CHECK_INT(cron_tz_offset(NULL, 12345), 0);
  k8c_err err = {0};
  CHECK(cron_tz_load(NULL, "Mars/Olympus_Mons", &err) == NULL);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK(cron_tz_load(NULL, "../../etc/passwd", &err) == NULL);
  k8c_err_clear(&err);
  CHECK(cron_tz_load(NULL, "/etc/passwd", &err) == NULL);
  k8c_err_clear(&err);
  CHECK(cron_tz_load("/etc", "passwd", &err) == NULL); /* exists, not TZif */
  k8c_err_clear(&err);
}

TEST(time_zone_schedules)
{
  struct cron_tz *berlin = zone("Europe/Berlin");
  struct cron_schedule s = parse_ok("0 9 * * *");
  CHECK(cron_schedule_next(&s, berlin, utc(2024, 3, 29, 12, 0)) == utc(2024, 3, 30, 8, 0));
  CHECK(cron_schedule_next(&s, berlin, utc(2024, 3, 30, 12, 0)) == utc(2024, 3, 31, 7, 0));
  /* 02:30 does not exist in Berlin on 2024-03-31: that day has no run. */
  s = parse_ok("30 2 * * *");
  CHECK(cron_schedule_next(&s, berlin, utc(2024, 3, 30, 12, 0)) == utc(2024, 4, 1, 0, 30));
  /* 02:30 happens twice on 2024-10-27: it runs once, at the first (CEST, 00:30 UTC). */
  time_t first = cron_schedule_next(&s, berlin, utc(2024, 10, 26, 12, 0));
  CHECK(first == utc(2024, 10, 27, 0, 30));
  CHECK(cron_schedule_next(&s, berlin, first) == utc(2024, 10, 28, 1, 30));
  /* The most recent run far behind (prev walk) in a zone. */
  s = parse_ok("0 9 * * *");
  int missed = 0;
  CHECK(cron_schedule_most_recent(&s, berlin, utc(2020, 1, 1, 0, 0), utc(2024, 7, 20, 12, 0),
                                  &missed) == utc(2024, 7, 20, 7, 0));
  CHECK_INT(missed, 101);
  cron_tz_free(berlin);
}

TEST_MAIN()
