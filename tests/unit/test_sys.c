/* test_sys.c - unit tests for src/core/sys.c: the OS idioms written once. waitpid, read
 * and write are wrapped (-Wl,--wrap, see the Makefile): they pass through to the real
 * call unless a test queued an EINTR or a short transfer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/sys.h"

/* ---- syscall mocks: pass through unless something is queued */
static int eintr_waitpid, eintr_read, eintr_write;
static size_t short_write; /* next write transfers at most this many bytes (0: no limit) */

pid_t __real_waitpid(pid_t pid, int *st, int flags);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
pid_t __wrap_waitpid(pid_t pid, int *st, int flags);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

pid_t __wrap_waitpid(pid_t pid, int *st, int flags)
{
	if (eintr_waitpid > 0) {
		eintr_waitpid--;
		errno = EINTR;
		return -1;
	}
	return __real_waitpid(pid, st, flags);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (eintr_read > 0) {
		eintr_read--;
		errno = EINTR;
		return -1;
	}
	return __real_read(fd, buf, n > 1 ? n / 2 : n); /* always short: the loop must continue */
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (eintr_write > 0) {
		eintr_write--;
		errno = EINTR;
		return -1;
	}
	if (short_write && n > short_write) {
		size_t k = short_write;
		short_write = 0;
		return __real_write(fd, buf, k);
	}
	return __real_write(fd, buf, n);
}

/* A child that exits with status code at once. */
static pid_t child_exiting(int code)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(code);
	return pid;
}

/* sys_waitpid_retries_eintr: an EINTR from waitpid is retried, the status arrives. */
static void sys_waitpid_retries_eintr(void **state)
{
	pid_t pid = child_exiting(7);
	int st = 0;
	eintr_waitpid = 2;
	assert_int_equal(il_waitpid(pid, &st, 0), pid);
	assert_int_equal(eintr_waitpid, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* sys_waitpid_negative_errno: failure is -errno, never -1 with errno. */
static void sys_waitpid_negative_errno(void **state)
{
	assert_int_equal(il_waitpid(getpid(), NULL, 0), -ECHILD);
}

/* sys_child_ended_leaves_zombie: il_child_ended reports an ended child without reaping
 * it (WNOWAIT): waitpid still gets its status afterwards. */
static void sys_child_ended_leaves_zombie(void **state)
{
	pid_t pid = child_exiting(3);
	assert_int_equal(il_child_ended(pid, true), pid);
	assert_int_equal(il_child_ended(-1, false), pid);
	int st;
	assert_int_equal(il_waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_int_equal(il_child_ended(-1, false), -ECHILD);
}

/* sys_reap_all_counts: every child is reaped, EINTR included; then none is left. */
static void sys_reap_all_counts(void **state)
{
	for (int i = 0; i < 3; i++)
		(void)child_exiting(0);
	eintr_waitpid = 1;
	assert_int_equal(il_reap_all(), 3);
	assert_int_equal(il_waitpid(-1, NULL, WNOHANG), -ECHILD);
}

/* sys_wait_status_text: one wording for exits, signals, core dumps and stops. */
static void sys_wait_status_text(void **state)
{
	char b[64];
	assert_string_equal(il_wait_status_text(W_EXITCODE(3, 0), b, sizeof(b)), "exited with status 3");
	assert_string_equal(il_wait_status_text(W_EXITCODE(0, SIGKILL), b, sizeof(b)), "killed by signal 9 (SIGKILL)");
	assert_string_equal(il_wait_status_text(W_EXITCODE(0, SIGSEGV) | WCOREFLAG, b, sizeof(b)),
			    "killed by signal 11 (SIGSEGV, core dumped)");
	assert_string_equal(il_wait_status_text(W_STOPCODE(SIGSTOP), b, sizeof(b)), "stopped by signal 19 (SIGSTOP)");
}

/* sys_proc_stat_parse_odd_comm: a command name with ')' and spaces does not shift the
 * fields (they are read after the last ')'). */
static void sys_proc_stat_parse_odd_comm(void **state)
{
	const char *line = "42 (a) b (c) S 7 42 42 0 -1 4194560 11 0 22 0 5 6 0 0 20 0 3 0 99 1000 50 "
			   "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	struct il_proc_stat st;
	assert_int_equal(il_proc_stat_parse(line, &st), 0);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 7);
	assert_int_equal(st.minflt, 11);
	assert_int_equal(st.majflt, 22);
	assert_int_equal(st.utime, 5);
	assert_int_equal(st.stime, 6);
	assert_int_equal(st.num_threads, 3);
	assert_int_equal(st.starttime, 99);
	assert_int_equal(st.processor, 1);
	assert_int_equal(il_proc_stat_parse("no parenthesis", &st), -EINVAL);
}

/* sys_proc_stat_self_and_gone: our own stat reads as running with our parent; a reaped
 * child's is -ENOENT. */
static void sys_proc_stat_self_and_gone(void **state)
{
	struct il_proc_stat st;
	assert_int_equal(il_proc_stat(getpid(), &st), 0);
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, getppid());
	assert_true(st.num_threads >= 1);
	pid_t pid = child_exiting(0);
	assert_int_equal(il_waitpid(pid, NULL, 0), pid);
	assert_int_equal(il_proc_stat(pid, &st), -ENOENT);
}

/* sys_futex_results: a wait on a word that already differs is -EAGAIN, a wait that
 * nobody ends is -ETIMEDOUT, a wake with no waiter wakes 0; private and shared. */
static void sys_futex_results(void **state)
{
	uint32_t w = 1;
	const struct timespec rel = { 0, 1000 };
	for (int shared = 0; shared < 2; shared++) {
		assert_int_equal(il_futex_wait(&w, 0, &rel, shared), -EAGAIN);
		assert_int_equal(il_futex_wait(&w, 1, &rel, shared), -ETIMEDOUT);
		struct timespec past;
		assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &past), 0);
		assert_int_equal(il_futex_wait_until(&w, 1, &past, shared), -ETIMEDOUT);
		assert_int_equal(il_futex_wake(&w, 1, shared), 0);
	}
}

