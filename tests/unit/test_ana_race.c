/* test_ana_race.c - unit tests for src/analyze/race.c: lost updates as increments -
 * (final - initial), overlapping read -> write windows, one segment per run, a segment
 * that starts with a write. */
#include "test_ana.h"

#define RD(t, w, v) ana_race(a, 0, t, w, v)
#define WR(t, w, v) ana_race(a, 1, t, w, v)

/* race_lost_update_counted: two workers read 0 and both write 1 */
static void race_lost_update_counted(void **state)
{
	struct ana *a = new_ana();
	RD(10, 0, 0);
	RD(20, 1, 0);
	WR(30, 0, 1);
	WR(40, 1, 1);
	RD(50, 0, 1);
	WR(60, 0, 2);
	json_t *r = result(a);
	assert_int_equal(iat(r, "races.increments"), 3);
	assert_int_equal(iat(r, "races.lost_updates"), 1);
	assert_int_equal(iat(r, "races.segments.0.overlapping_windows"), 1);
	assert_int_equal(iat(r, "races.segments.0.workers_seen"), 2);
	assert_int_equal(iat(r, "races.segments.0.workers.1.overlapped"), 1);
	assert_int_equal(iat(r, "races.segments.0.end_ns"), 60);
	json_decref(r);
	ana_free(a);
}

/* race_segment_per_run: run_begin and run_end close a segment */
static void race_segment_per_run(void **state)
{
	struct ana *a = new_ana();
	ana_run_begin(a, 0, 1, "sync race", "none", 0, 0, 1, 0);
	RD(10, 0, 5);
	WR(20, 0, 6);
	ana_run_end(a, 30, 1, "sync race", "none", 0, 0);
	RD(40, 0, 0);
	WR(50, 0, 1);
	json_t *r = result(a);
	assert_int_equal(iat(r, "races.segments_total"), 2);
	assert_int_equal(iat(r, "races.segments.0.initial"), 5);
	assert_int_equal(iat(r, "races.segments.1.begin_ns"), 40);
	assert_int_equal(iat(r, "races.lost_updates"), 0);
	json_decref(r);
	ana_free(a);
}

/* race_segment_starting_with_write: its read was cut off (e.g. --begin) */
static void race_segment_starting_with_write(void **state)
{
	struct ana *a = new_ana();
	WR(10, 3, 8);
	json_t *r = result(a);
	assert_int_equal(iat(r, "races.segments.0.initial"), 7);
	assert_true(json_is_true(at(r, "races.segments.0.initial_from_write")));
	assert_int_equal(iat(r, "races.segments.0.writes_without_read"), 1);
	json_decref(r);
	ana_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(race_lost_update_counted),
		cmocka_unit_test(race_segment_per_run),
		cmocka_unit_test(race_segment_starting_with_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
