/* test_ana_msg.c - unit tests for src/analyze/msg.c: message pairing by (transport, chan,
 * seq), unmatched and duplicate ends, the warm-up learnt from run_begin, and the
 * experiment's own one-way latencies carried by msg_recv beside the tracer's view. */
#include "test_ana.h"

/* 4 round trips on pipe, repeat 0 (seq 0 is the warm-up): A->B 1000+100*seq ns, B->A 500. */
static void ping_pong(struct ana *a)
{
	ana_run_begin(a, 0, 1, "ipc latency", "pipe", 0, 0, 3, 1);
	for (uint64_t s = 0; s < 4; s++) {
		int64_t t = 10000 * (int64_t)(s + 1);
		ana_msg_send(a, t, "pipe", 0, s);
		ana_msg_recv(a, t + 1000 + 100 * (int64_t)s, "pipe", 0, s, 0, 0);
		ana_msg_send(a, t + 2000, "pipe", 1, s);
		ana_msg_recv(a, t + 2500, "pipe", 1, s, 0, 0);
	}
}

/* msg_pairs_send_with_receive: every message matched, warm-up left out of "measured" */
static void msg_pairs_send_with_receive(void **state)
{
	struct ana *a = new_ana();
	ping_pong(a);
	json_t *r = result(a);
	assert_int_equal(iat(r, "messages.matched"), 8);
	assert_int_equal(iat(r, "messages.by_direction.0.latency.count"), 4);
	assert_int_equal(iat(r, "messages.by_direction.0.latency.min"), 1000);
	assert_int_equal(iat(r, "messages.by_direction.0.latency.max"), 1300);
	assert_int_equal(iat(r, "messages.by_direction.0.latency_measured.count"), 3);
	assert_int_equal(iat(r, "messages.by_direction.0.latency_measured.min"), 1100);
	assert_int_equal(iat(r, "messages.by_direction.1.latency.max"), 500);
	assert_int_equal(iat(r, "messages.channels.1.warmup"), 1);
	assert_int_equal(iat(r, "messages.in_flight_peak"), 1);
	json_decref(r);
	ana_free(a);
}

/* msg_counts_unmatched_ends: a receive without its send, a send without its receive */
static void msg_counts_unmatched_ends(void **state)
{
	struct ana *a = new_ana();
	ana_msg_recv(a, 5, "pipe", 0, 7, 0, 0);
	ana_msg_send(a, 10, "pipe", 0, 8);
	json_t *r = result(a);
	assert_int_equal(iat(r, "messages.unmatched_recvs"), 1);
	assert_int_equal(iat(r, "messages.unmatched_sends"), 1);
	assert_int_equal(iat(r, "messages.matched"), 0);
	assert_true(json_is_null(at(r, "messages.channels.0.warmup"))); /* no run_begin */
	json_decref(r);
	ana_free(a);
}

/* msg_duplicate_send_never_matched: the earlier send of a key is counted, not paired */
static void msg_duplicate_send_never_matched(void **state)
{
	struct ana *a = new_ana();
	ana_msg_send(a, 10, "tcp", 2, 0);
	ana_msg_send(a, 20, "tcp", 2, 0);
	ana_msg_recv(a, 50, "tcp", 2, 0, 0, 0);
	json_t *r = result(a);
	assert_int_equal(iat(r, "messages.duplicate_sends"), 1);
	assert_int_equal(iat(r, "messages.unmatched_sends"), 1);
	assert_int_equal(iat(r, "messages.by_direction.0.latency.max"), 30);
	assert_int_equal(iat(r, "messages.channels.0.repeat"), 1);
	json_decref(r);
	ana_free(a);
}

/* msg_experiment_view_is_the_stamps: t_recv - t_send exactly, even without the send
 * event; the tracer's view minus it per matched message */
static void msg_experiment_view_is_the_stamps(void **state)
{
	struct ana *a = new_ana();
	ana_msg_send(a, 1000, "pipe", 0, 0);
	ana_msg_recv(a, 2500, "pipe", 0, 0, 1040, 2470); /* experiment 1430, tracer 1500 */
	ana_msg_recv(a, 3000, "pipe", 0, 1, 2000, 2600); /* its send not seen: 600 */
	json_t *r = result(a);
	assert_int_equal(iat(r, "messages.by_direction.0.experiment.count"), 2);
	assert_int_equal(iat(r, "messages.by_direction.0.experiment.min"), 600);
	assert_int_equal(iat(r, "messages.by_direction.0.experiment.max"), 1430);
	assert_int_equal(iat(r, "messages.by_direction.0.tracing_offset.count"), 1);
	assert_int_equal(iat(r, "messages.by_direction.0.tracing_offset.max"), 70);
	json_decref(r);
	ana_free(a);
}

/* msg_negative_offset_warned: stamps wider than the events are left out and said */
static void msg_negative_offset_warned(void **state)
{
	struct ana *a = new_ana();
	ana_msg_send(a, 1000, "pipe", 0, 0);
	ana_msg_recv(a, 1100, "pipe", 0, 0, 900, 1200);
	json_t *r = result(a);
	assert_int_equal(iat(r, "messages.by_direction.0.experiment.count"), 1);
	assert_int_equal(iat(r, "messages.by_direction.0.tracing_offset.count"), 0);
	assert_true(warned(r, "shorter in the trace"));
	json_decref(r);
	ana_free(a);
}

/* msg_warmup_applies_to_known_channels: a run_begin after a channel's first message */
static void msg_warmup_applies_to_known_channels(void **state)
{
	struct ana *a = new_ana();
	ana_msg_send(a, 1, "fifo", 0, 0);
	ana_msg_recv(a, 2, "fifo", 0, 0, 0, 0);
	ana_run_begin(a, 3, 1, "ipc latency", "fifo", 0, 0, 10, 5);
	json_t *r = result(a);
	assert_int_equal(iat(r, "messages.channels.0.warmup"), 5);
	json_decref(r);
	ana_free(a);
}

/* msg_channels_beyond_limit_warned: channels past the 1024th are counted, not analysed */
static void msg_channels_beyond_limit_warned(void **state)
{
	struct ana *a = new_ana();
	for (uint32_t c = 0; c < 1030; c++)
		ana_msg_send(a, c, "pipe", c, 0);
	json_t *r = result(a);
	assert_int_equal(json_array_size(at(r, "messages.channels")), 1024);
	assert_true(warned(r, "6 messages on channels beyond the first 1024"));
	json_decref(r);
	ana_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(msg_pairs_send_with_receive),
		cmocka_unit_test(msg_counts_unmatched_ends),
		cmocka_unit_test(msg_duplicate_send_never_matched),
		cmocka_unit_test(msg_experiment_view_is_the_stamps),
		cmocka_unit_test(msg_negative_offset_warned),
		cmocka_unit_test(msg_warmup_applies_to_known_channels),
		cmocka_unit_test(msg_channels_beyond_limit_warned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
