/* hist.c - log-linear latency histogram, Welford statistics and percentiles. */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void il_hist_init(struct il_hist *h, uint64_t max_ns)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
	uint64_t limit = il_hist_lower(IL_HIST_BUCKETS - 1) + il_hist_width(IL_HIST_BUCKETS - 1) - 1;
	h->max_ns = (max_ns == 0 || max_ns > limit) ? limit : max_ns;
}

unsigned il_hist_index(uint64_t v)
{
	if (v < IL_HIST_EXACT)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
	unsigned shift = msb - 6u;                           /* v >> shift in [64,127] */
	return IL_HIST_EXACT + (msb - 7u) * IL_HIST_SUB + (unsigned)((v >> shift) - IL_HIST_SUB);
}

uint64_t il_hist_lower(unsigned i)
{
	if (i < IL_HIST_EXACT)
		return i;
	unsigned k = i - IL_HIST_EXACT;
	unsigned msb = 7u + k / IL_HIST_SUB;
	return (uint64_t)(IL_HIST_SUB + k % IL_HIST_SUB) << (msb - 6u);
}

uint64_t il_hist_width(unsigned i)
{
	if (i < IL_HIST_EXACT)
		return 1;
	return (uint64_t)1 << (7u + (i - IL_HIST_EXACT) / IL_HIST_SUB - 6u);
}

void il_hist_merge(struct il_hist *a, const struct il_hist *b)
{
	if (b->count == 0)
		return;
	if (a->count == 0) {
		uint64_t keep = a->max_ns;
		*a = *b;
		a->max_ns = keep < b->max_ns ? keep : b->max_ns;
		return;
	}
	/* b's values relative to a's shift are (v - b->shift) + k. */
	double k = (double)b->shift - (double)a->shift;
	a->sumsq += b->sumsq + 2.0 * k * (double)b->sum + (double)b->count * k * k;
	a->sum += b->sum + (int64_t)(b->shift - a->shift) * (int64_t)b->count;
	a->count += b->count;
	a->min = b->min < a->min ? b->min : a->min;
	a->max = b->max > a->max ? b->max : a->max;
	a->overflow += b->overflow;
	for (unsigned i = 0; i < IL_HIST_BUCKETS; i++)
		a->bucket[i] += b->bucket[i];
}

uint64_t il_hist_percentile(const struct il_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	uint64_t cum = 0;
	for (unsigned i = 0; i < IL_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		if (cum >= rank) {
			uint64_t v = il_hist_lower(i) + il_hist_width(i) / 2;
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max; /* the rank lies among the overflowed values */
}

double il_hist_mean(const struct il_hist *h)
{
	if (h->count == 0)
		return 0;
	return (double)h->shift + (double)h->sum / (double)h->count;
}

double il_hist_stddev(const struct il_hist *h)
{
	if (h->count < 2)
		return 0.0;
	double n = (double)h->count, s = (double)h->sum;
	double var = (h->sumsq - s * s / n) / (n - 1);
	return var > 0 ? sqrt(var) : 0.0;
}

void il_hist_summary(const struct il_hist *h, struct il_summary *s)
{
	s->count = h->count;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	s->mean = il_hist_mean(h);
	s->stddev = il_hist_stddev(h);
	s->p50 = il_hist_percentile(h, 50);
	s->p90 = il_hist_percentile(h, 90);
	s->p99 = il_hist_percentile(h, 99);
	s->p999 = il_hist_percentile(h, 99.9);
	s->overflow = h->overflow;
}

int il_hist_write_tsv(const struct il_hist *h, const char *name, FILE *f)
{
	struct il_summary s;
	il_hist_summary(h, &s);
	(void)fprintf(f, "# histogram: %s\n# unit: ns (bucket lower edge)\n", name);
	(void)fprintf(f, "# count: %llu  overflow(>%llu ns): %llu\n", (unsigned long long)s.count,
		      (unsigned long long)h->max_ns, (unsigned long long)s.overflow);
	(void)fprintf(f, "# min: %llu  mean: %.1f  stddev: %.1f  p50: %llu  p90: %llu  p99: %llu  p99.9: %llu  max: %llu\n",
		      (unsigned long long)s.min, s.mean, s.stddev, (unsigned long long)s.p50,
		      (unsigned long long)s.p90, (unsigned long long)s.p99, (unsigned long long)s.p999,
		      (unsigned long long)s.max);
	(void)fprintf(f, "# bucket_ns\tcount\n");
	for (unsigned i = 0; i < IL_HIST_BUCKETS; i++)
		if (h->bucket[i])
			(void)fprintf(f, "%llu\t%llu\n", (unsigned long long)il_hist_lower(i),
				      (unsigned long long)h->bucket[i]);
	return ferror(f) ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

uint64_t il_median_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double il_median_dbl(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double il_rel_stddev(const double *v, size_t n)
{
	if (n < 2)
		return 0;
	double mean = 0, m2 = 0;
	for (size_t i = 0; i < n; i++) {
		double d = v[i] - mean;
		mean += d / (double)(i + 1);
		m2 += d * (v[i] - mean);
	}
	return mean != 0 ? sqrt(m2 / (double)(n - 1)) / fabs(mean) : 0;
}
