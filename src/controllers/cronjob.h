/* cronjob.h — the CronJob controller (batch/v1), as upstream's cronjob-controller v2:
 * Jobs named CRONJOB-<scheduled minute> created at each activation of spec.schedule,
 * with concurrencyPolicy, startingDeadlineSeconds, suspend, the two history limits and
 * status.active/lastScheduleTime/lastSuccessfulTime. spec.timeZone is read from the
 * system zoneinfo (no TZ variable involved); an unknown zone is reported (UnknownTimeZone)
 * and nothing is scheduled. Tests start it with their own clock through
 * cronjob_controller_start. */
#ifndef K8C_CONTROLLERS_CRONJOB_H
#define K8C_CONTROLLERS_CRONJOB_H

#include "controllers/controller.h"

#include <time.h>

struct cronjob_controller_opts {
  /* The wall clock in seconds (NULL: the real one). */
  time_t (*now)(void *ctx);
  void *now_ctx;
  const char *zoneinfo_dir; /* NULL: /usr/share/zoneinfo (borrowed) */
};

extern const struct controller_def cronjob_controller_def;

/* As cronjob_controller_def.start, with opts (NULL: the real clock); stopped by
 * cronjob_controller_def.stop. */
void *cronjob_controller_start(struct controller_context *ctx,
                               const struct cronjob_controller_opts *opts, k8c_err *err);

/* True for the time zone names that mean UTC ("UTC", "Etc/UTC", "GMT", "Zulu" ...), which
 * need no zoneinfo file. */
bool cronjob_time_zone_is_utc(const char *tz);

#endif
