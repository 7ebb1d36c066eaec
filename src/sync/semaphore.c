/* semaphore.c - "ipclab sync semaphore": a counting semaphore (unnamed POSIX, pshared in
 * process mode) with K permits guards a region that W workers enter R times each, holding
 * it U microseconds (asleep). Each worker counts itself in and out of the region with an
 * atomic occupancy counter and keeps the maximum: with the semaphore it never exceeds K
 * (checked); with --sync none it reaches W when W > K (reported, not a failure). The main
 * process samples sem_getvalue(3) and the occupancy while they run (a series of bounded
 * size); each worker times its acquire wait (histogram).
 * Fault injection: --kill-holder (process mode) kills worker 0 inside the region halfway:
 * its permit is never returned (a semaphore has no owner); the parent notices, raises the
 * abort flag, the workers stop waiting, the run exits 1.
 * Events (ipclab_lock.h): with the semaphore and R*W <= --trace-limit, 3 per round per
 * worker (lock_request, lock_acquire, lock_release; lock 0, kind "sem"). */
#include "sync.h"
#include "syncstat.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMMON (IL_C_MODE)
#define MAX_WORKERS 64
#define SERIES_CAP 256
#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)

enum { SEM_SEM, SEM_NONE };
static const char *const sem_kinds[] = { "sem", "none", NULL };

struct wslot {
	struct il_hist wait;  /* acquire wait, ns */
	uint64_t rounds;      /* rounds completed */
	int status;
} __attribute__((aligned(64)));

struct shared {
	struct il_barrier gate;
	volatile int abort;
	uint32_t finished;    /* workers that returned */
	sem_t sem;
	uint32_t inside __attribute__((aligned(64)));
	uint32_t max_inside;
	struct wslot slot[];
};

struct params {
	struct shared *sh;
	int kind;
	uint64_t rounds, hold_ns;
	bool trace, kill_holder;
};

struct warg {
	const struct params *p;
	unsigned idx;
};

/* sem_wait in slices, giving up when the abort flag is raised. 0, or -1 (aborted/error). */
static int acquire(struct shared *sh)
{
	if (sem_trywait(&sh->sem) == 0)
		return 0;
	for (;;) {
		if (errno != EAGAIN && errno != ETIMEDOUT && errno != EINTR)
			return -1;
		if (sl_aborted(&sh->abort))
			return -1;
		uint64_t t = il_now_ns() + SL_SLICE_NS;
		struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
		if (sem_clockwait(&sh->sem, CLOCK_MONOTONIC, &ts) == 0)
			return 0;
	}
}

