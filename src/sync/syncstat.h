/* syncstat.h - the pure arithmetic of the sync experiments (no I/O, no clocks), kept apart
 * so it is unit-tested: fairness of per-worker counts, a time series of bounded size,
 * the overlap of workers' running intervals, splitting a fixed amount of work. */
#ifndef IPCLAB_SYNCSTAT_H
#define IPCLAB_SYNCSTAT_H

#include <stdint.h>

/* How evenly n workers shared something (counts x[i]). */
struct ss_fair {
	uint64_t total, min, max;
	double min_share, max_share; /* min/total, max/total (0 when total is 0) */
	double min_over_max;         /* min/max: 1 perfectly fair, 0 someone starved (1 if max is 0) */
	double jain;                 /* Jain's index (sum x)^2 / (n sum x^2): 1/n..1 (1 if all 0) */
};
void ss_fairness(const uint64_t *x, unsigned n, struct ss_fair *f);

/* One sample of a series: time since the start and two values. */
struct ss_point {
	uint64_t t_ns;
	int64_t a, b;
};

/* A series that never holds more than cap points (cap even, >= 2): when full, every other
 * point is dropped and only every 2^k-th later sample is kept, so the points stay evenly
 * spread over the whole run, whatever its length. */
struct ss_series {
	struct ss_point *pt;
	unsigned cap, n;
	uint64_t every;   /* keep sample k when k % every == 0 */
	uint64_t seen;    /* samples offered */
};
void ss_series_init(struct ss_series *s, struct ss_point *buf, unsigned cap);
void ss_series_add(struct ss_series *s, uint64_t t_ns, int64_t a, int64_t b);

/* How long at least k of n intervals [start[i], stop[i]) overlapped: the total time
 * during which k (>= 1) or more were open (k = 2: any two at once). An interval with start 0
 * (it never began) or stop <= start counts for nothing. n <= SS_MAX_INTERVALS. */
#define SS_MAX_INTERVALS 128
uint64_t ss_overlap(const uint64_t *start, const uint64_t *stop, unsigned n, unsigned k);

/* Worker i's part of total units split among n workers (the first total % n get one more). */
uint64_t ss_split(uint64_t total, unsigned n, unsigned i);

#endif
