/* test_hist.c - unit tests for src/core/hist.c: statistics, merge, bucket geometry,
 * overflow, percentiles, medians and the gnuplot TSV rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

/* A deterministic PRNG (xorshift64*) so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Mean and sample stddev by the textbook two-pass method, in long double. */
static void two_pass(const uint64_t *v, size_t n, double *mean, double *sd)
{
	long double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (long double)v[i];
	long double m = s / (long double)n, q = 0;
	for (size_t i = 0; i < n; i++) {
		long double d = (long double)v[i] - m;
		q += d * d;
	}
	*mean = (double)m;
	*sd = n > 1 ? (double)sqrtl(q / (long double)(n - 1)) : 0.0;
}

/* Asserts |got - want| <= rel * |want| (+ a tiny absolute slack for want == 0). */
static void assert_close(double got, double want, double rel, const char *what)
{
	double tol = rel * fabs(want) + 1e-9;
	if (fabs(got - want) > tol)
		fail_msg("%s: got %.17g, want %.17g (rel. error %.3g > %.3g)", what, got, want,
			 want != 0 ? fabs(got - want) / fabs(want) : fabs(got), rel);
}

static struct il_hist *new_hist(uint64_t max_ns)
{
	struct il_hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	il_hist_init(h, max_ns);
	return h;
}

/* Fills a hist from v[] and compares mean/stddev with the two-pass reference. */
static void check_stats(const uint64_t *v, size_t n, const char *what)
{
	struct il_hist *h = new_hist(0);
	for (size_t i = 0; i < n; i++)
		il_hist_add(h, v[i]);
	double m, sd;
	two_pass(v, n, &m, &sd);
	char buf[128];
	(void)snprintf(buf, sizeof(buf), "%s: mean", what);
	assert_close(il_hist_mean(h), m, 1e-9, buf);
	(void)snprintf(buf, sizeof(buf), "%s: stddev", what);
	assert_close(il_hist_stddev(h), sd, 1e-6, buf);
	free(h);
}

/* hist_stats_match_two_pass: mean and stddev agree with a two-pass reference on random
 * latencies: small, around 1e9 ns, and when the first sample is far from the rest. */
static void hist_stats_match_two_pass(void **state)
{
	(void)state;
	enum { N = 100000 };
	uint64_t *v = malloc(N * sizeof(*v));
	assert_non_null(v);

	for (size_t i = 0; i < N; i++)
		v[i] = 1000 + rng() % 5000;
	check_stats(v, N, "small values");

	for (size_t i = 0; i < N; i++)
		v[i] = 1000000000ull + rng() % 100000;
	check_stats(v, N, "values ~1e9");

	/* a cold first sample (1 s) in front of ~5 us round trips */
	v[0] = 1000000000ull;
	for (size_t i = 1; i < N; i++)
		v[i] = 5000 + rng() % 200;
	check_stats(v, N, "first sample 1e9, rest ~5e3");

	/* a tiny first sample in front of ~1e9 values */
	v[0] = 1;
	for (size_t i = 1; i < N; i++)
		v[i] = 1000000000ull + rng() % 1000;
	check_stats(v, N, "first sample 1, rest ~1e9");

	/* heavy tail over six decades */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)1 << (rng() % 30);
	check_stats(v, N, "powers of two up to 2^29");
	free(v);
}

/* hist_stats_small_counts: empty -> mean 0 stddev 0; one value -> mean v, stddev 0;
 * constant values -> stddev exactly 0. */
static void hist_stats_small_counts(void **state)
{
	(void)state;
	struct il_hist *h = new_hist(0);
	assert_true(il_hist_mean(h) == 0.0);
	assert_true(il_hist_stddev(h) == 0.0);
	il_hist_add(h, 777);
	assert_true(il_hist_mean(h) == 777.0);
	assert_true(il_hist_stddev(h) == 0.0);
	for (int i = 0; i < 1000; i++)
		il_hist_add(h, 777);
	assert_true(il_hist_stddev(h) == 0.0);
	assert_int_equal(h->min, 777);
	assert_int_equal(h->max, 777);
	free(h);
}

/* Asserts two histograms describe the same multiset. */
static void assert_same_hist(const struct il_hist *a, const struct il_hist *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	assert_int_equal(a->overflow, b->overflow);
	assert_close(il_hist_mean(a), il_hist_mean(b), 1e-12, "merged mean");
	assert_close(il_hist_stddev(a), il_hist_stddev(b), 1e-6, "merged stddev");
	for (unsigned i = 0; i < IL_HIST_BUCKETS; i++)
		if (a->bucket[i] != b->bucket[i])
			fail_msg("bucket %u (lower %llu): %llu != %llu", i, (unsigned long long)il_hist_lower(i),
				 (unsigned long long)a->bucket[i], (unsigned long long)b->bucket[i]);
}

