/* clock.h - CLOCK_MONOTONIC in nanoseconds: the clock LTTng stamps events with,
 * so program numbers and trace timestamps can be compared directly. */
#ifndef IPCLAB_CLOCK_H
#define IPCLAB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t il_now_ns(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock time in ns since the epoch, for the JSON envelope only (never for intervals). */
uint64_t il_realtime_ns(void);
/* Median cost of one il_now_ns() call, from back-to-back reads (vDSO clock read). */
uint64_t il_clock_read_cost_ns(void);
/* Formats a wall-clock ns time as ISO 8601 UTC with microseconds into buf. */
void il_format_utc(uint64_t realtime_ns, char *buf, unsigned len);

#endif
