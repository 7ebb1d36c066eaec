/* semaphore.c - "ipclab sync semaphore": a counting semaphore (unnamed POSIX, pshared in
 * process mode) with K permits guards a region that W workers enter R times each, holding
 * it U microseconds (asleep). Each worker counts itself in and out of the region with an
 * atomic occupancy counter and keeps the maximum: with the semaphore it never exceeds K
 * (checked); with --sync none it goes past K when more than K workers run their rounds at
 * once. Workers start together (start barrier, then a handshake) and stamp their rounds'
 * start and end; a run without the semaphore that never had more than K inside is
 * inconclusive (exit 4, with how long more than K were running at all), never a quiet
 * "bound kept". The main process samples sem_getvalue(3) and the occupancy while they
 * run (a series of bounded size); each worker times its acquire wait (histogram).
 * Fault injection: --kill-holder (process mode) kills worker 0 inside the region halfway:
 * its permit is never returned (a semaphore has no owner); the parent notices, raises the
 * abort flag, the workers stop waiting, the run exits 1.
 * Events (ipclab_lock.h): with the semaphore and R*W <= --trace-limit, 3 per round per
 * worker (lock_request, lock_acquire, lock_release; lock 0, kind "sem"). */
#include "lock.h"
#include "syncstat.h"
#include "workers.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 64
#define SERIES_CAP 256
#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)

enum { SEM_SEM, SEM_NONE };
static const char *const sem_kinds[] = { "sem", "none", NULL };

struct sem_cfg {
	int kind;
	uint64_t permits, workers, hold_us, rounds, trace_limit;
	bool kill_holder;
};

