/* sigutil.c - helpers shared by the signal experiments. */
#include "sigutil.h"
#include "../core/cleanup.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/spawn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sigu_target_self(struct sigu_target *t, int mode)
{
	t->mode = mode;
	t->pid = getpid();
	t->tid = (pid_t)syscall(SYS_gettid);
	t->thread = pthread_self();
}

int sigu_target_id(const struct sigu_target *t)
{
	return t->mode == IL_MODE_THREAD ? (int)t->tid : (int)t->pid;
}

int sigu_send(const struct sigu_target *t, int sig, bool queue, uint64_t value)
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

const char *sigu_send_call(int mode, bool queue)
{
	if (mode == IL_MODE_THREAD)
		return queue ? "pthread_sigqueue" : "tgkill";
	return queue ? "sigqueue" : "kill";
}

int sigu_expected_code(int mode, bool queue)
{
	if (queue)
		return SI_QUEUE;
	return mode == IL_MODE_THREAD ? SI_TKILL : SI_USER;
}

const char *sigu_name(int sig, char *buf, size_t len)
{
	static const struct { int sig; const char *name; } names[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" },
		{ SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" }, { SIGTTOU, "SIGTTOU" },
		{ SIGURG, "SIGURG" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
		{ SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" }, { SIGWINCH, "SIGWINCH" },
		{ SIGIO, "SIGIO" }, { SIGPWR, "SIGPWR" }, { SIGSYS, "SIGSYS" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig) {
			(void)snprintf(buf, len, "%s", names[i].name);
			return buf;
		}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			(void)snprintf(buf, len, "SIGRTMIN");
		else
			(void)snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	} else {
		(void)snprintf(buf, len, "signal %d", sig);
	}
	return buf;
}

const char *sigu_code_name(int code, char *buf, size_t len)
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

int sigu_sigq(long *pending, long *limit)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	int rc = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigQ: %ld/%ld", pending, limit) == 2) {
			rc = 0;
			break;
		}
	(void)fclose(f);
	return rc;
}

const char *sigu_wstatus(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		(void)snprintf(buf, len, "exited with %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		(void)snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		(void)snprintf(buf, len, "wait status 0x%x", (unsigned)st);
	return buf;
}

unsigned sigu_drain(const sigset_t *set)
{
	static const struct timespec zero = { 0, 0 };
	unsigned n = 0;
	while (sigtimedwait(set, NULL, &zero) > 0)
		n++;
	return n;
}
