/* race.c - "ipclab sync race": W workers (threads or processes) increment one shared
 * counter N times each; the critical section is a read, --delay iterations of busy work,
 * a write. Without a lock, updates are lost (two workers read the same value, both write
 * value + 1): reported, never a failure. With a lock (or atomic), counter == increments
 * completed == W*N is checked. Fairness is each worker's progress at the moment the
 * first one finished (with a fixed N per worker, the final counts are equal by
 * construction). A start gate releases all workers at once.
 * Fault injection: --kill-holder (process mode) SIGKILLs worker 0 inside its critical
 * section halfway through; the run must detect it (robust mutex: EOWNERDEAD; spin, sem:
 * the abort flag raised when the parent reaps the dead worker; flock: the kernel drops
 * the dead holder's lock), report it, exit 1 and leave nothing behind.
 * Events (ipclab_lock.h): 2 or 5 per increment when W*N <= --trace-limit. */
#include "sync.h"
#include "syncstat.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMON (IL_C_MODE)
#define MAX_WORKERS 64

static const char *const race_kinds[] = { "none", "atomic", "mutex", "spin", "sem", "flock", NULL };

/* One worker's slot, alone on its cache line(s). */
struct slot {
	uint64_t done;       /* increments completed (stored after each one) */
	uint64_t snap;       /* done, as read by the first worker to finish */
	uint64_t t_end;      /* when it finished (0: it did not) */
	int status;          /* IL_OK, or why it stopped */
	int lock_result;     /* the sl_lock() result that stopped it (0 none) */
	int err;             /* errno of a failed lock call */
	pid_t pid;
} __attribute__((aligned(64)));

struct shared {
	struct il_barrier gate;
	volatile int abort;
	int first_done;           /* index of the first worker to finish, -1 */
	int ownerdead_by;         /* worker that got EOWNERDEAD, -1 */
	uint64_t t_first_done;
	struct sl_lock lock;
	uint64_t counter __attribute__((aligned(64)));
	char pad[56];
	struct slot slot[];
};

struct params {
	struct shared *sh;
	unsigned workers;
	uint64_t n, delay;
	int kind;
	bool trace, kill_holder;
};

struct warg {
	const struct params *p;
	unsigned idx;
};

/* The first worker to finish takes a snapshot of everyone's progress. */
static void first_finish(struct shared *sh, const struct params *p, unsigned idx)
{
	int none = -1;
	if (!__atomic_compare_exchange_n(&sh->first_done, &none, (int)idx, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	for (unsigned i = 0; i < p->workers; i++)
		sh->slot[i].snap = __atomic_load_n(&sh->slot[i].done, __ATOMIC_RELAXED);
	sh->t_first_done = il_now_ns();
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

static int race_worker(void *arg)
{
	const struct warg *w = arg;
	const struct params *p = w->p;
	struct shared *sh = p->sh;
	struct slot *s = &sh->slot[w->idx];
	const bool lock = sl_is_lock(p->kind), tr = p->trace;
	const char *kname = sl_kind_names[p->kind];
	const uint32_t idx = w->idx;
	const uint64_t kill_at = p->kill_holder && idx == 0 ? p->n / 2 : UINT64_MAX;
	struct sl_handle h;

	il_set_task_name("ipclab-race");
	s->pid = getpid();
	s->status = IL_OK;
	if (sl_attach(&h, &sh->lock) < 0) {
		s->err = errno;
		s->status = IL_NORES;
		sl_raise_abort(&sh->abort);
	}
	if (il_barrier_wait(&sh->gate) < 0 || s->status != IL_OK) {
		sl_detach(&h);
		return s->status != IL_OK ? s->status : IL_FAIL;
	}
	uint64_t i;
	for (i = 0; i < p->n; i++) {
		/* With a lock, look at the abort flag only once it is ours: the first locker
		 * after a holder died must meet the lock's own verdict (EOWNERDEAD). */
		if (!lock && sl_aborted(&sh->abort)) {
			s->status = IL_FAIL;
			break;
		}
		if (lock) {
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_request, 0, kname);
			int lr = sl_lock(&h);
			if (lr != SL_OK) {
				s->status = lock_failed(sh, s, &h, idx, lr);
				break;
			}
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_acquire, 0, kname, 0, 0);
			if (sl_aborted(&sh->abort)) {
				(void)sl_unlock(&h);
				s->status = IL_FAIL;
				break;
			}
		}
		uint64_t v;
		if (p->kind == SL_ATOMIC) {
			/* one read-modify-write instruction: there is no "inside" for the delay */
			sl_busy(p->delay);
			if (i == kill_at)
				(void)raise(SIGKILL); /* fault injection */
			v = __atomic_fetch_add(&sh->counter, 1, __ATOMIC_RELAXED);
			if (tr) {
				lttng_ust_tracepoint(ipclab_lock, race_read, idx, v);
				lttng_ust_tracepoint(ipclab_lock, race_write, idx, v + 1);
			}
		} else {
			/* separate load and store (relaxed atomics: the race is on purpose, not UB) */
			v = __atomic_load_n(&sh->counter, __ATOMIC_RELAXED);
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, race_read, idx, v);
			if (i == kill_at)
				(void)raise(SIGKILL); /* fault injection: die holding the lock */
			sl_busy(p->delay);
			__atomic_store_n(&sh->counter, v + 1, __ATOMIC_RELAXED);
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, race_write, idx, v + 1);
		}
		if (lock) {
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_release, 0, kname);
			if (sl_unlock(&h) < 0) {
				s->status = lock_failed(sh, s, &h, idx, SL_ERROR);
				__atomic_store_n(&s->done, i + 1, __ATOMIC_RELAXED);
				i++;
				break;
			}
		}
		__atomic_store_n(&s->done, i + 1, __ATOMIC_RELAXED);
	}
	if (i == p->n && s->status == IL_OK) {
		s->t_end = il_now_ns();
		first_finish(sh, p, idx);
	}
	sl_detach(&h);
	return s->status;
}

