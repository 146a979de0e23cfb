/* log.c — klog-style lines: level letter, time, message. The level is set once at
 * start-up before threads exist, then only read. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static enum log_level current_level = LOG_INFO;

void
log_set_level(enum log_level level)
{
  current_level = level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
  if (level > current_level)
    return;
  static const char letters[] = "EWID";
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char line[2048];
  int n = snprintf(line, sizeof line, "%c%02d%02d %02d:%02d:%02d.%06ld ", letters[level],
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line)
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}
