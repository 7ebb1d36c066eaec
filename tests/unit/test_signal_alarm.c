/* test_signal_alarm.c - unit tests for "ipclab signal alarm"'s parts: a forked check's
 * raw wait status (alarm_run_child) and the lateness schedule bookkeeping (tsched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "core/log.h"
#include "signal/alarm.h"
#include "core/sys.h"

static int child_exit7(void *arg)
{
	(void)arg;
	return 7;
}

static int child_raise(void *arg)
{
	(void)arg;
	(void)signal(SIGUSR2, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	(void)pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	(void)raise(SIGUSR2);
	return 0;
}

/* signal_alarm_child: the raw status of an exiting and of a killed child. */
static void signal_alarm_child(void **state)
{
	(void)state;
	int st = -1;
	char b[96];
	assert_int_equal(alarm_run_child(-1, child_exit7, NULL, &st, "the test child"), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	assert_string_equal(il_wait_status_text(st, b, sizeof(b)), "exited with status 7");
	assert_int_equal(alarm_run_child(-1, child_raise, NULL, &st, "the test child"), 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR2);
	assert_non_null(strstr(il_wait_status_text(st, b, sizeof(b)), "killed by signal"));
	/* without a status wanted, a killed child is a failed run (its one line names it) */
	assert_int_equal(alarm_run_child(-1, child_raise, NULL, NULL, "the test child"), IL_FAIL);
}

/* signal_alarm_tsched_counted: lateness against start + k*period; counted overruns
 * skip expiries; an observation before its ideal time is clamped and counted. */
static void signal_alarm_tsched_counted(void **state)
{
	(void)state;
	struct tsched s;
	tsched_init(&s, 1000, 100);
	assert_int_equal(tsched_observe(&s, 1105, 0), 5);  /* k=1 due 1100 */
	assert_int_equal(tsched_observe(&s, 1230, 2), 30); /* k=2 due 1200; 3,4 merged */
	assert_int_equal(s.k, 5);
	assert_int_equal(s.missed, 2);
	assert_int_equal(tsched_observe(&s, 1501, 0), 1);  /* k=5 due 1500 */
	assert_int_equal(tsched_observe(&s, 1590, 0), 0);  /* k=6 due 1600: early */
	assert_int_equal(s.early, 1);
}

/* signal_alarm_tsched_estimated: without a count (overrun < 0) a late observation skips
 * to the first period after it; an overshoot is stepped back at the next observation. */
static void signal_alarm_tsched_estimated(void **state)
{
	(void)state;
	struct tsched s;
	tsched_init(&s, 0, 100);
	assert_int_equal(tsched_observe(&s, 110, -1), 10); /* k=1, next k=2 */
	assert_int_equal(s.k, 2);
	assert_int_equal(tsched_observe(&s, 370, -1), 170); /* k=2 due 200, late past 300 */
	assert_int_equal(s.k, 4);                                /* 3 was skipped: next is 400 */
	assert_int_equal(s.missed, 1);
	/* re-armed just before 400 but observed after: the next one is 400, not 500 */
	tsched_init(&s, 0, 100);
	assert_int_equal(tsched_observe(&s, 402, -1), 302);  /* k=1 due 100 */
	assert_int_equal(s.k, 5);
	assert_int_equal(tsched_observe(&s, 410, -1), 10);   /* stepped back to k=4 */
	assert_int_equal(s.missed, 2);
	assert_int_equal(s.early, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signal_alarm_child),
		cmocka_unit_test(signal_alarm_tsched_counted),
		cmocka_unit_test(signal_alarm_tsched_estimated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
