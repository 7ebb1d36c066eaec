/* clock.c - wall time for envelopes and the measured cost of a clock read. */
#include "clock.h"
#include "hist.h"

#include <stdio.h>

uint64_t il_realtime_ns(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t il_clock_read_cost_ns(void)
{
	/* Time batches of 64 reads so the two bracketing reads are amortised, then take
	 * the median batch: robust against an interrupt landing in one batch. */
	enum { BATCH = 64, ROUNDS = 201 };
	uint64_t per[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = il_now_ns();
		for (int i = 0; i < BATCH; i++)
			(void)il_now_ns();
		uint64_t t1 = il_now_ns();
		per[r] = (t1 - t0) / (BATCH + 1);
	}
	return il_median_u64(per, ROUNDS);
}

void il_format_utc(uint64_t ns, char *buf, unsigned len)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	(void)gmtime_r(&s, &tm);
	(void)snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (unsigned)((ns % 1000000000u) / 1000u));
}
