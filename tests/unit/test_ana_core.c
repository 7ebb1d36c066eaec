/* test_ana_core.c - unit tests for the analyses' core (src/analyze/core.c, runs.c,
 * write.c): string interning, the shared index, the time range, discards and incomplete
 * streams making a result incomplete, runs, capped warnings, the result's members in
 * order, and the files ana_finish writes. */
#include "test_ana.h"

#include <stdio.h>
#include <unistd.h>

/* core_interns_strings_once: one id per string, "?" for NULL */
static void core_interns_strings_once(void **state)
{
	struct ana *a = new_ana();
	uint32_t p = ana_intern(a, "pipe"), f = ana_intern(a, "fifo");
	assert_int_not_equal(p, f);
	assert_int_equal(ana_intern(a, "pipe"), p);
	assert_int_equal(ana_intern(a, "fifo"), f);
	assert_string_equal(ana_str(a, p), "pipe");
	assert_int_equal(ana_intern(a, NULL), 0);
	assert_string_equal(ana_str(a, 0), "?");
	assert_string_equal(ana_str(a, 9999), "?");
	ana_free(a);
}

/* core_index_namespaces_apart: the same key in two namespaces, created once each */
static void core_index_namespaces_apart(void **state)
{
	struct ana *a = new_ana();
	int fresh;
	assert_int_equal(ana_index(a, NS_CHAN, 5, 1, 1, 0, &fresh), 0);
	assert_true(fresh);
	assert_int_equal(ana_index(a, NS_LOCK, 5, 1, 1, 7, &fresh), 7);
	assert_true(fresh);
	assert_int_equal(ana_index(a, NS_CHAN, 5, 1, 1, 3, &fresh), 0);
	assert_false(fresh);
	assert_int_equal(ana_index(a, NS_THREAD, 5, 1, 0, 0, &fresh), -1);
	ana_free(a);
}

/* core_time_range_and_runs: first and last event; a run with its end, one without */
static void core_time_range_and_runs(void **state)
{
	struct ana *a = new_ana();
	ana_event_time(a, 1000);
	ana_run_begin(a, 1000, 7, "ipc latency", "pipe", 1, 0, 10, 2);
	ana_event_time(a, 5000);
	ana_run_end(a, 5000, 7, "ipc latency", "pipe", 0, 0);
	ana_run_begin(a, 5000, 7, "ipc latency", "pipe", 1, 1, 10, 2);
	ana_run_end(a, 6000, 8, "sync race", "none", 0, 0); /* never begun */
	json_t *r = result(a);
	assert_int_equal(iat(r, "time_range.duration_ns"), 4000);
	assert_int_equal(iat(r, "runs.0.end_ns"), 5000);
	assert_int_equal(iat(r, "runs.0.warmup"), 2);
	assert_true(json_is_null(at(r, "runs.1.status")));
	assert_true(warned(r, "without its run_begin"));
	assert_true(json_is_true(at(r, "complete")));
	json_decref(r);
	ana_free(a);
}

/* core_incomplete_when_discards_or_cut_streams */
static void core_incomplete_when_discards_or_cut_streams(void **state)
{
	struct ana *a = new_ana();
	ana_discarded_events(a, 3, 1);
	ana_discarded_packets(a, 0, 0);
	ana_incomplete(a, "/t/ipclab_1", "empty stream file");
	json_t *r = result(a);
	assert_true(json_is_false(at(r, "complete")));
	assert_int_equal(iat(r, "discarded_events"), 3);
	assert_int_equal(iat(r, "discarded_packets"), 1);
	assert_true(json_is_true(at(r, "discard_counts_unknown")));
	assert_string_equal(sat(r, "incomplete_streams.0.stream"), "/t/ipclab_1");
	assert_true(json_is_null(at(r, "time_range")));
	json_decref(r);
	ana_free(a);
}

/* core_warnings_capped: at most 50 kept */
static void core_warnings_capped(void **state)
{
	struct ana *a = new_ana();
	for (int i = 0; i < 80; i++)
		ana_warn(a, "note %d", i);
	json_t *r = result(a);
	assert_int_equal(json_array_size(at(r, "warnings")), 50);
	json_decref(r);
	ana_free(a);
}

/* core_result_members_in_order: the document's member order is fixed */
static void core_result_members_in_order(void **state)
{
	static const char *const want[] = { "schema", "complete", "discarded_events", "discarded_packets",
					    "discard_counts_unknown", "incomplete_streams", "time_range", "events",
					    "runs", "runs_dropped", "messages", "signals", "locks", "races",
					    "tasks", "bus", "warnings" };
	struct ana *a = new_ana();
	json_t *r = result(a);
	assert_int_equal(json_object_size(r), sizeof(want) / sizeof(want[0]));
	size_t i = 0;
	for (void *it = json_object_iter(r); it; it = json_object_iter_next(r, it))
		assert_string_equal(json_object_iter_key(it), want[i++]);
	assert_string_equal(sat(r, "schema"), ANA_SCHEMA);
	json_decref(r);
	ana_free(a);
}

/* core_finish_writes_json_and_tsv: every TSV file, the streamed ones with their header */
static void core_finish_writes_json_and_tsv(void **state)
{
	/* each file and its first byte (0: may be empty, e.g. no signal histogram) */
	static const struct {
		const char *name;
		int first;
	} files[] = { { "messages.tsv", '#' }, { "messages_hist.tsv", '#' }, { "signals.tsv", '#' },
		      { "signals_hist.tsv", 0 },   { "locks.tsv", '#' },	     { "lock_threads.tsv", '#' },
		      { "races.tsv", '#' },	   { "bus_states.tsv", '#' },	     { "tasks.tsv", '#' },
		      { "bus_intervals.tsv", '#' }, { "r.json", '{' } };
	char dir[] = "/tmp/test_ana_core.XXXXXX", path[256], err[256];
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/tsv", dir);
	struct ana *a = ana_new(path, err, sizeof(err));
	assert_non_null(a);
	ana_event_time(a, 100);
	ana_msg_send(a, 100, "pipe", 0, 0);
	(void)snprintf(path, sizeof(path), "%s/tsv/r.json", dir);
	assert_int_equal(ana_finish(a, json_object(), path, err, sizeof(err)), 0);
	ana_free(a);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/tsv/%s", dir, files[i].name);
		FILE *f = fopen(path, "r");
		if (!f)
			fail_msg("%s missing", files[i].name);
		int c = fgetc(f);
		if (files[i].first && c != files[i].first)
			fail_msg("%s starts with %d", files[i].name, c);
		(void)fclose(f);
		(void)unlink(path);
	}
	(void)snprintf(path, sizeof(path), "%s/tsv", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_interns_strings_once),
		cmocka_unit_test(core_index_namespaces_apart),
		cmocka_unit_test(core_time_range_and_runs),
		cmocka_unit_test(core_incomplete_when_discards_or_cut_streams),
		cmocka_unit_test(core_warnings_capped),
		cmocka_unit_test(core_result_members_in_order),
		cmocka_unit_test(core_finish_writes_json_and_tsv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
