/* test_ana_sig.c - unit tests for src/analyze/sig.c: signal pairing by (signo, seq), a
 * coalesced send, a send to a process group (several receivers, finished at run_end),
 * receive methods, reaps, and the experiment's own delivery latencies. */
#include "test_ana.h"

/* sig_pairs_by_signo_and_seq: same seq, other signal: not a match */
static void sig_pairs_by_signo_and_seq(void **state)
{
	struct ana *a = new_ana();
	ana_sig_send(a, 100, 10, 0, 42);
	ana_sig_send(a, 150, 12, 0, 42);
	ana_sig_recv(a, 400, 12, 0, "sigwaitinfo", 0, 0);
	ana_sig_recv(a, 600, 10, 0, "handler", 0, 0);
	json_t *r = result(a);
	assert_int_equal(iat(r, "signals.matched"), 2);
	assert_int_equal(iat(r, "signals.by_signo.0.signo"), 10);
	assert_int_equal(iat(r, "signals.by_signo.0.latency.max"), 500);
	assert_int_equal(iat(r, "signals.by_signo.1.latency.max"), 250);
	assert_string_equal(sat(r, "signals.by_signo.1.methods.0"), "sigwaitinfo");
	json_decref(r);
	ana_free(a);
}

/* sig_coalesced_send_is_duplicate: two sends, one delivery (a standard signal) */
static void sig_coalesced_send_is_duplicate(void **state)
{
	struct ana *a = new_ana();
	ana_sig_send(a, 100, 10, 1, 42);
	ana_sig_send(a, 200, 10, 1, 42);
	ana_sig_recv(a, 500, 10, 1, "handler", 0, 0);
	json_t *r = result(a);
	assert_int_equal(iat(r, "signals.matched"), 1);
	assert_int_equal(iat(r, "signals.unmatched_sends"), 1);
	assert_int_equal(iat(r, "signals.by_signo.0.latency.min"), 300);
	json_decref(r);
	ana_free(a);
}

/* sig_group_send_matches_every_member: kept for the other receivers until run_end */
static void sig_group_send_matches_every_member(void **state)
{
	struct ana *a = new_ana();
	ana_run_begin(a, 0, 1, "signal bus", "script", 1, 0, 0, 0);
	ana_sig_send(a, 100, 2, 0, -7);
	ana_sig_recv(a, 1100, 2, 0, "handler", 0, 0);
	ana_sig_recv(a, 2100, 2, 0, "handler", 0, 0);
	ana_sig_send(a, 3000, 3, 0, -7); /* nobody receives this one */
	ana_run_end(a, 4000, 1, "signal bus", "script", 0, 0);
	ana_sig_recv(a, 5000, 2, 0, "handler", 0, 0); /* after the run: unmatched */
	json_t *r = result(a);
	assert_int_equal(iat(r, "signals.group_sends"), 2);
	assert_int_equal(iat(r, "signals.by_signo.0.matched"), 2);
	assert_int_equal(iat(r, "signals.by_signo.0.latency.max"), 2000);
	assert_int_equal(iat(r, "signals.by_signo.0.unmatched_receives"), 1);
	assert_int_equal(iat(r, "signals.by_signo.1.unmatched_sends"), 1);
	json_decref(r);
	ana_free(a);
}

/* sig_experiment_view_is_the_stamps: t_recv - t_send, and the tracer's extra */
static void sig_experiment_view_is_the_stamps(void **state)
{
	struct ana *a = new_ana();
	ana_sig_send(a, 1000, 34, 5, 42);
	ana_sig_recv(a, 6000, 34, 5, "signalfd", 1020, 5970);
	json_t *r = result(a);
	assert_int_equal(iat(r, "signals.by_signo.0.experiment.count"), 1);
	assert_int_equal(iat(r, "signals.by_signo.0.experiment.max"), 4950);
	assert_int_equal(iat(r, "signals.by_signo.0.tracing_offset.max"), 50);
	json_decref(r);
	ana_free(a);
}

/* sig_out_of_range_signo_in_slot_0: listed with a null signo */
static void sig_out_of_range_signo_in_slot_0(void **state)
{
	struct ana *a = new_ana();
	ana_sig_send(a, 1, 99, 0, 1);
	ana_child_reap(a, 2, 1, 0);
	json_t *r = result(a);
	assert_true(json_is_null(at(r, "signals.by_signo.0.signo")));
	assert_int_equal(iat(r, "signals.child_reaps"), 1);
	json_decref(r);
	ana_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sig_pairs_by_signo_and_seq),
		cmocka_unit_test(sig_coalesced_send_is_duplicate),
		cmocka_unit_test(sig_group_send_matches_every_member),
		cmocka_unit_test(sig_experiment_view_is_the_stamps),
		cmocka_unit_test(sig_out_of_range_signo_in_slot_0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
