/* clock.h — the monotonic clock in milliseconds, for deadlines, back-off and latency
 * figures everywhere (never the wall clock, which can jump). */
#ifndef K8C_LIB_CLOCK_H
#define K8C_LIB_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC, whole and fractional. */
long long clock_monotonic_ms(void);
double clock_monotonic_ms_frac(void);

#endif