struct wslot {
	struct il_hist wait;  /* acquire wait, ns */
	uint64_t rounds;      /* rounds completed */
	uint64_t t_start, t_stop; /* its rounds began, ended (0: never) */
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

/* What the workers read. */
struct job {
	struct shared *sh;
	int kind;
	uint64_t rounds, hold_ns;
	bool trace, kill_holder;
};

struct warg {
	const struct job *p;
	unsigned idx;
};

/* Raises *max to at least v. */
static void atomic_max(uint32_t *max, uint32_t v)
{
	uint32_t m = __atomic_load_n(max, __ATOMIC_RELAXED);
	while (v > m && !__atomic_compare_exchange_n(max, &m, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* The R rounds: acquire (timed), in, hold, out, release. Returns the exit code. */
static int sem_rounds(const struct job *p, struct shared *sh, struct wslot *s, unsigned idx)
{
	const bool use_sem = p->kind == SEM_SEM, tr = p->trace && use_sem;
	const uint64_t kill_at = p->kill_holder && idx == 0 ? p->rounds / 2 : UINT64_MAX;
	for (uint64_t r = 0; r < p->rounds; r++) {
		if (sl_aborted(&sh->abort))
			return IL_FAIL;
		/* the wait is timed between the two events, which carry its stamps */
		if (tr)
			lttng_ust_tracepoint(ipclab_lock, lock_request, 0, "sem");
		uint64_t t0 = il_now_ns();
		if (use_sem && sl_sem_wait(&sh->sem, &sh->abort) != SL_OK)
			return IL_FAIL;
		uint64_t t1 = il_now_ns();
		if (tr)
			lttng_ust_tracepoint(ipclab_lock, lock_acquire, 0, "sem", t0, t1);
		il_hist_add(&s->wait, t1 - t0);
		atomic_max(&sh->max_inside, __atomic_add_fetch(&sh->inside, 1, __ATOMIC_ACQ_REL));
		if (r == kill_at)
			(void)raise(SIGKILL); /* fault injection: die inside, permit in hand */
		if (p->hold_ns)
			sw_sleep_ns(p->hold_ns);
		(void)__atomic_sub_fetch(&sh->inside, 1, __ATOMIC_ACQ_REL);
		if (use_sem) {
			if (tr)
				lttng_ust_tracepoint(ipclab_lock, lock_release, 0, "sem");
			(void)sem_post(&sh->sem);
		}
		s->rounds = r + 1;
	}
	return IL_OK;
}

static int sem_worker(void *arg)
{
	const struct warg *w = arg;
	struct shared *sh = w->p->sh;
	struct wslot *s = &sh->slot[w->idx];
	il_set_task_name("ipclab-sem");
	s->status = IL_FAIL;
	/* released together, then the handshake: all of them are running now */
	if (il_barrier_wait(&sh->gate) == 0 && il_barrier_wait(&sh->gate) == 0) {
		s->t_start = il_now_ns();
		s->status = sem_rounds(w->p, sh, s, w->idx);
		s->t_stop = il_now_ns();
	}
	__atomic_add_fetch(&sh->finished, 1, __ATOMIC_RELEASE);
	return s->status;
}

/* The sampling period: about twice per hold (at least every 10 ms, at most every 50 us). */
static uint64_t sample_period(uint64_t hold_us)
{
	uint64_t period = hold_us * 500;
	return period < 50000 ? 50000 : period > 10000000 ? 10000000 : period;
}

/* The sampler thread: from the workers' release until all returned or the run was
 * aborted (at least once), sem_getvalue and the occupancy into the series, the lowest
 * value into vmin. A thread, so the main one waits in sw_join and notices a killed
 * worker at once. */
struct sampler {
	const struct sem_cfg *sc;
	struct shared *sh;
	struct sw_team *team;
	struct ss_series ser;
	int vmin;
};

static void *sampler(void *arg)
{
	struct sampler *s = arg;
	struct shared *sh = s->sh;
	const uint64_t period = sample_period(s->sc->hold_us);
	if (sw_released(s->team, 2) < 0)
		return NULL;
	for (;;) {
		int v = -1;
		if (s->sc->kind == SEM_SEM && sem_getvalue(&sh->sem, &v) == 0 && v < s->vmin)
			s->vmin = v;
		ss_series_add(&s->ser, il_now_ns() - sh->gate.t_release, v,
			      (int64_t)__atomic_load_n(&sh->inside, __ATOMIC_RELAXED));
		if (__atomic_load_n(&sh->finished, __ATOMIC_ACQUIRE) >= s->sc->workers || sl_aborted(&sh->abort))
			return NULL;
		sw_sleep_ns(period);
	}
}

/* Whether the per-round events are emitted. */
static bool p_traced(const struct sem_cfg *sc)
{
	return sc->rounds * sc->workers <= sc->trace_limit;
}

/* The checks, with the semaphore or after a kill; rc as the workers ended. */
static int sem_checks(const struct sem_cfg *sc, const struct sw_team *team, uint32_t maxin, int vfinal,
		      uint64_t acquires, json_t *checks, int rc)
{
	if (sc->kind == SEM_SEM) {
		bool bound = maxin <= sc->permits;
		il_jset(checks, "max_inside_le_permits", json_boolean(bound));
		if (!bound) {
			il_fail("%u workers were inside at once with %" PRIu64 " permits", maxin, sc->permits);
			rc = IL_FAIL;
		}
		if (team->victim < 0 && rc == IL_OK) {
			bool back = vfinal == (int)sc->permits;
			il_jset(checks, "all_permits_returned", json_boolean(back));
			if (!back) {
				il_fail("the semaphore ended at %d, not %" PRIu64, vfinal, sc->permits);
				rc = IL_FAIL;
			}
		}
	}
	if (team->victim < 0 && rc == IL_OK) {
		bool all = acquires == sc->rounds * sc->workers;
		il_jset(checks, "all_rounds_done", json_boolean(all));
		if (!all) {
			il_fail("%" PRIu64 " rounds done of %" PRIu64, acquires, sc->rounds * sc->workers);
			rc = IL_FAIL;
		}
	}
	return rc;
}

/* Without the semaphore the point is more than K inside: when it did not happen, why
 * (NULL when it did). over_k: how long more than K workers were running their rounds. */
static const char *inconclusive(const struct sem_cfg *sc, uint32_t maxin, uint64_t over_k, char *buf, size_t len)
{
	if (sc->kind != SEM_NONE || maxin > sc->permits)
		return NULL;
	if (sc->workers <= sc->permits)
		(void)snprintf(buf, len, "%" PRIu64 " workers can never be more than %" PRIu64 " permits "
			       "(use --workers above --permits)", sc->workers, sc->permits);
	else if (!over_k)
		(void)snprintf(buf, len, "never more than %" PRIu64 " workers ran their rounds at once: the bound "
			       "could not be broken", sc->permits);
	else
		(void)snprintf(buf, len, "more than %" PRIu64 " workers ran their rounds at once for %" PRIu64
			       " ns, but at most %u were inside together (a longer --hold-us makes it likelier)",
			       sc->permits, over_k, maxin);
	return buf;
}

/* The results (x->results) and the verdict, after the run. */
static int sem_results(struct il_ctx *x, const struct sem_cfg *sc, struct shared *sh, const struct sw_team *team,
		       const struct ss_series *ser, int vmin, uint64_t t_end, int rc)
{
	const unsigned W = (unsigned)sc->workers;
	struct il_hist *wait = malloc(sizeof(*wait));
	if (!wait) {
		il_err("out of memory");
		return IL_NORES;
	}
	il_hist_init(wait, HIST_MAX_NS);
	uint64_t acquires = 0, start[MAX_WORKERS], stop[MAX_WORKERS];
	for (unsigned i = 0; i < W; i++) {
		acquires += sh->slot[i].rounds;
		il_hist_merge(wait, &sh->slot[i].wait);
		start[i] = sh->slot[i].t_start;
		stop[i] = sh->slot[i].t_stop;
	}
	const uint64_t over_k = ss_overlap(start, stop, W, (unsigned)sc->permits + 1);
	int vfinal = -1;
	if (sc->kind == SEM_SEM)
		(void)sem_getvalue(&sh->sem, &vfinal);
	const uint32_t maxin = sh->max_inside;
	json_t *r = x->results, *checks = json_object();
	char killed[256] = "", sig[IL_SIGNAME_MAX], reason[256];
	if (team->victim >= 0) {
		(void)snprintf(killed, sizeof(killed), "worker %d (pid %d) was killed by %s inside the region; "
			       "its permit was never returned (semaphore value %d of %" PRIu64 "), the others were stopped",
			       team->victim, (int)team->victim_pid, il_signal_name(team->victim_sig, sig, sizeof(sig)),
			       vfinal, sc->permits);
		il_fail("%s", killed);
		il_jset(checks, "no_worker_killed", json_false());
		rc = IL_FAIL;
	}
	rc = sem_checks(sc, team, maxin, vfinal, acquires, checks, rc);
	const char *inc = rc == IL_OK ? inconclusive(sc, maxin, over_k, reason, sizeof(reason)) : NULL;
	if (inc) {
		il_err("inconclusive: %s", inc);
		rc = IL_UNSUP;
	}
	json_t *points = json_array();
	for (unsigned i = 0; i < ser->n; i++)
		(void)json_array_append_new(points, json_pack("[I o I]", (json_int_t)ser->pt[i].t_ns,
			ser->pt[i].a >= 0 ? json_integer(ser->pt[i].a) : json_null(), (json_int_t)ser->pt[i].b));
	il_jset(r, "max_inside", json_integer(maxin));
	il_jset(r, "permits", json_integer((json_int_t)sc->permits));
	il_jset(r, "bound_exceeded", json_boolean(maxin > sc->permits));
	il_jset(r, "exceeded_by", json_integer(maxin > sc->permits ? (json_int_t)(maxin - sc->permits) : 0));
	il_jset(r, "over_permits_running_ns", json_integer((json_int_t)over_k));
	il_jset(r, "inconclusive", inc ? json_string(inc) : json_null());
	il_jset(r, "acquires", json_integer((json_int_t)acquires));
	il_jset(r, "wait", il_json_summary(wait));
	il_jset(r, "wall_ns", json_integer((json_int_t)(t_end - sh->gate.t_release)));
	il_jset(r, "sem_value_min", sc->kind == SEM_SEM ? json_integer(vmin) : json_null());
	il_jset(r, "sem_value_final", sc->kind == SEM_SEM ? json_integer(vfinal) : json_null());
	il_jset(r, "series", json_pack("{ss sI sI sI so}",
		"columns", "t_ns since start, sem_getvalue (null without a semaphore), workers inside",
		"period_ns", (json_int_t)sample_period(sc->hold_us), "kept_every", (json_int_t)ser->every,
		"samples", (json_int_t)ser->seen, "points", points));
	il_jset(r, "killed", *killed ? json_pack("{sI sI ss ss}", "worker", (json_int_t)team->victim,
		"pid", (json_int_t)team->victim_pid, "signal", sigabbrev_np(team->victim_sig) ?: "?",
		"detected", killed) : json_null());
	il_jset(r, "checks", checks);
	il_jset(r, "trace", json_pack("{sb si}", "per_round_events", sc->kind == SEM_SEM && p_traced(sc),
		"events_per_round", sc->kind == SEM_SEM && p_traced(sc) ? 3 : 0));
	free(wait);
	return rc;
}

static int sem_params(struct il_ctx *x, void *cfg)
{
	const struct sem_cfg *sc = cfg;
	return sl_kill_holder_check(sc->kill_holder, x->c.mode);
}

static int sem_measure(struct il_ctx *x, void *cfg)
{
	const struct sem_cfg *sc = cfg;
	const unsigned W = (unsigned)sc->workers;
	const size_t shsize = sizeof(struct shared) + W * sizeof(struct wslot);
	struct shared *sh = il_shared_alloc(shsize);
	struct ss_point *pts = calloc(SERIES_CAP, sizeof(*pts));
	struct warg args[MAX_WORKERS];
	struct sw_team team = { .victim = -1 };
	int rc = IL_NORES;
	if (!sh || !pts) {
		il_err("out of memory");
		goto out;
	}
	for (unsigned i = 0; i < W; i++)
		il_hist_init(&sh->slot[i].wait, HIST_MAX_NS);
	if (sem_init(&sh->sem, x->c.mode == IL_MODE_PROCESS, (unsigned)sc->permits) < 0) {
		il_errno("sem_init failed");
		rc = il_exit_for_errno(errno);
		goto out;
	}
	const struct job p = { .sh = sh, .kind = sc->kind, .rounds = sc->rounds, .hold_ns = sc->hold_us * 1000,
			       .trace = p_traced(sc), .kill_holder = sc->kill_holder };
	for (unsigned i = 0; i < W; i++)
		args[i] = (struct warg){ &p, i };
	struct sampler smp = { .sc = sc, .sh = sh, .team = &team, .vmin = (int)sc->permits };
	ss_series_init(&smp.ser, pts, SERIES_CAP);
	pthread_t st;
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, sem_kinds[sc->kind], x->c.mode, 0, sc->rounds, 0);
	rc = sw_start(&team, W, x->c.mode, NULL, sem_worker, args, sizeof(args[0]), &sh->abort, &sh->gate);
	if (rc == IL_OK) {
		bool sampling = pthread_create(&st, NULL, sampler, &smp) == 0;
		if (!sampling)
			il_warn("cannot start the sampler thread: no sem_getvalue series");
		rc = sw_join(&team);
		if (sampling)
			(void)pthread_join(st, NULL);
	}
	uint64_t t_end = il_now_ns();
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, sem_kinds[sc->kind], 0, rc);
	if (team.peer)
		rc = sem_results(x, sc, sh, &team, &smp.ser, smp.vmin, t_end, rc);
	(void)sem_destroy(&sh->sem);
out:
	sw_free(&team);
	free(pts);
	il_shared_free(sh, shsize);
	return rc;
}

static void sem_print(const struct il_ctx *x, const void *cfg)
{
	const struct sem_cfg *sc = cfg;
	const json_t *r = x->results, *wait = json_object_get(r, "wait"), *ser = json_object_get(r, "series");
	const double maxin = il_jnum(r, "max_inside");
	printf("sync semaphore: %s, %" PRIu64 " permits, %" PRIu64 " workers x %" PRIu64 " rounds holding %" PRIu64
	       " us, %s mode%s\n", sc->kind == SEM_SEM ? "counting semaphore" : "no semaphore", sc->permits,
	       sc->workers, sc->rounds, sc->hold_us, x->c.mode == IL_MODE_THREAD ? "thread" : "process",
	       json_is_true(json_object_get(r, "traced")) ? ", traced" : "");
	printf("  max inside at once %.0f (permits %" PRIu64 ")%s\n", maxin, sc->permits,
	       maxin > (double)sc->permits ? ": bound exceeded, nothing kept them out" : "");
	if (sc->kind == SEM_SEM)
		printf("  sem_getvalue: min %.0f, final %.0f; %zu samples kept of %.0f\n", il_jnum(r, "sem_value_min"),
		       il_jnum(r, "sem_value_final"), json_array_size(json_object_get(ser, "points")), il_jnum(ser, "samples"));
	printf("  acquire wait ns: count %.0f p50 %.0f p99 %.0f max %.0f; wall %.1f ms\n", il_jnum(wait, "count"),
	       il_jnum(wait, "p50"), il_jnum(wait, "p99"), il_jnum(wait, "max"), il_jnum(r, "wall_ns") / 1e6);
	const json_t *k = json_object_get(r, "killed");
	if (json_is_object(k))
		printf("  killed: %s\n", json_string_value(json_object_get(k, "detected")));
}

static const struct sem_cfg sem_defaults = {
	.kind = SEM_SEM, .permits = 2, .workers = 4, .hold_us = 200, .rounds = 50, .trace_limit = 10000,
};

static const struct il_opt sem_opts[] = {
	{ .name = "permits", .type = IL_OPT_U64, .metavar = "K", .min = 1, .max = MAX_WORKERS, .param = "permits",
	  .help = "the semaphore's initial value: workers allowed inside at once (default 2)",
	  .off = IL_CFG(struct sem_cfg, permits, uint64_t) },
	{ .name = "workers", .type = IL_OPT_U64, .metavar = "W", .min = 1, .max = MAX_WORKERS, .param = "workers",
	  .help = "workers entering the region (default 4)", .off = IL_CFG(struct sem_cfg, workers, uint64_t) },
	{ .name = "sync", .type = IL_OPT_CHOICE, .metavar = "KIND", .choices = sem_kinds, .param = "sync",
	  .help = "sem (a counting semaphore guards the region) or none (it does not)",
	  .off = IL_CFG(struct sem_cfg, kind, int) },
	{ .name = "hold-us", .type = IL_OPT_U64, .metavar = "U", .min = 0, .max = 1000000, .param = "hold_us",
	  .help = "microseconds each worker stays inside, asleep (default 200)",
	  .off = IL_CFG(struct sem_cfg, hold_us, uint64_t) },
	{ .name = "rounds", .type = IL_OPT_U64, .metavar = "R", .min = 1, .max = 1000000, .param = "rounds",
	  .help = "times each worker enters (default 50)", .off = IL_CFG(struct sem_cfg, rounds, uint64_t) },
	{ .name = "trace-limit", .type = IL_OPT_U64, .metavar = "L", .min = 0, .max = 100000000, .param = "trace_limit",
	  .help = "emit the per-round events only when R*W <= L (default 10000)",
	  .off = IL_CFG(struct sem_cfg, trace_limit, uint64_t) },
	{ .name = "kill-holder", .type = IL_OPT_FLAG, .param = "kill_holder",
	  .help = "fault injection (process mode): worker 0 SIGKILLs itself inside the region halfway "
		  "through; the run must detect it and exit 1",
	  .off = IL_CFG(struct sem_cfg, kill_holder, bool) },
	{ 0 },
};

const struct il_experiment il_exp_sync_semaphore = {
	.group = "sync",
	.name = "semaphore",
	.summary = "a counting semaphore bounds how many workers are inside (max seen, sem_getvalue series, wait)",
	.help = "A counting semaphore with K permits guards a region W workers enter R times:\n"
		"the most workers seen inside at once (<= K checked), sem_getvalue over time,\n"
		"the acquire wait histogram; with --sync none the bound is broken (reported;\n"
		"a run where it was not is inconclusive, exit 4).",
	.common = IL_C_MODE,
	.opts = sem_opts,
	.cfg_size = sizeof(struct sem_cfg),
	.cfg_defaults = &sem_defaults,
	.params = sem_params,
	.measure = sem_measure,
	.print = sem_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