/* Why the run was stopped, as one sentence, for the message and the JSON. */
static void describe_kill(const struct params *p, const struct sp_pool *pool, char *buf, size_t len)
{
	const struct shared *sh = p->sh;
	int n = snprintf(buf, len, "worker %d (pid %d) was killed by SIG%s", pool->victim, (int)pool->victim_pid,
			 sp_signame(pool->victim_sig));
	if (n < 0 || (size_t)n >= len)
		return;
	const char *how;
	char tmp[160];
	switch (p->kind) {
	case SL_MUTEX:
		if (sh->ownerdead_by >= 0) {
			(void)snprintf(tmp, sizeof(tmp), "; worker %d's next lock returned EOWNERDEAD (robust mutex), "
				       "the others stopped", sh->ownerdead_by);
			how = tmp;
		} else {
			how = "; no locker saw EOWNERDEAD (it did not hold the mutex); the others were stopped";
		}
		break;
	case SL_SPIN:
	case SL_SEM:
		how = "; the parent reaped it and raised the abort flag, so the workers waiting for the "
		      "lock it held gave up (a spinlock or semaphore has no owner to die)";
		break;
	case SL_FLOCK:
		how = "; the kernel released its flock when its file closed, the others were stopped";
		break;
	default:
		how = "; there was no lock to hold, the others were stopped";
	}
	(void)snprintf(buf + n, len - (size_t)n, "%s", how);
}

