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
	int s[IL_BUS_MAX_KEYS];
	char why[160];
	assert_int_equal(il_bus_parse_script("INT,QUIT,INT,TSTP", s, why, sizeof(why)), 4);
	assert_int_equal(s[0], SIGINT);
	assert_int_equal(s[1], SIGQUIT);
	assert_int_equal(s[2], SIGINT);
	assert_int_equal(s[3], SIGTSTP);
	assert_int_equal(il_bus_parse_script("TSTP", s, why, sizeof(why)), 1);
	assert_int_equal(s[0], SIGTSTP);
	assert_int_equal(il_bus_parse_script("sigint,Quit,SIGTSTP", s, why, sizeof(why)), 3);
	assert_int_equal(s[0], SIGINT);
	assert_int_equal(s[1], SIGQUIT);
	assert_int_equal(s[2], SIGTSTP);
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
	int s[IL_BUS_MAX_KEYS];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[160] = "";
		if (il_bus_parse_script(bad[i], s, why, sizeof(why)) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(why[0] != 0);
	}
	char why[160];
	assert_int_equal(il_bus_parse_script(NULL, s, why, sizeof(why)), -1);
}

/* signal_bus_script_limit: IL_BUS_MAX_KEYS keys are fine, one more is not. */
static void signal_bus_script_limit(void **state)
{
	(void)state;
	char buf[IL_BUS_MAX_KEYS * 5 + 8], why[160];
	int s[IL_BUS_MAX_KEYS];
	size_t n = 0;
	for (int i = 0; i < IL_BUS_MAX_KEYS - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "INT,");
	(void)snprintf(buf + n, sizeof(buf) - n, "TSTP");
	assert_int_equal(il_bus_parse_script(buf, s, why, sizeof(why)), IL_BUS_MAX_KEYS);
	assert_int_equal(s[IL_BUS_MAX_KEYS - 1], SIGTSTP);
	(void)snprintf(buf + n, sizeof(buf) - n, "INT,TSTP");
	assert_int_equal(il_bus_parse_script(buf, s, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more than"));
}

/* signal_bus_script_reason: the reason names the position and the key. */
static void signal_bus_script_reason(void **state)
{
	(void)state;
	int s[IL_BUS_MAX_KEYS];
	char why[160];
	assert_int_equal(il_bus_parse_script("INT,FOO,TSTP", s, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "'FOO'"));
	assert_non_null(strstr(why, "position 2"));
	assert_int_equal(il_bus_parse_script("INT,QUIT", s, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "TSTP"));
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