/* hist_merge_equals_single: merging two histograms gives the same count, min, max, mean,
 * stddev, overflow and buckets as one histogram of all values, whichever shifts they had. */
static void hist_merge_equals_single(void **state)
{
	(void)state;
	const uint64_t max_ns = 10000000000ull;
	struct il_hist *a = new_hist(max_ns), *b = new_hist(max_ns), *all = new_hist(max_ns);
	/* a starts near 1e9, b near 3e3: the shifts are far apart */
	for (int i = 0; i < 50000; i++) {
		uint64_t x = 1000000000ull + rng() % 100000;
		il_hist_add(a, x);
		il_hist_add(all, x);
	}
	for (int i = 0; i < 70000; i++) {
		uint64_t x = 3000 + rng() % 2000;
		if (i % 10000 == 5)
			x = max_ns + 1 + rng() % 1000; /* some overflow */
		il_hist_add(b, x);
		il_hist_add(all, x);
	}
	il_hist_merge(a, b);
	assert_same_hist(a, all);

	/* merging into an empty histogram, and merging an empty one, change nothing else */
	struct il_hist *e = new_hist(max_ns), *e2 = new_hist(max_ns);
	il_hist_merge(e, all);
	assert_same_hist(e, all);
	il_hist_merge(e, e2);
	assert_same_hist(e, all);
	free(a);
	free(b);
	free(all);
	free(e);
	free(e2);
}

/* hist_bucket_edges_consistent: index/lower/width tile the value range: every v in
 * [lower(i), lower(i)+width(i)) maps to i, buckets are contiguous, exact below 128,
 * and above 128 a bucket is at most 1/64 of its lower edge wide. */
static void hist_bucket_edges_consistent(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < IL_HIST_EXACT; v++) {
		assert_int_equal(il_hist_index(v), v);
		assert_int_equal(il_hist_lower((unsigned)v), v);
		assert_int_equal(il_hist_width((unsigned)v), 1);
	}
	uint64_t next = 0;
	for (unsigned i = 0; i < IL_HIST_BUCKETS; i++) {
		uint64_t lo = il_hist_lower(i), w = il_hist_width(i);
		if (lo != next)
			fail_msg("bucket %u starts at %llu, previous ended at %llu", i, (unsigned long long)lo,
				 (unsigned long long)next);
		assert_true(w >= 1);
		if (i >= IL_HIST_EXACT && w > lo / 64)
			fail_msg("bucket %u: width %llu > lower %llu / 64", i, (unsigned long long)w,
				 (unsigned long long)lo);
		assert_int_equal(il_hist_index(lo), i);
		assert_int_equal(il_hist_index(lo + w - 1), i);
		if (w > 2)
			assert_int_equal(il_hist_index(lo + w / 2), i);
		next = lo + w;
	}
	/* random values inside the covered range land in a bucket that contains them */
	for (int k = 0; k < 100000; k++) {
		uint64_t v = rng() % next;
		unsigned i = il_hist_index(v);
		assert_true(i < IL_HIST_BUCKETS);
		assert_true(il_hist_lower(i) <= v);
		assert_true(v < il_hist_lower(i) + il_hist_width(i));
	}
}

/* hist_overflow_accounting: values above max_ns count in count, max and overflow but in no
 * bucket; max_ns itself is still bucketed; max_ns 0 means the largest bucketable value. */
static void hist_overflow_accounting(void **state)
{
	(void)state;
	struct il_hist *h = new_hist(1000);
	assert_int_equal(h->max_ns, 1000);
	il_hist_add(h, 10);
	il_hist_add(h, 1000);
	il_hist_add(h, 1001);
	il_hist_add(h, 5000000);
	assert_int_equal(h->count, 4);
	assert_int_equal(h->overflow, 2);
	assert_int_equal(h->max, 5000000);
	assert_int_equal(h->min, 10);
	uint64_t in_buckets = 0;
	for (unsigned i = 0; i < IL_HIST_BUCKETS; i++)
		in_buckets += h->bucket[i];
	assert_int_equal(in_buckets, 2);
	assert_int_equal(h->bucket[il_hist_index(1000)], 1);
	assert_close(il_hist_mean(h), (10 + 1000 + 1001 + 5000000) / 4.0, 1e-12, "mean with overflow");
	/* the p99 rank lies among the overflow: reported as max */
	assert_int_equal(il_hist_percentile(h, 99), 5000000);

	il_hist_init(h, 0);
	uint64_t limit = il_hist_lower(IL_HIST_BUCKETS - 1) + il_hist_width(IL_HIST_BUCKETS - 1) - 1;
	assert_int_equal(h->max_ns, limit);
	il_hist_add(h, limit);
	il_hist_add(h, limit + 1);
	assert_int_equal(h->overflow, 1);
	assert_int_equal(h->bucket[IL_HIST_BUCKETS - 1], 1);
	free(h);
}

