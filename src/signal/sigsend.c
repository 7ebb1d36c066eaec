/* sigsend.c - sending signals and what is pending (sigsend.h). */
#include "sigsend.h"
#include "../core/cleanup.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/spawn.h"
#include "../core/sys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sig_target_self(struct sig_target *t, int mode)
{
	t->mode = mode;
	t->pid = getpid();
	t->tid = (pid_t)syscall(SYS_gettid);
	t->thread = pthread_self();
}

int sig_target_id(const struct sig_target *t)
{
	return t->mode == IL_MODE_THREAD ? (int)t->tid : (int)t->pid;
}

int sig_send(const struct sig_target *t, int sig, bool queue, uint64_t value)
{
	union sigval v = { .sival_ptr = (void *)(uintptr_t)value };
	if (t->mode == IL_MODE_THREAD) {
		if (queue) {
			/* rt_tgsigqueueinfo(2) with si_code SI_QUEUE, si_pid/si_uid ours */
			int e = pthread_sigqueue(t->thread, sig, v);
			if (e) {
				errno = e;
				return -1;
			}
			return 0;
		}
		return (int)syscall(SYS_tgkill, (int)t->pid, (int)t->tid, sig);
	}
	return queue ? sigqueue(t->pid, sig, v) : kill(t->pid, sig);
}

const char *sig_send_call(int mode, bool queue)
{
	if (mode == IL_MODE_THREAD)
		return queue ? "pthread_sigqueue" : "tgkill";
	return queue ? "sigqueue" : "kill";
}

int sig_expected_code(int mode, bool queue)
{
	if (queue)
		return SI_QUEUE;
	return mode == IL_MODE_THREAD ? SI_TKILL : SI_USER;
}

const char *sig_code_name(int code, char *buf, size_t len)
{
	const char *n = NULL;
	switch (code) {
	case SI_USER: n = "SI_USER"; break;
	case SI_KERNEL: n = "SI_KERNEL"; break;
	case SI_QUEUE: n = "SI_QUEUE"; break;
	case SI_TIMER: n = "SI_TIMER"; break;
	case SI_MESGQ: n = "SI_MESGQ"; break;
	case SI_ASYNCIO: n = "SI_ASYNCIO"; break;
	case SI_SIGIO: n = "SI_SIGIO"; break;
	case SI_TKILL: n = "SI_TKILL"; break;
	}
	if (n)
		(void)snprintf(buf, len, "%s", n);
	else
		(void)snprintf(buf, len, "si_code %d", code);
	return buf;
}

int sig_queue_count(long *pending, long *limit)
{
	char buf[4096];
	if (il_read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	const char *q = strstr(buf, "\nSigQ:");
	return q && sscanf(q, "\nSigQ: %ld/%ld", pending, limit) == 2 ? 0 : -1;
}

unsigned sig_drain(const sigset_t *set)
{
	static const struct timespec zero = { 0, 0 };
	unsigned n = 0;
	while (sigtimedwait(set, NULL, &zero) > 0)
		n++;
	return n;
}
