/* stats.h — latency samples, percentiles, medians over runs, and the JSON report line.
 *
 * Each worker thread records into its own lat_rec (no locking on the hot path); the
 * samples are merged and sorted once when a run ends. A scenario keeps one value per
 * run for every metric and reports the median plus the per-run values. */
#ifndef K8C_BENCH_STATS_H
#define K8C_BENCH_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lat_rec {
  double *ms; /* owned; samples in milliseconds */
  size_t len;
  size_t cap;
  int sorted;
} lat_rec;

void lat_rec_init(lat_rec *r);
void lat_rec_free(lat_rec *r);
void lat_rec_add(lat_rec *r, double ms);
/* Appends every sample of from to into. */
void lat_rec_merge(lat_rec *into, const lat_rec *from);
/* Nearest-rank percentile (pct in 0..100); sorts r in place. NAN when r is empty. */
double lat_rec_percentile(lat_rec *r, double pct);

/* Median of n values (the caller's array is not modified). NAN when n == 0. */
double stats_median(const double *values, size_t n);

/* Monotonic clock in milliseconds / microseconds. */
double clock_now_ms(void);
int64_t clock_now_us(void);
/* Wall clock (CLOCK_REALTIME) in microseconds since the epoch. */
int64_t clock_realtime_us(void);

/* User+system CPU seconds process pid has used so far (/proc/PID/stat); 0 when pid is 0
 * or unreadable. Lets the generator report the server's CPU over exactly a timed run. */
double process_cpu_seconds(int pid);

/* CPU seconds the whole machine has been busy so far (every CPU's non-idle time in
 * /proc/stat: user, nice, system, irq, softirq, steal); 0 when unreadable. Minus the
 * server's and the generator's own CPU, it shows how much else ran during a run. */
double machine_busy_cpu_seconds(void);

/* Adds "name": median and "name_runs": [v0, v1, ...] to line (borrowed). */
void report_metric(json_t *line, const char *name, const double *per_run, size_t runs);
/* The CPU figures every throughput scenario reports: the generator's cores and µs per
 * request, and (when the server's pid is known) the server's and the rest of the machine's. */
struct cpu_figures {
  const double *client_cores, *client_us, *server_cores, *server_us, *other_cores;
};
void report_cpu_metrics(json_t *line, const struct cpu_figures *cpu, bool with_server, size_t runs);
/* Prints line as one compact JSON line on stdout and flushes; line stays the caller's. */
int report_print(json_t *line);

#endif
