/* cron_timezone.h — IANA time zones for CronJob schedules, read from the system's
 * zoneinfo (TZif files under /usr/share/zoneinfo) without touching the process-wide TZ:
 * transitions from the file, and its POSIX TZ footer rule for times past the last one.
 * A loaded zone is immutable and may be shared between threads. */
#ifndef K8C_CONTROLLERS_CRON_TIMEZONE_H
#define K8C_CONTROLLERS_CRON_TIMEZONE_H

#include "lib/err.h"

#include <time.h>

struct cron_tz;

/* Loads zone name ("Europe/Berlin", "UTC") from dir (NULL: /usr/share/zoneinfo). NULL
 * with err (404) if there is no such zone or the file is not a TZif file. Free with
 * cron_tz_free. */
struct cron_tz *cron_tz_load(const char *dir, const char *name, k8c_err *err);
void cron_tz_free(struct cron_tz *tz);

/* The zone's offset from UTC at instant t, in seconds east (CET: 3600). tz NULL: 0. */
long cron_tz_offset(const struct cron_tz *tz, time_t t);

#endif
