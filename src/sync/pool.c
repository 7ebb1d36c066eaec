/* pool.c - W workers as threads or forked processes (il_spawn), the start barrier that can
 * be aborted (il_barrier; a pthread barrier cannot: one failed spawn would strand the
 * others in it), and
 * a join that takes workers in the order they end, so one killed while holding a lock is
 * noticed at once and the abort flag frees the others. */
#include "sync.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/opts.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Waiting workers poll for this long before they sleep on the futex: a woken sleeper
 * needs tens of microseconds to run, long enough for the first one to finish a small run
 * alone. With no more workers than CPUs they busy-poll (all see the gate open within
 * nanoseconds); with more, they yield between polls so the others get the CPUs. */
#define GATE_POLL_NS (200ull * 1000 * 1000)

int sp_start(struct sp_pool *p, unsigned n, int mode, il_worker_fn fn, void *arg_base,
	     size_t arg_stride, volatile int *abort, struct il_barrier *gate)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->mode = mode;
	p->abort = abort;
	p->gate = gate;
	p->victim = -1;
	(void)il_barrier_init(gate, n + 1); /* the workers and us */
	gate->poll_ns = GATE_POLL_NS;
	p->peer = calloc(n, sizeof(*p->peer));
	p->rc = calloc(n, sizeof(*p->rc));
	if (!p->peer || !p->rc) {
		il_err("out of memory for %u workers", n);
		return IL_NORES;
	}
	int rc = 0;
	for (unsigned i = 0; i < n && !rc; i++) {
		rc = il_spawn(&p->peer[i], mode, -1, fn, (char *)arg_base + i * arg_stride);
		if (!rc)
			p->started++;
	}
	if (rc)
		il_barrier_abort(gate); /* the started ones would wait for the others forever */
	else if (il_barrier_wait(gate) < 0) /* a worker ended first (one line said which) */
		rc = IL_FAIL;
	if (rc) {
		sl_raise_abort(abort);
		(void)sp_join(p);
		return rc;
	}
	return 0;
}

/* Index of the started worker with this pid, -1 if none. */
static int find_pid(struct sp_pool *p, pid_t pid)
{
	for (unsigned i = 0; i < p->started; i++)
		if (p->peer[i].running && p->peer[i].pid == pid)
			return (int)i;
	return -1;
}

int sp_join(struct sp_pool *p)
{
	int first = 0;
	unsigned left = 0;
	for (unsigned i = 0; i < p->started; i++)
		left += p->peer[i].running;
	while (left) {
		int i = 0;
		if (p->mode == IL_MODE_PROCESS) {
			/* Which one ends first? Look without reaping; il_join then reaps it. */
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
				if (errno == EINTR)
					continue;
				il_errno("waitid failed");
				break;
			}
			i = find_pid(p, si.si_pid);
			if (i < 0) { /* not one of ours: reap it so it is not returned again */
				(void)waitpid(si.si_pid, NULL, 0);
				continue;
			}
			if ((si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) && p->victim < 0) {
				sl_raise_abort(p->abort);
				p->victim = i;
				p->victim_pid = si.si_pid;
				p->victim_sig = si.si_status;
			}
		} else {
			while (!p->peer[i].running)
				i++;
		}
		p->rc[i] = il_join(&p->peer[i], NULL, 0);
		left--;
		if (p->rc[i] && !first)
			first = p->rc[i];
	}
	if (left) { /* waitid failed: fall back to joining in order */
		for (unsigned i = 0; i < p->started; i++)
			if (p->peer[i].running)
				p->rc[i] = il_join(&p->peer[i], NULL, 0);
	}
	return first;
}

void sp_free(struct sp_pool *p)
{
	free(p->peer);
	free(p->rc);
	p->peer = NULL;
	p->rc = NULL;
}

const char *sp_signame(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "?";
}

void sp_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}
