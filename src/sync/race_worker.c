/* race_worker.c - what each worker of "sync race" does: wait for the others at the
 * start barrier (twice: released together, then a handshake), then N increments of the
 * shared counter, each a read, --delay iterations of busy work and a write, under the
 * lock if there is one; without a lock on distinct CPUs, in lockstep with the others. */
#include "race.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

/* The first worker to finish takes a snapshot of everyone's progress. */
static void first_finish(struct shared *sh, const struct job *p, unsigned idx)
{
	int none = -1;
	if (!__atomic_compare_exchange_n(&sh->first_done, &none, (int)idx, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	for (unsigned i = 0; i < p->workers; i++)
		sh->slot[i].snap = __atomic_load_n(&sh->slot[i].done, __ATOMIC_RELAXED);
}

/* Stops this worker because the lock said so; returns its exit code. */
static int lock_failed(struct shared *sh, struct slot *s, struct sl_handle *h, unsigned idx, int lr)
{
	s->lock_result = lr;
	if (lr == SL_OWNERDEAD) {
		/* pthread_mutex_consistent(3): we own it now; mark it usable and let go. */
		int none = -1;
		(void)__atomic_compare_exchange_n(&sh->ownerdead_by, &none, (int)idx, false, __ATOMIC_ACQ_REL,
						  __ATOMIC_ACQUIRE);
		sl_raise_abort(&sh->abort);
		(void)pthread_mutex_consistent(&sh->lock.u.mutex);
		(void)sl_unlock(h);
		return IL_FAIL;
	}
	if (lr == SL_ERROR) {
		s->err = errno;
		sl_raise_abort(&sh->abort);
	}
	return IL_FAIL;
}

/* One increment: read, delay, write (or one fetch-and-add). i == kill_at dies inside. */
static inline void increment(const struct job *p, struct shared *sh, uint32_t idx, bool kill)
{
	uint64_t v;
	if (p->kind == SL_ATOMIC) {
		/* one read-modify-write instruction: there is no "inside" for the delay */
		sl_busy(p->delay);
		if (kill)
			(void)raise(SIGKILL); /* fault injection */
		v = __atomic_fetch_add(&sh->counter, 1, __ATOMIC_RELAXED);
		if (p->trace) {
			lttng_ust_tracepoint(ipclab_lock, race_read, idx, v);
			lttng_ust_tracepoint(ipclab_lock, race_write, idx, v + 1);
		}
		return;
	}
	/* separate load and store (relaxed atomics: the race is on purpose, not UB) */
	v = __atomic_load_n(&sh->counter, __ATOMIC_RELAXED);
	if (p->trace)
		lttng_ust_tracepoint(ipclab_lock, race_read, idx, v);
	if (kill)
		(void)raise(SIGKILL); /* fault injection: die holding the lock */
	sl_busy(p->delay);
	__atomic_store_n(&sh->counter, v + 1, __ATOMIC_RELAXED);
	if (p->trace)
		lttng_ust_tracepoint(ipclab_lock, race_write, idx, v + 1);
}

/* Lockstep: before increment i (a multiple of the chunk), waits until every other worker
 * has done more than i - chunk increments or finished, so a worker the scheduler took
 * off its CPU (or that left the start barrier late) does not leave the other to run its
 * whole loop alone: the first wait is for everyone to have begun. It waits spinning,
 * on its CPU, so both run as soon as the late one is back. False when aborted. */
static bool catch_up(const struct job *p, struct shared *sh, uint32_t idx, uint64_t i, struct slot *s)
{
	const uint64_t need = i - p->chunk + 1;
	bool waited = false;
	for (unsigned k = 0; k < p->workers; k++) {
		const uint64_t *d = &sh->slot[k].done;
		uint64_t v;
		for (unsigned polls = 1; k != idx && (v = __atomic_load_n(d, __ATOMIC_RELAXED)) < need && v < p->n; polls++) {
			waited = true;
			il_cpu_relax();
			if ((polls & 1023u) == 0 && sl_aborted(&sh->abort))
				return false;
		}
	}
	s->waits += waited;
	return true;
}

/* The N increments, each under the lock if there is one. Returns the exit code. */
static int race_loop(const struct job *p, struct shared *sh, struct slot *s, struct sl_handle *h, uint32_t idx)
{
	const bool lock = sl_is_lock(p->kind), tr = p->trace;
	const char *kname = sl_kind_names[p->kind];
	const uint64_t kill_at = p->kill_holder && idx == 0 ? p->n / 2 : UINT64_MAX;
	for (uint64_t i = 0; i < p->n; i++) {
		/* With a lock, look at the abort flag only once it is ours: the first locker
		 * after a holder died must meet the lock's own verdict (EOWNERDEAD). */
		if (!lock && sl_aborted(&sh->abort))
			return IL_FAIL;
		if (p->chunk && i && i % p->chunk == 0 && !catch_up(p, sh, idx, i, s))
			return IL_FAIL;
		if (lock) {
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_request, 0, kname);
			int lr = sl_lock(h);
			if (lr != SL_OK)
				return lock_failed(sh, s, h, idx, lr);
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_acquire, 0, kname, 0, 0);
			if (sl_aborted(&sh->abort)) {
				(void)sl_unlock(h);
				return IL_FAIL;
			}
		}
		increment(p, sh, idx, i == kill_at);
		if (lock) {
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_release, 0, kname);
			if (sl_unlock(h) < 0) {
				__atomic_store_n(&s->done, i + 1, __ATOMIC_RELAXED);
				return lock_failed(sh, s, h, idx, SL_ERROR);
			}
		}
		__atomic_store_n(&s->done, i + 1, __ATOMIC_RELAXED);
	}
	return IL_OK;
}

int race_worker(void *arg)
{
	const struct warg *w = arg;
	const struct job *p = w->p;
	struct shared *sh = p->sh;
	struct slot *s = &sh->slot[w->idx];
	struct sl_handle h;

	il_set_task_name("ipclab-race");
	s->pid = getpid();
	s->status = IL_OK;
	if (sl_attach(&h, &sh->lock) < 0) {
		s->err = errno;
		s->status = IL_NORES;
		sl_raise_abort(&sh->abort);
	}
	/* released together, then the handshake: all of them are running now */
	if (il_barrier_wait(&sh->gate) < 0 || il_barrier_wait(&sh->gate) < 0 || s->status != IL_OK) {
		sl_detach(&h);
		return s->status != IL_OK ? s->status : IL_FAIL;
	}
	s->cpu_start = il_cpu_now();
	s->t_start = il_now_ns();
	s->status = race_loop(p, sh, s, &h, w->idx);
	s->t_stop = il_now_ns();
	s->cpu_end = il_cpu_now();
	if (s->status == IL_OK)
		first_finish(sh, p, w->idx);
	sl_detach(&h);
	return s->status;
}

