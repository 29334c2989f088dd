/* clock.h: a monotonic clock in milliseconds, for durations. */
#ifndef STRATA_UTIL_CLOCK_H
#define STRATA_UTIL_CLOCK_H

double strata_now_ms(void);

#endif
