/* stats.c — latency samples and medians for the load generator (see stats.h).
 *
 * Percentiles use the nearest-rank method on the full sorted sample set: no
 * histograms or approximation, since a run holds at most a few million samples. */
#include "stats.h"

#include "lib/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int compare_double(const void *a, const void *b);

void
lat_rec_init(lat_rec *r)
{
  r->ms = NULL;
  r->len = 0;
  r->cap = 0;
  r->sorted = 1;
}

void
lat_rec_free(lat_rec *r)
{
  free(r->ms);
  lat_rec_init(r);
}

void
lat_rec_add(lat_rec *r, double ms)
{
  if (r->len == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 4096;
    r->ms = xrealloc(r->ms, r->cap * sizeof(*r->ms));
  }
  r->ms[r->len++] = ms;
  r->sorted = 0;
}

void
lat_rec_merge(lat_rec *into, const lat_rec *from)
{
  for (size_t i = 0; i < from->len; i++)
    lat_rec_add(into, from->ms[i]);
}

double
lat_rec_percentile(lat_rec *r, double pct)
{
  if (r->len == 0)
    return NAN;
  if (!r->sorted) {
    qsort(r->ms, r->len, sizeof(*r->ms), compare_double);
    r->sorted = 1;
  }
  size_t rank = (size_t)ceil(pct / 100.0 * (double)r->len);
  if (rank < 1)
    rank = 1;
  if (rank > r->len)
    rank = r->len;
  return r->ms[rank - 1];
}

double
stats_median(const double *values, size_t n)
{
  if (n == 0)
    return NAN;
  cleanup_free double *copy = xmalloc(n * sizeof(*copy));
  memcpy(copy, values, n * sizeof(*copy));
  qsort(copy, n, sizeof(*copy), compare_double);
  if (n % 2 == 1)
    return copy[n / 2];
  return (copy[n / 2 - 1] + copy[n / 2]) / 2.0;
}

double
clock_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int64_t
clock_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_realtime_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double
process_cpu_seconds(int pid)
{
  if (pid <= 0)
    return 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  char line[1024];
  char *got = fgets(line, sizeof(line), f);
  fclose(f);
  /* Fields after the command name, which is in parentheses and may hold spaces. */
  const char *after = got ? strrchr(line, ')') : NULL;
  unsigned long long user = 0, system = 0;
  if (after == NULL || sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                              &user, &system) != 2)
    return 0;
  return (double)(user + system) / (double)sysconf(_SC_CLK_TCK);
}

double
machine_busy_cpu_seconds(void)
{
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL)
    return 0;
  char line[512];
  char *got = fgets(line, sizeof(line), f);
  fclose(f);
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  if (got == NULL || sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                            &system, &idle, &iowait, &irq, &softirq, &steal) != 8)
    return 0;
  return (double)(user + nice + system + irq + softirq + steal) / (double)sysconf(_SC_CLK_TCK);
}

void
report_metric(json_t *line, const char *name, const double *per_run, size_t runs)
{
  double median = stats_median(per_run, runs);
  /* JSON has no NaN: a metric without samples is reported as null. */
  json_object_set_new(line, name, isnan(median) ? json_null() : json_real(median));
  json_t *series = json_array();
  for (size_t i = 0; i < runs; i++)
    json_array_append_new(series, isnan(per_run[i]) ? json_null() : json_real(per_run[i]));
  cleanup_free char *series_name = xasprintf("%s_runs", name);
  json_object_set_new(line, series_name, series);
}

int
report_print(json_t *line)
{
  cleanup_free char *text =
      json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  if (text == NULL)
    return -1;
  if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
    return -1;
  return 0;
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void
report_cpu_metrics(json_t *line, const struct cpu_figures *cpu, bool with_server, size_t runs)
{
  report_metric(line, "loadgen_cpu_cores", cpu->client_cores, runs);
  report_metric(line, "loadgen_cpu_us_per_request", cpu->client_us, runs);
  if (!with_server)
    return;
  report_metric(line, "server_cpu_cores", cpu->server_cores, runs);
  report_metric(line, "server_cpu_us_per_request", cpu->server_us, runs);
  report_metric(line, "other_cpu_cores", cpu->other_cores, runs);
}