/* hist_percentiles_nearest_rank: on 1..1000 the percentiles are the nearest-rank values
 * within the precision of their bucket; p0 is min, p100 max; an empty hist gives 0. */
static void hist_percentiles_nearest_rank(void **state)
{
	(void)state;
	struct il_hist *h = new_hist(0);
	for (int i = 0; i < 101; i++)
		assert_int_equal(il_hist_percentile(h, i), 0);
	/* insertion order must not matter: add 1..1000 shuffled */
	uint64_t v[1000];
	for (int i = 0; i < 1000; i++)
		v[i] = (uint64_t)i + 1;
	for (int i = 999; i > 0; i--) {
		int j = (int)(rng() % (uint64_t)(i + 1));
		uint64_t t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (int i = 0; i < 1000; i++)
		il_hist_add(h, v[i]);
	const struct { double p; uint64_t want; } cases[] = {
		{ 50, 500 }, { 90, 900 }, { 99, 990 }, { 99.9, 999 }, { 10, 100 }, { 0.1, 1 }, { 1, 10 },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint64_t got = il_hist_percentile(h, cases[k].p);
		uint64_t w = il_hist_width(il_hist_index(cases[k].want));
		if (got + w < cases[k].want || got > cases[k].want + w)
			fail_msg("p%g = %llu, want %llu within bucket width %llu", cases[k].p,
				 (unsigned long long)got, (unsigned long long)cases[k].want, (unsigned long long)w);
	}
	assert_int_equal(il_hist_percentile(h, 0), 1);
	assert_int_equal(il_hist_percentile(h, 100), 1000);
	/* monotone in p */
	uint64_t prev = 0;
	for (double p = 0; p <= 100; p += 0.5) {
		uint64_t x = il_hist_percentile(h, p);
		assert_true(x >= prev);
		prev = x;
	}
	/* exact below 128: 1..100 gives exact nearest ranks */
	il_hist_init(h, 0);
	for (uint64_t i = 1; i <= 100; i++)
		il_hist_add(h, i);
	assert_int_equal(il_hist_percentile(h, 50), 50);
	assert_int_equal(il_hist_percentile(h, 90), 90);
	assert_int_equal(il_hist_percentile(h, 99), 99);
	assert_int_equal(il_hist_percentile(h, 99.9), 100);
	/* one value: every percentile is it */
	il_hist_init(h, 0);
	il_hist_add(h, 123456);
	assert_int_equal(il_hist_percentile(h, 0), 123456);
	assert_int_equal(il_hist_percentile(h, 50), 123456);
	assert_int_equal(il_hist_percentile(h, 100), 123456);
	free(h);
}

/* hist_summary_fields: il_hist_summary copies count/min/max/overflow and the percentiles;
 * an empty histogram summarises to all zeros (min not UINT64_MAX). */
static void hist_summary_fields(void **state)
{
	(void)state;
	struct il_hist *h = new_hist(0);
	struct il_summary s;
	il_hist_summary(h, &s);
	assert_int_equal(s.count, 0);
	assert_int_equal(s.min, 0);
	assert_int_equal(s.max, 0);
	assert_int_equal(s.p50, 0);
	assert_int_equal(s.p999, 0);
	assert_true(s.mean == 0 && s.stddev == 0);
	for (uint64_t i = 1; i <= 1000; i++)
		il_hist_add(h, i);
	il_hist_summary(h, &s);
	assert_int_equal(s.count, 1000);
	assert_int_equal(s.min, 1);
	assert_int_equal(s.max, 1000);
	assert_int_equal(s.overflow, 0);
	assert_int_equal(s.p50, il_hist_percentile(h, 50));
	assert_int_equal(s.p90, il_hist_percentile(h, 90));
	assert_int_equal(s.p99, il_hist_percentile(h, 99));
	assert_int_equal(s.p999, il_hist_percentile(h, 99.9));
	assert_true(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
	assert_close(s.mean, 500.5, 1e-12, "mean 1..1000");
	free(h);
}

/* hist_median_and_rel_stddev: il_median_u64/dbl for odd, even, one and zero elements;
 * il_rel_stddev = sample stddev / |mean|, 0 for n < 2 or mean 0. */
static void hist_median_and_rel_stddev(void **state)
{
	(void)state;
	uint64_t u[] = { 9, 1, 5, 3, 7 };
	assert_int_equal(il_median_u64(u, 5), 5);
	uint64_t u2[] = { 10, 2, 8, 4 };
	assert_int_equal(il_median_u64(u2, 4), 6);
	uint64_t u3[] = { 42 };
	assert_int_equal(il_median_u64(u3, 1), 42);
	assert_int_equal(il_median_u64(NULL, 0), 0);

	double d[] = { 3.5, -1.0, 2.0 };
	assert_true(il_median_dbl(d, 3) == 2.0);
	double d2[] = { 4.0, 1.0, 3.0, 2.0 };
	assert_true(il_median_dbl(d2, 4) == 2.5);
	assert_true(il_median_dbl(NULL, 0) == 0.0);

	double r[] = { 2, 4, 4, 4, 5, 5, 7, 9 }; /* mean 5, sample var 32/7 */
	assert_close(il_rel_stddev(r, 8), sqrt(32.0 / 7.0) / 5.0, 1e-12, "rel stddev");
	double neg[] = { -2, -4, -4, -4, -5, -5, -7, -9 };
	assert_close(il_rel_stddev(neg, 8), sqrt(32.0 / 7.0) / 5.0, 1e-12, "rel stddev of negatives");
	double one[] = { 3 };
	assert_true(il_rel_stddev(one, 1) == 0.0);
	assert_true(il_rel_stddev(NULL, 0) == 0.0);
	double zero_mean[] = { -1, 1 };
	assert_true(il_rel_stddev(zero_mean, 2) == 0.0);
	double same[] = { 1e9, 1e9, 1e9 };
	assert_true(il_rel_stddev(same, 3) == 0.0);
}

/* hist_tsv_format: '#' header lines (name, unit, count/overflow, summary), then only
 * "lower<TAB>count" rows for non-empty buckets in increasing order, counts summing to
 * count - overflow. */
static void hist_tsv_format(void **state)
{
	(void)state;
	struct il_hist *h = new_hist(100000);
	for (int i = 0; i < 5000; i++)
		il_hist_add(h, 50 + rng() % 20000);
	il_hist_add(h, 100001);
	il_hist_add(h, 999999);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(il_hist_write_tsv(h, "rtt", f), 0);
	assert_int_equal(fclose(f), 0);

	uint64_t sum = 0, prev_lower = 0;
	int headers = 0, rows = 0, seen_row = 0, named = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			if (seen_row)
				fail_msg("header line after data rows: '%s'", line);
			headers++;
			if (strstr(line, "rtt"))
				named = 1;
			continue;
		}
		seen_row = 1;
		unsigned long long lower, count;
		char tail;
		if (sscanf(line, "%llu\t%llu%c", &lower, &count, &tail) != 2 || !strchr(line, '\t') ||
		    strchr(line, ' '))
			fail_msg("bad row '%s' (want lower<TAB>count)", line);
		unsigned i = il_hist_index(lower);
		assert_int_equal(il_hist_lower(i), lower);
		assert_int_equal(h->bucket[i], count);
		assert_true(count > 0);
		if (rows && lower <= prev_lower)
			fail_msg("rows not increasing: %llu after %llu", lower, (unsigned long long)prev_lower);
		prev_lower = lower;
		sum += count;
		rows++;
	}
	assert_true(headers >= 2);
	assert_true(named);
	assert_true(rows > 0);
	assert_int_equal(sum, h->count - h->overflow);
	assert_int_equal(h->overflow, 2);
	free(buf);

	/* an empty histogram: headers only, no rows, still success */
	il_hist_init(h, 0);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(il_hist_write_tsv(h, "empty", f), 0);
	assert_int_equal(fclose(f), 0);
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(line[0] == '#');
	free(buf);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_stats_match_two_pass),
		cmocka_unit_test(hist_stats_small_counts),
		cmocka_unit_test(hist_merge_equals_single),
		cmocka_unit_test(hist_bucket_edges_consistent),
		cmocka_unit_test(hist_overflow_accounting),
		cmocka_unit_test(hist_percentiles_nearest_rank),
		cmocka_unit_test(hist_summary_fields),
		cmocka_unit_test(hist_median_and_rel_stddev),
		cmocka_unit_test(hist_tsv_format),
	};
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
