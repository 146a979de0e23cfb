/* cron_schedule.h — the CronJob schedule language as upstream's parser (robfig/cron's
 * ParseStandard) accepts it: five fields (minute hour day-of-month month day-of-week)
 * with lists, ranges, steps, "?" and month/day names, or a descriptor (@yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every DURATION). A parsed
 * schedule is plain bitmasks; times are seconds since the epoch, the fields read as wall
 * time in a zone (cron_timezone.h; NULL = UTC). Wall times a zone skips (spring forward)
 * do not run; wall times it repeats (fall back) run once, at their first occurrence. */
#ifndef K8C_CONTROLLERS_CRON_SCHEDULE_H
#define K8C_CONTROLLERS_CRON_SCHEDULE_H

#include "controllers/cron_timezone.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct cron_schedule {
  uint64_t minute, hour, dom, month, dow; /* bit n set: value n allowed */
  bool dom_star, dow_star; /* the field was "*" or "?": day matching is AND, else OR */
  long long every_seconds; /* > 0: "@every", a constant delay; the masks are unused */
};

/* Parses spec into *out. 0, or -1 with err (422 Invalid) saying what is wrong. */
int cron_schedule_parse(const char *spec, struct cron_schedule *out, k8c_err *err);

/* The first activation strictly after t, or 0 if there is none within five years. */
time_t cron_schedule_next(const struct cron_schedule *s, const struct cron_tz *tz, time_t t);

/* The latest activation in (earliest, now], or 0 if none. *missed (if not NULL) is the
 * number of activations in that range, counted up to 101 (upstream warns above 100). */
time_t cron_schedule_most_recent(const struct cron_schedule *s, const struct cron_tz *tz,
                                 time_t earliest, time_t now, int *missed);

#endif