/* sys_signal_names: names as signal(7) and kill -l write them, real-time relative to
 * SIGRTMIN, glibc's reserved numbers and out-of-range ones still named. */
static void sys_signal_names(void **state)
{
	char b[IL_SIGNAME_MAX];
	assert_string_equal(il_signal_name(SIGUSR1, b, sizeof(b)), "SIGUSR1");
	assert_string_equal(il_signal_name(SIGIO, b, sizeof(b)), "SIGIO");
	assert_string_equal(il_signal_name(SIGRTMIN, b, sizeof(b)), "SIGRTMIN");
	assert_string_equal(il_signal_name(SIGRTMIN + 3, b, sizeof(b)), "SIGRTMIN+3");
	assert_string_equal(il_signal_name(32, b, sizeof(b)), "SIG32");
	assert_string_equal(il_signal_name(99, b, sizeof(b)), "signal 99");
}

/* sys_full_io_retries: short transfers and EINTR are retried until every byte moved;
 * end of file before the count is -EPIPE. */
static void sys_full_io_retries(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	const char msg[] = "0123456789";
	char got[sizeof(msg)] = "";
	eintr_write = 1;
	short_write = 3;
	assert_int_equal(il_write_full(p[1], msg, sizeof(msg)), 0);
	eintr_read = 1;
	assert_int_equal(il_read_full(p[0], got, sizeof(got)), 0);
	assert_string_equal(got, msg);
	assert_int_equal(il_write_full(p[1], "ab", 2), 0);
	(void)close(p[1]);
	assert_int_equal(il_read_full(p[0], got, 5), -EPIPE);
	(void)close(p[0]);
	assert_int_equal(il_write_full(p[1], "x", 1), -EBADF);
}

/* sys_read_file: a /proc file whole and NUL-terminated; a missing one is -ENOENT. */
static void sys_read_file(void **state)
{
	char buf[1024];
	struct il_proc_stat st;
	assert_true(il_read_file("/proc/self/stat", buf, sizeof(buf)) > 0);
	assert_int_equal(il_proc_stat_parse(buf, &st), 0);
	assert_int_equal(il_read_file("/proc/self/no-such-file", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(il_read_file("/proc/self/stat", buf, 4), 3);
	assert_int_equal(strlen(buf), 3);
}

/* sys_allowed_cpus: the mask's CPUs lowest first, at most n of them written, the count
 * of all returned; under a one-CPU mask (the highest allowed CPU) that CPU alone. */
static void sys_allowed_cpus(void **state)
{
	(void)state;
	cpu_set_t mask;
	assert_int_equal(sched_getaffinity(0, sizeof(mask), &mask), 0);
	int want[CPU_SETSIZE], k = 0;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &mask))
			want[k++] = i;
	int cpu[3] = { -7, -7, -7 };
	assert_int_equal(il_allowed_cpus(cpu, 2), k);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cpu[i], i < 2 && i < k ? want[i] : -7);
	assert_int_equal(il_allowed_cpus(cpu, 0), k);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(want[k - 1], &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	cpu[0] = cpu[1] = -7;
	int got = il_allowed_cpus(cpu, 2);
	assert_int_equal(sched_setaffinity(0, sizeof(mask), &mask), 0);
	assert_int_equal(got, 1);
	assert_int_equal(cpu[0], want[k - 1]);
	assert_int_equal(cpu[1], -7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sys_waitpid_retries_eintr),
		cmocka_unit_test(sys_waitpid_negative_errno),
		cmocka_unit_test(sys_child_ended_leaves_zombie),
		cmocka_unit_test(sys_reap_all_counts),
		cmocka_unit_test(sys_wait_status_text),
		cmocka_unit_test(sys_proc_stat_parse_odd_comm),
		cmocka_unit_test(sys_proc_stat_self_and_gone),
		cmocka_unit_test(sys_futex_results),
		cmocka_unit_test(sys_signal_names),
		cmocka_unit_test(sys_full_io_retries),
		cmocka_unit_test(sys_read_file),
		cmocka_unit_test(sys_allowed_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
