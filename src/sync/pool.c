/* pool.c - W workers as threads or forked processes (il_spawn), a start gate that can be
 * aborted (a pthread barrier cannot: one failed spawn would strand the others in it), and
 * a join that takes workers in the order they end, so one killed while holding a lock is
 * noticed at once and the abort flag frees the others. */
#include "sync.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/opts.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Shared (not FUTEX_PRIVATE_FLAG) futex ops: the gate lives in MAP_SHARED memory. */
static long futex_wait(uint32_t *w, uint32_t val, const struct timespec *rel)
{
	return syscall(SYS_futex, w, FUTEX_WAIT, val, rel, NULL, 0);
}

static void futex_wake(uint32_t *w)
{
	(void)syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Waiting workers poll for this long before they sleep on the futex: a woken sleeper
 * needs tens of microseconds to run, long enough for the first one to finish a small run
 * alone. With no more workers than CPUs they busy-poll (all see the gate open within
 * nanoseconds); with more, they yield between polls so the others get the CPUs. */
#define GATE_POLL_NS (200ull * 1000 * 1000)

bool sp_gate_wait(struct sp_gate *g)
{
	(void)__atomic_add_fetch(&g->arrived, 1, __ATOMIC_ACQ_REL);
	futex_wake(&g->arrived);
	uint32_t o;
	uint64_t t0 = il_now_ns();
	unsigned polls = 0;
	while ((o = __atomic_load_n(&g->open, __ATOMIC_ACQUIRE)) == 0) {
		if ((++polls & 63u) == 0 && il_now_ns() - t0 > GATE_POLL_NS)
			(void)futex_wait(&g->open, 0, NULL);
		else if (g->spin)
			sl_relax();
		else
			(void)sched_yield();
	}
	return o == 1;
}

/* Opens (how 1) or aborts (how 2) the gate. */
static void gate_release(struct sp_gate *g, uint32_t how)
{
	g->t_open = il_now_ns();
	__atomic_store_n(&g->open, how, __ATOMIC_RELEASE);
	futex_wake(&g->open);
}

/* True if a process worker already ended (it would never arrive at the gate). */
static bool some_worker_ended(struct sp_pool *p)
{
	if (p->mode != IL_MODE_PROCESS)
		return false;
	for (unsigned i = 0; i < p->started; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)p->peer[i].pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
			return true;
	}
	return false;
}

int sp_start(struct sp_pool *p, unsigned n, int mode, il_worker_fn fn, void *arg_base,
	     size_t arg_stride, volatile int *abort, struct sp_gate *gate)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->mode = mode;
	p->abort = abort;
	p->gate = gate;
	p->victim = -1;
	memset(gate, 0, sizeof(*gate));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	gate->spin = ncpu > 0 && n <= (unsigned long)ncpu;
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
	/* Wait for every started worker at the gate (bounded slices: one that died early
	 * never arrives). */
	uint32_t a;
	while (!rc && (a = __atomic_load_n(&gate->arrived, __ATOMIC_ACQUIRE)) < p->started) {
		struct timespec rel = { 0, (long)SL_SLICE_NS };
		(void)futex_wait(&gate->arrived, a, &rel);
		if (some_worker_ended(p)) {
			il_err("a worker ended before the start");
			rc = IL_FAIL;
		}
	}
	if (rc) {
		sl_raise_abort(abort);
		gate_release(gate, 2);
		(void)sp_join(p);
		return rc;
	}
	gate_release(gate, 1);
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
