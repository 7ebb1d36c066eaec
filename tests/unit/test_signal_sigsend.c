/* test_signal_sigsend.c - unit tests for src/signal/sigsend.c: si_code names,
 * sending to ourselves (what si_code/si_value the receiver sees), the SigQ reader and the
 * drain. (Signal names and wait statuses are core's: test_sys.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/opts.h"
#include "signal/sigsend.h"

/* signal_sigsend_names: si_code names, unknown codes by number. */
static void signal_sigsend_names(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(sig_code_name(SI_QUEUE, b, sizeof(b)), "SI_QUEUE");
	assert_string_equal(sig_code_name(SI_TKILL, b, sizeof(b)), "SI_TKILL");
	assert_string_equal(sig_code_name(-77, b, sizeof(b)), "si_code -77");
}

/* signal_sigsend_calls: which send call and which si_code each mode/queue pair means. */
static void signal_sigsend_calls(void **state)
{
	(void)state;
	assert_string_equal(sig_send_call(IL_MODE_PROCESS, false), "kill");
	assert_string_equal(sig_send_call(IL_MODE_PROCESS, true), "sigqueue");
	assert_string_equal(sig_send_call(IL_MODE_THREAD, false), "tgkill");
	assert_string_equal(sig_send_call(IL_MODE_THREAD, true), "pthread_sigqueue");
	assert_int_equal(sig_expected_code(IL_MODE_PROCESS, false), SI_USER);
	assert_int_equal(sig_expected_code(IL_MODE_THREAD, false), SI_TKILL);
	assert_int_equal(sig_expected_code(IL_MODE_THREAD, true), SI_QUEUE);
}

/* signal_sigsend_send_self: each way of sending, to ourselves, blocked: the value and the
 * sender arrive; signalfd-free check through sigtimedwait (which folds SI_TKILL into
 * SI_USER in glibc, so the code is checked only for the queued ones). */
static void signal_sigsend_send_self(void **state)
{
	(void)state;
	const int sig = SIGRTMIN + 5;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, sig);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
	for (int mode = IL_MODE_PROCESS; mode <= IL_MODE_THREAD; mode++) {
		struct sig_target t;
		sig_target_self(&t, mode);
		assert_int_equal(sig_target_id(&t), mode == IL_MODE_THREAD ? t.tid : t.pid);
		for (int queue = 0; queue < 2; queue++) {
			assert_int_equal(sig_send(&t, sig, queue, 0x123456789ull), 0);
			siginfo_t si;
			struct timespec zero = { 0, 0 };
			assert_int_equal(sigtimedwait(&set, &si, &zero), sig);
			assert_int_equal(si.si_pid, getpid());
			if (queue) {
				assert_int_equal(si.si_code, SI_QUEUE);
				assert_true((uintptr_t)si.si_value.sival_ptr == 0x123456789ull);
			}
		}
	}
	/* three queued, one drained call takes them all */
	struct sig_target t;
	sig_target_self(&t, IL_MODE_PROCESS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sig_send(&t, sig, true, (uint64_t)i), 0);
	assert_int_equal(sig_drain(&set), 3);
	assert_int_equal(sig_drain(&set), 0);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* signal_sigsend_sigq: SigQ parses and counts our queued signals. */
static void signal_sigsend_sigq(void **state)
{
	(void)state;
	long p0, l0, p1, l1;
	const int sig = SIGRTMIN + 6;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, sig);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
	assert_int_equal(sig_queue_count(&p0, &l0), 0);
	assert_true(l0 > 0 && p0 >= 0);
	struct sig_target t;
	sig_target_self(&t, IL_MODE_PROCESS);
	for (int i = 0; i < 5; i++)
		assert_int_equal(sig_send(&t, sig, true, (uint64_t)i), 0);
	assert_int_equal(sig_queue_count(&p1, &l1), 0);
	assert_int_equal(l1, l0);
	/* other processes of our uid may come and go: at least ours are counted */
	assert_true(p1 >= 5);
	assert_int_equal(sig_drain(&set), 5);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signal_sigsend_names),
		cmocka_unit_test(signal_sigsend_calls),
		cmocka_unit_test(signal_sigsend_send_self),
		cmocka_unit_test(signal_sigsend_sigq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