/* Raises *max to at least v. */
static void atomic_max(uint32_t *max, uint32_t v)
{
	uint32_t m = __atomic_load_n(max, __ATOMIC_RELAXED);
	while (v > m && !__atomic_compare_exchange_n(max, &m, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static int sem_worker(void *arg)
{
	const struct warg *w = arg;
	const struct params *p = w->p;
	struct shared *sh = p->sh;
	struct wslot *s = &sh->slot[w->idx];
	const bool use_sem = p->kind == SEM_SEM, tr = p->trace && use_sem;
	const uint64_t kill_at = p->kill_holder && w->idx == 0 ? p->rounds / 2 : UINT64_MAX;

	il_set_task_name("ipclab-sem");
	s->status = IL_OK;
	if (il_barrier_wait(&sh->gate) < 0) {
		s->status = IL_FAIL;
		goto out;
	}
	for (uint64_t r = 0; r < p->rounds; r++) {
		if (sl_aborted(&sh->abort)) {
			s->status = IL_FAIL;
			break;
		}
		/* the wait is timed between the two events, which carry its stamps */
		if (use_sem && tr)
			lttng_ust_tracepoint(ipclab_lock, lock_request, 0, "sem");
		uint64_t t0 = il_now_ns();
		if (use_sem && acquire(sh) < 0) {
			s->status = IL_FAIL;
			break;
		}
		uint64_t t1 = il_now_ns();
		if (use_sem && tr)
			lttng_ust_tracepoint(ipclab_lock, lock_acquire, 0, "sem", t0, t1);
		il_hist_add(&s->wait, t1 - t0);
		atomic_max(&sh->max_inside, __atomic_add_fetch(&sh->inside, 1, __ATOMIC_ACQ_REL));
		if (r == kill_at)
			(void)raise(SIGKILL); /* fault injection: die inside, permit in hand */
		if (p->hold_ns)
			sp_sleep_ns(p->hold_ns);
		(void)__atomic_sub_fetch(&sh->inside, 1, __ATOMIC_ACQ_REL);
		if (use_sem) {
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_release, 0, "sem");
			(void)sem_post(&sh->sem);
		}
		s->rounds = r + 1;
	}
out:
	__atomic_add_fetch(&sh->finished, 1, __ATOMIC_RELEASE);
	return s->status;
}

/* True if a worker process already died of a signal (the sampler must stop). */
static bool worker_killed(int mode)
{
	if (mode != IL_MODE_PROCESS)
		return false;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid &&
	       (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED);
}

static int semaphore_run(int argc, char **argv)
{
	int kind = SEM_SEM;
	uint64_t permits = 2, workers = 4, hold_us = 200, rounds = 50, limit = 10000;
	bool kill_holder = false;
	const struct il_opt opts[] = {
		{ "permits", IL_OPT_U64, "K", "the semaphore's initial value: workers allowed inside at once (default 2)",
		  1, MAX_WORKERS, NULL, &permits },
		{ "workers", IL_OPT_U64, "W", "workers entering the region (default 4)", 1, MAX_WORKERS, NULL, &workers },
		{ "sync", IL_OPT_CHOICE, "KIND", "sem (a counting semaphore guards the region) or none (it does not)",
		  0, 0, sem_kinds, &kind },
		{ "hold-us", IL_OPT_U64, "U", "microseconds each worker stays inside, asleep (default 200)", 0, 1000000, NULL, &hold_us },
		{ "rounds", IL_OPT_U64, "R", "times each worker enters (default 50)", 1, 1000000, NULL, &rounds },
		{ "trace-limit", IL_OPT_U64, "L", "emit the per-round events only when R*W <= L (default 10000)",
		  0, 100000000, NULL, &limit },
		{ "kill-holder", IL_OPT_FLAG, NULL, "fault injection (process mode): worker 0 SIGKILLs itself inside "
		  "the region halfway through; the run must detect it and exit 1", 0, 0, NULL, &kill_holder },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "A counting semaphore with K permits guards a region W workers enter R times:\n"
			       "the most workers seen inside at once (<= K checked), sem_getvalue over time,\n"
			       "the acquire wait histogram; with --sync none the bound is broken (reported).",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	il_jset(x.params, "permits", json_integer((json_int_t)permits));
	il_jset(x.params, "workers", json_integer((json_int_t)workers));
	il_jset(x.params, "sync", json_string(sem_kinds[kind]));
	il_jset(x.params, "hold_us", json_integer((json_int_t)hold_us));
	il_jset(x.params, "rounds", json_integer((json_int_t)rounds));
	il_jset(x.params, "trace_limit", json_integer((json_int_t)limit));
	il_jset(x.params, "kill_holder", json_boolean(kill_holder));
	if (kill_holder && c->mode != IL_MODE_PROCESS) {
		return il_ctx_usage(&x, "--kill-holder needs --mode process (a thread cannot be killed alone)");
	}
	const unsigned W = (unsigned)workers;
	const bool tr = rounds * W <= limit;
	size_t shsize = sizeof(struct shared) + W * sizeof(struct wslot);
	struct shared *sh = il_shared_alloc(shsize);
	struct warg *args = calloc(W, sizeof(*args));
	struct ss_point *pts = calloc(SERIES_CAP, sizeof(*pts));
	struct il_hist *wait = malloc(sizeof(*wait));
	struct sp_pool pool = { .victim = -1 };
	bool sem_ok = false;
	int rc = IL_OK;
	if (!sh || !args || !pts || !wait) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(wait, HIST_MAX_NS);
	for (unsigned i = 0; i < W; i++)
		il_hist_init(&sh->slot[i].wait, HIST_MAX_NS);
	if (sem_init(&sh->sem, c->mode == IL_MODE_PROCESS, (unsigned)permits) < 0) {
		il_errno("sem_init failed");
		rc = il_exit_for_errno(errno);
		goto out;
	}
	sem_ok = true;
	struct params p = { .sh = sh, .kind = kind, .rounds = rounds, .hold_ns = hold_us * 1000, .trace = tr,
			    .kill_holder = kill_holder };
	for (unsigned i = 0; i < W; i++)
		args[i] = (struct warg){ &p, i };
	/* Sample about twice per hold (at least every 10 ms, at most every 50 us). */
	uint64_t period = hold_us * 500;
	period = period < 50000 ? 50000 : period > 10000000 ? 10000000 : period;
	struct ss_series ser;
	ss_series_init(&ser, pts, SERIES_CAP);
	int vmin = (int)permits;

	il_guard_install((unsigned)c->timeout_s);
	lttng_ust_tracepoint(ipclab_run, run_begin, x.experiment, sem_kinds[kind], c->mode, 0, rounds, 0);
	rc = sp_start(&pool, W, c->mode, sem_worker, args, sizeof(*args), &sh->abort, &sh->gate);
	if (rc == IL_OK) {
		while (__atomic_load_n(&sh->finished, __ATOMIC_ACQUIRE) < W && !worker_killed(c->mode)) {
			int v = -1;
			if (kind == SEM_SEM && sem_getvalue(&sh->sem, &v) == 0 && v < vmin)
				vmin = v;
			ss_series_add(&ser, il_now_ns() - sh->gate.t_release, v,
				      (int64_t)__atomic_load_n(&sh->inside, __ATOMIC_RELAXED));
			sp_sleep_ns(period);
		}
		rc = sp_join(&pool);
	}
	uint64_t t_end = il_now_ns();
	lttng_ust_tracepoint(ipclab_run, run_end, x.experiment, sem_kinds[kind], 0, rc);
	il_guard_disarm();

	uint64_t acquires = 0;
	for (unsigned i = 0; i < W; i++) {
		acquires += sh->slot[i].rounds;
		il_hist_merge(wait, &sh->slot[i].wait);
	}
	int vfinal = -1;
	if (kind == SEM_SEM)
		(void)sem_getvalue(&sh->sem, &vfinal);
	const uint32_t maxin = sh->max_inside;
	json_t *checks = json_object();
	char killed[256] = "";
	if (pool.victim >= 0) {
		(void)snprintf(killed, sizeof(killed), "worker %d (pid %d) was killed by SIG%s inside the region; "
			       "its permit was never returned (semaphore value %d of %" PRIu64 "), the others were stopped",
			       pool.victim, (int)pool.victim_pid, sp_signame(pool.victim_sig), vfinal, permits);
		il_fail("%s", killed);
		il_jset(checks, "no_worker_killed", json_false());
		rc = IL_FAIL;
	}
	if (kind == SEM_SEM) {
		bool bound = maxin <= permits;
		il_jset(checks, "max_inside_le_permits", json_boolean(bound));
		if (!bound) {
			il_fail("%u workers were inside at once with %" PRIu64 " permits", maxin, permits);
			rc = IL_FAIL;
		}
		if (pool.victim < 0 && rc == IL_OK) {
			bool back = vfinal == (int)permits;
			il_jset(checks, "all_permits_returned", json_boolean(back));
			if (!back) {
				il_fail("the semaphore ended at %d, not %" PRIu64, vfinal, permits);
				rc = IL_FAIL;
			}
		}
	}
	if (pool.victim < 0 && rc == IL_OK) {
		bool all = acquires == rounds * W;
		il_jset(checks, "all_rounds_done", json_boolean(all));
		if (!all) {
			il_fail("%" PRIu64 " rounds done of %" PRIu64, acquires, rounds * W);
			rc = IL_FAIL;
		}
	}
	json_t *points = json_array();
	for (unsigned i = 0; i < ser.n; i++)
		(void)json_array_append_new(points, json_pack("[I o I]", (json_int_t)pts[i].t_ns,
			pts[i].a >= 0 ? json_integer(pts[i].a) : json_null(), (json_int_t)pts[i].b));
	const double wall = (double)(t_end - sh->gate.t_release);
	il_jset(x.results, "max_inside", json_integer(maxin));
	il_jset(x.results, "permits", json_integer((json_int_t)permits));
	il_jset(x.results, "bound_exceeded", json_boolean(maxin > permits));
	il_jset(x.results, "exceeded_by", json_integer(maxin > permits ? (json_int_t)(maxin - permits) : 0));
	il_jset(x.results, "acquires", json_integer((json_int_t)acquires));
	il_jset(x.results, "wait", il_json_summary(wait));
	il_jset(x.results, "wall_ns", json_integer((json_int_t)wall));
	il_jset(x.results, "sem_value_min", kind == SEM_SEM ? json_integer(vmin) : json_null());
	il_jset(x.results, "sem_value_final", kind == SEM_SEM ? json_integer(vfinal) : json_null());
	il_jset(x.results, "series", json_pack("{ss sI sI sI so}",
		"columns", "t_ns since start, sem_getvalue (null without a semaphore), workers inside",
		"period_ns", (json_int_t)period, "kept_every", (json_int_t)ser.every, "samples", (json_int_t)ser.seen,
		"points", points));
	il_jset(x.results, "killed", *killed ? json_pack("{sI sI ss ss}", "worker", (json_int_t)pool.victim,
		"pid", (json_int_t)pool.victim_pid, "signal", sp_signame(pool.victim_sig), "detected", killed) : json_null());
	il_jset(x.results, "checks", checks);
	il_jset(x.results, "trace", json_pack("{sb si}", "per_round_events", tr && kind == SEM_SEM,
		"events_per_round", tr && kind == SEM_SEM ? 3 : 0));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		struct il_summary s;
		il_hist_summary(wait, &s);
		printf("sync semaphore: %s, %" PRIu64 " permits, %u workers x %" PRIu64 " rounds holding %" PRIu64
		       " us, %s mode%s\n", kind == SEM_SEM ? "counting semaphore" : "no semaphore", permits, W, rounds,
		       hold_us, c->mode == IL_MODE_THREAD ? "thread" : "process", il_trace_loaded() ? ", traced" : "");
		printf("  max inside at once %u (permits %" PRIu64 ")%s\n", maxin, permits,
		       maxin > permits ? ": bound exceeded, nothing kept them out" : "");
		if (kind == SEM_SEM)
			printf("  sem_getvalue: min %d, final %d; %u samples kept of %" PRIu64 "\n", vmin, vfinal, ser.n, ser.seen);
		printf("  acquire wait ns: count %" PRIu64 " p50 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "; wall %.1f ms\n",
		       s.count, s.p50, s.p99, s.max, wall / 1e6);
		if (*killed)
			printf("  killed: %s\n", killed);
	}
out:
	if (sem_ok)
		(void)sem_destroy(&sh->sem);
	sp_free(&pool);
	free(args);
	free(pts);
	free(wait);
	il_shared_free(sh, shsize);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_sync_semaphore = {
	.group = "sync",
	.name = "semaphore",
	.summary = "a counting semaphore bounds how many workers are inside (max seen, sem_getvalue series, wait)",
	.run = semaphore_run,
};
