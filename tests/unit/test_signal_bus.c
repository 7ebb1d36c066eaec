/* test_signal_bus.c - unit tests for src/signal/bus.c: the --script parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "signal/bus.h"

/* signal_bus_script_valid: the homework's sequence, any case, optional SIG prefix. */
static void signal_bus_script_valid(void **state)
{
	(void)state;
	struct il_bus_script s;
	assert_int_equal(il_bus_parse_script("INT,QUIT,INT,TSTP", &s), 4);
	assert_int_equal(s.n, 4);
	assert_null(s.error);
	assert_int_equal(s.keys[0], SIGINT);
	assert_int_equal(s.keys[1], SIGQUIT);
	assert_int_equal(s.keys[2], SIGINT);
	assert_int_equal(s.keys[3], SIGTSTP);
	assert_int_equal(il_bus_parse_script("TSTP", &s), 1);
	assert_int_equal(s.keys[0], SIGTSTP);
	assert_int_equal(il_bus_parse_script("sigint,Quit,SIGTSTP", &s), 3);
	assert_int_equal(s.keys[0], SIGINT);
	assert_int_equal(s.keys[1], SIGQUIT);
	assert_int_equal(s.keys[2], SIGTSTP);
}

/* signal_bus_script_rejects: every malformed script fails with a reason. */
static void signal_bus_script_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "INT", "INT,QUIT", "TSTP,INT", "TSTP,TSTP", "INT,,TSTP", ",TSTP", "INT,TSTP,",
		"FOO,TSTP", "INT ,TSTP", " INT,TSTP", "SIG,TSTP", "KILL,TSTP", "USR1,TSTP", "INTQUIT,TSTP",
		"2,TSTP", "SIGSIGINT,TSTP",
	};
	struct il_bus_script s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (il_bus_parse_script(bad[i], &s) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(s.error);
	}
	assert_int_equal(il_bus_parse_script(NULL, &s), -1);
	assert_non_null(s.error);
}

/* signal_bus_script_limit: IL_BUS_MAX_KEYS keys are fine, one more is not. */
static void signal_bus_script_limit(void **state)
{
	(void)state;
	char buf[IL_BUS_MAX_KEYS * 5 + 8];
	struct il_bus_script s;
	size_t n = 0;
	for (int i = 0; i < IL_BUS_MAX_KEYS - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "INT,");
	(void)snprintf(buf + n, sizeof(buf) - n, "TSTP");
	assert_int_equal(il_bus_parse_script(buf, &s), IL_BUS_MAX_KEYS);
	assert_int_equal(s.keys[IL_BUS_MAX_KEYS - 1], SIGTSTP);
	(void)snprintf(buf + n, sizeof(buf) - n, "INT,TSTP");
	assert_int_equal(il_bus_parse_script(buf, &s), -1);
	assert_non_null(strstr(s.error, "more than"));
	assert_int_equal(s.pos, IL_BUS_MAX_KEYS + 1);
}

/* signal_bus_script_reason: the reason names the position and the key. */
static void signal_bus_script_reason(void **state)
{
	(void)state;
	struct il_bus_script s;
	assert_int_equal(il_bus_parse_script("INT,FOO,TSTP", &s), -1);
	assert_string_equal(s.error, "unknown key");
	assert_int_equal(s.pos, 2);
	assert_int_equal(s.tok_len, 3);
	assert_memory_equal(s.tok, "FOO", 3);
	assert_int_equal(il_bus_parse_script("INT,,TSTP", &s), -1);
	assert_string_equal(s.error, "empty key");
	assert_int_equal(s.pos, 2);
	assert_int_equal(il_bus_parse_script("TSTP,INT,TSTP", &s), -1);
	assert_int_equal(s.pos, 1);
	assert_non_null(strstr(s.error, "TSTP"));
	assert_int_equal(il_bus_parse_script("INT,QUIT", &s), -1);
	assert_non_null(strstr(s.error, "TSTP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signal_bus_script_valid),
		cmocka_unit_test(signal_bus_script_rejects),
		cmocka_unit_test(signal_bus_script_limit),
		cmocka_unit_test(signal_bus_script_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
