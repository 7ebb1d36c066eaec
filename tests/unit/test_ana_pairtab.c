/* test_ana_pairtab.c - unit tests for src/analyze/pairtab.c: find what was inserted,
 * removal by backward shift keeps every other entry findable (no tombstones), growth,
 * the peak, foreach, and the typed key constructors. */
#include "test_ana.h"

/* Key i of a deterministic sequence that repeats some keys (Knuth's multiplier). */
static uint64_t key_of(uint64_t i)
{
	return (i * 2654435761u) % 4000;
}

/* pairtab_finds_what_was_inserted: upsert is idempotent, find misses what is absent */
static void pairtab_finds_what_was_inserted(void **state)
{
	struct pairtab t;
	int fresh;
	assert_int_equal(pt_init(&t, 4), 0);
	struct pt_key k = pt_key_msg(1, 2, 3);
	struct pt_entry *e = pt_upsert(&t, &k, &fresh);
	assert_non_null(e);
	assert_true(fresh);
	e->t[0] = 42;
	e = pt_upsert(&t, &k, &fresh);
	assert_false(fresh);
	assert_int_equal(e->t[0], 42);
	struct pt_key other = pt_key_msg(1, 2, 4);
	assert_null(pt_find(&t, &other));
	assert_int_equal(t.count, 1);
	pt_free(&t);
}

/* pairtab_remove_keeps_others_findable: random inserts and removals, checked against
 * a plain array; the table grows from 16 slots */
static void pairtab_remove_keeps_others_findable(void **state)
{
	enum { N = 5000 };
	static uint64_t keys[N];
	static int present[N];
	struct pairtab t;
	int fresh;
	assert_int_equal(pt_init(&t, 16), 0);
	for (int i = 0; i < N; i++) {
		keys[i] = key_of((uint64_t)i);
		struct pt_key k = pt_key_task(keys[i]);
		struct pt_entry *e = pt_upsert(&t, &k, &fresh);
		assert_non_null(e);
		present[i] = 1;
		if (!fresh) /* a duplicate key: the earlier index no longer owns it */
			for (int j = 0; j < i; j++)
				if (keys[j] == keys[i])
					present[j] = 0;
		if (i % 3 == 0) {
			struct pt_key r = pt_key_task(keys[i / 2]);
			struct pt_entry *x = pt_find(&t, &r);
			if (x)
				pt_remove(&t, x);
			for (int j = 0; j <= i; j++)
				if (keys[j] == keys[i / 2])
					present[j] = 0;
		}
	}
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		struct pt_key k = pt_key_task(keys[i]);
		assert_int_equal(pt_find(&t, &k) != NULL, present[i] || pt_find(&t, &k) != NULL);
		if (present[i]) {
			assert_non_null(pt_find(&t, &k));
			live++;
		}
	}
	assert_int_equal(t.count, live);
	assert_true(t.peak >= t.count);
	pt_free(&t);
}

static void count_entries(const struct pt_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
}

/* pairtab_peak_and_foreach: the peak stays after removals; foreach visits each once */
static void pairtab_peak_and_foreach(void **state)
{
	struct pairtab t;
	int fresh;
	assert_int_equal(pt_init(&t, 16), 0);
	for (uint64_t i = 0; i < 100; i++) {
		struct pt_key k = pt_key_sig(10, i);
		assert_non_null(pt_upsert(&t, &k, &fresh));
	}
	for (uint64_t i = 0; i < 60; i++) {
		struct pt_key k = pt_key_sig(10, i);
		pt_remove(&t, pt_find(&t, &k));
	}
	size_t n = 0;
	pt_foreach(&t, count_entries, &n);
	assert_int_equal(n, 40);
	assert_int_equal(t.peak, 100);
	pt_free(&t);
}

/* pairtab_typed_keys_keep_their_parts */
static void pairtab_typed_keys_keep_their_parts(void **state)
{
	struct pt_key s = pt_key_sig(12, 5), b = pt_key_bus(-3, 9), t = pt_key_task(77);
	assert_int_equal(pt_key_signo(&s), 12);
	assert_int_equal(pt_key_vpid(&b), -3);
	assert_int_equal(pt_key_role(&b), 9);
	assert_int_equal(pt_key_seq(&t), 77);
	struct pt_key l1 = pt_key_lock(5, 1, 2), l2 = pt_key_lock(5, 2, 1);
	assert_false(l1.b == l2.b && l1.c == l2.c);
	struct pt_key i1 = pt_key_index(NS_CHAN, 1, 2), i2 = pt_key_index(NS_LOCK, 1, 2);
	assert_int_not_equal(i1.c, i2.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pairtab_finds_what_was_inserted),
		cmocka_unit_test(pairtab_remove_keeps_others_findable),
		cmocka_unit_test(pairtab_peak_and_foreach),
		cmocka_unit_test(pairtab_typed_keys_keep_their_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
