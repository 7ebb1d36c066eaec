/* test_ana_lock.c - unit tests for src/analyze/lock.c: wait (request -> acquire of one
 * thread) and hold (acquire -> release) per lock and per thread, a release by another
 * thread (a handed-over semaphore), odd sequences, and the intervals the experiment
 * timed itself with the tracer's view of them (own request, or the hand-over). */
#include "test_ana.h"

#define REQ(t, l, k, v) ana_lock(a, ANA_LOCK_REQUEST, t, l, k, v, 0, 0)
#define ACQ(t, l, k, v) ana_lock(a, ANA_LOCK_ACQUIRE, t, l, k, v, 0, 0)
#define REL(t, l, k, v) ana_lock(a, ANA_LOCK_RELEASE, t, l, k, v, 0, 0)

/* lock_wait_and_hold_per_thread: two threads queue on one mutex */
static void lock_wait_and_hold_per_thread(void **state)
{
	struct ana *a = new_ana();
	REQ(0, 0, "mutex", 11);
	REQ(50, 0, "mutex", 12);
	ACQ(100, 0, "mutex", 11);
	REL(1100, 0, "mutex", 11);
	ACQ(1150, 0, "mutex", 12);
	REL(1650, 0, "mutex", 12);
	json_t *r = result(a);
	assert_int_equal(iat(r, "locks.locks.0.wait.count"), 2);
	assert_int_equal(iat(r, "locks.locks.0.wait.max"), 1100);
	assert_int_equal(iat(r, "locks.locks.0.hold.min"), 500);
	assert_int_equal(iat(r, "locks.threads.0.vtid"), 11);
	assert_int_equal(iat(r, "locks.threads.1.wait_total_ns"), 1100);
	assert_int_equal(iat(r, "locks.threads.1.hold_max_ns"), 500);
	assert_int_equal(iat(r, "locks.still_held"), 0);
	json_decref(r);
	ana_free(a);
}

/* lock_cross_thread_release_ends_oldest: a semaphore posted by another thread */
static void lock_cross_thread_release_ends_oldest(void **state)
{
	struct ana *a = new_ana();
	REQ(0, 1, "sem", 13);
	ACQ(200, 1, "sem", 13);
	REL(900, 1, "sem", 14);
	REL(1000, 1, "sem", 14); /* nothing held: without acquire */
	json_t *r = result(a);
	assert_int_equal(iat(r, "locks.locks.0.cross_thread_releases"), 1);
	assert_int_equal(iat(r, "locks.locks.0.hold.max"), 700);
	assert_int_equal(iat(r, "locks.locks.0.releases_without_acquire"), 1);
	json_decref(r);
	ana_free(a);
}

/* lock_odd_sequences_counted: requested twice, acquired without request, left held */
static void lock_odd_sequences_counted(void **state)
{
	struct ana *a = new_ana();
	REQ(0, 2, "spin", 1);
	REQ(10, 2, "spin", 1);
	ACQ(20, 2, "spin", 1);
	ACQ(30, 2, "spin", 2);
	REQ(40, 2, "flock", 3); /* another kind: another lock */
	json_t *r = result(a);
	assert_int_equal(iat(r, "locks.locks.0.requests_abandoned"), 1);
	assert_int_equal(iat(r, "locks.locks.0.acquires_without_request"), 1);
	assert_int_equal(iat(r, "locks.locks.0.still_held"), 2);
	assert_int_equal(iat(r, "locks.locks.0.wait.max"), 10);
	assert_string_equal(sat(r, "locks.locks.1.kind"), "flock");
	assert_int_equal(iat(r, "locks.pending_requests"), 1);
	json_decref(r);
	ana_free(a);
}

/* lock_timed_wait_from_own_request: the waiter's stamps; tracer from its request */
static void lock_timed_wait_from_own_request(void **state)
{
	struct ana *a = new_ana();
	REQ(2000, 1, "sem", 13);
	ana_lock(a, ANA_LOCK_ACQUIRE, 2200, 1, "sem", 13, 2010, 2190);
	json_t *r = result(a);
	assert_int_equal(iat(r, "locks.locks.0.experiment.max"), 180);
	assert_int_equal(iat(r, "locks.locks.0.tracing_offset.max"), 20);
	json_decref(r);
	ana_free(a);
}

/* lock_timed_handover_from_release: the releaser's stamp; tracer from that release */
static void lock_timed_handover_from_release(void **state)
{
	struct ana *a = new_ana();
	ACQ(0, 1, "mutex", 1);
	REQ(50, 1, "mutex", 2);
	REL(1100, 1, "mutex", 1);
	ana_lock(a, ANA_LOCK_ACQUIRE, 1150, 1, "mutex", 2, 1105, 1145);
	ana_lock(a, ANA_LOCK_ACQUIRE, 1200, 3, "mutex", 2, 0, 0); /* untimed */
	json_t *r = result(a);
	assert_int_equal(iat(r, "locks.locks.0.experiment.count"), 1);
	assert_int_equal(iat(r, "locks.locks.0.experiment.max"), 40);
	assert_int_equal(iat(r, "locks.locks.0.tracing_offset.max"), 10);
	assert_int_equal(iat(r, "locks.locks.1.experiment.count"), 0);
	json_decref(r);
	ana_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_wait_and_hold_per_thread),
		cmocka_unit_test(lock_cross_thread_release_ends_oldest),
		cmocka_unit_test(lock_odd_sequences_counted),
		cmocka_unit_test(lock_timed_wait_from_own_request),
		cmocka_unit_test(lock_timed_handover_from_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