static int race_run(int argc, char **argv)
{
	int kind = SL_NONE;
	uint64_t workers = 2, n = 1000000, delay = 0, limit = 10000;
	bool kill_holder = false;
	const struct il_opt opts[] = {
		{ "sync", IL_OPT_CHOICE, "KIND", "how the increment is protected: none (lost updates expected), "
		  "atomic (fetch-and-add), mutex (process mode: process-shared robust), spin (pthread_spin), "
		  "sem (unnamed POSIX semaphore), flock (flock(2) on a private temporary file)", 0, 0, race_kinds, &kind },
		{ "workers", IL_OPT_U64, "W", "workers incrementing the counter (default 2)", 1, MAX_WORKERS, NULL, &workers },
		{ "increments", IL_OPT_U64, "N", "increments per worker (default 1000000)", 1, 100000000, NULL, &n },
		{ "delay", IL_OPT_U64, "D", "busy-loop iterations between the read and the write (default 0)", 0, 1000000, NULL, &delay },
		{ "trace-limit", IL_OPT_U64, "L", "emit the per-increment events only when W*N <= L (default 10000)",
		  0, 100000000, NULL, &limit },
		{ "kill-holder", IL_OPT_FLAG, NULL, "fault injection (process mode): worker 0 SIGKILLs itself inside "
		  "its critical section halfway through; the run must detect it and exit 1", 0, 0, NULL, &kill_holder },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "W workers increment one shared counter N times each (read, delay, write):\n"
			       "lost updates without a lock, none with one; throughput and fairness per lock kind.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	if (kill_holder && c->mode != IL_MODE_PROCESS) {
		return il_ctx_usage(&x, "--kill-holder needs --mode process (a thread cannot be killed alone)");
	}
	const unsigned W = (unsigned)workers;
	const bool tr = W * n <= limit;
	const int per_op = sl_is_lock(kind) ? 5 : 2;
	il_jset(x.params, "sync", json_string(race_kinds[kind]));
	il_jset(x.params, "workers", json_integer((json_int_t)W));
	il_jset(x.params, "increments", json_integer((json_int_t)n));
	il_jset(x.params, "delay", json_integer((json_int_t)delay));
	il_jset(x.params, "trace_limit", json_integer((json_int_t)limit));
	il_jset(x.params, "kill_holder", json_boolean(kill_holder));

	size_t shsize = sizeof(struct shared) + W * sizeof(struct slot);
	struct shared *sh = il_shared_alloc(shsize);
	struct warg *args = calloc(W, sizeof(*args));
	struct sp_pool pool = { .victim = -1 };
	int rc = IL_OK;
	if (!sh || !args) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	sh->first_done = -1;
	sh->ownerdead_by = -1;
	struct params p = { .sh = sh, .workers = W, .n = n, .delay = delay, .kind = kind, .trace = tr,
			    .kill_holder = kill_holder };
	for (unsigned i = 0; i < W; i++)
		args[i] = (struct warg){ &p, i };
	il_guard_install((unsigned)c->timeout_s);
	if ((rc = sl_init(&sh->lock, kind, c->mode, c->mode == IL_MODE_PROCESS ? SL_F_ROBUST : 0, &sh->abort)) != 0)
		goto out_guard;

	lttng_ust_tracepoint(ipclab_run, run_begin, x.experiment, race_kinds[kind], c->mode, 0, n, 0);
	rc = sp_start(&pool, W, c->mode, race_worker, args, sizeof(*args), &sh->abort, &sh->gate);
	if (rc == IL_OK)
		rc = sp_join(&pool);
	lttng_ust_tracepoint(ipclab_run, run_end, x.experiment, race_kinds[kind], 0, rc);
	sl_destroy(&sh->lock);
out_guard:
	il_guard_disarm();
	if (!pool.peer) /* sl_init failed: nothing ran */
		goto out;

	uint64_t completed = 0, t_last = 0, t_first = UINT64_MAX;
	uint64_t *snap = calloc(W, sizeof(*snap));
	json_t *per = json_array();
	for (unsigned i = 0; i < W; i++) {
		const struct slot *s = &sh->slot[i];
		completed += s->done;
		if (s->t_end > t_last)
			t_last = s->t_end;
		if (s->t_end && s->t_end < t_first)
			t_first = s->t_end;
		if (snap)
			snap[i] = s->snap;
		(void)json_array_append_new(per, json_pack("{sI sI sI so}", "worker", (json_int_t)i,
			"increments", (json_int_t)s->done, "at_first_finish", (json_int_t)s->snap,
			"finish_ns", s->t_end ? json_integer((json_int_t)(s->t_end - sh->gate.t_release)) : json_null()));
		if (s->lock_result == SL_ERROR && s->err) {
			errno = s->err;
			il_errno("worker %u: %s failed", i, sl_kind_names[kind]);
		}
	}
	const uint64_t expected = W * n, actual = sh->counter;
	const uint64_t lost = completed > actual ? completed - actual : 0;
	struct ss_fair f;
	ss_fairness(snap ? snap : &completed, snap ? W : 1, &f);
	free(snap);
	const bool finished = t_last && rc == IL_OK;
	const double wall = finished ? (double)(t_last - sh->gate.t_release) : 0;
	const double ops = wall > 0 ? (double)completed * 1e9 / wall : 0;

	json_t *checks = json_object();
	char killed[512] = "";
	if (pool.victim >= 0) {
		describe_kill(&p, &pool, killed, sizeof(killed));
		il_fail("%s; counter %" PRIu64 " after %" PRIu64 " completed increments", killed, actual, completed);
		il_jset(checks, "no_worker_killed", json_false());
		rc = IL_FAIL;
	}
	if (kind != SL_NONE) {
		bool ok = actual == completed && completed == expected;
		il_jset(checks, "no_lost_updates", json_boolean(actual == completed));
		il_jset(checks, "all_increments_done", json_boolean(completed == expected));
		if (!ok && pool.victim < 0)
			il_fail("with a %s: counter %" PRIu64 ", %" PRIu64 " increments completed of %" PRIu64,
				race_kinds[kind], actual, completed, expected);
		if (!ok && !rc)
			rc = IL_FAIL;
	}
	il_jset(x.results, "expected", json_integer((json_int_t)expected));
	il_jset(x.results, "completed", json_integer((json_int_t)completed));
	il_jset(x.results, "actual", json_integer((json_int_t)actual));
	il_jset(x.results, "lost_updates", json_integer((json_int_t)lost));
	il_jset(x.results, "lost_fraction", json_real(completed ? (double)lost / (double)completed : 0));
	il_jset(x.results, "wall_ns", finished ? json_integer((json_int_t)wall) : json_null());
	il_jset(x.results, "ops_per_s", finished ? json_real(ops) : json_null());
	il_jset(x.results, "ns_per_increment", finished ? json_real(wall / (double)completed) : json_null());
	il_jset(x.results, "finish_spread_ns", finished ? json_integer((json_int_t)(t_last - t_first)) : json_null());
	il_jset(x.results, "per_worker", per);
	il_jset(x.results, "fairness", json_pack("{ss sI sf sf sf sf}",
		"basis", "increments each worker had done when the first one finished its N",
		"first_finisher", (json_int_t)sh->first_done, "min_share", f.min_share, "max_share", f.max_share,
		"min_over_max", f.min_over_max, "jain", f.jain));
	il_jset(x.results, "lock", json_pack("{ss ss}", "kind", race_kinds[kind], "impl", sh->lock.desc));
	il_jset(x.results, "killed", pool.victim >= 0 ? json_pack("{sI sI ss ss}", "worker", (json_int_t)pool.victim,
		"pid", (json_int_t)pool.victim_pid, "signal", sp_signame(pool.victim_sig), "detected", killed) : json_null());
	il_jset(x.results, "checks", checks);
	il_jset(x.results, "trace", json_pack("{sb si}", "per_increment_events", tr,
		"events_per_increment", tr ? per_op : 0));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		printf("sync race: %s (%s), %s mode, %u workers x %" PRIu64 " increments, delay %" PRIu64 "%s\n",
		       race_kinds[kind], sh->lock.desc, c->mode == IL_MODE_THREAD ? "thread" : "process", W, n, delay,
		       il_trace_loaded() ? ", traced" : "");
		printf("  expected %" PRIu64 ", completed %" PRIu64 ", counter %" PRIu64 ": lost updates %" PRIu64
		       " (%.2f %%)\n", expected, completed, actual, lost, completed ? 100.0 * (double)lost / (double)completed : 0);
		if (finished)
			printf("  wall %.3f ms, %.2f M increments/s (%.1f ns each)\n", wall / 1e6, ops / 1e6,
			       wall / (double)completed);
		printf("  fairness when worker %d finished first: min/max %.3f, Jain %.4f; shares", sh->first_done,
		       f.min_over_max, f.jain);
		for (unsigned i = 0; i < W && i < 16; i++)
			printf(" %.1f%%", f.total ? 100.0 * (double)sh->slot[i].snap / (double)f.total : 0);
		printf("%s\n", W > 16 ? " ..." : "");
		if (*killed)
			printf("  killed: %s\n", killed);
	}
out:
	sp_free(&pool);
	free(args);
	il_shared_free(sh, shsize);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_sync_race = {
	.group = "sync",
	.name = "race",
	.summary = "lost updates on a shared counter without a lock; none with atomic/mutex/spin/sem/flock",
	.run = race_run,
};
