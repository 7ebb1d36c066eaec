/* workers.c - the sync experiments' worker launcher (workers.h). The start barrier is
 * core's il_barrier with the workers alone as participants: were the main process one
 * too, W workers on W CPUs would be W + 1 participants, too many to spin, and the main
 * process would need a CPU at the very moment the workers should start; a worker left
 * behind then finds the loop of the other one half done. */
#include "workers.h"
#include "lock.h"
#include "../core/log.h"
#include "../core/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Waiting workers poll this long before they sleep on the futex: a woken sleeper needs
 * tens of microseconds to run, long enough for another one to finish a small run alone. */
#define GATE_POLL_NS (200ull * 1000 * 1000)

const char *const sw_policy_names[] = { "option", "spread", "unpinned", NULL };

int sw_start(struct sw_team *t, unsigned n, int mode, const int *cpu, il_worker_fn fn, void *arg_base,
	     size_t arg_stride, volatile int *abort, struct il_barrier *gate)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	t->mode = mode;
	t->abort = abort;
	t->gate = gate;
	t->victim = -1;
	(void)il_barrier_init(gate, n);
	gate->poll_ns = GATE_POLL_NS;
	t->peer = calloc(n, sizeof(*t->peer));
	t->rc = calloc(n, sizeof(*t->rc));
	if (!t->peer || !t->rc) {
		il_err("out of memory for %u workers", n);
		return IL_NORES;
	}
	int rc = 0;
	for (unsigned i = 0; i < n && !rc; i++) {
		rc = il_spawn(&t->peer[i], mode, cpu ? cpu[i] : -1, fn, (char *)arg_base + i * arg_stride);
		if (!rc)
			t->started++;
	}
	if (rc) { /* the started ones would wait at the barrier for the others forever */
		sl_raise_abort(abort);
		il_barrier_abort(gate);
		(void)sw_join(t);
	}
	return rc;
}

int sw_released(struct sw_team *t, uint32_t gens)
{
	struct il_barrier *g = t->gate;
	const struct timespec slice = { 0, (long)SL_SLICE_NS };
	uint32_t gen;
	while ((gen = __atomic_load_n(&g->gen, __ATOMIC_ACQUIRE)) < gens && !__atomic_load_n(&g->aborted, __ATOMIC_ACQUIRE)) {
		(void)il_futex_wait(&g->gen, gen, &slice, true);
		for (unsigned i = 0; i < t->started && t->mode == IL_MODE_PROCESS; i++)
			if (il_child_ended(t->peer[i].pid, false) > 0) { /* it never arrives */
				il_barrier_abort(g);
				break;
			}
	}
	return __atomic_load_n(&g->aborted, __ATOMIC_ACQUIRE) ? -1 : 0;
}

/* Index of the running worker with this pid, -1 if none. */
static int find_pid(const struct sw_team *t, pid_t pid)
{
	for (unsigned i = 0; i < t->started; i++)
		if (t->peer[i].running && t->peer[i].pid == pid)
			return (int)i;
	return -1;
}

/* Process mode: the index of the worker that ends next (left unreaped), -1 when
 * waiting failed. */
static int next_process(struct sw_team *t)
{
	pid_t pid;
	int i = -1;
	while ((pid = il_child_ended(-1, true)) > 0 && (i = find_pid(t, pid)) < 0)
		(void)il_waitpid(pid, NULL, 0); /* not one of ours: reap it so it is not returned again */
	if (pid < 0) {
		errno = (int)-pid;
		il_errno("waitid failed");
	}
	return i;
}

int sw_join(struct sw_team *t)
{
	int first = 0;
	unsigned left = 0;
	for (unsigned i = 0; i < t->started; i++)
		left += t->peer[i].running;
	for (; left; left--) {
		int i = 0;
		if (t->mode == IL_MODE_PROCESS) {
			if ((i = next_process(t)) < 0)
				break;
		} else {
			while (!t->peer[i].running)
				i++;
		}
		t->rc[i] = il_join(&t->peer[i], NULL, 0);
		if (t->mode == IL_MODE_PROCESS && WIFSIGNALED(t->peer[i].wstatus) && t->victim < 0) {
			sl_raise_abort(t->abort); /* the others stop waiting for a lock it held */
			t->victim = i;
			t->victim_pid = t->peer[i].pid;
			t->victim_sig = WTERMSIG(t->peer[i].wstatus);
		}
		if (t->rc[i]) {
			if (!__atomic_load_n(&t->gate->gen, __ATOMIC_ACQUIRE) && t->victim != i)
				il_err("worker %d (pid %d) ended before the start barrier: giving up the run", i,
				       (int)t->peer[i].pid);
			il_barrier_abort(t->gate); /* the others may still wait for it there */
			if (!first)
				first = t->rc[i];
		}
	}
	if (left) /* waitid failed: fall back to joining in order */
		for (unsigned i = 0; i < t->started; i++)
			if (t->peer[i].running)
				t->rc[i] = il_join(&t->peer[i], NULL, 0);
	return first;
}

void sw_free(struct sw_team *t)
{
	free(t->peer);
	free(t->rc);
	t->peer = NULL;
	t->rc = NULL;
}

enum sw_policy sw_place(const struct il_common *c, unsigned n, int *cpu, unsigned *allowed)
{
	int got = il_allowed_cpus(cpu, (int)n);
	*allowed = got > 0 ? (unsigned)got : 0;
	if (c->cpu[0] >= 0) {
		for (unsigned i = 0; i < n; i++)
			cpu[i] = c->cpu[i % IL_MAX_PEERS];
		return SW_OPTION;
	}
	bool spread = *allowed >= n;
	for (unsigned i = 0; !spread && i < n; i++)
		cpu[i] = -1;
	return spread ? SW_SPREAD : SW_UNPINNED;
}

void sw_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}
