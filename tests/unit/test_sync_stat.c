/* test_sync_stat.c - unit tests for src/sync/syncstat.c: fairness of per-worker counts
 * (min/max, shares, Jain's index), the bounded time series (decimation keeps the points
 * evenly spread and never exceeds its capacity), the overlap of running intervals, and
 * the work split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "sync/syncstat.h"

#define CLOSE(a, b) assert_true(fabs((a) - (b)) < 1e-12)

/* Equal shares: Jain 1, min/max 1, each share 1/n. */
static void fairness_equal_is_one(void **state)
{
	(void)state;
	const uint64_t x[4] = { 250, 250, 250, 250 };
	struct ss_fair f;
	ss_fairness(x, 4, &f);
	assert_int_equal(f.total, 1000);
	assert_int_equal(f.min, 250);
	assert_int_equal(f.max, 250);
	CLOSE(f.jain, 1.0);
	CLOSE(f.min_over_max, 1.0);
	CLOSE(f.min_share, 0.25);
	CLOSE(f.max_share, 0.25);
}

/* One worker did everything: Jain 1/n, min/max 0. */
static void fairness_one_hot_is_one_over_n(void **state)
{
	(void)state;
	const uint64_t x[4] = { 0, 0, 1000, 0 };
	struct ss_fair f;
	ss_fairness(x, 4, &f);
	CLOSE(f.jain, 0.25);
	CLOSE(f.min_over_max, 0.0);
	CLOSE(f.max_share, 1.0);
	CLOSE(f.min_share, 0.0);
}

/* A known example: (1+2+3)^2 / (3 * (1+4+9)) = 36/42. */
static void fairness_known_value(void **state)
{
	(void)state;
	const uint64_t x[3] = { 1, 2, 3 };
	struct ss_fair f;
	ss_fairness(x, 3, &f);
	CLOSE(f.jain, 36.0 / 42.0);
	CLOSE(f.min_over_max, 1.0 / 3.0);
	CLOSE(f.min_share, 1.0 / 6.0);
}

/* All zero (nobody ran yet) is defined: no division by zero, "fair". */
static void fairness_all_zero_defined(void **state)
{
	(void)state;
	const uint64_t x[2] = { 0, 0 };
	struct ss_fair f;
	ss_fairness(x, 2, &f);
	CLOSE(f.jain, 1.0);
	CLOSE(f.min_over_max, 1.0);
	CLOSE(f.min_share, 0.0);
	assert_int_equal(f.total, 0);
}

/* Below capacity every sample is kept, in order. */
static void series_keeps_all_below_cap(void **state)
{
	(void)state;
	struct ss_point buf[8];
	struct ss_series s;
	ss_series_init(&s, buf, 8);
	for (int i = 0; i < 8; i++)
		ss_series_add(&s, (uint64_t)i * 10, i, -i);
	assert_int_equal(s.n, 8);
	assert_int_equal(s.every, 1);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(buf[i].t_ns, (uint64_t)i * 10);
		assert_int_equal(buf[i].a, i);
		assert_int_equal(buf[i].b, -i);
	}
}

/* Many samples: never more than cap points, the first sample stays, the kept samples are
 * exactly those whose index is a multiple of "every" (evenly spread over the run). */
static void series_decimates_evenly(void **state)
{
	(void)state;
	enum { CAP = 16 };
	struct ss_point buf[CAP];
	struct ss_series s;
	ss_series_init(&s, buf, CAP);
	for (int total = 1; total <= 1000; total++) {
		ss_series_add(&s, (uint64_t)(total - 1), total - 1, 0);
		assert_true(s.n <= CAP);
		assert_int_equal(s.seen, (uint64_t)total);
		assert_int_equal(buf[0].a, 0);
		for (unsigned i = 0; i < s.n; i++)
			assert_int_equal(buf[i].a, (int64_t)(i * s.every));
		/* and nothing that should be kept is missing */
		assert_int_equal(s.n, (unsigned)(((uint64_t)total - 1) / s.every + 1));
	}
	assert_true(s.n >= CAP / 2);
	assert_int_equal(s.every, 64);
}

/* An odd capacity is rounded down to even; tiny ones to 2. */
static void series_cap_rounded(void **state)
{
	(void)state;
	struct ss_point buf[7];
	struct ss_series s;
	ss_series_init(&s, buf, 7);
	assert_int_equal(s.cap, 6);
	ss_series_init(&s, buf, 1);
	assert_int_equal(s.cap, 2);
	for (int i = 0; i < 100; i++)
		ss_series_add(&s, (uint64_t)i, i, 0);
	assert_true(s.n <= 2);
}

/* The split hands out every unit, the parts differ by at most one, the first get more. */
static void split_sums_to_total(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 9; n++)
		for (uint64_t total = 0; total <= 50; total++) {
			uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
			for (unsigned i = 0; i < n; i++) {
				uint64_t v = ss_split(total, n, i);
				sum += v;
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
				if (i)
					assert_true(ss_split(total, n, i - 1) >= v);
			}
			assert_int_equal(sum, total);
			assert_true(hi - lo <= 1);
		}
	assert_int_equal(ss_split(10, 0, 0), 0);
	assert_int_equal(ss_split(10, 3, 3), 0);
}

/* Overlap: disjoint or touching intervals 0; nested and partial ones the shared part;
 * three at once counted once; never-started ones ignored. */
static void overlap_counts_time_with_two_running(void **state)
{
	(void)state;
	const uint64_t a0[] = { 10, 30 }, a1[] = { 20, 40 };
	assert_int_equal(ss_overlap(a0, a1, 2, 2), 0);          /* [10,20) then [30,40) */
	const uint64_t b0[] = { 10, 20 }, b1[] = { 20, 30 };
	assert_int_equal(ss_overlap(b0, b1, 2, 2), 0);          /* touching */
	const uint64_t c0[] = { 10, 15 }, c1[] = { 30, 20 };
	assert_int_equal(ss_overlap(c0, c1, 2, 2), 5);          /* [15,20) nested in [10,30) */
	const uint64_t d0[] = { 10, 20, 25 }, d1[] = { 40, 50, 30 };
	assert_int_equal(ss_overlap(d0, d1, 3, 2), 20);         /* [20,40) */
	const uint64_t e0[] = { 0, 10 }, e1[] = { 100, 50 };
	assert_int_equal(ss_overlap(e0, e1, 2, 2), 0);          /* worker 0 never started */
	const uint64_t f0[] = { 10 }, f1[] = { 50 };
	assert_int_equal(ss_overlap(f0, f1, 1, 2), 0);
	assert_int_equal(ss_overlap(f0, f1, 0, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fairness_equal_is_one),
		cmocka_unit_test(fairness_one_hot_is_one_over_n),
		cmocka_unit_test(fairness_known_value),
		cmocka_unit_test(fairness_all_zero_defined),
		cmocka_unit_test(series_keeps_all_below_cap),
		cmocka_unit_test(series_decimates_evenly),
		cmocka_unit_test(series_cap_rounded),
		cmocka_unit_test(split_sums_to_total),
		cmocka_unit_test(overlap_counts_time_with_two_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
