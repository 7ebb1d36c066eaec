/* test_log.c - unit tests for src/core/log.c: every message is one line, and one failure
 * makes one line (the FAIL lines it causes, here or in a forked peer, are dropped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"

static int saved_stderr = -1;
static FILE *capture;

/* Sends stderr to a temporary file until captured() reads it back. */
static void capture_stderr(void)
{
	(void)fflush(stderr);
	capture = tmpfile();
	assert_non_null(capture);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
	il_log_set_prefix("unit"); /* a new run: nothing said yet */
}

/* What was written to stderr since capture_stderr(), as one string (static buffer). */
static const char *captured(void)
{
	static char buf[4096];
	(void)fflush(stderr);
	(void)dup2(saved_stderr, STDERR_FILENO);
	(void)close(saved_stderr);
	rewind(capture);
	size_t n = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[n] = 0;
	(void)fclose(capture);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* log_escapes_control_chars: a newline, a tab or an escape byte in a message (an option
 * value quoted in it) is written escaped; the message stays one line. */
static void log_escapes_control_chars(void **state)
{
	capture_stderr();
	il_err("invalid value '%s'", "1\n2\t3\x1b");
	const char *out = captured();
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "'1\\n2\\t3\\x1b'"));
}

/* log_error_then_fail_one_line: after an error, the FAIL lines that follow are dropped;
 * warnings still pass; a new run (prefix set again) starts afresh. */
static void log_error_then_fail_one_line(void **state)
{
	capture_stderr();
	il_err("cannot pin the responder");
	il_fail("the responder went away");
	il_warn("still said");
	const char *out = captured();
	assert_int_equal(count_lines(out), 2);
	assert_null(strstr(out, "FAIL"));
	capture_stderr();
	il_fail("a check failed");
	il_fail("another check failed");
	assert_int_equal(count_lines(captured()), 2);
}

/* log_peer_error_silences_parent: an error said by a forked peer makes the parent's
 * FAIL about that peer secondary. */
static void log_peer_error_silences_parent(void **state)
{
	capture_stderr();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		il_errno("cannot pin process to CPU 9");
		_exit(3);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	il_fail("receive 0: the responder went away");
	const char *out = captured();
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "cannot pin"));
}

/* log_final_silences_all: after il_log_final (the watchdog's line), errors and FAILs are
 * not said. */
static void log_final_silences_all(void **state)
{
	capture_stderr();
	il_log_final();
	il_err("send failed");
	il_fail("peer gone");
	assert_int_equal(count_lines(captured()), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_escapes_control_chars),
		cmocka_unit_test(log_error_then_fail_one_line),
		cmocka_unit_test(log_peer_error_silences_parent),
		cmocka_unit_test(log_final_silences_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
