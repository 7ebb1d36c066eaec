/* hist.h - latency statistics: Welford mean/variance plus a log-linear histogram.
 *
 * Values below IL_HIST_EXACT ns get a bucket each (exact); above, every power of two is
 * split into IL_HIST_SUB buckets, so a bucket is at most 1/64 (1.6 %) of its value wide.
 * Values above max_ns are counted as overflow (still in count/mean/max).
 * The struct is flat (no pointers) so it can live in MAP_SHARED memory and be filled
 * by a forked peer. */
#ifndef IPCLAB_HIST_H
#define IPCLAB_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IL_HIST_EXACT 128u
#define IL_HIST_SUB 64u
#define IL_HIST_MAX_MSB 40u /* up to ~1.1e12 ns (18 min) */
#define IL_HIST_BUCKETS (IL_HIST_EXACT + (IL_HIST_MAX_MSB - 6u) * IL_HIST_SUB)

struct il_hist {
	uint64_t count;
	uint64_t min, max;
	/* Mean and variance from sums of (v - shift), shift being the first value: exact
	 * integer sum, and a sum of squares that stays accurate because the shift is close
	 * to the mean (the "assumed mean" method). No division on the hot path, unlike
	 * Welford's update, which costs a dependent divide per sample. */
	uint64_t shift;
	int64_t sum;            /* sum of (v - shift) */
	double sumsq;           /* sum of (v - shift)^2 */
	uint64_t max_ns;        /* values above are overflow */
	uint64_t overflow;
	uint64_t bucket[IL_HIST_BUCKETS];
};

/* Summary of a distribution: what every latency object in JSON carries (ns). */
struct il_summary {
	uint64_t count, min, max;
	double mean, stddev;
	uint64_t p50, p90, p99, p999;
	uint64_t overflow;
};

void il_hist_init(struct il_hist *h, uint64_t max_ns);
/* Index of the bucket holding v (v <= bucket limit). */
unsigned il_hist_index(uint64_t v);
/* Lowest value of bucket i, and its width. */
uint64_t il_hist_lower(unsigned i);
uint64_t il_hist_width(unsigned i);

static inline void il_hist_add(struct il_hist *h, uint64_t v)
{
	if (h->count++ == 0)
		h->shift = v;
	int64_t d = (int64_t)(v - h->shift);
	h->sum += d;
	h->sumsq += (double)d * (double)d;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v > h->max_ns)
		h->overflow++;
	else
		h->bucket[il_hist_index(v)]++;
}

/* Adds b into a (re-basing b's sums on a's shift). */
void il_hist_merge(struct il_hist *a, const struct il_hist *b);
/* Nearest-rank percentile p in [0,100]: the midpoint of the bucket holding rank
 * ceil(p/100*count), clamped to [min,max]; max if that rank lies in the overflow. */
uint64_t il_hist_percentile(const struct il_hist *h, double p);
double il_hist_mean(const struct il_hist *h);
double il_hist_stddev(const struct il_hist *h);
void il_hist_summary(const struct il_hist *h, struct il_summary *s);
/* Writes a gnuplot-ready block: '#' header lines then "lower_ns<TAB>count" rows. */
int il_hist_write_tsv(const struct il_hist *h, const char *name, FILE *f);

/* Median of an array (sorted in place). */
uint64_t il_median_u64(uint64_t *v, size_t n);
double il_median_dbl(double *v, size_t n);
/* Relative standard deviation (sample stddev / mean) of n doubles; 0 when n < 2. */
double il_rel_stddev(const double *v, size_t n);

#endif
