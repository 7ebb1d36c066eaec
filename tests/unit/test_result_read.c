/* test_result_read.c - unit tests for the results readers of src/core/result.c
 * (il_jnum, il_jint, il_jstr, il_jtrue): what print() reads from x->results, and the
 * defaults when an object, a key or a type is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>

#include "core/result.h"

/* {"n": 7, "big": 2^53 + 1, "neg": -3, "x": 2.5, "s": "text", "empty": "", "t": true,
 * "f": false, "z": null, "o": {"p50": 42, "name": "inner"}, "a": [1]} */
static json_t *sample(void)
{
	json_t *o = json_pack("{sI sI sI sf ss ss sb sb sn s{sI ss} s[i]}", "n", (json_int_t)7, "big",
			      (json_int_t)9007199254740993LL, "neg", (json_int_t)-3, "x", 2.5, "s", "text", "empty", "",
			      "t", 1, "f", 0, "z", "o", "p50", (json_int_t)42, "name", "inner", "a", 1);
	assert_non_null(o);
	return o;
}

/* read_int: integers are read exactly (beyond a double's 53 bits too); a real, a string,
 * true, null, an array, a missing key read as 0. */
static void read_int(void **state)
{
	(void)state;
	json_t *o = sample();
	assert_int_equal(il_jint(o, "n"), 7);
	assert_true(il_jint(o, "big") == 9007199254740993LL);
	assert_int_equal(il_jint(o, "neg"), -3);
	static const char *const zero[] = { "x", "s", "t", "z", "a", "o", "missing" };
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(il_jint(o, zero[i]), 0);
	json_decref(o);
}

/* read_num: an integer or a real as a double; anything else 0. */
static void read_num(void **state)
{
	(void)state;
	json_t *o = sample();
	assert_true(il_jnum(o, "n") == 7.0);
	assert_true(il_jnum(o, "neg") == -3.0);
	assert_true(il_jnum(o, "x") == 2.5);
	assert_true(il_jnum(o, "s") == 0.0);
	assert_true(il_jnum(o, "t") == 0.0);
	assert_true(il_jnum(o, "missing") == 0.0);
	json_decref(o);
}

/* read_str: the string itself (owned by the object), "" included; the default for any
 * other type or a missing key, NULL as a default too. */
static void read_str(void **state)
{
	(void)state;
	json_t *o = sample();
	assert_string_equal(il_jstr(o, "s", "?"), "text");
	assert_ptr_equal(il_jstr(o, "s", "?"), json_string_value(json_object_get(o, "s")));
	assert_string_equal(il_jstr(o, "empty", "?"), "");
	assert_string_equal(il_jstr(o, "n", "?"), "?");
	assert_string_equal(il_jstr(o, "z", "none"), "none");
	assert_string_equal(il_jstr(o, "missing", "-"), "-");
	assert_null(il_jstr(o, "t", NULL));
	json_decref(o);
}

/* read_true: only JSON true; false, null, 1, "true", a missing key are not. */
static void read_true(void **state)
{
	(void)state;
	json_t *o = sample();
	assert_true(il_jtrue(o, "t"));
	static const char *const no[] = { "f", "z", "n", "s", "o", "missing" };
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(il_jtrue(o, no[i]));
	json_decref(o);
}

/* read_nested_and_not_objects: a missing inner object (NULL), an array, a string or a
 * number as obj give the defaults, so nested reads chain without checks. */
static void read_nested_and_not_objects(void **state)
{
	(void)state;
	json_t *o = sample();
	assert_int_equal(il_jint(json_object_get(o, "o"), "p50"), 42);
	assert_string_equal(il_jstr(json_object_get(o, "o"), "name", "?"), "inner");
	const json_t *not_objects[] = { NULL, json_object_get(o, "missing"), json_object_get(o, "a"),
					json_object_get(o, "s"), json_object_get(o, "n") };
	for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
		assert_int_equal(il_jint(not_objects[i], "p50"), 0);
		assert_true(il_jnum(not_objects[i], "p50") == 0.0);
		assert_string_equal(il_jstr(not_objects[i], "name", "?"), "?");
		assert_false(il_jtrue(not_objects[i], "t"));
	}
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_int),
		cmocka_unit_test(read_num),
		cmocka_unit_test(read_str),
		cmocka_unit_test(read_true),
		cmocka_unit_test(read_nested_and_not_objects),
	};
	return cmocka_run_group_tests_name("result_read", tests, NULL, NULL);
}
