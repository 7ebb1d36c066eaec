/* test_ana_task.c - unit tests for src/analyze/task.c: a complete timeline and its stage
 * durations, a proxied start/exit (complete, but out of the stages), a seq spawned again
 * before its reap, a reap of an unknown task. */
#include "test_ana.h"

/* task_complete_timeline_stages: spawn -> start 200 -> exit +1000 -> reaped +300 */
static void task_complete_timeline_stages(void **state)
{
	struct ana *a = new_ana();
	ana_task(a, ANA_TASK_SPAWN, 0, 0, 0, 0);
	ana_task(a, ANA_TASK_START, 200, 0, 300, 0);
	ana_task(a, ANA_TASK_EXIT, 1200, 0, 300, 0);
	ana_task(a, ANA_TASK_REAPED, 1500, 0, 300, 0);
	json_t *r = result(a);
	assert_int_equal(iat(r, "tasks.complete_timelines"), 1);
	assert_int_equal(iat(r, "tasks.spawn_to_start.max"), 200);
	assert_int_equal(iat(r, "tasks.start_to_exit.max"), 1000);
	assert_int_equal(iat(r, "tasks.exit_to_reaped.max"), 300);
	assert_int_equal(iat(r, "tasks.spawn_to_reaped.max"), 1500);
	assert_int_equal(iat(r, "tasks.incomplete"), 0);
	json_decref(r);
	ana_free(a);
}

/* task_proxy_left_out_of_stages: start and exit emitted by the creator after the reap */
static void task_proxy_left_out_of_stages(void **state)
{
	struct ana *a = new_ana();
	ana_task(a, ANA_TASK_SPAWN, 0, 2, 0, 0);
	ana_task(a, ANA_TASK_REAPED, 800, 2, 302, 0);
	ana_task(a, ANA_TASK_START, 810, 2, 302, 1);
	ana_task(a, ANA_TASK_EXIT, 820, 2, 302, 1);
	json_t *r = result(a);
	assert_int_equal(iat(r, "tasks.complete_timelines"), 1);
	assert_int_equal(iat(r, "tasks.proxied_events"), 2);
	assert_int_equal(iat(r, "tasks.spawn_to_start.count"), 0);
	assert_int_equal(iat(r, "tasks.spawn_to_reaped.max"), 800);
	json_decref(r);
	ana_free(a);
}

/* task_odd_sequences_counted: respawned before its reap, reaped unknown, no spawn */
static void task_odd_sequences_counted(void **state)
{
	struct ana *a = new_ana();
	ana_task(a, ANA_TASK_SPAWN, 0, 1, 0, 0);
	ana_task(a, ANA_TASK_SPAWN, 10, 1, 0, 0);
	ana_task(a, ANA_TASK_REAPED, 20, 9, 0, 0);
	ana_task(a, ANA_TASK_START, 30, 5, 7, 0);
	json_t *r = result(a);
	assert_int_equal(iat(r, "tasks.respawned_before_reap"), 1);
	assert_int_equal(iat(r, "tasks.reaped_unknown"), 1);
	assert_int_equal(iat(r, "tasks.without_spawn"), 1);
	assert_int_equal(iat(r, "tasks.incomplete"), 2);
	json_decref(r);
	ana_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(task_complete_timeline_stages),
		cmocka_unit_test(task_proxy_left_out_of_stages),
		cmocka_unit_test(task_odd_sequences_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
