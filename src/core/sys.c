/* sys.c - OS idioms written once (sys.h): -errno on failure, no logging. */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __SIGRTMIN
#define __SIGRTMIN 32
#endif

pid_t il_waitpid(pid_t pid, int *status, int flags)
{
	pid_t r;
	while ((r = waitpid(pid, status, flags)) < 0 && errno == EINTR)
		;
	return r < 0 ? -errno : r;
}

int il_reap_all(void)
{
	int n = 0, saved = errno;
	for (;;) {
		if (waitpid(-1, NULL, __WALL) > 0)
			n++;
		else if (errno != EINTR)
			break;
	}
	errno = saved;
	return n;
}

pid_t il_child_ended(pid_t pid, bool block)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
	idtype_t type = pid < 0 ? P_ALL : P_PID;
	int r;
	while ((r = waitid(type, pid < 0 ? 0 : (id_t)pid, &si, flags)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
	return si.si_pid; /* 0 when WNOHANG found none ended */
}

const char *il_wait_status_text(int st, char *buf, size_t len)
{
	char name[IL_SIGNAME_MAX];
	if (WIFEXITED(st))
		(void)snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		(void)snprintf(buf, len, "killed by signal %d (%s%s)", WTERMSIG(st),
			       il_signal_name(WTERMSIG(st), name, sizeof(name)), WCOREDUMP(st) ? ", core dumped" : "");
	else if (WIFSTOPPED(st))
		(void)snprintf(buf, len, "stopped by signal %d (%s)", WSTOPSIG(st),
			       il_signal_name(WSTOPSIG(st), name, sizeof(name)));
	else
		(void)snprintf(buf, len, "wait status 0x%x", (unsigned)st);
	return buf;
}

int il_proc_stat_parse(const char *line, struct il_proc_stat *st)
{
	const char *rp = strrchr(line, ')');
	if (!rp)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	/* fields 3.. of proc(5): state ppid pgrp session tty_nr tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue
	 * starttime vsize rss rsslim startcode endcode startstack kstkesp kstkeip signal
	 * blocked sigignore sigcatch wchan nswap cnswap exit_signal processor */
	int ppid, n = sscanf(rp + 1, " %c %d %*s %*s %*s %*s %*s %lu %*s %lu %*s %" SCNu64 " %" SCNu64
			     " %*s %*s %*s %*s %ld %*s %" SCNu64 " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
			     " %*s %*s %*s %*s %*s %d",
			     &st->state, &ppid, &st->minflt, &st->majflt, &st->utime, &st->stime, &st->num_threads,
			     &st->starttime, &st->processor);
	if (n < 2)
		return -EINVAL;
	st->ppid = (pid_t)ppid;
	if (n < 9)
		st->processor = -1;
	return 0;
}

int il_proc_stat_fd(int fd, struct il_proc_stat *st)
{
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENOENT; /* the task is gone: its stat file reads empty */
	buf[n] = 0;
	return il_proc_stat_parse(buf, st);
}

int il_proc_stat(pid_t pid, struct il_proc_stat *st)
{
	char path[40];
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = il_proc_stat_fd(fd, st);
	(void)close(fd);
	return r;
}

static int futex_op(uint32_t *word, int op, uint32_t val, const struct timespec *ts, bool shared)
{
	if (!shared)
		op |= FUTEX_PRIVATE_FLAG;
	long r = syscall(SYS_futex, word, op, val, ts, NULL, FUTEX_BITSET_MATCH_ANY);
	return r < 0 ? -errno : (int)r;
}

int il_futex_wait(uint32_t *word, uint32_t val, const struct timespec *rel, bool shared)
{
	return futex_op(word, FUTEX_WAIT, val, rel, shared);
}

int il_futex_wait_until(uint32_t *word, uint32_t val, const struct timespec *deadline, bool shared)
{
	return futex_op(word, FUTEX_WAIT_BITSET, val, deadline, shared);
}

int il_futex_wake(uint32_t *word, int n, bool shared)
{
	return futex_op(word, FUTEX_WAKE, (uint32_t)n, NULL, shared);
}

const char *il_signal_name(int sig, char *buf, size_t len)
{
	/* sigabbrev_np says "POLL" for SIGIO (the same number): kill -l and signal(7) say IO. */
	const char *n = sig == SIGIO ? "IO" : sig > 0 && sig < __SIGRTMIN ? sigabbrev_np(sig) : NULL;
	if (n)
		(void)snprintf(buf, len, "SIG%s", n);
	else if (sig >= __SIGRTMIN && sig < SIGRTMIN)
		(void)snprintf(buf, len, "SIG%d", sig);
	else if (sig == SIGRTMIN)
		(void)snprintf(buf, len, "SIGRTMIN");
	else if (sig > SIGRTMIN && sig <= SIGRTMAX)
		(void)snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		(void)snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* il_write_full and il_read_full (the message loops', and every other whole write or read)
 * go through syscall(2), not glibc's write() and read(). Those are cancellation points: in
 * a process that has ever had a second thread (an experiment's has its watchdog thread, and
 * a fork child keeps glibc 2.36's "multiple threads" flag), each call is wrapped in __pthread_enable_asynccancel /
 * __pthread_disable_asynccancel, two atomic read-modify-writes: 8 per pipe round trip, about
 * 200 of ipclab's 637 user-space instructions per round trip (callgrind), which perf bench
 * sched pipe's single-threaded processes never run. ipclab cancels no thread, so nothing
 * is lost. */
static ssize_t raw_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static ssize_t raw_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

int il_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = raw_write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int il_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = raw_read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int il_allowed_cpus(int cpu[], int n)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	for (int i = 0, k = 0; i < CPU_SETSIZE && k < n; i++)
		if (CPU_ISSET(i, &set))
			cpu[k++] = i;
	return CPU_COUNT(&set);
}

ssize_t il_read_file(const char *path, char *buf, size_t len)
{
	if (len == 0)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			(void)close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	(void)close(fd);
	buf[n] = 0;
	return (ssize_t)n;
}
